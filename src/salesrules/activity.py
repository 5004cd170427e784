"""Daily activity per rep and funnel stage, held as columns (numpy arrays), not one object per row.

A big export has hundreds of thousands of rep-days. Holding each as a Python
list in a dict costs more than everything the run then does with them, so the
table keeps one array of day numbers and one 2-D array of stage values,
sorted by rep and day, and answers sums over windows with array operations.

Sums are taken in the rows' order (rep, then day), one value after another,
so a figure is the same every run and equal to summing the rows in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType

import attrs
import numpy as np
import polars as pl

from .daynumbers import EPOCH, day_number, day_numbers, find_rep_days, from_day_number, sum_groups
from .daynumbers import Hits as _Hits

__all__ = ["EPOCH", "ActivityRows", "ActivitySpan", "ActivityTable", "DailyActivity",
           "day_number", "day_numbers", "from_day_number"]

@attrs.frozen
class DailyActivity:
    """What one rep did on one day, as a value per funnel stage."""

    rep_id: str
    day: dt.date
    values: tuple[float, ...]


@attrs.frozen
class ActivitySpan:
    """The first and last day with activity (``None`` when there is none)."""

    first: dt.date | None
    last: dt.date | None


@attrs.frozen(eq=False)
class ActivityRows:
    """Some of a table's rows, as read-only arrays: what vectorised strategies and checks use.

    Row ``k`` is rep ``reps[rep[k]]`` on day ``day[k]`` (days since 1970-01-01;
    ``day.view("datetime64[D]")`` gives dates) with one value per stage in
    ``values[k]``. Rows are sorted by rep id, then day.
    """

    reps: tuple[str, ...]
    rep: np.ndarray
    day: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.day)

    def per_rep(self, weights: np.ndarray) -> np.ndarray:
        """Sum ``weights`` (one per row) per rep, in row order: one sum per entry of ``reps``."""
        return np.bincount(self.rep, weights=weights, minlength=len(self.reps))


def _read_only(a: np.ndarray) -> np.ndarray:
    a = a.view()
    a.flags.writeable = False
    return a


class ActivityTable:
    """Daily activity per rep and funnel stage, summed per rep-day as it is read.

    Add rows with :meth:`add_columns`; rows for the same rep and day are
    summed in the order they were added. Read with :meth:`totals` (one rep, a window),
    :meth:`window_totals` (every rep at once), :meth:`values_on` (given days),
    :meth:`rows` (arrays, for vectorised work) or :meth:`days` (a mapping per
    rep, for simple code).
    """

    def __init__(self, stages: Sequence[str]) -> None:
        self.stages = tuple(stages)
        width = len(self.stages)
        # added but not yet merged
        self._chunks: list[tuple[list[str], np.ndarray, np.ndarray, np.ndarray]] = []
        # merged: rows sorted by rep then day, one per rep-day
        self._reps: tuple[str, ...] = ()
        self._index: dict[str, int] = {}
        self._offsets = np.zeros(1, dtype=np.int64)
        self._rep = np.zeros(0, dtype=np.int64)
        self._day = np.zeros(0, dtype=np.int64)
        self._values = np.zeros((0, width), dtype=np.float64)
        self._memo: dict = {}
        self._read_only = False

    def freeze(self) -> None:
        """Make the table read-only: the kernel does it once the export is loaded, so that
        goals, checks, policies and output plugins see the same activity."""
        self._merge()
        self._read_only = True

    def _writing(self) -> None:
        if self._read_only:
            raise TypeError("the run's activity is read-only once the export is loaded")

    # ------------------------------------------------------------ adding

    def add_columns(self, rep_ids: Sequence[str] | pl.Series,
                    days: Sequence[dt.date] | np.ndarray,
                    values: Sequence[Sequence[float]] | np.ndarray) -> None:
        """Add rep-days: a rep id, a day and a row of stage values each (the one way to add).

        ``rep_ids`` may be a polars column of text; ``days`` holds dates,
        ``datetime64[D]`` values or days since 1970-01-01; ``values`` has one
        column per stage. Rows of the same rep and day are summed, in the order
        they were added::

            table.add_columns(["R1", "R1"], [dt.date(2026, 3, 5)] * 2, [[10, 2], [5, 1]])
        """
        self._writing()
        days = np.asarray(days)
        if days.dtype == object:
            days = day_numbers(days.tolist())
        elif days.dtype.kind == "M":
            days = days.astype("datetime64[D]").view(np.int64)
        values = np.asarray(values, dtype=np.float64)
        if values.size == 0:
            values = values.reshape(len(days), len(self.stages))
        if values.ndim != 2 or values.shape[1] != len(self.stages):
            raise ValueError(f"expected one column per stage ({len(self.stages)}), "
                             f"got shape {values.shape}")
        if not (len(rep_ids) == len(days) == len(values)):
            raise ValueError("rep ids, days and values differ in length")
        if len(days):
            ids = pl.Series("rep", rep_ids, dtype=pl.String)
            names = ids.unique().sort()
            codes = ids.replace_strict(names, pl.int_range(len(names), eager=True),
                                       return_dtype=pl.Int64).to_numpy()
            self._chunks.append((names.to_list(), codes, days.astype(np.int64), values))
            self._memo = {}

    def set_stage(self, stage_index: int,
                  items: Iterable[tuple[str, dt.date, float]]) -> None:
        """Set one stage of the given rep-days to a value, adding the rep-day if it is missing."""
        self._writing()
        items = list(items)
        if items:
            self._set_stages({stage_index: pl.DataFrame(
                {"rep": [r for r, _, _ in items], "day": day_numbers(d for _, d, _ in items),
                 "value": [float(v) for _, _, v in items]},
                schema={"rep": pl.String, "day": pl.Int64, "value": pl.Float64})})

    def _set_stages(self, stages: Mapping[int, pl.DataFrame]) -> None:
        """:meth:`set_stage` of several stages at once, as columns: per stage index, a frame
        of ``rep`` (text), ``day`` (days since 1970-01-01) and ``value``."""
        self._writing()
        if not (stages := {i: f for i, f in stages.items() if f.height}):
            return
        both = pl.concat([f.select("rep", "day") for f in stages.values()]).unique(
            maintain_order=True)  # every rep-day is made to exist, then its row is found
        self.add_columns(both["rep"], both["day"].to_numpy(),
                         np.zeros((both.height, len(self.stages))))
        self._merge()
        for i, frame in stages.items():
            hits = self._rows_of(frame["rep"], frame["day"])
            assert hits.found.all()  # every rep-day was added above
            self._values[hits.rows, i] = frame["value"].to_numpy()
        self._memo = {}

    def drop_reps(self, rep_ids: Iterable[str]) -> None:
        """Forget every row of these reps (e.g. reps not in the reps file)."""
        self._writing()
        self._merge()
        drop = {self._index[r] for r in rep_ids if r in self._index}
        if not drop:
            return
        remap = np.full(len(self._reps), -1, dtype=np.int64)
        names: list[str] = []
        for i, r in enumerate(self._reps):
            if i not in drop:
                remap[i] = len(names)
                names.append(r)
        rep = remap[self._rep]
        keep = rep >= 0
        self._assign(tuple(names), rep[keep], self._day[keep], self._values[keep])

    def without_rows(self, drop: np.ndarray, less: np.ndarray | None = None) -> ActivityTable:
        """A read-only table of these rows but those where ``drop`` holds (one flag per row
        of :meth:`rows`, in order), with ``less`` (one value per row and stage) taken off
        the values kept; the table itself when neither changes anything."""
        self._merge()
        if not drop.any() and (less is None or not less.any()):
            return self
        out = ActivityTable(self.stages)
        keep = ~np.asarray(drop, dtype=bool)
        values = self._values if less is None else np.maximum(self._values - less, 0.0)
        out._assign(self._reps, self._rep[keep], self._day[keep], values[keep])
        out._read_only = True
        return out

    def _merge(self) -> None:
        """Merge what was added into the sorted rows, summing rows of the same rep-day in order."""
        if not self._chunks:
            return
        chunks = [(list(self._reps), self._rep, self._day, self._values), *self._chunks]
        self._chunks = []
        names = sorted({n for chunk in chunks for n in chunk[0]})
        rank = {n: i for i, n in enumerate(names)}
        rep = np.concatenate([np.array([rank[n] for n in chunk[0]], dtype=np.int64)[chunk[1]]
                              if len(chunk[0]) else chunk[1] for chunk in chunks])
        day = np.concatenate([c[2] for c in chunks])
        values = np.concatenate([c[3] for c in chunks])
        if len(day):
            base = int(day.min())
            key = rep * (int(day.max()) - base + 1) + (day - base)
            if (key[1:] < key[:-1]).any():
                order = np.argsort(key, kind="stable")  # equal rep-days keep the order they came in
                key, rep, day, values = key[order], rep[order], day[order], values[order]
            new = np.empty(len(key), dtype=bool)
            new[0] = True
            np.not_equal(key[1:], key[:-1], out=new[1:])
            if not new.all():
                starts = np.flatnonzero(new)
                values = sum_groups(values, starts)
                rep, day = rep[starts], day[starts]
        self._assign(tuple(names), rep, day, values)

    def _assign(self, names: tuple[str, ...], rep: np.ndarray, day: np.ndarray,
                values: np.ndarray) -> None:
        self._reps = names
        self._index = {n: i for i, n in enumerate(names)}
        self._rep, self._day = rep, day
        self._values = np.ascontiguousarray(values)
        self._offsets = np.concatenate(
            [[0], np.cumsum(np.bincount(rep, minlength=len(names)))]).astype(np.int64)
        self._memo = {}

    def _rows_of(self, rep_ids: pl.Series, days: pl.Series) -> _Hits:
        """Per rep-day given (days since 1970-01-01): its row, and whether it has one."""
        codes = rep_ids.replace_strict(self._reps, range(len(self._reps)), default=-1,
                                       return_dtype=pl.Int64).to_numpy()
        return find_rep_days(self._rep, self._day, codes, days.to_numpy())

    # ------------------------------------------------------------ reading

    def rows(self, start: dt.date | None = None, end: dt.date | None = None,
             reps: Iterable[str] | None = None) -> ActivityRows:
        """The rows within ``[start, end]`` (both inclusive, either open), for vectorised work.

        With ``reps``, the result's ``reps`` are those ids in that order (ids
        without activity get no rows) and rows of other reps are left out.
        """
        self._merge()
        mask = None
        if start is not None:
            mask = self._day >= day_number(start)
        if end is not None:
            upto = self._day <= day_number(end)
            mask = upto if mask is None else mask & upto
        rep, day, values = self._rep, self._day, self._values
        names = self._reps
        if reps is not None:
            names = tuple(reps)
            to = np.full(len(self._reps) + 1, -1, dtype=np.int64)
            for i, r in enumerate(names):
                c = self._index.get(r)
                if c is not None:
                    to[c] = i
            rep = to[rep]
            keep = rep >= 0
            mask = keep if mask is None else mask & keep
        if mask is not None:
            rep, day, values = rep[mask], day[mask], values[mask]
        return ActivityRows(names, _read_only(rep), _read_only(day), _read_only(values))

    def _slice(self, rep_id: str) -> slice:
        self._merge()
        c = self._index.get(rep_id)
        if c is None:
            return slice(0, 0)
        return slice(int(self._offsets[c]), int(self._offsets[c + 1]))

    def totals(self, rep_id: str, start: dt.date | None = None,
               end: dt.date | None = None) -> list[float]:
        """Sum of each stage for one rep over ``[start, end]`` (both inclusive).

        Remembered until the table changes: progress, checks and the report
        ask for the same sums.
        """
        key = ("totals", rep_id, start, end)
        out = self._memo.get(key)
        if out is None:
            rows = self._slice(rep_id)
            lo, hi = rows.start, rows.stop
            days = self._day[rows]
            if start is not None:
                lo += int(np.searchsorted(days, day_number(start), "left"))
            if end is not None:
                hi = lo + int(np.searchsorted(self._day[lo:hi], day_number(end), "right"))
            out = self._memo[key] = (self._values[lo:hi].sum(axis=0).tolist() if hi > lo
                                     else [0.0] * len(self.stages))
        return list(out)

    def window_totals(self, start: dt.date | None = None,
                      end: dt.date | None = None) -> dict[str, list[float]]:
        """:meth:`totals` of every rep with activity at once (one array pass)."""
        rows = self.rows(start, end)
        sums = np.stack([rows.per_rep(rows.values[:, j]) for j in range(len(self.stages))],
                        axis=1) if len(self.stages) else np.zeros((len(rows.reps), 0))
        out = dict(zip(rows.reps, sums.tolist()))
        for rep_id, tot in out.items():
            self._memo[("totals", rep_id, start, end)] = tot
        return {k: list(v) for k, v in out.items()}

    def _lookup(self, rep_id: str, days: Sequence[dt.date]) -> _Hits:
        """Per day given: the rep's row that day, and whether it exists."""
        rows = self._slice(rep_id)
        if rows.stop == rows.start or not len(days):
            return _Hits(np.full(len(days), rows.start, dtype=np.int64),
                         np.zeros(len(days), dtype=bool))
        have = self._day[rows]
        want = day_numbers(days)
        at = np.searchsorted(have, want).clip(max=len(have) - 1)
        return _Hits(rows.start + at, have[at] == want)

    def values_on(self, rep_id: str, days: Sequence[dt.date],
                  missing: float = np.nan) -> np.ndarray:
        """One row of stage values per day given; ``missing`` (NaN) on days the rep has no row."""
        out = np.full((len(days), len(self.stages)), missing, dtype=np.float64)
        hits = self._lookup(rep_id, days)
        out[hits.found] = self._values[hits.rows[hits.found]]
        return out

    def grid(self, reps: Sequence[str], days: Sequence[dt.date]) -> np.ndarray:
        """Stage values of many reps on the same days: ``out[rep, day, stage]``, NaN where no row.

        One array pass for every rep at once, for checks that look at each
        rep's days in turn. ``days`` must be in date order.
        """
        out = np.full((len(reps), len(days), len(self.stages)), np.nan)
        if not len(days) or not len(reps):
            return out
        want = day_numbers(days)
        rows = self.rows(days[0], days[-1], reps=reps)
        at = np.searchsorted(want, rows.day).clip(max=len(want) - 1)
        hit = want[at] == rows.day
        out[rows.rep[hit], at[hit]] = rows.values[hit]
        return out

    def days(self, rep_id: str) -> Mapping[dt.date, list[float]]:
        """One rep's rows as a read-only mapping of day to stage values, in date order."""
        key = ("days", rep_id)
        out = self._memo.get(key)
        if out is None:
            rows = self._slice(rep_id)
            out = self._memo[key] = MappingProxyType(dict(zip(
                map(from_day_number, self._day[rows].tolist()),
                self._values[rows].tolist())))
        return out

    @property
    def rep_ids(self) -> tuple[str, ...]:
        """The reps with at least one row, sorted."""
        self._merge()
        return self._reps

    def span(self) -> ActivitySpan:
        """The first and last day with activity."""
        self._merge()
        if not len(self._day):
            return ActivitySpan(None, None)
        return ActivitySpan(from_day_number(int(self._day.min())),
                            from_day_number(int(self._day.max())))

    def first_day(self) -> dt.date | None:
        return self.span().first

    def last_day(self) -> dt.date | None:
        return self.span().last

    def __iter__(self) -> Iterator[DailyActivity]:
        self._merge()
        for rep, day, values in zip(self._rep.tolist(), self._day.tolist(),
                                    self._values.tolist()):
            yield DailyActivity(self._reps[rep], from_day_number(day), tuple(values))

    def __len__(self) -> int:
        self._merge()
        return len(self._day)
