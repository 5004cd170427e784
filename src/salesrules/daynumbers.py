"""Day numbers (days since 1970-01-01, as numpy's ``datetime64[D]`` counts them) and the
ordered group sums the activity table is built with."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np

#: ``date.toordinal()`` of 1970-01-01: day numbers here
#: count from it, as numpy's ``datetime64[D]`` does.
EPOCH = dt.date(1970, 1, 1).toordinal()


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01 (the table's day numbers)."""
    return day.toordinal() - EPOCH


def day_numbers(days: Iterable[dt.date]) -> np.ndarray:
    """:func:`day_number` of many days, as an ``int64`` array."""
    return np.fromiter((d.toordinal() for d in days), dtype=np.int64) - EPOCH


def from_day_number(n: int) -> dt.date:
    return dt.date.fromordinal(n + EPOCH)


def sum_groups(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sum consecutive rows in groups beginning at ``starts``, one row after another."""
    out = values[starts]  # fancy indexing copies
    ends = np.append(starts[1:], len(values))
    extra = ends - starts - 1
    k = 1
    while True:  # the k-th row of every group that has one, added in order
        has = extra >= k
        if not has.any():
            break
        out[has] += values[starts[has] + k]
        k += 1
    return out
