"""Goal calendars: working days, holidays, fiscal quarters, leave and hire dates."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from conftest import read_csv
from goal_runs import quarter, rows_of, run_goals, set_rep_column

from salesrules.goals.calendar import WorkCalendar, months_in, period_of, weeks_in


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


def test_leave_days_get_no_targets_and_prorate_the_period(export):
    import json

    truth = json.loads((export / "truth.json").read_text())
    rep = truth["planted"]["on_leave"]
    rows = run_goals(export, lambda d: d["output"].update(day_targets="period"))
    leave = read_csv(export / "leave.csv")[0]
    days = [r for r in rows if r["rep_id"] == rep and r["grain"] == "day"]
    assert days and not any(leave["start"] <= r["period_start"] <= leave["end"] for r in days)
    level = next(r["level"] for r in read_csv(export / "reps.csv") if r["rep_id"] == rep)
    full = {"P1": 60000, "P2": 90000, "P3": 120000}[level]
    assert quarter(rows, rep) < full
    trace = next(r["trace"] for r in rows if r["rep_id"] == rep and r["grain"] == "quarter"
                 and r["stage"] == "revenue")
    assert "prorated for" in trace and "leave day(s)" in trace


def test_china_calendar_from_the_holidays_library(export):
    rows = run_goals(export, lambda d: (
        d["goals"].update(calendar={"country": "CN"}),
        d["output"].update(day_targets="period")))
    days = {r["period_start"] for r in rows if r["grain"] == "day"}
    assert "2026-10-01" not in days and "2026-10-07" not in days   # National Day
    assert "2026-10-10" in days                                    # a Saturday made up (调休)


@pytest.mark.slow
def test_even_split_gives_every_working_day_the_same_target_under_the_china_calendar(export):
    """October 2026 has 18 working days (National Day) and December 23: the month targets
    follow, so the daily target is the same in both; ``per = "month"`` keeps equal months."""
    rows = run_goals(export, lambda d: (d["goals"].update(calendar={"country": "CN"}),
                                         d["output"].update(day_targets="period")))
    months = {r["period_start"][:7]: float(r["target"])
              for r in rows_of(rows, "R0002", "revenue", "month")}
    days = defaultdict(list)
    for r in rows_of(rows, "R0002", "revenue", "day"):
        days[r["period_start"][:7]].append(float(r["target"]))
    assert [len(days[m]) for m in ("2026-10", "2026-11", "2026-12")] == [18, 21, 23]
    per_day = [months[m] / len(days[m]) for m in ("2026-10", "2026-11", "2026-12")]
    assert max(per_day) - min(per_day) < 0.01
    every_day = [v for m in days.values() for v in m]
    assert max(every_day) - min(every_day) <= 0.011
    equal = run_goals(export, lambda d: d["goals"].update(split={"strategy": "even",
                                                                  "params": {"per": "month"}}))
    assert len({r["target"] for r in rows_of(equal, "R0002", "revenue", "month")}) == 1


def test_leave_lowers_its_own_month_and_keeps_the_daily_target(export):
    import json

    rep = json.loads((export / "truth.json").read_text())["planted"]["on_leave"]
    leave = read_csv(export / "leave.csv")[0]
    rows = run_goals(export, lambda d: d["output"].update(day_targets="period"))
    for stage in ("dials", "revenue"):
        days = rows_of(rows, rep, stage, "day")
        before = [float(r["target"]) for r in days if r["period_start"] < leave["start"]][-5:]
        after = [float(r["target"]) for r in days if r["period_start"] > leave["end"]][:5]
        assert len(before) == len(after) == 5
        b, a = sum(before) / 5, sum(after) / 5
        assert abs(a - b) <= 0.05 * b, (stage, before, after)
    months = [float(r["target"]) for r in rows_of(rows, rep, "revenue", "month")]
    assert months[1] < months[0] and months[1] < months[2]  # November holds the leave


@pytest.mark.slow
def test_a_rep_hired_mid_quarter_has_targets_from_the_hire_date_with_a_ramp(export):
    set_rep_column(export, "R0002", "hired", "2026-11-10")  # a P2 in West: 90,000 a quarter
    from salesrules.goals.days import ramp_factor

    assert ramp_factor(dt.date(2026, 11, 30), dt.date(2026, 11, 20), [0.5, 0.8]) == 0.5
    assert ramp_factor(dt.date(2026, 12, 1), dt.date(2026, 11, 20), [0.5, 0.8]) == 0.5
    assert ramp_factor(dt.date(2026, 12, 1), dt.date(2026, 11, 10), [0.5, 0.8]) == 0.8
    assert ramp_factor(dt.date(2027, 1, 1), dt.date(2026, 11, 10), [0.5, 0.8]) == 1.0
    rows = run_goals(export, lambda d: d["output"].update(day_targets="period"))
    days = rows_of(rows, "R0002", "revenue", "day")
    assert days and min(r["period_start"] for r in days) == "2026-11-10"
    assert [r["target"] for r in rows_of(rows, "R0002", "revenue", "month")][0] == "0.00"
    full_day = 90000 / 66  # 66 working days in Q4 2026, Monday to Friday
    assert quarter(rows, "R0002") == pytest.approx(full_day * 38, abs=0.02)  # 38 days from Nov 10
    trace = rows_of(rows, "R0002", "revenue", "quarter")[0]["trace"]
    assert "hired 2026-11-10: 38 of 66 working days" in trace
    ramped = run_goals(export, lambda d: (d["goals"].update(ramp=[0.5]),
                                           d["output"].update(day_targets="period")))
    days = [float(r["target"]) for r in rows_of(ramped, "R0002", "revenue", "day")]
    # the first month of employment (November, from the 10th) at half: 15 days, then 23 at full
    assert quarter(ramped, "R0002") == pytest.approx(full_day * (15 * 0.5 + 23), abs=0.02)
    assert days[0] == pytest.approx(full_day / 2, abs=0.02)
    assert days[-1] == pytest.approx(full_day, abs=0.02)


def test_a_bad_or_late_hire_date(export):
    from conftest import invoke

    set_rep_column(export, "R0002", "hired", "soon")
    res = invoke("run", "--rules", str(export / "rules.toml"), "-q")
    assert res.exit_code == 2
    assert "reps.csv:3: column 'hired': expected a date" in res.output  # R0002's line
    set_rep_column(export, "R0002", "hired", "2027-02-01")
    rows = run_goals(export)
    assert not [r for r in rows if r["rep_id"] == "R0002"]
    import json

    run = json.loads((export / "out" / "run.json").read_text())
    assert any("R0002 is hired on 2027-02-01, after the quarter" in w for w in run["warnings"])


def test_fiscal_quarters(export):
    from salesrules.goals.calendar import quarter_of

    assert quarter_of(dt.date(2026, 1, 15), 2).start == dt.date(2025, 11, 1)
    assert quarter_of(dt.date(2026, 12, 31), 2).end == dt.date(2027, 1, 31)
    assert quarter_of(dt.date(2026, 5, 1), 4).start == dt.date(2026, 4, 1)
    rows = run_goals(export, lambda d: d["goals"].update(fiscal_year_start=2))
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
