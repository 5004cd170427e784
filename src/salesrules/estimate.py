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
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
import numpy as np

from .checks.rates import (
    HISTORY,
    PERIOD,
    RateEstimate,
    TeamRate,
    count_links,
    estimate_rates,
    posterior,
)
from .daynumbers import day_numbers, find_rep_days
from .goals.batches import FunnelBatch
from .load.dataset import BadRow, Dataset
from .load.deal_presets import CLOSED_KEY, ClosedDeals
from .model import ActivityTable, Funnel, Period, Rep

if TYPE_CHECKING:
    from .goals.personal import Pooled

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
    #: With a deals export, each rep's closed deals (the win stage's rate is won ÷ (won + lost)
    #: of them, open deals left out); ``None`` otherwise.
    closed: ClosedDeals | None = None
    _cache: dict = attrs.field(factory=dict, repr=False)
    #: Who used which estimate (a check's or funnel model's name -> its look-back), for
    #: ``run.json``.
    used: dict[str, int] = attrs.field(factory=dict)

    def rates(self, lookback_days: int = 180, by: str = "") -> RateEstimate:
        """Every active rep's and team's count-to-count rates, once per look-back.

        The window is the goals' (``FunnelBatch.history_window``). With history
        before the period, each rep's rate is their own shrunk toward their
        team's with the same team rates and prior strengths as the ``personal``
        funnel model (:meth:`pooled`): a rep's rate here is the rate their
        targets were set with. Without it, the period so far, each rep judged
        against the rest of their team (see
        :func:`~salesrules.checks.rates.estimate_rates`). ``by`` names the user,
        for ``run.json``.
        """
        if by:
            self.used.setdefault(by, lookback_days)
        key = ("rates", lookback_days)
        hit = self._cache.get(key)
        if hit is None:
            est = estimate_rates(self.history, self.funnel, self.teams, self.period,
                                 self.as_of, lookback_days, self.closed)
            if est.from_history:
                est = self._shared(est, self.pooled(lookback_days))
            left_out = sum(1 for r in self.bad_rows if est.start <= r.day <= est.end)
            hit = self._cache[key] = attrs.evolve(est, left_out=left_out)
        return hit

    def pooled(self, lookback_days: int, everyone: Sequence[Rep] | None = None,
               by: str = "") -> Pooled:
        """The company-wide pooling of the ``personal`` funnel model over the look-back
        window, for ``everyone`` (default: every active rep), once per run."""
        from .goals.personal import closed_trials, pool  # the built-in model's, via the API

        if by:
            self.used.setdefault(by, lookback_days)
        reps = tuple(everyone) if everyone is not None else tuple(
            r for members in self.teams.values() for r in members if r.active)
        key = ("pooled", lookback_days, tuple(sorted(r.id for r in reps)))
        hit = self._cache.get(key)
        if hit is None:
            batch = self._batch()
            window = batch.history_window(lookback_days)
            hit = self._cache[key] = pool(self.history, self.funnel, reps, window.start,
                                          window.end,
                                          closed_trials(batch, reps, window.start, window.end))
        return hit

    def _batch(self) -> FunnelBatch:
        return FunnelBatch("", (), self.funnel, self.history, self.as_of, self.period,
                           closed=self.closed)

    def _shared(self, est: RateEstimate, pooled: Pooled) -> RateEstimate:
        """The estimate with each count link's team rate and prior strength from the pooling."""
        names = self.funnel.names
        totals = self.totals(est.start, est.end)
        from .goals.personal import closed_trials  # the pooling's own trials of the win link

        active = [r for members in self.teams.values() for r in members if r.active]
        closed = closed_trials(self._batch(), active, est.start, est.end)
        reps = {r: dict(v) for r, v in est.reps.items()}
        teams = {t: dict(v) for t, v in est.teams.items()}
        for up, low in count_links(self.funnel):
            strength = pooled.strength.get(names[low])
            if low != up + 1 or strength is None:  # pooled: adjacent count links only
                continue
            for team, members in self.teams.items():
                mean = pooled.team_means.get(team, {}).get(names[low])
                if mean is None or not 0 < mean < 1:
                    continue
                teams.setdefault(team, {})[names[low]] = TeamRate(mean, strength)
                for r in members:
                    if r.active:
                        t = totals.get(r.id) or [0.0] * len(names)
                        n, x = (closed.trials[r.id] if closed and low == closed.stage
                                else (t[up], min(t[low], t[up])))
                        reps.setdefault(r.id, {})[names[low]] = posterior(x, n, mean, strength)
        return attrs.evolve(est, reps=reps, teams=teams)

    def describe(self) -> dict:
        """What ``run.json`` says of the estimate: the rows left out, and each user's
        history window and where its rates came from."""
        used = []
        for by, lookback in sorted(self.used.items()):
            window = FunnelBatch("", (), self.funnel, self.history, self.as_of,
                                 self.period).history_window(lookback)
            start, end = window.start, window.end
            used.append({"by": by, "lookback_days": lookback,
                         "window": [start.isoformat(), end.isoformat()],
                         "rates_from": HISTORY if end < self.period.start else PERIOD})
        return {"rows_left_out": [{"rep_id": r.rep_id, "date": r.day.isoformat(),
                                   "where": r.where} for r in self.bad_rows],
                "used": used}

    def totals(self, start: dt.date, end: dt.date) -> dict[str, list[float]]:
        """Each rep's stage sums over ``[start, end]`` of :attr:`history`."""
        key = ("totals", start, end)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self.history.window_totals(start, end)
        return hit


def estimate_of(dataset: Dataset, period: Period, as_of: dt.date) -> Estimate:
    """The run's estimate: the activity without the activity rows that contradict themselves,
    as the sources found them (``Dataset.contradicting``).

    Rows of the same rep-day are summed when read: a bad row's own values
    (``BadRow.counted``) are taken out of its rep-day, and the rep-day is left
    out when nothing else is left in the stages the row added to (or when the
    source did not say what the row added). A row that a call log's figures make
    consistent (a typo in the dials the log replaces) is not bad. Only rows read
    as rows are judged: a deal export's rep-day may rightly hold more wins than
    new deals (deals close on other days than they open).
    """
    activity, funnel = dataset.activity, dataset.funnel
    bad = tuple(sorted(dataset.contradicting, key=lambda r: (r.rep_id, r.day)))
    rows = activity.rows()
    drop = np.zeros(len(rows), dtype=bool)
    less = np.zeros_like(rows.values)
    index = {r: i for i, r in enumerate(rows.reps)}
    known = [r for r in bad if r.rep_id in index]
    if known:
        hits = find_rep_days(rows.rep, rows.day,
                             np.array([index[r.rep_id] for r in known], dtype=np.int64),
                             day_numbers(r.day for r in known))
        for row, k, found in zip(known, hits.rows.tolist(), hits.found.tolist()):
            if not found:
                continue
            if len(row.counted) == less.shape[1]:
                less[k] += row.counted
            else:
                drop[k] = True
        touched = less.any(axis=1)
        # what is left of a rep-day: a sum less its parts, to the cent (float sums drift);
        # a rep-day with nothing left in the stages the bad row added to (what remains is a
        # call log's figures, say) is left out whole, not kept lopsided
        left = np.round(rows.values[touched] - less[touched], 6)
        gone = np.where(less[touched] > 0, left <= 0, True).all(axis=1)
        drop[np.flatnonzero(touched)[gone]] = True
    return Estimate(funnel, activity.without_rows(drop, less), bad, dataset.teams(), period,
                    as_of, dataset.extra.get(CLOSED_KEY))
