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
