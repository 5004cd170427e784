"""What sources hand the builder as columns (a call log's figures, the stages they replace) gives
what handing them over one value at a time, into dicts, gives."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesrules.errors import Problems
from salesrules.load.callstats import CallStats
from salesrules.load.dataset import BadRow, DatasetBuilder
from salesrules.model import Funnel, Stage

D0 = dt.date(2026, 7, 1)
STAGES = ("dials", "connects", "revenue")
reps = st.sampled_from(["R1", "R2", "R10", "张三"])
days = st.integers(0, 9).map(lambda n: D0 + dt.timedelta(days=n))
sheet = st.lists(st.tuples(reps, days, st.lists(st.integers(0, 50).map(float), min_size=3,
                                                max_size=3)), max_size=20)
# replacements as a source may give them: one at a time, as (rep, day, value) items, as columns
replacement = st.tuples(st.sampled_from(["one", "values", "columns"]), st.sampled_from(STAGES),
                        st.lists(st.tuples(reps, days, st.integers(0, 99).map(float)),
                                 max_size=8))


def _day(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


@pytest.mark.slow
@settings(max_examples=80, deadline=None)
@given(rows=sheet, replaced=st.lists(replacement, max_size=5),
       bad=st.lists(st.tuples(reps, days), max_size=3))
def test_replaced_stages_are_the_last_value_given_however_given(rows, replaced, bad):
    funnel = Funnel(tuple(Stage(s, unit="amount" if s == "revenue" else "count")
                          for s in STAGES))
    into = DatasetBuilder(funnel, Problems())
    want: dict[tuple[str, dt.date], list[float]] = {}
    for rep, day, vals in rows:
        into.add_activity(rep, day, vals)
        have = want.setdefault((rep, day), [0.0, 0.0, 0.0])
        for i, v in enumerate(vals):
            have[i] += v
    last: dict[tuple[str, dt.date, int], float] = {}
    for how, stage, items in replaced:
        if how == "one":
            for rep, day, v in items:
                into.replace_stage(rep, day, stage, v)
        elif how == "values":
            into.replace_stage_values(stage, iter(items))
        else:
            into._replace_columns(stage, pl.Series([r for r, _, _ in items], dtype=pl.String),
                                  np.array([_day(d) for _, d, _ in items], dtype=np.int64),
                                  np.array([v for _, _, v in items], dtype=np.float64))
        for rep, day, v in items:
            last[(rep, day, STAGES.index(stage))] = v
    for (rep, day, i), v in last.items():
        want.setdefault((rep, day), [0.0, 0.0, 0.0])[i] = v
    for rep, day in bad:  # connects above dials as the sheet has them
        into.add_contradicting(BadRow(rep, day, "dials", "connects", 1.0, 5.0, "x:1",
                                      (1.0, 5.0, 0.0)))
    ds = into.build([])
    assert [(a.rep_id, a.day, list(a.values)) for a in ds.activity] == sorted(
        (rep, day, v) for (rep, day), v in want.items())
    # a row whose dials or connects a replacement set: judged with the replaced figures
    kept = []
    for rep, day in bad:
        counted = [0.0 if (rep, day, i) in last else x for i, x in enumerate((1.0, 5.0, 0.0))]
        judged = [last.get((rep, day, i), x) for i, x in enumerate((1.0, 5.0, 0.0))]
        if judged[1] > judged[0] or not any((rep, day, i) in last for i in range(3)):
            kept.append((rep, day, tuple(counted)))
    assert [(r.rep_id, r.day, r.counted) for r in ds.contradicting] == kept


calls = st.lists(st.tuples(reps, days, st.lists(st.integers(0, 500), min_size=4, max_size=4)),
                 max_size=15)


def _add(stats: CallStats, chunk) -> None:
    stats.add_columns([r for r, _, _ in chunk],
                      np.array([_day(d) for _, d, _ in chunk], dtype=np.int64),
                      np.array([v for _, _, v in chunk], dtype=np.float64).reshape(-1, 4))


def _totals(want, rep, start, end):
    return [sum(v[i] for d, v in want.get(rep, {}).items() if start <= d <= end)
            for i in range(4)]


@pytest.mark.slow
@settings(max_examples=80, deadline=None)
@given(chunks=st.lists(calls, min_size=1, max_size=4), read_at=st.integers(0, 4),
       summed_at=st.integers(0, 4), a=days, b=days)
def test_call_stats_as_columns_are_the_dicts_they_were(chunks, read_at, summed_at, a, b):
    """Figures added in chunks are summed per rep-day; ``by_rep`` (made when asked for, and
    then added to), ``totals`` (also when asked before more are added), ``rows`` and
    ``until`` agree with summing into dicts."""
    start, end = min(a, b), max(a, b)
    stats = CallStats(30)
    want: dict[str, dict[dt.date, list[int]]] = {}
    for k, chunk in enumerate(chunks):
        if k == summed_at:
            assert stats.totals("R1", start, end) == _totals(want, "R1", start, end)
        if k == read_at:
            assert stats.by_rep == want
        _add(stats, chunk)
        for rep, day, vals in chunk:
            have = want.setdefault(rep, {}).setdefault(day, [0, 0, 0, 0])
            for i, v in enumerate(vals):
                have[i] += v
    for rep in ["R1", "R2", "R10", "张三", "nobody"]:  # before by_rep, unless read above
        assert stats.totals(rep, start, end) == _totals(want, rep, start, end)
    rows = stats.rows()
    assert sorted((rows.reps[r], int(d), [int(x) for x in v]) for r, d, v in
                  zip(rows.rep, rows.day, rows.values)) == sorted(
        (rep, _day(d), v) for rep, ds in want.items() for d, v in ds.items())
    cut = stats.until(start)
    assert cut.by_rep == {rep: kept for rep, ds in want.items()
                          if (kept := {d: v for d, v in ds.items() if d <= start})}
    assert cut.short_seconds == 30
    assert {r: dict(d) for r, d in stats.by_rep.items()} == want
