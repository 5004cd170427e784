"""Exact integer splits: targets shared over months, weeks and working days by largest remainder."""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from collections.abc import Sequence
from fractions import Fraction
from operator import itemgetter

import attrs
import numpy as np

from ..model import Period, Target
from .calendar import months_in, weeks_in
from .feasible import Cap

#: ``grain -> [(start, end, value), ...]`` in date order: one plan's split.
Grains = dict[str, list[tuple[dt.date, dt.date, int]]]

_INT64_ROOM = 2 ** 62  # products below this fit int64 with room for the sums


def largest_remainder(total: int, weights: list[float] | list[int] | list[Fraction]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` that sum exactly to ``total``.

    Each part is the floor of its exact share; the units left over go to the
    parts with the largest remainders, earlier parts first on ties. Parts with
    zero weight get nothing. All-zero weights give all zeros (and lose the
    total, which callers must avoid). Exact rational arithmetic, so the result
    does not depend on float rounding.
    """
    n = len(weights)
    if n and weights[0] > 0 and all(w == weights[0] for w in weights):
        if total < 0:
            raise ValueError("cannot split a negative total")
        q, r = divmod(total, n)  # equal shares: the first ones get the rest
        return [q + 1] * r + [q] * (n - r)
    if all(type(w) is int for w in weights):
        return _largest_remainder_int(total, weights)  # type: ignore[arg-type]
    fw = [Fraction(w) for w in weights]
    if any(w < 0 for w in fw):
        raise ValueError("weights cannot be negative")
    wsum = sum(fw, Fraction(0))
    if wsum == 0 or total == 0:
        return [0] * len(fw)
    exact = [total * w / wsum for w in fw]
    parts = [int(e.numerator // e.denominator) for e in exact]
    left = total - sum(parts)
    order = sorted((i for i, w in enumerate(fw) if w > 0),
                   key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += 1
    return parts


def _largest_remainder_int(total: int, weights: Sequence[int]) -> list[int]:
    if any(w < 0 for w in weights):
        raise ValueError("weights cannot be negative")
    wsum = sum(weights)
    if wsum == 0 or total == 0:
        return [0] * len(weights)
    if weights and min(weights) == max(weights):  # equal shares: the first ones get the rest
        q, r = divmod(total, len(weights))
        return [q + 1] * r + [q] * (len(weights) - r)
    parts = [total * w // wsum for w in weights]
    left = total - sum(parts)
    if left:
        order = sorted((i for i, w in enumerate(weights) if w > 0),
                       key=lambda i: (-(total * weights[i] % wsum), i))
        for i in order[:left]:
            parts[i] += 1
    return parts


def split_rows(totals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`largest_remainder` of each ``totals[i]`` over the integer ``weights[i]``, at once.

    ``weights`` is ``(rows, parts)`` (or one row shared by all); the result is
    ``(rows, parts)``. Integer arithmetic throughout, in int64 when the
    products fit and in Python integers (an object array) when they might not.
    Each part is the floor of its share; the units left over go to the largest
    remainders, earlier parts first on ties, exactly as :func:`largest_remainder`.
    """
    weights = np.broadcast_to(weights, (len(totals), weights.shape[-1]))
    if (weights < 0).any() or (totals < 0).any():
        raise ValueError("cannot split a negative total or over negative weights")
    big = max(int(totals.max(initial=0)), 1) * max(int(weights.max(initial=0)), 1) * max(
        weights.shape[1], 1) >= _INT64_ROOM
    kind = object if big else np.int64
    t = totals.astype(kind)[:, None]
    w = weights.astype(kind)
    wsum = w.sum(axis=1)
    some = wsum != 0
    wsum[~some] = 1  # all-zero weights: every part 0 (the total is lost)
    product = t * w
    parts = product // wsum[:, None]
    left = np.where(some, t[:, 0] - parts.sum(axis=1), 0)
    # rank the remainders, largest first, earlier parts first on ties
    order = np.argsort(-(product % wsum[:, None]), axis=1, kind="stable")
    rank = np.empty(order.shape, dtype=np.intp)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(order.shape[1]), order.shape),
                      axis=1)
    return parts + (rank < left[:, None]).astype(kind)


def integer_weights(weights: Sequence[float]) -> list[int]:
    """Whole numbers in the same exact proportions as ``weights`` (floats are dyadic rationals)."""
    ratios = [Fraction(w) for w in weights]
    if any(r < 0 for r in ratios):
        raise ValueError("weights cannot be negative")
    scale = math.lcm(*(r.denominator for r in ratios)) if ratios else 1
    whole = [int(r * scale) for r in ratios]
    common = math.gcd(*whole)
    return [w // common for w in whole] if common > 1 else whole


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


@attrs.frozen(cache_hash=True)
class SplitRequest:
    """One plan's period total, its team's month weights, and the rep's own working days."""

    total: int
    month_weights: tuple[float, ...]
    working: frozenset[dt.date]


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


def split_plans(period: Period, requests: Sequence[SplitRequest]) -> list[Grains]:
    """Split each request's total into months (by weight), weeks and days (by working days).

    All requests are split at once, with integer arrays: months without a
    working day get no share, a month's value is shared over its weeks by their
    working days and a week's over its working days, each by
    :func:`split_rows`. The total is always kept unless the rep has no working
    day in the period. Equal requests share one result.
    """
    index: dict[SplitRequest, int] = {}
    which = [index.setdefault(r, len(index)) for r in requests]
    if not index:
        return []
    unique = list(index)
    layout = Layout.of(period)
    working = WorkingDays.of(layout, [r.working for r in unique])
    on = working.sets[working.which]
    week_days = np.add.reduceat(on, layout.week_starts, axis=1)
    totals = np.array([r.total for r in unique], dtype=object)
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
    grains = _as_rows(layout, period.grain == "quarter", working, month_values, week_values,
                      day_values)
    return [grains[i] for i in which]


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


def _as_rows(layout: Layout, with_months: bool, working: WorkingDays, month_values: np.ndarray,
             week_values: np.ndarray, day_values: np.ndarray) -> list[Grains]:
    """The arrays as each plan's ``(start, end, value)`` rows, days only where the rep works.

    Plans with the same working days and the same value for a month share that
    month's week and day rows (the same tuples): many reps' plans do.
    """
    n = len(working.which)
    weeks: list[list[tuple[dt.date, dt.date, int]]] = [[] for _ in range(n)]
    days: list[list[tuple[dt.date, dt.date, int]]] = [[] for _ in range(n)]
    day_ends = [*layout.month_starts[1:], len(layout.days)]
    for s, on in enumerate(working.sets):
        plans = np.flatnonzero(working.which == s)
        for m, (wa, wb) in enumerate(zip(layout.month_weeks, layout.month_weeks[1:])):
            _, first, which = np.unique(month_values[plans, m], return_index=True,
                                        return_inverse=True)
            cols = layout.month_starts[m] + np.flatnonzero(on[layout.month_starts[m]:day_ends[m]])
            on_days = [layout.days[j] for j in cols]
            starts = [w.start for w in layout.weeks[wa:wb]]
            ends = [w.end for w in layout.weeks[wa:wb]]
            rows = plans[first]
            week_rows = [list(zip(starts, ends, v)) for v in week_values[rows, wa:wb].tolist()]
            day_rows = [list(zip(on_days, on_days, v))
                        for v in day_values[np.ix_(rows, cols)].tolist()]
            for i, k in zip(plans.tolist(), which.ravel().tolist()):
                weeks[i] += week_rows[k]
                days[i] += day_rows[k]
    m_start, m_end = [m.start for m in layout.months], [m.end for m in layout.months]
    out: list[Grains] = []
    for i, months in enumerate(month_values.tolist()):
        grains: Grains = {"day": days[i]}
        if with_months:
            grains["month"] = list(zip(m_start, m_end, months))
        grains["week"] = weeks[i]
        out.append(grains)
    return out


@attrs.define
class Plan:
    """One rep's target for one stage at every grain of the period.

    Each grain is a list of ``(start, end, value)`` in date order; values are integers in
    the stage's units (counts, or cents for amounts). Day entries exist only
    for the rep's working days.
    """

    rep_id: str
    team: str
    stage: str
    period: Period
    total: int
    grains: Grains
    trace: str = ""
    #: Set when the reverse funnel asked for more of this activity stage than is
    #: feasible: the cap, the uncapped value, and the conversion rate then
    #: needed at the stage below (see :class:`~salesrules.goals.feasible.Cap`).
    cap: Cap | None = None

    def rows(self) -> list[Target]:
        out = [Target(self.rep_id, self.team, self.stage, self.period.grain,
                      self.period.start, self.period.end, self.total, self.trace)]
        for grain in ("month", "week", "day"):
            if grain == self.period.grain:
                continue
            for start, end, value in self.grains.get(grain, []):
                out.append(Target(self.rep_id, self.team, self.stage, grain,  # type: ignore[arg-type]
                                  start, end, value))
        return out

    def days_through(self, day: dt.date) -> int:
        """How many of the plan's working days fall on or before ``day``."""
        return bisect_right(self.grains["day"], day, key=itemgetter(0))  # days are in date order

    def expected_to(self, day: dt.date) -> int:
        """The cumulative day targets up to and including ``day``."""
        return sum(v for _, _, v in self.grains["day"][:self.days_through(day)])
