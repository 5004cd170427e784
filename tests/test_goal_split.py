"""Goal splits: exact integer splits of a target over months, weeks and working days."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pytest
from conftest import read_csv
from hypothesis import given, settings
from hypothesis import strategies as st

from salesrules.goals.calendar import WorkCalendar, months_in, period_of, weeks_in
from salesrules.goals.split import (
    Plan,
    SplitRequest,
    largest_remainder,
    split_rows,
)
from salesrules.goals.table import split_table


def split_plans(period, requests):
    """Each request's split as ``(start, end, value)`` lists, as a plan reads them."""
    table = split_table(period, requests)
    return [table.grains(row) for row in table.which.tolist()]


@given(st.integers(0, 10**9), st.lists(st.integers(0, 1000), min_size=1, max_size=30))
def test_largest_remainder_sums_exactly_and_is_fair(total, weights):
    parts = largest_remainder(total, weights)
    if sum(weights) == 0:
        assert parts == [0] * len(weights)
        return
    assert sum(parts) == total
    for p, w in zip(parts, weights):
        exact = total * w / sum(weights)
        assert abs(p - exact) < 1 + 1e-9
        if w == 0:
            assert p == 0


@given(st.integers(0, 10**7), st.lists(st.floats(0, 5, allow_nan=False), min_size=1, max_size=12))
def test_largest_remainder_with_float_weights(total, weights):
    parts = largest_remainder(total, weights)
    if sum(weights) > 0:
        assert sum(parts) == total


def cascade(total, period, weights, working):
    """One plan's split, through the batched split."""
    return split_plans(period, [SplitRequest(total, tuple(weights), frozenset(working))])[0]


def reference_cascade(total, period, month_weights, working):
    """The split one plan at a time, as it was before the batched split: the reference."""
    months = months_in(period) if period.grain == "quarter" else [period]
    grains = {"day": [], "week": []}
    if period.grain == "quarter":
        weights = [w if any(d in working for d in m.days()) else 0
                   for w, m in zip(month_weights, months)]
        values = largest_remainder(total, weights)
        grains["month"] = [(m.start, m.end, v) for m, v in zip(months, values)]
    else:
        values = [total]
    for m, m_value in zip(months, values):
        weeks = [(w, [d for d in w.days() if d in working]) for w in weeks_in(m)]
        week_values = largest_remainder(m_value, [len(d) for _, d in weeks])
        for (w, days), w_value in zip(weeks, week_values):
            grains["week"].append((w.start, w.end, w_value))
            if days:
                grains["day"].extend((d, d, v) for d, v in
                                     zip(days, largest_remainder(w_value, [1] * len(days))))
    return grains


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10**12), min_size=1, max_size=8),
       st.lists(st.one_of(st.integers(0, 10**6), st.floats(0, 1e6, allow_nan=False),
                          st.sampled_from([0, 0.0, 1e-300, 5e-324, 1e300])),
                min_size=1, max_size=12))
def test_split_rows_equals_largest_remainder(totals, weights):
    """The batched split gives the very integers of the scalar one, big numbers and floats too."""
    from salesrules.goals.split import integer_weights

    got = split_rows(np.array(totals, dtype=object),
                     np.array(integer_weights(weights), dtype=object))
    for total, row in zip(totals, got.tolist()):
        assert row == largest_remainder(total, weights)
        assert all(type(v) is int for v in row)


weights3 = st.lists(st.one_of(st.integers(0, 50), st.floats(0, 3, allow_nan=False)),
                    min_size=3, max_size=3)


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**10), weights3,
                          st.sets(st.dates(dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
                                  max_size=40)),
                min_size=1, max_size=6),
       st.sets(st.integers(0, 6), max_size=7), st.sampled_from(["quarter", "month"]))
def test_batched_split_sums_to_parents_and_equals_the_plan_by_plan_split(plans, weekdays, grain):
    """Random totals, weights (ints and floats, zeros too) and working days: the batch keeps
    every parent's value exactly and gives each plan what splitting it alone gave."""
    period = period_of(dt.date(2026, 2, 15), grain)
    base = frozenset(WorkCalendar(frozenset(weekdays)).working_days(period.start, period.end))
    requests = [SplitRequest(total, tuple(w), base - off) for total, w, off in plans]
    for req, grains in zip(requests, split_plans(period, requests)):
        assert grains == reference_cascade(req.total, period, req.month_weights, req.working)
        months = grains.get("month", [(period.start, period.end, req.total)])
        kept = [w > 0 and any(s <= d <= e for d in req.working)
                for w, (s, e, _) in zip(req.month_weights, months)]
        if grain == "month" and req.working or any(kept):
            assert sum(v for *_, v in months) == req.total
        for m_start, m_end, m_val in months:
            assert sum(v for s, e, v in grains["week"] if m_start <= s and e <= m_end) == (
                m_val if any(m_start <= d <= m_end for d in req.working) else 0)
        for w_start, w_end, w_val in grains["week"]:
            assert sum(v for s, _, v in grains["day"] if w_start <= s <= w_end) == w_val
        assert [d for d, _, _ in grains["day"]] == sorted(req.working)


def test_even_quarter_split_from_the_brief():
    q = period_of(dt.date(2026, 2, 10), "quarter")
    cal = WorkCalendar()
    grains = cascade(9_000_000, q, [1, 1, 1], frozenset(cal.working_days(q.start, q.end)))
    assert [v for _, _, v in grains["month"]] == [3_000_000, 3_000_000, 3_000_000]


calendars = st.builds(
    lambda mask, hol, work: (mask, hol, work),
    st.sets(st.integers(0, 6), min_size=0, max_size=7),
    st.sets(st.dates(dt.date(2026, 1, 1), dt.date(2026, 3, 31)), max_size=20),
    st.sets(st.dates(dt.date(2026, 1, 1), dt.date(2026, 3, 31)), max_size=5),
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.integers(0, 5_000_000), calendars,
       st.lists(st.floats(0.1, 3, allow_nan=False), min_size=3, max_size=3),
       st.sets(st.dates(dt.date(2026, 1, 1), dt.date(2026, 3, 31)), max_size=15))
def test_every_grain_sums_to_its_parent_and_no_target_on_a_day_off(total, cal, weights, leave):
    mask, holidays, workdays = cal
    calendar = WorkCalendar(frozenset(mask), frozenset(holidays), frozenset(workdays))
    q = period_of(dt.date(2026, 1, 1), "quarter")
    working = frozenset(calendar.working_days(q.start, q.end)) - leave
    grains = cascade(total, q, weights, working)
    months, weeks, days = grains["month"], grains["week"], grains["day"]
    if not working:
        assert sum(v for *_, v in months) == 0
        return
    assert sum(v for *_, v in months) == total
    for m_start, m_end, m_val in months:
        assert sum(v for s, e, v in weeks if m_start <= s and e <= m_end) == m_val
    for w_start, w_end, w_val in weeks:
        assert sum(v for s, _, v in days if w_start <= s <= w_end) == w_val
    assert all(d in working for d, _, _ in days)
    assert {d for d, _, _ in days} == set(working)


def test_run_targets_sum_exactly_at_every_grain(export):
    from conftest import edit_rules, invoke

    edit_rules(export / "rules.toml", lambda d: d["output"].update(day_targets="period"))
    res = invoke("run", "--rules", str(export / "rules.toml"), "-q")
    assert res.exit_code == 0, res.output
    rows = read_csv(export / "out" / "targets.csv")
    assert {r["grain"] for r in rows} == {"quarter", "month", "week", "day"}
    by = defaultdict(list)
    for r in rows:
        by[(r["rep_id"], r["stage"], r["grain"])].append(r)

    def cents(r):
        return round(float(r["target"]) * 100)

    checked = 0
    for (rep, stage, grain), items in by.items():
        if grain == "quarter":
            (q,) = items
            assert sum(cents(m) for m in by[(rep, stage, "month")]) == cents(q)
        if grain == "month":
            for m in items:
                inside = [w for w in by[(rep, stage, "week")]
                          if m["period_start"] <= w["period_start"] <= m["period_end"]]
                assert sum(cents(w) for w in inside) == cents(m)
        if grain == "week":
            for w in items:
                inside = [d for d in by[(rep, stage, "day")]
                          if w["period_start"] <= d["period_start"] <= w["period_end"]]
                assert sum(cents(d) for d in inside) == cents(w)
                checked += 1
    assert checked > 100
    for r in rows:
        if r["grain"] == "day":
            assert dt.date.fromisoformat(r["period_start"]).weekday() < 5
    q_rows = [r for r in rows if r["grain"] == "quarter"]
    assert all(r["trace"] for r in q_rows)


def test_plan_expected_to_date_is_cumulative():
    q = period_of(dt.date(2026, 10, 1), "quarter")
    working = frozenset(WorkCalendar().working_days(q.start, q.end))
    plan = Plan("r", "t", "dials", q, 6400, cascade(6400, q, [1, 1, 1], working))
    assert plan.expected_to(q.start - dt.timedelta(days=1)) == 0
    assert plan.expected_to(q.end) == 6400
    assert plan.expected_to(dt.date(2026, 10, 31)) == plan.grains["month"][0][2]


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**8), calendars, st.sampled_from(["even", "seasonal"]),
       st.one_of(st.none(), st.dates(dt.date(2025, 12, 1), dt.date(2026, 3, 31))),
       st.lists(st.tuples(st.dates(dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
                          st.integers(0, 20)), max_size=3),
       st.lists(st.floats(0.1, 1.0), max_size=3), st.booleans())
def test_targets_sum_exactly_with_leave_holidays_hire_dates_and_ramps(
        total, cal, split, hired, leave, ramp, prorate):
    """Each grain sums to its parent, days only on the rep's own days (after the hire date,
    off leave), and under the even split without a ramp every day gets the same target."""
    from salesrules.goals.days import TeamDays, own_days

    mask, holidays, workdays = cal
    calendar = WorkCalendar(frozenset(mask), frozenset(holidays), frozenset(workdays))
    q = period_of(dt.date(2026, 1, 1), "quarter")
    working = calendar.working_days(q.start, q.end)
    months = months_in(q)
    count = [sum(1 for d in working if m.start <= d <= m.end) for m in months]
    weights = [float(n) for n in count] if split == "even" else [n * k for n, k in
                                                                  zip(count, (1.3, 0.7, 1.0))]
    spans = [(a, a + dt.timedelta(days=n)) for a, n in leave]
    own = own_days(TeamDays.of(working, months, weights), spans, ramp, prorate, hired)
    assert 0 <= own.factor <= 1 + 1e-12
    grains = cascade(total, q, own.weights, own.days)
    days = grains["day"]
    assert {d for d, _, _ in days} == set(own.days)
    assert all(hired is None or d >= hired for d, _, _ in days)
    assert all(not any(a <= d <= b for a, b in spans) for d, _, _ in days)
    if not own.days or not any(own.weights):
        return
    assert sum(v for *_, v in grains["month"]) == total
    for m_start, m_end, m_val in grains["month"]:
        assert sum(v for s, e, v in grains["week"] if m_start <= s and e <= m_end) == m_val
    for w_start, w_end, w_val in grains["week"]:
        assert sum(v for s, _, v in days if w_start <= s <= w_end) == w_val
    if split == "even" and not ramp:
        exact = total / len(own.days)
        assert all(abs(v - exact) < 2 for _, _, v in days)
