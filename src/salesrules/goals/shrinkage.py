"""Empirical-Bayes shrinkage: a rep's rate pulled toward the team's, as far as their history is thin."""

from __future__ import annotations

import math
from collections.abc import Sequence


def beta_binomial_prior(successes: Sequence[float], trials: Sequence[float]) -> tuple[float, float]:
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
        return 0.0, 0.0
    mean = sum(x for x, _ in pairs) / total_n
    if len(pairs) < 2 or not 0 < mean < 1:
        return mean, math.inf
    spread = sum(n * (x / n - mean) ** 2 for x, n in pairs)
    denom = total_n - sum(n * n for _, n in pairs) / total_n
    tau2 = (spread - (len(pairs) - 1) * mean * (1 - mean)) / denom if denom > 0 else 0.0
    if tau2 <= 0:
        return mean, math.inf
    return mean, max(mean * (1 - mean) / tau2 - 1, 0.0)


def shrink(successes: float, trials: float, mean: float, strength: float) -> float:
    """The posterior mean rate: ``(x + mean·M) / (n + M)``."""
    if math.isinf(strength):
        return mean
    if trials + strength <= 0:
        return mean
    return (successes + mean * strength) / (trials + strength)


def normal_shrink(rep_daily: Sequence[Sequence[tuple[float, float]]],
                  toward: float | None = None) -> tuple[float, list[float], list[float]]:
    """Shrink ratios that are not binomial (amount per customer, revenue per pipeline).

    ``rep_daily`` holds, per rep, their days as ``(upper, lower)`` with
    ``upper > 0``. Each rep's ratio is their total lower over total upper; its
    noise is estimated from the spread of their daily ratios, the real spread
    between reps by the method of moments, and each rep is pulled toward the
    team ratio by the share of their variance that is noise.

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
    raw, noise = [], []
    daily_vars = []
    for days in rep_daily:
        u = sum(a for a, _ in days)
        if not days or u == 0:
            raw.append(math.nan)
            noise.append(math.inf)
            continue
        raw.append(sum(b for _, b in days) / u)
        ratios = [b / a for a, b in days]
        if len(ratios) >= 2:
            m = sum(ratios) / len(ratios)
            daily_vars.append(sum((r - m) ** 2 for r in ratios) / (len(ratios) - 1))
        noise.append(len(ratios))  # number of days, turned into a variance below
    pooled = sum(daily_vars) / len(daily_vars) if daily_vars else 0.0
    noise = [pooled / k if not math.isinf(k) else math.inf for k in noise]
    have = [(r, s) for r, s in zip(raw, noise) if not math.isnan(r)]
    if len(have) >= 2:
        mean_raw = sum(r for r, _ in have) / len(have)
        between = sum((r - mean_raw) ** 2 for r, _ in have) / (len(have) - 1)
        tau2 = max(between - sum(s for _, s in have) / len(have), 0.0)
    else:
        tau2 = 0.0
    shrunk = []
    for r, s in zip(raw, noise):
        if math.isnan(r):
            shrunk.append(team)
        elif tau2 == 0:
            shrunk.append(team)
        else:
            b = s / (s + tau2)  # the share of the rep's variance that is noise
            shrunk.append(b * team + (1 - b) * r)
    return team, raw, shrunk
