"""On a deal export, the backtest scores the routes by how the deals they gave out ended.

A deal export has no assignment date: each replayed day routes the deals created that day,
nobody's yet, and scores them by their later stage and amount (salesrules.load.deal_leads).
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest
import tomli_w

from salesrules.backtest import BacktestOptions, backtest
from salesrules.backtest.cut import cut_dataset
from salesrules.backtest.replay import Replayer
from salesrules.config import load_config
from salesrules.load import data_dir, load_dataset
from salesrules.run import plan_run
from salesrules.sample import SampleSpec, deal_rules_for, generate_deals

START, END = dt.date(2026, 8, 5), dt.date(2026, 10, 21)
DAY = dt.date(2026, 9, 16)


@pytest.fixture(scope="module", params=["generic", "salesforce"])
def export(request, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp(f"deals-{request.param}")
    generate_deals(folder, SampleSpec(reps=12, days=150, leads=30, seed=4), request.param)
    (folder / "rules.toml").write_text(tomli_w.dumps(deal_rules_for(request.param)), "utf-8")
    return folder


def _rows(folder: Path) -> list[dict]:
    with (folder / "deals.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _day(text: str) -> dt.date | None:
    if not text.strip():
        return None
    if "/" in text:  # the salesforce preset's M/D/Y
        m, d, y = text.split()[0].split("/")
        return dt.date(int(y), int(m), int(d))
    return dt.date.fromisoformat(text[:10])


def _money(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def _columns(folder: Path) -> dict[str, str]:
    import tomllib

    from salesrules.load.deals import PRESETS
    rules = tomllib.loads((folder / "rules.toml").read_text(encoding="utf-8"))
    preset = rules["data"]["deals"]["params"]["preset"]
    return PRESETS[preset]


@pytest.mark.slow
def test_the_routes_are_scored_by_how_their_deals_ended(export):
    """Per route: the deals created on the replayed days that have since closed, the share
    won and the revenue, as the deals file says (counted here from the file itself)."""
    result = backtest(BacktestOptions(export / "rules.toml", START, END, "week"))
    col = _columns(export)
    dates = set(result.dates)
    closed = [r for r in _rows(export) if r[col["owner"]] and _day(r[col["created_at"]]) in dates
              and r[col["stage"]] in ("Won", "Lost", "Closed Won", "Closed Lost")]
    won = [r for r in closed if "Won" in r[col["stage"]]]
    assert len(closed) > 50 and 0 < len(won) < len(closed)
    n, wins, revenue = result.allocation.by["route", "open deals"]
    assert n == len(closed) and wins == len(won)
    assert revenue == pytest.approx(sum(_money(r[col["amount"]]) for r in won))
    reps = {name: acc for (kind, name), acc in result.allocation.by.items() if kind == "rep"}
    assert len(reps) > 1 and sum(acc[0] for acc in reps.values()) == n
    measures = {r.measure for r in result.rows}
    assert {"allocation.route.won_share", "allocation.rep.revenue"} <= measures


def _load(rules: Path):
    cfg = load_config(rules)
    plan = plan_run(cfg)
    return plan, load_dataset(cfg, plan.sources, data_dir(cfg, None))


@pytest.mark.slow
def test_a_days_deals_are_its_new_leads_and_their_end_is_not_known_then(export, tmp_path):
    col = _columns(export)
    plan, dataset = _load(export / "rules.toml")
    known = cut_dataset(dataset, DAY)
    made = {r[col["id"]] for r in _rows(export) if _day(r[col["created_at"]]) == DAY}
    frame = known.leads.frame.filter(known.leads.frame["id"].is_in(list(made)))
    assert frame.height == len(made) > 0
    assert frame["owner"].null_count() == frame.height  # nobody's yet
    assert set(frame["stage"].to_list()) == {""} and set(frame["value"].to_list()) == {0.0}
    replayed = Replayer(plan, dataset, 0).day(DAY)
    assert replayed.allocation is not None
    assert {a.lead_id for a in replayed.allocation.new_assignments} >= made

    changed = shutil.copytree(export, tmp_path / "changed")
    rows = _rows(changed)
    flips = {"Won": "Lost", "Lost": "Won", "Closed Won": "Closed Lost",
             "Closed Lost": "Closed Won"}
    edited = 0
    for r in rows:  # how a deal of the day (or any deal) ended after the day: not known then
        close = _day(r[col["close_date"]])
        if close is not None and close > DAY and r[col["stage"]] in flips:
            r[col["stage"]] = flips[r[col["stage"]]]
            r[col["amount"]] = r[col["amount"]].replace("1", "7")
            edited += 1
    assert edited > 10
    with (changed / "deals.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    plan2, dataset2 = _load(changed / "rules.toml")
    again = Replayer(plan2, dataset2, 0).day(DAY)
    assert again.allocation is not None
    assert again.allocation.assignments == replayed.allocation.assignments
    assert again.findings == replayed.findings and again.progress == replayed.progress
    assert cut_dataset(dataset2, DAY).leads.frame.equals(known.leads.frame)
