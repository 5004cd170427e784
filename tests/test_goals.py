"""Goal setting: exact integer splits over time, the reverse funnel, and the working-day calendar."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pytest
from conftest import read_csv
from hypothesis import given, settings
from hypothesis import strategies as st

from salesrules.goals import push_back, to_units
from salesrules.goals.batches import Rate
from salesrules.goals.calendar import WorkCalendar, months_in, period_of, weeks_in
from salesrules.goals.split import (
    Plan,
    SplitRequest,
    largest_remainder,
    split_plans,
    split_rows,
)
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
        for (w, days), w_value in zip(weeks, largest_remainder(m_value, [len(d) for _, d in weeks])):
            grains["week"].append((w.start, w.end, w_value))
            if days:
                grains["day"].extend((d, d, v) for d, v in
                                     zip(days, largest_remainder(w_value, [1] * len(days))))
    return grains


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10**12), min_size=1, max_size=8),
       st.lists(st.one_of(st.integers(0, 10**6), st.floats(0, 1e6, allow_nan=False),
                          st.sampled_from([0, 0.0, 1e-300, 5e-324, 1e300])), min_size=1, max_size=12))
def test_split_rows_equals_largest_remainder(totals, weights):
    """The batched split gives the very integers of the scalar one, big numbers and floats too."""
    from salesrules.goals.split import integer_weights

    got = split_rows(np.array(totals, dtype=object), np.array(integer_weights(weights), dtype=object))
    for total, row in zip(totals, got.tolist()):
        assert row == largest_remainder(total, weights)
        assert all(type(v) is int for v in row)


weights3 = st.lists(st.one_of(st.integers(0, 50), st.floats(0, 3, allow_nan=False)),
                    min_size=3, max_size=3)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**10), weights3,
                          st.sets(st.dates(dt.date(2026, 1, 1), dt.date(2026, 3, 31)), max_size=40)),
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
    pushed = push_back(FUNNEL, {"revenue": 30000.0}, rates)
    values, traces = pushed.values, pushed.traces
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


# ---------------------------------------------------------------- personal rates, overrides, leave, tiers

def _batch_for(ds, as_of, days):
    from salesrules.goals.batches import FunnelBatch
    from salesrules.goals.calendar import period_of

    reps = tuple(r for r in ds.reps.values() if r.active)
    return FunnelBatch("all", reps, ds.funnel, ds.activity, as_of, period_of(as_of, "quarter"))


def test_shrunk_rates_predict_the_truth_better_than_raw_rates(tmp_path):
    """On generated data with known per-rep rates, shrinkage lowers the total squared error."""
    import json

    from test_load import load

    from salesrules.goals.personal import Personal, PersonalParams
    from salesrules.testing import make_export

    errors = {"raw": 0.0, "shrunk": 0.0}
    for seed in (1, 2, 3):
        folder = tmp_path / f"s{seed}"
        rules = make_export(folder, reps=42, days=120, leads=5, seed=seed)
        truth = json.loads((folder / "truth.json").read_text())
        ds = load(rules)
        as_of = dt.date(2026, 11, 25) - dt.timedelta(days=100)  # only ~14 working days of history
        model = Personal(PersonalParams(lookback_days=20))
        rates = model.rates(_batch_for(ds, as_of, 20))
        start = as_of - dt.timedelta(days=20)
        planted = set(truth["planted"].values())
        for rep_id, true in truth["rates"].items():
            if rep_id in planted or rep_id not in rates:
                continue
            t = ds.activity.totals(rep_id, start, as_of)
            for k, stage in enumerate(("connects", "conversations", "intents")):
                up, low = t[k], t[k + 1]
                if up == 0:
                    continue
                errors["raw"] += (low / up - true[k]) ** 2
                errors["shrunk"] += (rates[rep_id][stage].value - true[k]) ** 2
    print(f"held-out squared error: raw {errors['raw']:.4f}, shrunk {errors['shrunk']:.4f}")
    assert errors["shrunk"] < errors["raw"], errors


@pytest.mark.parametrize("model", ["personal", "team-rates"])
def test_a_rep_without_history_gets_the_team_rate_and_a_team_without_the_company_rate(model):
    from salesrules.goals.batches import FunnelBatch
    from salesrules.goals.calendar import period_of
    from salesrules.goals.personal import Personal
    from salesrules.goals.team_rates import TeamRates
    from salesrules.model import ActivityTable, Rep

    make = Personal if model == "personal" else TeamRates
    funnel = Funnel((Stage("dials"), Stage("connects", default_rate=0.35)))
    hist = ActivityTable(funnel.names)
    hist.add("R1", dt.date(2026, 11, 20), [100.0, 40.0])
    hist.add("R2", dt.date(2026, 11, 20), [100.0, 30.0])
    hist.add("S1", dt.date(2026, 11, 20), [300.0, 30.0])
    team = (Rep("R1", "a", "T", "P1"), Rep("R2", "b", "T", "P1"), Rep("R3", "new", "T", "P1"))
    new_team = (Rep("U1", "c", "U", "P1"), Rep("U2", "d", "U", "P1"))
    everyone = (*team, Rep("S1", "e", "S", "P1"), *new_team)
    as_of = dt.date(2026, 11, 25)
    q = period_of(as_of, "quarter")
    out = make().rates(FunnelBatch("T", team, funnel, hist, as_of, q, everyone))
    if model == "personal":
        # the team's 70/200, pulled a little toward the company's
        assert 0.3 < out["R3"]["connects"].value <= 0.35
        assert "no dials of their own" in out["R3"]["connects"].trace
    # a team without history: the company's 100/500, not the built-in default 0.35
    company = make().rates(FunnelBatch("U", new_team, funnel, hist, as_of, q, everyone))
    assert company["U1"]["connects"].value == pytest.approx(0.2)
    assert "company" in company["U1"]["connects"].trace
    assert "team U has no history" in company["U1"]["connects"].trace
    # no history anywhere: the stage's default rate
    empty = make().rates(FunnelBatch("U", new_team, funnel, ActivityTable(funnel.names), as_of,
                                     q, new_team))
    assert empty["U1"]["connects"].value == 0.35
    assert "default rate (no history in any team)" in empty["U1"]["connects"].trace


def test_beta_binomial_prior_strength_follows_the_spread():
    from salesrules.goals.personal.shrinkage import beta_binomial_prior, shrink

    same = beta_binomial_prior([30, 31, 29, 30], [100, 100, 100, 100])
    assert same.strength == float("inf")  # no spread beyond noise: full pooling
    spread = beta_binomial_prior([10, 50, 20, 60], [100, 100, 100, 100])
    assert 0 < spread.strength < 100
    mean, m = spread.mean, spread.strength
    # more history, less shrinkage
    little = shrink(6, 10, mean, m)
    lots = shrink(600, 1000, mean, m)
    assert abs(lots - 0.6) < abs(little - 0.6)


def _run_goals(export, tweak=None):
    from conftest import edit_rules, invoke

    if tweak:
        edit_rules(export / "rules.toml", tweak)
    res = invoke("run", "--rules", str(export / "rules.toml"), "-q")
    assert res.exit_code == 0, res.output
    return read_csv(export / "out" / "targets.csv")


def quarter(rows, rep, stage="revenue"):
    return next(float(r["target"]) for r in rows if r["rep_id"] == rep and r["stage"] == stage
                and r["grain"] == "quarter")


def test_goals_file_overrides_reps_and_cascades_team_targets(export):
    (export / "goals.csv").write_text(
        "rep_id,team,stage,target\nR0001,,revenue,\"150,000\"\n,West,revenue,200000.01\n",
        encoding="utf-8")
    rows = _run_goals(export, lambda d: (
        d["data"].update(goals={"file": "goals.csv"}),
        d["goals"].update(cascade="even")))
    assert quarter(rows, "R0001") == 150000
    reps = read_csv(export / "reps.csv")
    west = [r["rep_id"] for r in reps if r["team"] == "West" and r["active"] == "yes"]
    shares = [quarter(rows, r) for r in west]
    assert round(sum(shares) * 100) == 20000001  # shared exactly, to the cent
    assert max(shares) - min(shares) <= 0.011
    trace = next(r["trace"] for r in rows if r["rep_id"] == west[0] and r["grain"] == "quarter"
                 and r["stage"] == "revenue")
    assert trace.startswith("team West target 200,000.01 shared by even")


def test_bad_goals_file_rows_are_located(export):
    from conftest import edit_rules, invoke

    (export / "goals.csv").write_text("rep_id,team,stage,target\nR0001,East,revenue,5\n"
                                      ",East,sales,5\n,East,revenue,lots\n", encoding="utf-8")
    edit_rules(export / "rules.toml", lambda d: d["data"].update(goals={"file": "goals.csv"}))
    res = invoke("run", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 2
    assert "goals.csv:2: column 'rep_id': give either a rep_id or a team" in res.output
    assert "goals.csv:3: column 'stage': unknown funnel stage 'sales'" in res.output
    assert "goals.csv:4: column 'target': expected a number, got 'lots'" in res.output


def test_leave_days_get_no_targets_and_prorate_the_period(export):
    import json

    truth = json.loads((export / "truth.json").read_text())
    rep = truth["planted"]["on_leave"]
    rows = _run_goals(export, lambda d: d["output"].update(day_targets="period"))
    leave = read_csv(export / "leave.csv")[0]
    days = [r for r in rows if r["rep_id"] == rep and r["grain"] == "day"]
    assert days and not any(leave["start"] <= r["period_start"] <= leave["end"] for r in days)
    level = next(r["level"] for r in read_csv(export / "reps.csv") if r["rep_id"] == rep)
    full = {"P1": 60000, "P2": 90000, "P3": 120000}[level]
    assert quarter(rows, rep) < full
    trace = next(r["trace"] for r in rows if r["rep_id"] == rep and r["grain"] == "quarter"
                 and r["stage"] == "revenue")
    assert "prorated for" in trace and "leave day(s)" in trace


def test_tier_column_multiplies_the_level_target(export):
    text = (export / "reps.csv").read_text(encoding="utf-8-sig").splitlines()
    text[0] += ",tier"
    text[1] += ",高绩效"
    text[2:] = [line + "," for line in text[2:]]
    (export / "reps.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    rows = _run_goals(export)
    level = text[1].split(",")[3]
    assert quarter(rows, "R0001") == {"P1": 60000, "P2": 90000, "P3": 120000}[level] * 1.3


def test_china_calendar_from_the_holidays_library(export):
    rows = _run_goals(export, lambda d: (
        d["goals"].update(calendar={"country": "CN"}),
        d["output"].update(day_targets="period")))
    days = {r["period_start"] for r in rows if r["grain"] == "day"}
    assert "2026-10-01" not in days and "2026-10-07" not in days   # National Day
    assert "2026-10-10" in days                                    # a Saturday made up (调休)


def test_confidence_range_in_the_first_stage_trace(export):
    rows = _run_goals(export, lambda d: d["goals"].update(confidence=0.8))
    trace = next(r["trace"] for r in rows if r["stage"] == "dials" and r["grain"] == "quarter")
    assert "at 80% confidence of reaching" in trace
    need = int(trace.rsplit(": ", 1)[1].split()[0].replace(",", ""))
    dials = float(next(r["target"] for r in rows if r["stage"] == "dials"
                       and r["grain"] == "quarter"))
    assert need > dials


def test_goal_raise_proposes_the_next_rung_to_the_star(export):
    import json

    from conftest import edit_rules, invoke

    edit_rules(export / "rules.toml", lambda d: d["checks"].update({"goal-raise": {}}))
    res = invoke("run", "--rules", str(export / "rules.toml"), "-q")
    assert res.exit_code == 0
    truth = json.loads((export / "truth.json").read_text())
    found = [f for f in read_csv(export / "out" / "findings.csv") if f["check"] == "goal-raise"]
    star = [f for f in found if f["subject"] == truth["planted"]["star"]]
    assert star, [f["subject"] for f in found]
    ev = json.loads(star[0]["evidence"])
    assert ev["next_tier"] in ("高绩效", "标杆") and ev["probability"] >= 0.7
    assert ev["next_target"] > ev["target"]
    behind = truth["planted"]["behind"]
    assert behind not in {f["subject"] for f in found}
