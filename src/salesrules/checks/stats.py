"""Small statistics the built-in checks share: robust z-scores, binomial tails, prior rates."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from .context import CheckContext
from ..goals.shrinkage import beta_binomial_prior


def robust_z(values: Sequence[float]) -> list[float]:
    """Modified z-scores (Iglewicz-Hoaglin): 0.6745·(x − median) / MAD.

    Far from the team means above about 3.5. When the MAD is 0, the mean
    absolute deviation stands in (scaled to match); with no spread at all
    every score is 0.
    """
    if not values:
        return []
    xs = sorted(values)
    n = len(xs)
    med = (xs[(n - 1) // 2] + xs[n // 2]) / 2
    devs = sorted(abs(x - med) for x in values)
    mad = (devs[(n - 1) // 2] + devs[n // 2]) / 2
    if mad > 0:
        return [0.6745 * (x - med) / mad for x in values]
    meanad = sum(devs) / n
    if meanad > 0:
        return [(x - med) / (1.2533 * meanad) for x in values]
    return [0.0] * n


def binom_cdf(x: int, n: int, p: float) -> float:
    """P(X ≤ x) for X ~ Binomial(n, p), summed in log space."""
    if x < 0:
        return 0.0
    if x >= n or p <= 0:
        return 1.0
    if p >= 1:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    total = 0.0
    log_pmf = n * log_q  # k = 0
    for k in range(0, x + 1):
        if k > 0:
            log_pmf += math.log(n - k + 1) - math.log(k) + log_p - log_q
        total += math.exp(log_pmf)
    return min(total, 1.0)


def beta_binom_cdf(x: int, n: int, alpha: float, beta: float) -> float:
    """P(X ≤ x) when X ~ Binomial(n, p) and p ~ Beta(alpha, beta): the rate's own uncertainty counts.

    With an infinite ``alpha + beta`` this is the plain binomial.
    """
    if math.isinf(alpha) or math.isinf(beta):
        return binom_cdf(x, n, alpha / (alpha + beta) if not math.isinf(alpha + beta) else 0.0)
    if x < 0:
        return 0.0
    if x >= n:
        return 1.0
    lg = math.lgamma
    base = lg(n + 1) + lg(alpha + beta) - lg(alpha) - lg(beta) - lg(n + alpha + beta)
    total = 0.0
    for k in range(0, x + 1):
        total += math.exp(base - lg(k + 1) - lg(n - k + 1) + lg(k + alpha) + lg(n - k + beta))
    return min(total, 1.0)


def upstream(ctx: CheckContext, stage: str) -> str | None:
    """The nearest count stage above ``stage``: what it converts from."""
    names = ctx.funnel.names
    for name in reversed(names[: names.index(stage)]):
        if ctx.funnel.stage(name).unit == "count":
            return name
    return None


def prior_rates(ctx: CheckContext, lookback_days: int) -> dict[str, dict[str, tuple[float, float]]]:
    """Each active rep's count-to-count rates from history before the period, shrunk toward the team.

    Each is a Beta posterior ``(alpha, beta)``: the rate is ``alpha / (alpha +
    beta)``, and ``alpha + beta`` (history plus prior strength) says how sure
    it is. Rates judge this period's results, so they come only from before
    it: a rep's bad weeks now cannot lower the bar they are judged against.
    Cached in the context, so all checks of a run share one computation.
    """
    key = ("prior_rates", lookback_days)
    hit = ctx.cache.get(key)
    if hit is not None:
        return hit
    end = ctx.goals.period.start - dt.timedelta(days=1)
    start = end - dt.timedelta(days=lookback_days)
    funnel = ctx.funnel
    idx = {n: i for i, n in enumerate(funnel.names)}
    pairs = [(upstream(ctx, s.name), s.name) for s in funnel.stages if s.unit == "count"]
    pairs = [(u, s) for u, s in pairs if u is not None]
    out: dict[str, dict[str, tuple[float, float]]] = {}
    everyone = ctx.dataset.activity.window_totals(start, end)  # every rep in one pass
    zero = [0.0] * len(funnel.names)
    for team, reps in ctx.dataset.teams().items():
        active = [r for r in reps if r.active]
        totals = [everyone.get(r.id, zero) for r in active]
        for r in active:
            out[r.id] = {}
        for up, low in pairs:
            n = [t[idx[up]] for t in totals]
            x = [min(t[idx[low]], t[idx[up]]) for t in totals]
            prior = beta_binomial_prior(x, n)
            mean, strength = prior.mean, prior.strength
            if not n or not any(n) or mean <= 0:
                continue
            for r, a, b in zip(active, n, x):
                if math.isinf(strength):
                    out[r.id][low] = (mean * 1e9, (1 - mean) * 1e9)  # as good as certain
                else:
                    out[r.id][low] = (b + mean * strength, (a - b) + (1 - mean) * strength)
    ctx.cache[key] = out
    return out
