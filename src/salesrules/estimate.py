"""The run's one estimate of rates, computed once per run and shared by goals and checks.

Every rate the run uses (the funnel model's, the feasible activity caps, the
checks' expected rates and norms of conversion) is measured on
:attr:`Estimate.history`: the loaded activity without the rows that contradict
themselves (a count stage above the count stage above it, e.g. more connects
than dials). Those rows are kept for progress (they are what was reported) and
named, with ``file:line``, by the ``data-gaps`` check.
"""

from __future__ import annotations

import datetime as dt

import attrs
import numpy as np

from .activity import day_numbers
from .checks.rates import (
    RateEstimate,
    bad_rows,
    contradicts,
    count_links,
    estimate_rates,
)
from .load.dataset import BadRow, Dataset
from .model import ActivityTable, Funnel, Period, Rep

__all__ = ["Estimate", "estimate_of"]


@attrs.define(eq=False)
class Estimate:
    """The activity every rate of the run is measured on, and the rates measured on it.

    Made once per run (:func:`estimate_of`); goals receive it as
    ``FunnelBatch.estimate`` (their ``history`` is :attr:`history`), checks as
    ``ctx.estimate``.
    """

    funnel: Funnel
    #: The loaded activity without the rows that contradict themselves.
    history: ActivityTable
    #: The rows left out of :attr:`history`, by rep then day, with where they were read.
    bad_rows: tuple[BadRow, ...]
    #: Reps by team, teams sorted by name.
    teams: dict[str, list[Rep]]
    period: Period
    as_of: dt.date
    _cache: dict = attrs.field(factory=dict, repr=False)

    def rates(self, lookback_days: int = 180) -> RateEstimate:
        """Every active rep's and team's count-to-count rates (see
        :func:`~salesrules.checks.rates.estimate_rates`), once per look-back."""
        key = ("rates", lookback_days)
        hit = self._cache.get(key)
        if hit is None:
            est = estimate_rates(self.history, self.funnel, self.teams, self.period,
                                 self.as_of, lookback_days)
            left_out = sum(1 for r in self.bad_rows if est.start <= r.day <= est.end)
            hit = self._cache[key] = attrs.evolve(est, left_out=left_out)
        return hit

    def totals(self, start: dt.date, end: dt.date) -> dict[str, list[float]]:
        """Each rep's stage sums over ``[start, end]`` of :attr:`history`."""
        key = ("totals", start, end)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self.history.window_totals(start, end)
        return hit


def estimate_of(dataset: Dataset, period: Period, as_of: dt.date) -> Estimate:
    """The run's estimate: the activity without every row that contradicts itself, whether a
    source found it as it read it or the rep-day contradicts itself summed."""
    activity, funnel = dataset.activity, dataset.funnel
    bad = bad_rows(activity, funnel, dataset.contradicting)
    rows = activity.rows()
    drop = contradicts(rows.values, count_links(funnel))
    if bad and len(rows):
        index = {r: i for i, r in enumerate(rows.reps)}
        known = [r for r in bad if r.rep_id in index]
        base = int(rows.day.min())
        span = int(rows.day.max()) - base + 1
        keys = rows.rep * span + (rows.day - base)  # rows are sorted by rep, then day
        want = (np.array([index[r.rep_id] for r in known], dtype=np.int64) * span
                + day_numbers(r.day for r in known) - base)
        at = np.searchsorted(keys, want).clip(max=len(keys) - 1)
        drop = drop.copy()
        drop[at[keys[at] == want]] = True
    return Estimate(funnel, activity.without_rows(drop), bad, dataset.teams(), period, as_of)
