"""Exact integer splits: a target shared over months, weeks and working days by largest remainder."""

from __future__ import annotations

import datetime as dt
import functools
from bisect import bisect_right
from collections.abc import Sequence
from fractions import Fraction
from operator import itemgetter

import attrs

from ..model import Period, Target
from .calendar import months_in, weeks_in


def largest_remainder(total: int, weights: list[float] | list[int] | list[Fraction]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` that sum exactly to ``total``.

    Each part is the floor of its exact share; the units left over go to the
    parts with the largest remainders, earlier parts first on ties. Parts with
    zero weight get nothing. All-zero weights give all zeros (and lose the
    total, which callers must avoid). Exact rational arithmetic, so the result
    does not depend on float rounding.
    """
    n = len(weights)
    if n and weights[0] > 0 and weights.count(weights[0]) == n:
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
    grains: dict[str, list[tuple[dt.date, dt.date, int]]]
    trace: str = ""

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


@functools.lru_cache(maxsize=64)
def _layout(period: Period, working: frozenset[dt.date]) -> tuple[tuple, dict]:
    """Months, their working days, and their weeks with working days: one per calendar.

    With a memo of month splits, ``(month index, value) -> (week rows, day rows)``:
    many reps' plans split the same value over the same month.
    """
    months = months_in(period) if period.grain == "quarter" else [period]
    out = []
    for m in months:
        m_days = [d for d in m.days() if d in working]
        weeks = [(w, [d for d in m_days if w.start <= d <= w.end]) for w in weeks_in(m)]
        out.append((m, m_days, weeks))
    return tuple(out), {}


def _split_month(value: int, weeks: list) -> tuple[list, list]:
    """A month's value over its weeks (by working days), and each week's over its days."""
    week_rows, day_rows = [], []
    for (w, w_days), w_value in zip(weeks, largest_remainder(value, [len(d) for _, d in weeks])):
        week_rows.append((w.start, w.end, w_value))
        if w_days:
            day_rows.extend((d, d, v) for d, v in
                            zip(w_days, largest_remainder(w_value, [1] * len(w_days))))
    return week_rows, day_rows


def cascade(total: int, period: Period, month_weights: Sequence[float],
            working: set[dt.date] | frozenset[dt.date]) -> dict[str, list[tuple[dt.date, dt.date, int]]]:
    """Split a period total into months (by weight), weeks and days (by working days).

    Months without a working day get no share; the total is always kept
    unless the period has no working day at all.
    """
    layout, memo = _layout(period, frozenset(working))
    grains: dict[str, list[tuple[dt.date, dt.date, int]]] = {"day": []}
    if period.grain == "quarter":
        weights = [w if m_days else 0 for w, (_, m_days, _) in zip(month_weights, layout)]
        month_values = largest_remainder(total, weights)
        grains["month"] = [(m.start, m.end, v) for (m, _, _), v in zip(layout, month_values)]
    else:
        month_values = [total]
    weeks_out: list[tuple[dt.date, dt.date, int]] = []
    days_out = grains["day"]
    for i, ((_, _, weeks), m_value) in enumerate(zip(layout, month_values)):
        split = memo.get((i, m_value))
        if split is None:
            if len(memo) > 200_000:  # a long-lived process: keep the memo bounded
                memo.clear()
            split = memo[(i, m_value)] = _split_month(m_value, weeks)
        weeks_out.extend(split[0])  # the rows are tuples: plans may share them
        days_out.extend(split[1])
    grains["week"] = weeks_out
    return grains
