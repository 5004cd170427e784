"""What every measure writes: one row per date, measure, subject and value; and the figures
the measures share (what happened after a date, rank correlation)."""

from __future__ import annotations

import datetime as dt
import math

import attrs
import numpy as np

from ..load import Dataset
from ..model import Period

#: The date of a row that sums up every date.
ALL = "all"


@attrs.frozen
class Row:
    """One figure: ``backtest.csv``'s line."""

    date: str
    measure: str
    subject: str
    value: float


@attrs.frozen
class Correlation:
    """A rank correlation and its 95% interval."""

    rho: float
    low: float
    high: float
    n: int


@attrs.frozen
class Span:
    """Days from ``start`` to ``end``, both included."""

    start: dt.date
    end: dt.date


def after(dataset: Dataset, as_of: dt.date, days: int) -> Span | None:
    """The ``days`` after ``as_of``, if the export covers all of them."""
    last = dataset.activity.last_day()
    end = as_of + dt.timedelta(days=days)
    if last is None or last < end:
        return None
    return Span(as_of + dt.timedelta(days=1), end)


def period_seen(dataset: Dataset, period: Period) -> bool:
    """Whether the export covers the whole period, from its first day to its end."""
    span = dataset.activity.span()
    first, last = span.first, span.last
    return first is not None and last is not None and first <= period.start and (
        last >= period.end)


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties given their average rank."""
    order = np.argsort(x, kind="stable")
    r = np.empty(len(x), dtype=np.float64)
    r[order] = np.arange(1, len(x) + 1, dtype=np.float64)
    values = x[order]
    start = 0
    for i in range(1, len(x) + 1):
        if i == len(x) or values[i] != values[start]:
            if i - start > 1:
                r[order[start:i]] = (start + 1 + i) / 2
            start = i
    return r


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation; NaN when either side has no spread."""
    if len(x) < 3:
        return math.nan
    rx, ry = ranks(x), ranks(y)
    sx, sy = rx.std(), ry.std()
    if sx == 0 or sy == 0:
        return math.nan
    return float(((rx - rx.mean()) * (ry - ry.mean())).mean() / (sx * sy))


def pooled(rhos: list[float], n: int) -> Correlation | None:
    """Correlations of several dates over the same ``n`` reps: their mean (Fisher's z), with
    the interval of one date's ``n`` reps (the dates overlap, so they add no reps)."""
    zs = [math.atanh(max(min(r, 0.999999), -0.999999)) for r in rhos if not math.isnan(r)]
    if not zs or n < 4:
        return None
    z = sum(zs) / len(zs)
    half = 1.96 / math.sqrt(n - 3)
    return Correlation(math.tanh(z), math.tanh(z - half), math.tanh(z + half), n)


def median(values: list[float]) -> float:
    return float(np.median(values)) if values else math.nan
