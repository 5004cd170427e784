"""The goals measure scores each model on the run's own measure of a rate: the run's estimate
(rows that contradict themselves left out), and on a deal export the win stage as won ÷ closed
on both sides."""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

import pytest
import tomli_w
from backtest_export import make_history

from salesrules.backtest.cut import cut_dataset
from salesrules.backtest.goals_fit import HORIZON_DAYS, STANDARD_LOOKBACK, GoalsFit, estimates
from salesrules.backtest.rows import Span
from salesrules.config import load_config
from salesrules.goals import set_goals
from salesrules.load import data_dir, load_dataset
from salesrules.run import plan_run
from salesrules.sample import SampleSpec, deal_rules_for, generate_deals

DAY = dt.date(2026, 8, 12)  # in Q3 2026: its rates come from the 180 days before July
BAD_DAY = "2026-05-14"
AFTER_DAY = "2026-08-20"


def _load(rules: Path):
    cfg = load_config(rules)
    plan = plan_run(cfg)
    return plan, load_dataset(cfg, plan.sources, data_dir(cfg, None))


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_the_personal_estimate_is_the_runs_with_a_bad_row_in_history(tmp_path):
    make_history(tmp_path, reps=10, quarters=2, leads=10)
    rows = _rows(tmp_path / "activity.csv")
    bad = next(r for r in rows if r["date"][:10] == BAD_DAY and float(r["dials"]) > 0)
    bad["connects"] = str(int(float(bad["dials"])) * 3 + 40)  # more connects than dials
    later = next(r for r in rows if r["date"][:10] == AFTER_DAY and r["rep_id"] == bad["rep_id"])
    later["connects"] = str(int(float(later["dials"])) * 3 + 40)
    _write(tmp_path / "activity.csv", rows)
    plan, dataset = _load(tmp_path / "rules.toml")
    assert any(r.rep_id == bad["rep_id"] and r.day.isoformat() == BAD_DAY
               for r in dataset.contradicting)
    known = cut_dataset(dataset, DAY)
    run_rates = set_goals(plan.config, known, plan.split, plan.funnel, DAY).rates
    mine = estimates(plan, known, DAY)["personal"]
    assert bad["rep_id"] in run_rates and run_rates[bad["rep_id"]]
    for rep_id, rates in run_rates.items():
        for stage, rate in rates.items():
            assert mine[rep_id][stage].value == pytest.approx(rate.value, rel=1e-12), (
                rep_id, stage)
    # what the rep achieved after the day leaves the later bad row out too
    window = Span(DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=HORIZON_DAYS))
    kept = [r for r in rows if r["rep_id"] == bad["rep_id"] and r is not later
            and window.start <= _day(r["date"]) <= window.end]
    got = GoalsFit(dataset).achieved([bad["rep_id"]], window)[bad["rep_id"]][0]
    assert got is not None
    assert got.volume == sum(float(r["dials"]) for r in kept)
    assert got.rate == pytest.approx(sum(float(r["connects"]) for r in kept) / got.volume)


def _day(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text[:10]) if text.strip() else None


def test_on_a_deal_export_the_win_link_is_won_over_closed_on_both_sides(tmp_path):
    generate_deals(tmp_path, SampleSpec(reps=12, days=150, leads=30, seed=4), "generic")
    (tmp_path / "rules.toml").write_text(tomli_w.dumps(deal_rules_for("generic")), "utf-8")
    plan, dataset = _load(tmp_path / "rules.toml")
    day = dt.date(2026, 10, 7)  # Q4: the standard rate is over the 90 days before October
    est = estimates(plan, cut_dataset(dataset, day), day)
    fit = GoalsFit(dataset)
    fit.add(day, est)
    active = {r["rep_id"] for r in _rows(tmp_path / "reps.csv") if r["active"] == "yes"}
    deals = [r for r in _rows(tmp_path / "deals.csv")
             if r["stage"] in ("Won", "Lost") and r["owner"] in active]

    def closed(start: dt.date, end: dt.date) -> list[dict]:
        return [r for r in deals if start <= _day(r["close_date"]) <= end]

    past = closed(dt.date(2026, 10, 1) - dt.timedelta(days=STANDARD_LOOKBACK),
                  dt.date(2026, 9, 30))
    company = sum(r["stage"] == "Won" for r in past) / len(past)
    assert est["standard"]["R0001"]["wins"].value == pytest.approx(company)
    after = closed(day + dt.timedelta(days=1), day + dt.timedelta(days=HORIZON_DAYS))
    num = den = 0.0
    for rep_id in est["standard"]:
        mine = [r for r in after if r["owner"] == rep_id]
        if mine:
            achieved = sum(r["stage"] == "Won" for r in mine) / len(mine)
            num += len(mine) * abs(company - achieved)
            den += len(mine) * achieved
    assert den > 0
    error = {r.measure: r.value for r in fit.rows if r.subject == "intents>wins"}
    assert error["goals.error.standard"] == pytest.approx(num / den)
    assert not math.isnan(error["goals.error.personal"])
