"""The split kept as arrays: a plan read from them answers as the same plan built from its lists,
and targets.csv written from them equals the file written plan by plan."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from conftest import edit_rules, read_csv
from hypothesis import given, settings
from hypothesis import strategies as st

from salesrules.goals.calendar import WorkCalendar, period_of
from salesrules.goals.split import Plan, SplitRequest
from salesrules.goals.table import split_table
from salesrules.model import Stage
from salesrules.outputs.csvfile import number, write_csv
from salesrules.outputs.files import _target_texts, day_target_window, write_targets
from salesrules.run import RunOptions, run

weights3 = st.lists(st.one_of(st.integers(0, 50), st.floats(0, 3, allow_nan=False)),
                    min_size=3, max_size=3)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.integers(0, 10**6), st.integers(0, 10**21)), weights3,
                          st.sets(st.dates(dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
                                  max_size=30)),
                min_size=1, max_size=5),
       st.sampled_from(["quarter", "month"]),
       st.lists(st.dates(dt.date(2025, 12, 20), dt.date(2026, 4, 10)), min_size=1, max_size=6))
def test_a_plan_read_from_the_arrays_answers_as_its_lists_do(plans, grain, days):
    """Totals too big for int64 too: days through, days after, expected to date and the
    working days, on days before, in and after the period, equal the list-based answers."""
    period = period_of(dt.date(2026, 2, 15), grain)
    base = frozenset(WorkCalendar().working_days(period.start, period.end))
    requests = [SplitRequest(total, tuple(w), base - off) for total, w, off in plans]
    table = split_table(period, requests)
    for req, row in zip(requests, table.which.tolist()):
        lazy = Plan("r", "t", "dials", period, req.total, None, table=table, split_row=row)
        lists = Plan("r", "t", "dials", period, req.total, table.grains(row))
        for day in [*days, period.start, period.end]:
            assert lazy.days_through(day) == lists.days_through(day)
            assert lazy.days_after(day) == lists.days_after(day)
            assert lazy.expected_to(day) == lists.expected_to(day)
            assert type(lazy.expected_to(day)) is int
            assert lazy.working_days(day) == lists.working_days(day)
        assert lazy.working_days() == sorted(req.working)
        assert lazy == lists  # the grains are built on first read, equal to the given ones


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 10**4), st.integers(0, 2**70)), max_size=40),
       st.lists(st.sampled_from(["count", "amount"]), min_size=1, max_size=3))
def test_target_texts_are_numbers_as_shown(values, units):
    """Each value as number() shows it in its plan's stage, int64 or beyond."""
    stages = [Stage(f"s{i}", unit=u) for i, u in enumerate(units)]  # type: ignore[arg-type]
    plan_at = np.arange(len(values)) % len(stages)
    array = np.array(values, dtype=object)
    try:
        array = array.astype(np.int64)
    except OverflowError:
        pass
    got = _target_texts(array, plan_at, stages).to_list()
    assert got == [number(v / stages[p].scale, stages[p].unit) for v, p in zip(values, plan_at)]


def write_targets_plan_by_plan(goals, funnel, window, path):
    """targets.csv the straightforward way: each plan's rows from its lists."""
    cols: list[list[str]] = [[] for _ in range(8)]
    for plan in goals.plans.values():
        st_ = funnel.stage(plan.stage)
        for i, t in enumerate(plan.rows()):
            if t.grain == "day" and not window.start <= t.start <= window.end:
                continue
            for c, text in zip(cols, [t.rep_id, t.team, t.stage, t.grain, t.start.isoformat(),
                                      t.end.isoformat(), number(t.value / st_.scale, st_.unit),
                                      plan.trace if i == 0 else ""]):
                c.append(text)
    write_csv(path, ["rep_id", "team", "stage", "grain", "period_start", "period_end",
                     "target", "trace"], cols, safe=range(2, 7))


@pytest.mark.slow
@pytest.mark.parametrize("grain", ["quarter", "month"])
def test_targets_csv_from_the_arrays_equals_it_written_plan_by_plan(export, tmp_path, grain,
                                                                    monkeypatch):
    """On a generated export, for every day window: the same bytes (written a few plans at
    a time, so that the parts join as one file)."""
    from salesrules.outputs import files

    monkeypatch.setattr(files, "PLANS_AT_A_TIME", 7)
    edit_rules(export / "rules.toml", lambda d: d["goals"].update(period=grain))
    result = run(RunOptions(rules=export / "rules.toml", out=tmp_path / "out", dry_run=True,
                            as_of=dt.date(2026, 10, 1)))
    goals, funnel = result.goals, result.dataset.funnel
    assert goals.plans
    for scope in ("week", "month", "period"):
        window = day_target_window(goals.period, scope, result.as_of)
        n = write_targets(goals, funnel, window, tmp_path / "fast.csv")
        write_targets_plan_by_plan(goals, funnel, window, tmp_path / "slow.csv")
        assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "slow.csv").read_bytes()
        assert n == len(read_csv(tmp_path / "slow.csv")) > len(goals.plans)


def test_running_sums_stay_exact_when_the_total_just_passes_int64():
    """Every day's share of 2**63 fits int64 but their running sum does not (found by the
    property above): the arrays stay Python integers."""
    period = period_of(dt.date(2026, 2, 15), "month")
    days = frozenset(WorkCalendar().working_days(period.start, period.end))
    table = split_table(period, [SplitRequest(2**63, (1.0,), days)])
    plan = Plan("r", "t", "dials", period, 2**63, None, table=table, split_row=0)
    assert plan.expected_to(period.end) == 2**63
    first_day, _, share = table.grains(0)["day"][0]
    assert plan.expected_to(first_day) == share > 0


@pytest.mark.slow
def test_plans_a_plugin_changed_are_written_as_they_now_are(export, tmp_path, monkeypatch):
    """A plan given new grains, a new total, or one a plugin made itself: targets.csv is
    written from the plans as they are, not from the run's split (a few plans at a time)."""
    from salesrules.outputs import files

    monkeypatch.setattr(files, "PLANS_AT_A_TIME", 7)
    result = run(RunOptions(rules=export / "rules.toml", out=tmp_path / "out", dry_run=True,
                            as_of=dt.date(2026, 10, 1)))
    goals, funnel = result.goals, result.dataset.funnel
    window = day_target_window(goals.period, "month", result.as_of)
    first, second, third = list(goals.plans.values())[:3]
    weeks = [(s, e, v + 7) for s, e, v in first.grains["week"]]
    first.grains = {**first.grains, "week": weeks}
    second.total += 1000
    goals.plans[("someone", third.stage)] = Plan("someone", third.team, third.stage,
                                                 goals.period, 5, {"week": [], "day": []})
    write_targets(goals, funnel, window, tmp_path / "got.csv")
    write_targets_plan_by_plan(goals, funnel, window, tmp_path / "want.csv")
    assert (tmp_path / "got.csv").read_bytes() == (tmp_path / "want.csv").read_bytes()
    rows = read_csv(tmp_path / "got.csv")
    assert any(r["rep_id"] == "someone" and r["target"] == "5" for r in rows)
    assert str(weeks[0][2]) in {r["target"] for r in rows
                                if r["rep_id"] == first.rep_id and r["grain"] == "week"}
