"""Goal setting: exact integer splits over time, the reverse funnel, and the working-day calendar."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from hypothesis import given, settings, strategies as st

from conftest import read_csv
from salesrules.goals import push_back, to_units
from salesrules.goals.batches import Rate
from salesrules.goals.calendar import WorkCalendar, months_in, period_of, weeks_in
from salesrules.goals.split import Plan, cascade, largest_remainder
from salesrules.model import Funnel, Stage


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


def test_weeks_are_clipped_to_their_month():
    m = months_in(period_of(dt.date(2026, 4, 1), "quarter"))[0]
    weeks = weeks_in(m)
    assert weeks[0].start == dt.date(2026, 4, 1) and weeks[0].end == dt.date(2026, 4, 5)
    assert weeks[-1].end == dt.date(2026, 4, 30)
    assert sum((w.end - w.start).days + 1 for w in weeks) == 30


def test_make_up_workday_and_holiday():
    cal = WorkCalendar.from_names(["Mon", "Tue", "Wed", "Thu", "Fri"],
                                  holidays=[dt.date(2026, 10, 1)], workdays=[dt.date(2026, 10, 10)])
    assert not cal.is_working(dt.date(2026, 10, 1))      # a Thursday holiday
    assert cal.is_working(dt.date(2026, 10, 10))         # a Saturday made up (调休)
    assert not cal.is_working(dt.date(2026, 10, 11))


FUNNEL = Funnel((Stage("dials"), Stage("connects"), Stage("conversations"), Stage("intents"),
                 Stage("pipeline", unit="amount"), Stage("revenue", unit="amount")))


def test_reverse_funnel_from_revenue_to_dials():
    rates = {"connects": Rate(0.4), "conversations": Rate(0.5), "intents": Rate(0.25),
             "pipeline": Rate(3000.0), "revenue": Rate(1 / 3)}
    values, traces = push_back(FUNNEL, {"revenue": 30000.0}, rates)
    assert values["pipeline"] == pytest.approx(90000)
    assert values["intents"] == pytest.approx(30)
    assert values["conversations"] == pytest.approx(120)
    assert values["connects"] == pytest.approx(240)
    assert values["dials"] == pytest.approx(600)
    assert traces["pipeline"].startswith("revenue 30,000.00 ÷ pipeline→revenue 0.3333")
    assert "ARPU 3000" in traces["intents"]
    assert to_units(values["dials"], "count") == 600
    assert to_units(100.2, "count") == 101  # counts round up only at the end
    assert to_units(1234.567, "amount") == 123457  # amounts keep cents


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
    cents = lambda r: round(float(r["target"]) * 100)
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


def test_day_rows_default_to_the_as_of_week(export):
    from conftest import invoke

    assert invoke("run", "--rules", str(export / "rules.toml"), "-q").exit_code == 0
    rows = read_csv(export / "out" / "targets.csv")
    days = {r["period_start"] for r in rows if r["grain"] == "day"}
    assert days == {"2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"}


def test_day_rows_for_the_as_of_month(export):
    from conftest import edit_rules, invoke

    edit_rules(export / "rules.toml", lambda d: d["output"].update(day_targets="month"))
    assert invoke("run", "--rules", str(export / "rules.toml"), "-q").exit_code == 0
    rows = read_csv(export / "out" / "targets.csv")
    days = [r for r in rows if r["grain"] == "day"]
    assert days and all(r["period_start"].startswith("2026-11-") for r in days)
    assert len({r["period_start"] for r in days}) == 21  # the working days of November 2026
    weeks = [r for r in rows if r["grain"] == "week"]
    assert {w["period_start"][:7] for w in weeks} == {"2026-10", "2026-11", "2026-12"}
