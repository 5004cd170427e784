"""The backtest's replay of a past day sees what was known that day, and nothing after it."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest
from backtest_export import export_as_of, make_history
from conftest import edit_rules

from salesrules.backtest.cut import cut_dataset
from salesrules.backtest.replay import Replayer, as_of_dates
from salesrules.config import load_config
from salesrules.errors import UserError
from salesrules.load import data_dir, load_dataset
from salesrules.run import RunOptions, plan_run, run


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("history")
    rules = make_history(folder)
    edit_rules(rules, lambda d: d["output"].update(report=False, workbook=False))
    return folder


def _load(rules: Path):
    cfg = load_config(rules)
    plan = plan_run(cfg)
    return plan, load_dataset(cfg, plan.sources, data_dir(cfg, None))


def _seen(goals, progress, findings, allocation) -> dict:
    """What a day's replay or run decided, as plain values."""
    return {
        "targets": sorted((k, p.total, p.trace) for k, p in goals.plans.items()),
        "progress": [(r.rep_id, r.stage, r.actual, r.expected_to_date, r.target, r.projected)
                     for r in progress],
        "findings": [(f.subject, f.check, f.severity, f.message, repr(sorted(f.evidence.items())),
                      f.cause) for f in findings],
        "assigned": [(a.lead_id, a.rep_id, a.rule, a.reason) for a in allocation.assignments],
        "unassigned": [(u.lead_id, u.reason) for u in allocation.unassigned],
        "kept": allocation.kept.rows(),
    }


def _replayed(plan, dataset, dates):
    return {d.as_of: _seen(d.goals, d.progress, d.findings, d.allocation)
            for d in Replayer(plan, dataset, 0).days(dates)}


def _run_on_copy(history: Path, tmp: Path, day: dt.date) -> dict:
    rules = export_as_of(history, tmp / day.isoformat(), day)
    r = run(RunOptions(rules=rules, out=tmp / f"out-{day}", as_of=day, dry_run=True, seed=0))
    return _seen(r.goals, r.progress, r.findings, r.allocation)


@pytest.mark.slow
def test_a_replayed_day_is_a_run_on_the_export_as_it_stood(history, tmp_path):
    """One date: the replay on the export loaded once equals a run on that day's export."""
    plan, dataset = _load(history / "rules.toml")
    day = dt.date(2026, 5, 20)
    got = _replayed(plan, dataset, [day])[day]
    want = _run_on_copy(history, tmp_path, day)
    assert got["findings"] and got["assigned"]  # the day has something to compare
    assert got == want


@pytest.mark.slow
def test_a_replayed_range_is_separate_runs_on_each_day(history, tmp_path):
    """Three dates, two in one quarter (the replay reuses that quarter's goals)."""
    plan, dataset = _load(history / "rules.toml")
    dates = [dt.date(2026, 5, 13), dt.date(2026, 5, 20), dt.date(2026, 7, 8)]
    got = _replayed(plan, dataset, dates)
    for day in dates:
        assert got[day] == _run_on_copy(history, tmp_path, day), day


# ------------------------------------------------------------------ no leak

AS_OF = dt.date(2026, 5, 20)


def _edit(path: Path, fn) -> int:
    """Rewrite a CSV's rows with ``fn(row) -> row``; returns how many rows changed."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    head = list(rows[0]) if rows else []
    new = [fn(dict(r)) for r in rows]
    changed = sum(a != b for a, b in zip(rows, new))
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, head)
        w.writeheader()
        w.writerows(new)
    return changed


def _after(text: str) -> bool:
    return bool(text.strip()) and dt.date.fromisoformat(text[:10]) > AS_OF


def _activity(row):
    if _after(row["date"]):
        for k in ("dials", "connects", "conversations", "intents"):
            row[k] = str(int(row[k]) * 3 + 1)
        row["revenue"] = f"{float(row['revenue']) * 5 + 100:.2f}"
    return row


def _leads(row):
    if _after(row["created_at"]):
        row.update(owner="", value="99999.00", priority="2", grade="A", region="North")
    if _after(row["assigned_at"]):  # known only later: who got it, and how it ended
        row.update(owner="R0001", outcome="won", amount="123456.00")
    return row


def _calls(row):
    if _after(row["start"]):
        # some calls stay answered: a log with no answered call at all is refused as a whole
        row.update(duration="5", outcome="connected" if row["outcome"] == "busy" else "no answer")
    return row


def _leave(row):
    return row


MUTATIONS = {"activity.csv": _activity, "leads.csv": _leads, "calls.csv": _calls}


@pytest.mark.slow
@pytest.mark.parametrize("name", [*MUTATIONS, "leave.csv", "everything"])
def test_nothing_after_the_as_of_date_changes_its_replay(history, tmp_path, name):
    plan, dataset = _load(history / "rules.toml")
    later = dt.date(2026, 6, 17)
    before = _replayed(plan, dataset, [AS_OF, later])
    changed = shutil.copytree(history, tmp_path / "changed")
    files = list(MUTATIONS) if name == "everything" else [name]
    for f in files:
        if f == "leave.csv":
            with (changed / f).open("a", encoding="utf-8") as out:
                out.write("R0003,2026-05-25,2026-06-12\n")
            continue
        assert _edit(changed / f, MUTATIONS[f]) > 0
    plan2, dataset2 = _load(changed / "rules.toml")
    after = _replayed(plan2, dataset2, [AS_OF, later])
    assert after[AS_OF] == before[AS_OF]
    if name in ("activity.csv", "leave.csv", "everything"):
        assert after[later] != before[later]  # the change is seen once it is in the past


# ------------------------------------------------------------------ the cut itself


@pytest.mark.slow
def test_the_cut_keeps_what_was_known(history):
    _, dataset = _load(history / "rules.toml")
    known = cut_dataset(dataset, AS_OF)
    assert known.activity.last_day() == AS_OF
    assert known.activity.first_day() == dataset.activity.first_day()
    assert dataset.activity.last_day() > AS_OF  # the loaded table is untouched
    frame = known.leads.frame
    assert frame["created_at"].max().date() <= AS_OF
    assert set(frame["outcome"].to_list()) == {""}
    late = [r for r in frame.iter_rows(named=True) if r["owner"] is None and r["created_at"]
            .date() == AS_OF]
    assert late  # leads created that day were assigned the next: no owner yet
    with pytest.raises(TypeError):
        known.activity.add_columns(["R0001"], [AS_OF], [[1.0] * 6])


def test_as_of_dates():
    assert as_of_dates(dt.date(2026, 1, 31), dt.date(2026, 4, 30), "month") == [
        dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 4, 30)]
    assert len(as_of_dates(dt.date(2026, 1, 1), dt.date(2026, 3, 31), "week")) == 13
    assert as_of_dates(dt.date(2026, 1, 1), dt.date(2026, 1, 3), "day")[-1] == dt.date(2026, 1, 3)
    with pytest.raises(UserError):
        as_of_dates(dt.date(2026, 2, 1), dt.date(2026, 1, 1), "week")


def test_a_deal_exports_closed_deals_are_cut_too(tmp_path):
    """Deals won or lost after the as-of date are not known on it: flipping them changes
    nothing in that day's replay, and its closed-deal index stops at the day."""
    import tomli_w

    from salesrules.load.deal_presets import ClosedDeals
    from salesrules.sample import SampleSpec, deal_rules_for, generate_deals

    folder = tmp_path / "deals"
    generate_deals(folder, SampleSpec(reps=12, days=120, leads=30, seed=4), "generic")
    (folder / "rules.toml").write_text(tomli_w.dumps(deal_rules_for("generic")), "utf-8")
    day = dt.date(2026, 10, 20)
    plan, dataset = _load(folder / "rules.toml")
    closed = next(v for v in dataset.extra.values() if isinstance(v, ClosedDeals))
    known = cut_dataset(dataset, day)
    cut = next(v for v in known.extra.values() if isinstance(v, ClosedDeals))
    start, end = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
    reps = list(dataset.reps)
    assert sum(closed.counts(r, day + dt.timedelta(1), end).won
               + closed.counts(r, day + dt.timedelta(1), end).lost for r in reps) > 0
    assert sum(cut.counts(r, day + dt.timedelta(1), end).won
               + cut.counts(r, day + dt.timedelta(1), end).lost for r in reps) == 0
    assert all(cut.counts(r, start, day) == closed.counts(r, start, day) for r in reps)
    before = _replayed(plan, dataset, [day])[day]

    def flip(row):
        if row["close_date"] and dt.date.fromisoformat(row["close_date"][:10]) > day:
            row["stage"] = {"Won": "Lost", "Lost": "Won"}[row["stage"]]
        return row

    assert _edit(folder / "deals.csv", flip) > 0
    plan2, dataset2 = _load(folder / "rules.toml")
    assert _replayed(plan2, dataset2, [day])[day] == before
