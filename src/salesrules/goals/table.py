"""Every plan's split at once, as integer arrays: one row per distinct request.

:func:`split_table` shares each period total over months (by weight), weeks and
working days; :class:`SplitTable` keeps the arrays, gives one plan's rows as
``(start, end, value)`` lists on demand (``Plan.grains``), its cumulative day
targets by lookup, and targets.csv's rows as a grid (:meth:`SplitTable.grid`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs
import numpy as np

from ..model import Period
from .calendar import months_in, weeks_in
from .split import Grains, SplitRequest, integer_weights, split_rows


@attrs.frozen
class Layout:
    """A period's calendar days, grouped into its months and into weeks clipped to the months."""

    months: tuple[Period, ...]
    weeks: tuple[Period, ...]
    #: Every calendar day of the period, in order.
    days: tuple[dt.date, ...]
    #: Index of the first day of each month and of each week in ``days``.
    month_starts: tuple[int, ...]
    week_starts: tuple[int, ...]
    #: Index of the first week of each month in ``weeks``, and a last entry ``len(weeks)``.
    month_weeks: tuple[int, ...]

    @classmethod
    def of(cls, period: Period) -> Layout:
        months = tuple(months_in(period) if period.grain == "quarter" else [period])
        weeks = tuple(w for m in months for w in weeks_in(m))
        days = tuple(period.start + dt.timedelta(days=i)
                     for i in range((period.end - period.start).days + 1))
        first = {d: i for i, d in enumerate(days)}
        month_weeks = [0]
        for m in months:
            month_weeks.append(month_weeks[-1] + len(weeks_in(m)))
        return cls(months, weeks, days, tuple(first[m.start] for m in months),
                   tuple(first[w.start] for w in weeks), tuple(month_weeks))


@attrs.frozen(eq=False)
class WorkingDays:
    """The distinct working-day sets of many plans, as 0/1 rows over the period's days."""

    #: ``(sets, days)``: 1 where the day is one of the set's working days.
    sets: np.ndarray
    #: Per plan, its row in ``sets``.
    which: np.ndarray

    @classmethod
    def of(cls, layout: Layout, working: Sequence[frozenset[dt.date]]) -> WorkingDays:
        index: dict[frozenset[dt.date], int] = {}
        which = np.fromiter((index.setdefault(w, len(index)) for w in working), dtype=np.intp,
                            count=len(working))
        sets = np.array([[d in w for d in layout.days] for w in index], dtype=np.int64)
        return cls(sets.reshape(len(index), len(layout.days)), which)


def _weight_matrix(weights: Sequence[tuple[float, ...]]) -> np.ndarray:
    """Each plan's month weights as exact integers (Python integers: they may exceed int64)."""
    whole = {w: integer_weights(w) for w in dict.fromkeys(weights)}
    out = np.empty((len(weights), len(weights[0])), dtype=object)
    for i, w in enumerate(weights):
        out[i] = whole[w]
    return out


def _day_values(layout: Layout, on: np.ndarray, week_days: np.ndarray,
                week_values: np.ndarray) -> np.ndarray:
    """Each week's value over its working days in equal shares, earlier days first for the rest."""
    n_days = len(layout.days)
    week_of_day = np.repeat(np.arange(len(layout.weeks)),
                            np.diff([*layout.week_starts, n_days]))
    seen = np.concatenate([np.zeros((len(on), 1), dtype=np.int64), np.cumsum(on, axis=1)], axis=1)
    # the day's place among its week's working days: 0, 1, 2, ...
    place = seen[:, 1:] - seen[:, list(layout.week_starts)][:, week_of_day] - 1
    count = np.maximum(week_days[:, week_of_day], 1)
    value = week_values[:, week_of_day]
    return np.where(on > 0, value // count + (place < value % count), 0)


@attrs.frozen(eq=False)
class DaysOn:
    """One working-day set's days: their columns in the period and their dates."""

    cols: np.ndarray
    dates: list[dt.date]


@attrs.frozen(eq=False)
class TargetGrid:
    """targets.csv's rows below each plan's header, as a grid over the split's rows.

    A column per row kind a plan can have, in the file's order: the period, its
    months (a quarter's), its weeks and the days of the day window. A row of the
    grid is a split row; ``present`` says which of its cells are written (a day
    only where the rep works).
    """

    grains: list[str]
    starts: list[dt.date]
    ends: list[dt.date]
    #: ``(rows, columns)``: the integer targets (int64, or Python integers if a total is too big).
    values: np.ndarray
    #: ``(rows, columns)``: True where the cell is a row of targets.csv.
    present: np.ndarray


@attrs.frozen(eq=False)
class SplitTable:
    """Every plan's split as arrays; equal requests share one row.

    Values are integers in the stage's units: int64 arrays, or object arrays of
    Python integers when a total is too big for int64.
    """

    period: Period
    layout: Layout
    #: Each row's working-day set.
    working: WorkingDays
    #: Per request, in the order given, its row here.
    which: np.ndarray
    #: ``(rows,)``, ``(rows, months)``, ``(rows, weeks)`` and ``(rows, days)``; a day's value is
    #: 0 where the rep does not work.
    totals: np.ndarray
    months: np.ndarray
    weeks: np.ndarray
    days: np.ndarray
    _memo: dict = attrs.field(factory=dict, init=False, repr=False)

    def grains(self, row: int) -> Grains:
        """One row's split as ``(start, end, value)`` lists: days only where the rep works,
        months only for a quarter."""
        on = self._days_on(int(self.working.which[row]))
        out: Grains = {"day": list(zip(on.dates, on.dates, self.days[row, on.cols].tolist()))}
        if self.period.grain == "quarter":
            months = self.layout.months
            out["month"] = list(zip([m.start for m in months], [m.end for m in months],
                                    self.months[row].tolist()))
        weeks = self.layout.weeks
        out["week"] = list(zip([w.start for w in weeks], [w.end for w in weeks],
                               self.weeks[row].tolist()))
        return out

    def days_through(self, row: int, day: dt.date) -> int:
        """How many of the row's working days fall on or before ``day``."""
        return int(self._cumulative("on")[self.working.which[row], self._upto(day)])

    def working_days(self, row: int, through: dt.date | None = None) -> list[dt.date]:
        """The row's working days in date order; those on or before ``through`` if given."""
        dates = self._days_on(int(self.working.which[row])).dates
        return dates[:self.days_through(row, through)] if through is not None else dates[:]

    def expected_to(self, row: int, day: dt.date) -> int:
        """The row's day targets summed up to and including ``day``."""
        return int(self._cumulative("days")[row, self._upto(day)])

    def grid(self, lo: dt.date, hi: dt.date) -> TargetGrid:
        """targets.csv's cells of every row, with day cells for the days from ``lo`` to ``hi``."""
        layout, period = self.layout, self.period
        day_cols = [j for j, d in enumerate(layout.days) if lo <= d <= hi]
        kinds = [(period.grain, [period])]
        parts = [self.totals[:, None]]
        if period.grain == "quarter":
            kinds.append(("month", list(layout.months)))
            parts.append(self.months)
        kinds.append(("week", list(layout.weeks)))
        parts.append(self.weeks)
        days = [Period("day", layout.days[j], layout.days[j]) for j in day_cols]
        kinds.append(("day", days))
        parts.append(self.days[:, day_cols])
        values = np.concatenate(parts, axis=1)
        present = np.ones(values.shape, dtype=bool)
        on = self.working.sets[self.working.which]
        present[:, values.shape[1] - len(day_cols):] = on[:, day_cols] > 0
        cells = [(grain, p) for grain, ps in kinds for p in ps]
        return TargetGrid([g for g, _ in cells], [p.start for _, p in cells],
                          [p.end for _, p in cells], values, present)

    def _upto(self, day: dt.date) -> int:
        return min(max((day - self.period.start).days + 1, 0), len(self.layout.days))

    def _cumulative(self, name: str) -> np.ndarray:
        """Running sums along the days, with a leading 0: of the working-day sets, or of the
        day values."""
        got = self._memo.get(name)
        if got is None:
            a = self.working.sets if name == "on" else self.days
            got = np.zeros((a.shape[0], a.shape[1] + 1), dtype=a.dtype)
            np.cumsum(a, axis=1, out=got[:, 1:])
            self._memo[name] = got
        return got

    def _days_on(self, s: int) -> DaysOn:
        got = self._memo.get(s)
        if got is None:
            cols = np.flatnonzero(self.working.sets[s])
            got = self._memo[s] = DaysOn(cols, [self.layout.days[j] for j in cols.tolist()])
        return got


def split_table(period: Period, requests: Sequence[SplitRequest]) -> SplitTable:
    """Split each request's total into months (by weight), weeks and days (by working days).

    All requests are split at once, with integer arrays: months without a
    working day get no share, a month's value is shared over its weeks by their
    working days and a week's over its working days, each by
    :func:`~salesrules.goals.split.split_rows`. The total is always kept unless
    the rep has no working day in the period. Equal requests share one row.
    """
    index: dict[SplitRequest, int] = {}
    which = np.fromiter((index.setdefault(r, len(index)) for r in requests), dtype=np.intp,
                        count=len(requests))
    unique = list(index)
    layout = Layout.of(period)
    working = WorkingDays.of(layout, [r.working for r in unique])
    on = working.sets[working.which]
    totals = _compact(np.array([r.total for r in unique], dtype=object))
    if not unique:
        return SplitTable(period, layout, working, which, totals,
                          np.zeros((0, len(layout.months)), dtype=np.int64),
                          np.zeros((0, len(layout.weeks)), dtype=np.int64), on)
    week_days = np.add.reduceat(on, layout.week_starts, axis=1)
    if period.grain == "quarter":
        month_days = np.add.reduceat(on, layout.month_starts, axis=1)
        weights = _weight_matrix([r.month_weights for r in unique])
        month_values = split_rows(totals, np.where(month_days > 0, weights, 0))
    else:
        month_values = totals[:, None]
    week_values = np.concatenate(
        [split_rows(month_values[:, m], week_days[:, a:b]) for m, (a, b) in
         enumerate(zip(layout.month_weeks, layout.month_weeks[1:]))], axis=1)
    day_values = _day_values(layout, on, week_days, week_values)
    if totals.dtype == object:  # a part fits int64 while running sums of parts may not
        return SplitTable(period, layout, working, which, totals, month_values, week_values,
                          day_values)
    return SplitTable(period, layout, working, which, totals, _compact(month_values),
                      _compact(week_values), _compact(day_values))


def _compact(values: np.ndarray) -> np.ndarray:
    """int64 when every value fits, else the exact Python integers as they are."""
    if values.dtype != object:
        return values
    try:
        return values.astype(np.int64)
    except OverflowError:
        return values


