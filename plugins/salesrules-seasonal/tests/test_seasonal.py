"""seasonal: given and estimated month weights, exact totals, and a switch of one line in a real
run."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from salesrules_seasonal import Seasonal, SeasonalParams

from salesrules.api import ActivityTable, Funnel, Period, Rep, SplitBatch, Stage
from salesrules.cli import main
from salesrules.testing import assert_sums_to_parent

FUNNEL = Funnel((Stage("dials"), Stage("revenue", unit="amount")))
Q4 = Period("quarter", dt.date(2026, 10, 1), dt.date(2026, 12, 31))
MONTHS = (Period("month", dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
          Period("month", dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
          Period("month", dt.date(2026, 12, 1), dt.date(2026, 12, 31)))


ONE_REP = (Rep("R1", "a", "East", "P1"),)


def batch(history: ActivityTable, reps=ONE_REP) -> SplitBatch:
    return SplitBatch("East", tuple(reps), Q4, MONTHS, FUNNEL, history, dt.date(2026, 10, 20),
                      (22, 21, 23))


def test_given_multipliers_multiply_the_working_days():
    s = Seasonal(SeasonalParams(months={"11": 1.3, "12": 1.3, "10": 0.7}))
    w = s.month_weights(batch(ActivityTable(FUNNEL.names)))
    assert w == pytest.approx([0.7 * 22, 1.3 * 21, 1.3 * 23])


def test_bad_month_keys_are_refused():
    with pytest.raises(ValueError, match="not a month number"):
        SeasonalParams(months={"13": 1.0})
    with pytest.raises(ValueError, match="either months or estimate"):
        SeasonalParams(months={"1": 1.0}, estimate=True)


def test_estimate_follows_past_revenue_and_shrinks_thin_months():
    hist = ActivityTable(FUNNEL.names)
    for year in (2024, 2025):
        for day in range(1, 28):
            hist.add_columns(["R1"], [dt.date(year, 10, day)], [[10, 100.0]])   # October: slow
            hist.add_columns(["R1"], [dt.date(year, 11, day)], [[10, 300.0]])   # November: peak
    hist.add_columns(["R1"], [dt.date(2025, 12, 1)], [[10, 3000.0]])  # one huge December day
    w = Seasonal(SeasonalParams(estimate=True)).month_weights(batch(hist))
    per_day = [x / d for x, d in zip(w, (22, 21, 23))]
    assert per_day[1] > 2 * per_day[0]                 # the peak shows
    assert per_day[2] < 3000 / ((100 * 54 + 300 * 54 + 3000) / 109)  # one day is shrunk hard


def test_estimate_without_history_weighs_by_working_days():
    w = Seasonal(SeasonalParams(estimate=True)).month_weights(batch(ActivityTable(FUNNEL.names)))
    assert w == [22.0, 21.0, 23.0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.05, 5), min_size=3, max_size=3), st.integers(0, 10**8))
def test_the_total_is_always_kept(mults, total):
    from salesrules.api import largest_remainder

    w = Seasonal(SeasonalParams(months={str(m): x for m, x in zip((10, 11, 12), mults)})) \
        .month_weights(batch(ActivityTable(FUNNEL.names)))
    assert_sums_to_parent(total, largest_remainder(total, w))


@pytest.mark.slow
def test_switched_on_with_one_line_in_a_whole_cli_run(sample_export):
    rules = sample_export / "rules.toml"
    text = rules.read_text(encoding="utf-8").replace(
        'split = "even"',
        'split = { strategy = "seasonal", params = { months = { "12" = 1.3, "10" = 0.7 } } }')
    rules.write_text(text, encoding="utf-8")
    res = CliRunner().invoke(main, ["run", "--rules", str(rules)])
    assert res.exit_code == 0, res.output
    with (sample_export / "out" / "targets.csv").open(encoding="utf-8-sig") as f:
        rows = [r for r in csv.DictReader(f) if r["stage"] == "revenue"]
    rep = rows[0]["rep_id"]
    q = next(r for r in rows if r["rep_id"] == rep and r["grain"] == "quarter")
    months = [r for r in rows if r["rep_id"] == rep and r["grain"] == "month"]
    cents = [round(float(m["target"]) * 100) for m in months]
    assert sum(cents) == round(float(q["target"]) * 100)
    oct_, nov, dec = cents
    assert dec > nov > oct_
    import json

    m = json.loads((sample_export / "out" / "run.json").read_text())
    split = next(c for c in m["components"] if c["kind"] == "split")
    assert split["name"] == "seasonal" and split["plugin"] == "seasonal"


def test_bad_params_in_rules_toml_name_the_key(sample_export):
    rules = sample_export / "rules.toml"
    text = rules.read_text(encoding="utf-8").replace(
        'split = "even"', 'split = { strategy = "seasonal", params = { months = { "13" = 1.0 } } }')
    rules.write_text(text, encoding="utf-8")
    res = CliRunner().invoke(main, ["run", "--rules", str(rules)])
    assert res.exit_code == 2
    assert "goals.split.params: months: '13' is not a month number 1-12" in res.output


def _issue_history(peak: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> ActivityTable:
    """Two reps engaging deals from October 2025, the first close in January 2026, and from
    then results every day; ``peak`` scales the first, second and third month of each quarter.
    October 2025 has a handful of engagement days, November and December many."""
    hist = ActivityTable(FUNNEL.names)
    day = dt.date(2025, 10, 1)
    while day < dt.date(2026, 10, 1):
        busy = day.month != 10 or day.day <= 3
        if day.year == 2026:
            scale = peak[(day.month - 1) % 3]
            hist.add_columns(["R1", "R2"], [day, day], [[5, 100.0 * scale], [5, 80.0 * scale]])
        elif busy:  # engagements only: nothing closed yet
            hist.add_columns(["R1", "R2"], [day, day], [[5, 0.0], [5, 0.0]])
        day += dt.timedelta(days=1)
    return hist


TWO_REPS = (Rep("R1", "a", "East", "P1"), Rep("R2", "b", "East", "P1"))


def test_a_history_starting_with_engagements_only_invents_no_off_season():
    """Issue 15: no closes in last year's October-December (the history starts with
    engagements), so those months are not covered: they weigh by their working days, and the
    run says so, instead of reading as zero-result months."""
    b = batch(_issue_history(), TWO_REPS)
    w = Seasonal(SeasonalParams(estimate=True)).month_weights(b)
    assert w == [22.0, 21.0, 23.0]
    assert len(b.notes) == 1
    assert "covers revenue from 2026-01-01 to 2026-09-30, not October, November, December" \
        in b.notes[0]
    assert "weigh by their working days" in b.notes[0]


def test_the_month_of_quarter_profile_recovers_a_quarter_end_peak():
    """The same history with a quarter-end peak (26% / 34% / 40% of each quarter): the
    calendar months of Q4 are not covered, but every quarter's first, second and third month
    are, so the profile splits Q4 with the peak."""
    hist = _issue_history((0.26 * 3, 0.34 * 3, 0.40 * 3))
    by_month = batch(hist, TWO_REPS)
    assert Seasonal(SeasonalParams(estimate=True)).month_weights(by_month) == [22.0, 21.0, 23.0]
    b = batch(hist, TWO_REPS)
    w = Seasonal(SeasonalParams(estimate=True, by="month-of-quarter")).month_weights(b)
    per_day = [x / d for x, d in zip(w, (22, 21, 23))]
    shares = [p / sum(per_day) for p in per_day]
    assert shares == pytest.approx([0.26, 0.34, 0.40], abs=0.01)
    assert b.notes == []


def test_the_profile_says_which_month_of_a_quarter_it_has_not_seen():
    hist = ActivityTable(FUNNEL.names)
    for day in range(1, 29):  # one month of history: the first month of Q3
        hist.add_columns(["R1"], [dt.date(2026, 7, day)], [[5, 100.0]])
    b = batch(hist)
    w = Seasonal(SeasonalParams(estimate=True, by="month-of-quarter")).month_weights(b)
    assert w[1:] == [21.0, 23.0]
    assert "not the second month of a quarter, the third month of a quarter" in b.notes[0]


def test_the_profile_needs_an_estimate():
    with pytest.raises(ValueError, match="needs estimate = true"):
        SeasonalParams(months={"1": 1.2}, by="month-of-quarter")


@pytest.mark.slow
def test_a_run_says_which_months_weigh_by_working_days(tmp_path):
    """On a generated opportunity export whose closes start in April 2025, Q1 2026's calendar
    months have no history: the run's warnings (run.json and the terminal) say so."""
    import json

    import tomli_w

    from salesrules.sample.crm_export import crm_export_rules, generate_crm_export

    generate_crm_export(tmp_path, deals=1500)
    rules = crm_export_rules()
    rules["goals"]["split"] = {"strategy": "seasonal", "params": {"estimate": True}}
    (tmp_path / "rules.toml").write_text(tomli_w.dumps(rules), encoding="utf-8")
    res = CliRunner().invoke(main, ["run", "--rules", str(tmp_path / "rules.toml"),
                                    "--as-of", "2026-01-15"])
    assert res.exit_code == 0, res.output
    warnings = json.loads((tmp_path / "out" / "run.json").read_text())["warnings"]
    said = [w for w in warnings if w.startswith("seasonal: team")]
    assert len(said) == 3  # one per office
    assert all("not January, February, March" in w for w in said)
    assert "weigh by their working days" in " ".join(res.output.split())
