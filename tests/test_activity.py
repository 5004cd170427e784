"""The activity table against a plain model: a dict of rep-days summed in the order rows came."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesrules.activity import ActivityTable
from salesrules.goals.personal import _measure
from salesrules.goals.personal.shrinkage import ratio_stats
from salesrules.model import Rep

STAGES = ("dials", "connects", "revenue")
D0 = dt.date(2026, 7, 1)

reps = st.sampled_from(["R1", "R2", "R10", "张三"])
days = st.integers(0, 20).map(lambda n: D0 + dt.timedelta(days=n))
# counts and amounts as exports hold them: zero, or at least a cent
values = st.lists(st.one_of(st.just(0.0), st.floats(0.01, 1e6)), min_size=3, max_size=3)
rows = st.lists(st.tuples(reps, days, values), max_size=60)
# how the rows are fed: one call per row, or chunks of several (dates or datetime64 days)
feeds = st.lists(st.sampled_from(["single", "dates", "columns"]), min_size=1, max_size=4)


def model(rows):
    out: dict[str, dict[dt.date, list[float]]] = {}
    for rep, day, vals in rows:
        row = out.setdefault(rep, {}).get(day)
        if row is None:
            out[rep][day] = list(vals)
        else:
            for i, v in enumerate(vals):
                row[i] += v
    return out


def fill(rows, feed) -> ActivityTable:
    table = ActivityTable(STAGES)
    # consecutive slices, so that the rows keep their order across calls
    size = -(-len(rows) // len(feed)) if rows else 1
    chunks = [rows[i:i + size] for i in range(0, len(rows), size)] or [[]]
    for how, chunk in zip(feed * len(chunks), chunks):
        if how == "single":
            for rep, day, vals in chunk:
                table.add_columns([rep], [day], [vals])
        elif how == "dates":
            table.add_columns([r for r, _, _ in chunk], [d for _, d, _ in chunk],
                              [v for _, _, v in chunk])
        else:
            table.add_columns([r for r, _, _ in chunk],
                              np.array([d for _, d, _ in chunk], dtype="datetime64[D]"),
                              np.array([v for _, _, v in chunk]).reshape(-1, len(STAGES)))
    return table


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(rows, feeds, days, days)
def test_table_sums_rep_days_in_order_like_the_model(rows, feed, a, b):
    start, end = min(a, b), max(a, b)
    want = model(rows)
    table = fill(rows, feed)
    assert table.rep_ids == tuple(sorted(want))
    assert len(table) == sum(len(d) for d in want.values())
    for rep, got_days in want.items():
        assert dict(table.days(rep)) == {d: got_days[d] for d in sorted(got_days)}
        assert list(table.days(rep)) == sorted(got_days)
        in_window = [got_days[d] for d in sorted(got_days) if start <= d <= end]
        expect = [sum(col) for col in zip(*in_window)] if in_window else [0.0] * 3
        assert table.totals(rep, start, end) == expect  # the same sums, bit for bit
    bulk = table.window_totals(start, end)
    assert bulk == {r: table.totals(r, start, end) for r in want}
    first = min((min(d) for d in want.values()), default=None)
    span = table.span()
    assert (span.first, span.last) == (first, max((max(d) for d in want.values()), default=None))
    assert [(x.rep_id, x.day, list(x.values)) for x in table] == [
        (r, d, want[r][d]) for r in sorted(want) for d in sorted(want[r])]


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(rows, st.lists(days, max_size=8, unique=True))
def test_values_on_and_grid_give_nan_where_there_is_no_row(rows, asked):
    asked = sorted(asked)
    want = model(rows)
    table = fill(rows, ["columns"])
    names = ["R1", "R2", "R10", "张三", "nobody"]
    grid = table.grid(names, asked)
    for i, rep in enumerate(names):
        by_day = table.values_on(rep, asked)
        for j, day in enumerate(asked):
            row = want.get(rep, {}).get(day)
            if row is None:
                assert np.isnan(by_day[j]).all() and np.isnan(grid[i, j]).all()
            else:
                assert by_day[j].tolist() == row == grid[i, j].tolist()
        assert (table.values_on(rep, asked, missing=0.0) == np.nan_to_num(by_day)).all()


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(rows, st.lists(st.tuples(reps, days, st.floats(0, 1e3)), max_size=10), st.sets(reps))
def test_set_stage_and_drop_reps(rows, replace, drop):
    want = model(rows)
    table = fill(rows, ["dates"])
    table.set_stage(1, replace)
    for rep, day, v in replace:
        want.setdefault(rep, {}).setdefault(day, [0.0, 0.0, 0.0])[1] = v
    table.drop_reps(drop)
    for rep in drop:
        want.pop(rep, None)
    assert table.rep_ids == tuple(sorted(want))
    for rep in want:
        assert dict(table.days(rep)) == want[rep]


@pytest.mark.parametrize("how", ["add", "columns", "set_stage", "drop_reps"])
def test_what_the_table_remembers_follows_later_changes(how):
    table = ActivityTable(STAGES)
    table.add_columns(["R1"], [D0], [[1.0, 2.0, 3.0]])
    assert table.totals("R1") == [1.0, 2.0, 3.0] and dict(table.days("R1"))
    assert table.window_totals() == {"R1": [1.0, 2.0, 3.0]}
    if how == "add":
        table.add_columns(["R1"], [D0], [[1.0, 0.0, 0.0]])
        want = [2.0, 2.0, 3.0]
    elif how == "columns":
        table.add_columns(["R1"], np.array([D0], dtype="datetime64[D]"), np.array([[0, 5, 0]]))
        want = [1.0, 7.0, 3.0]
    elif how == "set_stage":
        table.set_stage(2, [("R1", D0, 9.0)])
        want = [1.0, 2.0, 9.0]
    else:
        table.drop_reps(["R1"])
        want = [0.0, 0.0, 0.0]
    assert table.totals("R1") == want
    assert table.window_totals().get("R1", [0.0] * 3) == want
    assert [sum(v) for v in table.days("R1").values()] == ([sum(want)] if any(want) else [])


def test_bad_shapes_are_refused():
    table = ActivityTable(STAGES)
    with pytest.raises(ValueError, match="one column per stage"):
        table.add_columns(["R1"], [D0], [[1.0]])
    with pytest.raises(ValueError, match="one column per stage"):
        table.add_columns(["R1"], np.array([0]), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="differ in length"):
        table.add_columns(["R1", "R2"], np.array([0]), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="differ in length"):
        table.add_columns(["R1"], [D0, D0], [[1.0, 2.0, 3.0]])


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(rows)
def test_personal_measures_every_rep_as_ratio_stats_does_one_by_one(rows):
    """The vectorised statistics of the personal funnel equal the plain per-rep formula."""
    table = fill(rows, ["columns"])
    everyone = [Rep(r, r, "T", "L") for r in ["R1", "R2", "R10", "张三"]]
    start, end = D0 + dt.timedelta(days=3), D0 + dt.timedelta(days=15)
    stats = _measure(table, everyone, start, end)
    tot, ratio = stats.totals, stats.ratios
    want = model(rows)
    for rep in everyone:
        mine = [v for d, v in sorted(want.get(rep.id, {}).items()) if start <= d <= end]
        assert tot[rep.id] == ([sum(c) for c in zip(*mine)] if mine else [0.0] * 3)
        for i in range(2):
            r, noise = ratio[rep.id, i]
            expect = ratio_stats([(v[i], v[i + 1]) for v in mine if v[i] > 0 or v[i + 1] > 0])
            r0, noise0 = expect.ratio, expect.noise
            for got, exp in ((r, r0), (noise, noise0)):
                assert (math.isnan(got) and math.isnan(exp)) or got == pytest.approx(exp, rel=1e-9)


def test_the_loaded_activity_is_read_only(sample_export):
    """Goals, checks, policies and output plugins all see the activity as it was loaded."""
    from salesrules.testing import load_export

    table = load_export(sample_export).activity
    before = table.window_totals(table.first_day(), table.last_day())
    for write in (lambda: table.add_columns(["R0001"], [dt.date(2026, 11, 20)], [[1.0] * 6]),
                  lambda: table.set_stage(0, [("R0001", dt.date(2026, 11, 20), 5.0)]),
                  lambda: table.drop_reps(["R0001"])):
        with pytest.raises(TypeError, match="read-only"):
            write()
    assert table.window_totals(table.first_day(), table.last_day()) == before


def test_a_stage_set_keeps_the_rep_days_other_stages_and_adds_the_missing_rep_days():
    d1 = D0 + dt.timedelta(days=1)
    table = ActivityTable(STAGES)
    table.add_columns(["R1", "R1"], [D0, d1], [[-0.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    table.set_stage(1, [("R1", D0, 9.0), ("R2", d1, 4.0)])
    assert dict(table.days("R1")) == {D0: [0.0, 9.0, 3.0], d1: [1.0, 1.0, 1.0]}
    assert dict(table.days("R2")) == {d1: [0.0, 4.0, 0.0]}
    # as a sum with the new rep-day's zeros would: -0.0 is written as 0.0, not "-0.00"
    assert math.copysign(1.0, table.days("R1")[D0][0]) == 1.0


@settings(max_examples=200, deadline=None)
@given(st.sets(st.tuples(st.integers(0, 4), st.integers(-3, 12))),
       st.lists(st.tuples(st.integers(-1, 5), st.integers(-20, 30)), max_size=12))
def test_find_rep_days_finds_exactly_the_rep_days_the_table_has(table, asked):
    """A day outside the table's days never matches another rep's row (the estimate once
    took a bad row one day past a rep's last for the next rep's first day)."""
    from salesrules.daynumbers import find_rep_days

    rows = sorted(table)
    rep = np.array([r for r, _ in rows], dtype=np.int64)
    day = np.array([d for _, d in rows], dtype=np.int64)
    hits = find_rep_days(rep, day, np.array([c for c, _ in asked], dtype=np.int64),
                         np.array([d for _, d in asked], dtype=np.int64))
    for (code, d), row, found in zip(asked, hits.rows.tolist(), hits.found.tolist()):
        assert found == ((code, d) in table)
        if found:
            assert rows[row] == (code, d)
