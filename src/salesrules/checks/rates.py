"""The checks' one estimate of rates per run: rows that contradict themselves
left out, the goals' history window, the team's norms and benchmark."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import operator

import attrs

from ..activity import ActivityTable
from ..goals.batches import FunnelBatch
from ..load.deal_presets import ClosedDeals
from ..model import Funnel, Period, Rep

#: ``RateEstimate.source``: rates from history before the period.
HISTORY = "history before the period"
#: ``RateEstimate.source``: no history before the period, so the period so far, against the team.
PERIOD = "the period so far, against the team"


@attrs.frozen
class Beta:
    """A Beta posterior of a rate: ``alpha`` successes and ``beta`` failures, prior included."""

    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)


@attrs.frozen
class TeamRate:
    """A team's rate, and its strength as a prior (in tries) for its reps' rates."""

    mean: float
    strength: float


@attrs.frozen
class RateEstimate:
    """Each rep's and team's count-to-count rates for one run, and where they came from."""

    start: dt.date
    end: dt.date
    #: :data:`HISTORY` or :data:`PERIOD`.
    source: str
    #: ``rep_id -> lower stage ->`` a Beta posterior of the rep's rate.
    reps: dict[str, dict[str, Beta]]
    #: ``team -> lower stage ->`` the team's rate and how strongly it pulls.
    teams: dict[str, dict[str, TeamRate]]
    #: Rows in the window left out because they contradict themselves.
    left_out: int = 0

    @property
    def from_history(self) -> bool:
        """Whether the rates come from history before the period (else the period so far)."""
        return self.source == HISTORY


def count_links(funnel: Funnel) -> list[tuple[int, int]]:
    """``(upper, lower)`` stage indexes of every count stage and the count stage above it."""
    out = []
    for s in funnel.stages:
        up = funnel.upstream(s.name) if s.unit == "count" else None
        if up is not None:
            out.append((funnel.index(up), funnel.index(s.name)))
    return out


def estimate_rates(activity: ActivityTable, funnel: Funnel, teams: dict[str, list[Rep]],
                   period: Period, as_of: dt.date, lookback_days: int,
                   closed: ClosedDeals | None = None) -> RateEstimate:
    """Rates from the goals' history window (:meth:`FunnelBatch.history_window`) of
    ``activity`` (the run's: :attr:`salesrules.estimate.Estimate.history`).

    With history before the period, each rep's rate is their own, shrunk toward
    the team's (a beta-binomial prior fitted to the team's spread). Without it,
    the window is the period so far and each rep is judged against the rest of
    their team: their posterior is the prior of their teammates alone, so a
    rep's own bad weeks never lower the bar they are judged against. With
    ``closed`` (a deals export), the rate into the win stage counts the deals
    closed in the window, won ÷ (won + lost), open deals left out.
    """
    from ..goals.personal.shrinkage import beta_binomial_prior

    batch = FunnelBatch("", (), funnel, activity, as_of, period, closed=closed)
    window = batch.history_window(lookback_days)
    start, end = window.start, window.end
    source = HISTORY if end < period.start else PERIOD
    # the run's estimate passes its activity, rows that contradict themselves already left out
    totals, left_out = activity.window_totals(start, end), 0
    zero = [0.0] * len(funnel.names)
    names = funnel.names
    reps_out: dict[str, dict[str, Beta]] = {}
    teams_out: dict[str, dict[str, TeamRate]] = {}
    for team, members in teams.items():
        active = [r for r in members if r.active]
        tot = [totals.get(r.id, zero) for r in active]
        teams_out[team] = {}
        for r in active:
            reps_out[r.id] = {}
        won = batch.closed_counts([r.id for r in active], start, end)
        for up, low in count_links(funnel):
            n = [t[up] for t in tot]
            x = [min(t[low], t[up]) for t in tot]
            if won is not None and low == batch.closed_stage == up + 1:
                n, x = [float(c) for c in won.closed], [float(w) for w in won.won]
            prior = beta_binomial_prior(x, n)
            if not any(n) or prior.mean <= 0:
                continue
            teams_out[team][names[low]] = TeamRate(prior.mean, prior.strength)
            for i, r in enumerate(active):
                if source == HISTORY:
                    mine = (x[i], n[i])
                    mean, strength = prior.mean, prior.strength
                else:
                    mine = (0.0, 0.0)
                    others = beta_binomial_prior(x[:i] + x[i + 1:], n[:i] + n[i + 1:])
                    if others.mean <= 0:
                        continue
                    mean, strength = others.mean, others.strength
                reps_out[r.id][names[low]] = posterior(*mine, mean, strength)
    return RateEstimate(start, end, source, reps_out, teams_out, left_out)


def posterior(x: float, n: float, mean: float, strength: float) -> Beta:
    """The Beta posterior of ``x`` successes in ``n`` tries under a prior of ``mean`` and
    ``strength``."""
    if math.isinf(strength):
        return Beta(mean * 1e9, (1 - mean) * 1e9)  # as good as certain
    return Beta(x + mean * strength, (n - x) + (1 - mean) * strength)


#: ``math.log(k)`` for ``k = 0, 1, …`` (index 0 unused), grown as :func:`poisson_cdf` needs.
_LOG_K = [0.0]


def poisson_cdf(x: float, mean: float) -> float:
    """P(X ≤ x) for X ~ Poisson(mean), summed in log space.

    The terms' logs are summed one after the other and their exponentials added
    one after the other, from ``k = 0`` up, as a plain loop would: the same float
    operations in the same order, run by ``accumulate`` and ``reduce`` instead of
    Python bytecode, so the result is the same to the last bit.
    """
    if mean <= 0 or x >= 50 * mean + 50:
        return 1.0
    if x < 0:
        return 0.0
    n = int(x)
    if len(_LOG_K) <= n:
        _LOG_K.extend(map(math.log, range(len(_LOG_K), n + 1)))
    steps = map(operator.sub, itertools.repeat(math.log(mean), n), _LOG_K[1:n + 1])
    pmf = map(math.exp, itertools.accumulate(steps, initial=-mean))
    return min(functools.reduce(operator.add, pmf, 0.0), 1.0)
