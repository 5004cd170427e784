"""Empirical-Bayes shrinkage: a rep's rate pulled
toward the team's, as far as their history is thin."""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs


@attrs.frozen
class BetaPrior:
    """A team's mean rate and how strongly it pulls its reps (in trials: ``inf`` pools fully)."""

    mean: float
    strength: float


@attrs.frozen
class RatioStats:
    """A ratio of sums and its noise variance (``nan`` from a single day, ``inf`` without data)."""

    ratio: float
    noise: float


@attrs.frozen
class NormalShrink:
    """What :func:`normal_shrink` gives: the team ratio, and each rep's raw and shrunk ratio."""

    team: float
    raw: list[float]
    shrunk: list[float]


def beta_binomial_prior(successes: Sequence[float], trials: Sequence[float]) -> BetaPrior:
    """The team's mean rate and the prior's strength (in trials), by the method of moments.

    The strength ``M`` is fitted from how far the reps' rates spread beyond
    what binomial noise alone explains: little real spread gives a strong
    prior (reps are pulled hard toward the team), a lot gives a weak one.
    Returns ``inf`` for complete pooling when there is no real spread, and
    ``0.0`` when there is nothing to pool toward.
    """
    pairs = [(x, n) for x, n in zip(successes, trials) if n > 0]
    total_n = sum(n for _, n in pairs)
    if not pairs or total_n == 0:
        return BetaPrior(0.0, 0.0)
    mean = sum(x for x, _ in pairs) / total_n
    if len(pairs) < 2 or not 0 < mean < 1:
        return BetaPrior(mean, math.inf)
    spread = sum(n * (x / n - mean) ** 2 for x, n in pairs)
    denom = total_n - sum(n * n for _, n in pairs) / total_n
    tau2 = (spread - (len(pairs) - 1) * mean * (1 - mean)) / denom if denom > 0 else 0.0
    if tau2 <= 0:
        return BetaPrior(mean, math.inf)
    return BetaPrior(mean, max(mean * (1 - mean) / tau2 - 1, 0.0))


def shrink(successes: float, trials: float, mean: float, strength: float) -> float:
    """The posterior mean rate: ``(x + mean·M) / (n + M)``."""
    if math.isinf(strength):
        return mean
    if trials + strength <= 0:
        return mean
    return (successes + mean * strength) / (trials + strength)


def normal_shrink(rep_daily: Sequence[Sequence[tuple[float, float]]],
                  toward: float | None = None) -> NormalShrink:
    """Shrink ratios that are not binomial (amount per customer, revenue per pipeline).

    ``rep_daily`` holds, per rep, their days as ``(upper, lower)`` (days with
    neither left out: revenue may land on a day without new pipeline). Each
    rep's ratio is their total lower over total upper; its noise is the
    variance of that ratio of sums, estimated from the days' residuals (delta
    method); the real spread between reps comes from the method of moments,
    and each rep is pulled toward the team ratio by the share of their
    variance that is noise.

    Returns the team ratio, each rep's raw ratio (nan without data) and each
    rep's shrunk ratio (the team ratio without data). ``toward`` replaces the
    team ratio as the value reps are pulled toward (e.g. the team's own ratio
    already pulled toward the company's).
    """
    up_all = sum(u for days in rep_daily for u, _ in days)
    low_all = sum(v for days in rep_daily for _, v in days)
    team = low_all / up_all if up_all else 0.0
    if toward is not None:
        team = toward
    stats = [ratio_stats(days) for days in rep_daily]
    raw = [st.ratio for st in stats]
    noise = [st.noise for st in stats]
    known = [v for v in noise if not math.isnan(v) and not math.isinf(v)]
    fallback = max(known) if known else 0.0
    noise = [fallback if math.isnan(v) else v for v in noise]
    have = [(r, s) for r, s in zip(raw, noise) if not math.isnan(r)]
    if len(have) >= 2:
        mean_raw = sum(r for r, _ in have) / len(have)
        between = sum((r - mean_raw) ** 2 for r, _ in have) / (len(have) - 1)
        tau2 = max(between - sum(s for _, s in have) / len(have), 0.0)
    else:
        tau2 = 0.0
    shrunk = []
    for r, s in zip(raw, noise):
        if math.isnan(r) or tau2 == 0:
            shrunk.append(team)
        else:
            b = s / (s + tau2)  # the share of the rep's variance that is noise
            shrunk.append(b * team + (1 - b) * r)
    return NormalShrink(team, raw, shrunk)


def ratio_stats(days: Sequence[tuple[float, float]]) -> RatioStats:
    """A rep's ratio of sums over their days ``(upper, lower)``, and its variance (delta method).

    Days where only ``lower`` moved count too (revenue closing on a day without new pipeline).

    ``(nan, inf)`` without data; the variance is ``nan`` with a single day.
    """
    u = sum(a for a, _ in days)
    if not days or u == 0:
        return RatioStats(math.nan, math.inf)
    r = sum(b for _, b in days) / u
    k = len(days)
    resid = sum((b - r * a) ** 2 for a, b in days)
    return RatioStats(r, resid / (u * u) * k / (k - 1) if k > 1 else math.nan)


def pooled_between(groups: Sequence[Sequence[tuple[float, float]]],
                   centers: Sequence[float]) -> float:
    """The real spread (variance) of reps' ratios around their group's center, pooled over groups.

    ``groups`` holds, per group (team), each rep's ``(ratio, noise variance)``.
    Method of moments: the mean squared deviation from the center, less the
    mean noise. Pooling over every team keeps a handful of reps from making
    the estimate jump.
    """
    dev, noise, n = 0.0, 0.0, 0
    for reps, center in zip(groups, centers):
        for r, v in reps:
            if math.isnan(r) or math.isnan(v) or math.isinf(v):
                continue
            dev += (r - center) ** 2
            noise += v
            n += 1
    if n < 2:
        return 0.0
    return max(dev / n - noise / n, 0.0)
