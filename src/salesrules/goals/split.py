"""Exact integer splits: targets shared over months, weeks and working days by largest remainder."""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from collections.abc import Sequence
from fractions import Fraction
from operator import itemgetter
from typing import TYPE_CHECKING

import attrs
import numpy as np

from ..model import Period, Target
from .feasible import Cap

if TYPE_CHECKING:
    from .table import SplitTable

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


@attrs.frozen(cache_hash=True)
class SplitRequest:
    """One plan's period total, its team's month weights, and the rep's own working days."""

    total: int
    month_weights: tuple[float, ...]
    working: frozenset[dt.date]


@attrs.define(eq=False)
class Plan:
    """One rep's target for one stage at every grain of the period.

    ``grains`` holds each grain as a list of ``(start, end, value)`` in date order;
    values are integers in the stage's units (counts, or cents for amounts). Day
    entries exist only for the rep's working days. A plan made by the run keeps
    its row of the run's split (``table``, ``split_row``) and builds those lists
    from it when they are first read.
    """

    rep_id: str
    team: str
    stage: str
    period: Period
    total: int
    _grains: Grains | None = attrs.field(default=None, alias="grains")
    trace: str = ""
    #: Set when the reverse funnel asked for more of this activity stage than is
    #: feasible: the cap, the uncapped value, and the conversion rate then
    #: needed at the stage below (see :class:`~salesrules.goals.feasible.Cap`).
    cap: Cap | None = None
    #: The run's split this plan's grains come from when they were not given, and its row there.
    table: SplitTable | None = attrs.field(default=None, kw_only=True, repr=False)
    split_row: int = attrs.field(default=-1, kw_only=True, repr=False)

    @property
    def grains(self) -> Grains:
        """``grain -> [(start, end, value), ...]``: month (a quarter's), week and day targets."""
        if self._grains is None:
            self._grains = self.table.grains(self.split_row) if self.table is not None else {}
        return self._grains

    @grains.setter
    def grains(self, value: Grains) -> None:
        self._grains = value

    @property
    def from_split(self) -> bool:
        """Whether the plan still answers from its row of the run's split: its grains never
        built as lists (which a caller could change), nor set."""
        return self.table is not None and self._grains is None

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Plan)
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def _key(self) -> list[object]:
        return [self.rep_id, self.team, self.stage, self.period, self.total, self.grains,
                self.trace, self.cap]

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
        if self._grains is None and self.table is not None:
            return self.table.days_through(self.split_row, day)
        return bisect_right(self.grains["day"], day, key=itemgetter(0))  # days are in date order

    def days_after(self, day: dt.date) -> int:
        """How many of the plan's working days fall after ``day``."""
        return self.days_through(self.period.end) - self.days_through(day)

    def working_days(self, through: dt.date | None = None) -> list[dt.date]:
        """The plan's working days in date order; those on or before ``through`` if given."""
        if self._grains is None and self.table is not None:
            return self.table.working_days(self.split_row, through)
        days = [d for d, _, _ in self.grains["day"]]
        return days if through is None else days[:self.days_through(through)]

    def expected_to(self, day: dt.date) -> int:
        """The cumulative day targets up to and including ``day``."""
        if self._grains is None and self.table is not None:
            return self.table.expected_to(self.split_row, day)
        return sum(v for _, _, v in self.grains["day"][:self.days_through(day)])
