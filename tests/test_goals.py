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
    hist.add_columns(["R1", "R2", "S1"], [dt.date(2026, 11, 20)] * 3,
                     [[100.0, 40.0], [100.0, 30.0], [300.0, 30.0]])
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


# ---------------------------------------------------------------- working days, leave, hire dates


def _rows_of(rows, rep, stage, grain):
    return [r for r in rows if r["rep_id"] == rep and r["stage"] == stage and r["grain"] == grain]


def test_even_split_gives_every_working_day_the_same_target_under_the_china_calendar(export):
    """October 2026 has 18 working days (National Day) and December 23: the month targets
    follow, so the daily target is the same in both; ``per = "month"`` keeps equal months."""
    rows = _run_goals(export, lambda d: (d["goals"].update(calendar={"country": "CN"}),
                                         d["output"].update(day_targets="period")))
    months = {r["period_start"][:7]: float(r["target"]) for r in _rows_of(rows, "R0002", "revenue", "month")}
    days = defaultdict(list)
    for r in _rows_of(rows, "R0002", "revenue", "day"):
        days[r["period_start"][:7]].append(float(r["target"]))
    assert [len(days[m]) for m in ("2026-10", "2026-11", "2026-12")] == [18, 21, 23]
    per_day = [months[m] / len(days[m]) for m in ("2026-10", "2026-11", "2026-12")]
    assert max(per_day) - min(per_day) < 0.01
    assert max(v for m in days.values() for v in m) - min(v for m in days.values() for v in m) <= 0.011
    equal = _run_goals(export, lambda d: d["goals"].update(split={"strategy": "even",
                                                                  "params": {"per": "month"}}))
    assert len({r["target"] for r in _rows_of(equal, "R0002", "revenue", "month")}) == 1


def test_leave_lowers_its_own_month_and_keeps_the_daily_target(export):
    import json

    rep = json.loads((export / "truth.json").read_text())["planted"]["on_leave"]
    leave = read_csv(export / "leave.csv")[0]
    rows = _run_goals(export, lambda d: d["output"].update(day_targets="period"))
    for stage in ("dials", "revenue"):
        days = _rows_of(rows, rep, stage, "day")
        before = [float(r["target"]) for r in days if r["period_start"] < leave["start"]][-5:]
        after = [float(r["target"]) for r in days if r["period_start"] > leave["end"]][:5]
        assert len(before) == len(after) == 5
        b, a = sum(before) / 5, sum(after) / 5
        assert abs(a - b) <= 0.05 * b, (stage, before, after)
    months = [float(r["target"]) for r in _rows_of(rows, rep, "revenue", "month")]
    assert months[1] < months[0] and months[1] < months[2]  # November holds the leave


def _set_rep_column(export, rep, column, value):
    text = (export / "reps.csv").read_text(encoding="utf-8-sig").splitlines()
    head = text[0].split(",")
    if column not in head:
        text = [text[0] + f",{column}"] + [line + "," for line in text[1:]]
        head.append(column)
    k = head.index(column)
    for i, line in enumerate(text):
        cells = line.split(",")
        if cells[0] == rep:
            cells[k] = value
            text[i] = ",".join(cells)
    (export / "reps.csv").write_text("\n".join(text) + "\n", encoding="utf-8")


def test_a_rep_hired_mid_quarter_has_targets_from_the_hire_date_with_a_ramp(export):
    _set_rep_column(export, "R0002", "hired", "2026-11-10")  # a P2 in West: 90,000 a quarter
    from salesrules.goals.days import ramp_factor

    assert ramp_factor(dt.date(2026, 11, 30), dt.date(2026, 11, 20), [0.5, 0.8]) == 0.5
    assert ramp_factor(dt.date(2026, 12, 1), dt.date(2026, 11, 20), [0.5, 0.8]) == 0.5
    assert ramp_factor(dt.date(2026, 12, 1), dt.date(2026, 11, 10), [0.5, 0.8]) == 0.8
    assert ramp_factor(dt.date(2027, 1, 1), dt.date(2026, 11, 10), [0.5, 0.8]) == 1.0
    rows = _run_goals(export, lambda d: d["output"].update(day_targets="period"))
    days = _rows_of(rows, "R0002", "revenue", "day")
    assert days and min(r["period_start"] for r in days) == "2026-11-10"
    assert [r["target"] for r in _rows_of(rows, "R0002", "revenue", "month")][0] == "0.00"
    full_day = 90000 / 66  # 66 working days in Q4 2026, Monday to Friday
    assert quarter(rows, "R0002") == pytest.approx(full_day * 38, abs=0.02)  # 38 days from Nov 10
    trace = _rows_of(rows, "R0002", "revenue", "quarter")[0]["trace"]
    assert "hired 2026-11-10: 38 of 66 working days" in trace
    ramped = _run_goals(export, lambda d: (d["goals"].update(ramp=[0.5]),
                                           d["output"].update(day_targets="period")))
    days = [float(r["target"]) for r in _rows_of(ramped, "R0002", "revenue", "day")]
    # the first month of employment (November, from the 10th) at half: 15 days, then 23 at full
    assert quarter(ramped, "R0002") == pytest.approx(full_day * (15 * 0.5 + 23), abs=0.02)
    assert days[0] == pytest.approx(full_day / 2, abs=0.02)
    assert days[-1] == pytest.approx(full_day, abs=0.02)


def test_a_bad_or_late_hire_date(export):
    from conftest import invoke

    _set_rep_column(export, "R0002", "hired", "soon")
    res = invoke("run", "--rules", str(export / "rules.toml"), "-q")
    assert res.exit_code == 2
    assert "reps.csv:3: column 'hired': expected a date" in res.output  # R0002's line
    _set_rep_column(export, "R0002", "hired", "2027-02-01")
    rows = _run_goals(export)
    assert not [r for r in rows if r["rep_id"] == "R0002"]
    import json

    run = json.loads((export / "out" / "run.json").read_text())
    assert any("R0002 is hired on 2027-02-01, after the quarter" in w for w in run["warnings"])


def test_fiscal_quarters(export):
    from salesrules.goals.calendar import quarter_of

    assert quarter_of(dt.date(2026, 1, 15), 2).start == dt.date(2025, 11, 1)
    assert quarter_of(dt.date(2026, 12, 31), 2).end == dt.date(2027, 1, 31)
    assert quarter_of(dt.date(2026, 5, 1), 4).start == dt.date(2026, 4, 1)
    rows = _run_goals(export, lambda d: d["goals"].update(fiscal_year_start=2))
    q = {(r["period_start"], r["period_end"]) for r in rows if r["grain"] == "quarter"}
    assert q == {("2026-11-01", "2027-01-31")}


def test_a_year_the_holidays_library_has_not_published_is_a_warning():
    from salesrules.goals.calendar import build_calendar

    warnings: list[str] = []
    build_calendar(["Mon", "Tue", "Wed", "Thu", "Fri"], "CN", years={2026}, warnings=warnings)
    assert warnings == []
    build_calendar(["Mon", "Tue", "Wed", "Thu", "Fri"], "CN", years={2090}, warnings=warnings)
    assert len(warnings) == 1 and "CN's 2090 holiday schedule" in warnings[0]
    build_calendar(["Mon", "Tue", "Wed", "Thu", "Fri"], "US", years={2090}, warnings=warnings)
    assert len(warnings) == 1  # fixed-rule holidays are known for every year


# ---------------------------------------------------------------- tiers and team targets


def test_an_unknown_tier_is_an_error_listing_the_tiers(export):
    from conftest import invoke

    _set_rep_column(export, "R0003", "tier", "标竿")
    res = invoke("run", "--rules", str(export / "rules.toml"), "-q")
    assert res.exit_code == 2
    assert ("reps.csv: rep 'R0003': column 'tier': unknown tier '标竿'; "
            "the tiers are 中间力量, 高绩效, 标杆 (goals.tiers)") in res.output
    assert "Traceback" not in res.output


def test_a_team_target_stays_whole_with_tiers_own_rows_and_leave(export):
    """West's target is shared by level × tier; a member's own row comes off it first.
    East's is shared over members' working days, so the one on leave takes less."""
    import json

    on_leave = json.loads((export / "truth.json").read_text())["planted"]["on_leave"]
    reps = {r["rep_id"]: r for r in read_csv(export / "reps.csv") if r["active"] == "yes"}
    west = [r for r in reps if reps[r]["team"] == "West"]
    east = [r for r in reps if reps[r]["team"] == "East"]
    star, own = west[0], west[1]
    _set_rep_column(export, star, "tier", "标杆")
    (export / "goals.csv").write_text(
        f"rep_id,team,stage,target\n{own},,revenue,50000\n,West,revenue,600000\n"
        ",East,revenue,700000\n", encoding="utf-8")
    rows = _run_goals(export, lambda d: d["data"].update(goals={"file": "goals.csv"}))
    cents = {r: round(quarter(rows, r) * 100) for r in reps}
    assert sum(cents[r] for r in west) == 600000_00
    assert cents[own] == 50000_00
    level = {"P1": 60000, "P2": 90000, "P3": 120000}
    others = [r for r in west if r not in (star, own)]
    unit = cents[others[0]] / level[reps[others[0]]["level"]]
    assert cents[star] / level[reps[star]["level"]] == pytest.approx(1.6 * unit, rel=1e-6)
    assert sum(cents[r] for r in east) == 700000_00
    if on_leave in east:
        peers = [r for r in east if r != on_leave and reps[r]["level"] == reps[on_leave]["level"]]
        assert peers and all(cents[on_leave] < cents[p] for p in peers)


# ---------------------------------------------------------------- feasible targets


def test_an_activity_target_beyond_the_feasible_is_capped_and_the_rest_is_a_conversion_target():
    from salesrules.goals.feasible import Limit

    rates = {"connects": Rate(0.4), "conversations": Rate(0.5), "intents": Rate(0.25),
             "pipeline": Rate(3000.0), "revenue": Rate(1 / 3)}
    limits = {"dials": Limit(8.0, 60, 0.9, "team East")}  # 480 dials feasible, 600 needed
    pushed = push_back(FUNNEL, {"revenue": 30000.0}, rates, limits)
    assert pushed.values["dials"] == 480
    assert pushed.values["connects"] == pytest.approx(240)  # what is needed stays
    cap = pushed.caps["dials"]
    assert cap.uncapped == pytest.approx(600) and cap.value == 480
    assert cap.next_stage == "connects" and cap.rate == 0.4
    assert cap.needed_rate == pytest.approx(0.5)  # 240 connects from 480 dials
    assert "capped at the feasible 480 (8.0 a day, the team East's 90% quantile" in pushed.traces["dials"]
    assert "conversion target, dials→connects 0.5 (now 0.4)" in pushed.traces["dials"]
    tiny = push_back(FUNNEL, {"revenue": 30000.0}, rates, {"dials": Limit(1.0, 60, 0.9, "company")})
    assert tiny.caps["dials"].needed_rate == 4
    assert "more than 1 (out of reach by conversion alone)" in tiny.traces["dials"]
    assert push_back(FUNNEL, {"revenue": 30000.0}, rates, {"dials": Limit(20.0, 60, 0.9, "x")}
                     ).caps == {}


def test_a_run_caps_activity_targets_at_the_team_quantile(export):
    from salesrules.config import load_config
    from salesrules.goals import set_goals
    from salesrules.load import data_dir, load_dataset
    from salesrules.run import plan_run

    cfg = load_config(export / "rules.toml")
    plan = plan_run(cfg)
    ds = load_dataset(cfg, plan.sources, data_dir(cfg, None))
    goals = set_goals(cfg, ds, plan.split, plan.funnel, dt.date(2026, 11, 25))
    capped = [p for p in goals.plans.values() if p.cap is not None]
    assert capped, "the generated export has reps with low conversion"
    for p in capped:
        assert p.total == p.cap.value <= p.cap.limit.per_day * p.cap.limit.days
        assert p.cap.uncapped > p.cap.value
        below = goals.plans[p.rep_id, p.cap.next_stage]
        assert p.cap.needed_rate == pytest.approx(below.total / p.total, rel=0.01)
        assert "conversion target" in p.trace
    cfg.goals.feasible_quantile = None
    uncapped = set_goals(cfg, ds, plan.split, plan.funnel, dt.date(2026, 11, 25))
    assert all(p.cap is None for p in uncapped.plans.values())


def test_a_middle_stage_override_the_result_target_contradicts_is_a_warning(export):
    import json

    (export / "goals.csv").write_text("rep_id,team,stage,target\nR0002,,intents,1\n",
                                      encoding="utf-8")
    rows = _run_goals(export, lambda d: d["data"].update(goals={"file": "goals.csv"}))
    assert quarter(rows, "R0002", "intents") == 1  # kept as given
    run = json.loads((export / "out" / "run.json").read_text())
    said = [w for w in run["warnings"] if "goals.csv:2" in w]
    assert len(said) == 1, run["warnings"]
    assert "rep R0002's intents target 1.0 is below the" in said[0]
    assert "that their revenue target 90,000.00 needs at their rates" in said[0]


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


@given(st.floats(1, 1e7), st.lists(st.floats(0.01, 1), min_size=3, max_size=3),
       st.lists(st.one_of(st.none(), st.floats(0, 500)), min_size=3, max_size=3),
       st.integers(0, 66))
def test_capped_targets_never_exceed_their_cap_and_the_needed_rate_closes_the_gap(
        revenue, rates3, per_day, days):
    from salesrules.goals.feasible import Limit

    rates = {"connects": Rate(rates3[0]), "conversations": Rate(rates3[1]),
             "intents": Rate(rates3[2]), "pipeline": Rate(3000.0), "revenue": Rate(0.3)}
    limits = {s: Limit(v, days, 0.9, "team") for s, v in
              zip(("dials", "connects", "conversations"), per_day) if v is not None}
    pushed = push_back(FUNNEL, {"revenue": revenue}, rates, limits)
    for stage, limit in limits.items():
        if limit.value > 0:
            assert pushed.values[stage] <= limit.value
    for stage, cap in pushed.caps.items():
        assert pushed.values[stage] == cap.value > 0
        assert cap.value * cap.needed_rate == pytest.approx(pushed.values[cap.next_stage])
        assert to_units(pushed.values[stage], "count") <= limits[stage].per_day * days + 1e-6
