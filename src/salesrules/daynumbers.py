"""Day numbers (days since 1970-01-01, as numpy's ``datetime64[D]`` counts them), and the
ordered group sums and rep-day lookups the activity table is built with."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs
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


@attrs.frozen(eq=False)
class Hits:
    """Per rep-day asked: its row in the table, and whether it exists."""

    rows: np.ndarray
    found: np.ndarray


def find_rep_days(rep: np.ndarray, day: np.ndarray, codes: np.ndarray,
                  days: np.ndarray) -> Hits:
    """Where each rep-day asked for (rep code, day number; a code below 0 is no rep) is among
    rows sorted by rep then day (``rep``, ``day``), and whether it is there. The keys span
    the table's days and the asked ones, so a day outside the table never matches another
    rep's row."""
    rep, day = np.asarray(rep, dtype=np.int64), np.asarray(day, dtype=np.int64)
    codes, days = np.asarray(codes, dtype=np.int64), np.asarray(days, dtype=np.int64)
    every = np.concatenate([day, days])
    base = int(every.min()) if len(every) else 0
    span = int(every.max()) - base + 1 if len(every) else 1
    keys = rep * span + (day - base)
    want = codes * span + (days - base)
    if not len(keys):
        return Hits(np.zeros(len(want), dtype=np.int64), np.zeros(len(want), dtype=bool))
    rows = np.searchsorted(keys, want).clip(0, len(keys) - 1)
    return Hits(rows, (codes >= 0) & (keys[rows] == want))
