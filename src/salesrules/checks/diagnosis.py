"""Two axes for a rep behind on results: activity against
the team's norm, conversion against the team's rates."""

from __future__ import annotations

import math

import attrs
import numpy as np

from ..load.deal_presets import ClosedWindow
from ..model import ProgressRow
from .rates import RateEstimate, poisson_cdf


@attrs.frozen
class Norms:
    """Each team's activity per working day (leave excluded): the median rep, and a feasible cap."""

    #: ``rep_id -> [activity per working day, per stage]``.
    per_day: dict[str, list[float]]
    #: ``team -> [median rep's activity per working day, per stage]``.
    median: dict[str, list[float]]
    #: ``team -> [the feasible level per working day, per stage]`` (a quantile over the reps).
    cap: dict[str, list[float]]


def norms(per_day: dict[str, list[float]], team_of: dict[str, str], quantile: float) -> Norms:
    """The median and the ``quantile`` of each team's reps' activity per working day."""
    groups: dict[str, list[list[float]]] = {}
    for rep_id, v in per_day.items():
        groups.setdefault(team_of[rep_id], []).append(v)
    med = {t: np.median(np.array(v), axis=0).tolist() for t, v in groups.items()}
    cap = {t: np.quantile(np.array(v), quantile, axis=0).tolist() for t, v in groups.items()}
    return Norms(per_day, med, cap)


@attrs.frozen
class Step:
    """One count-to-count step of a rep's funnel this period, against the team and the best."""

    upper: str
    lower: str
    #: The rep's own rate this period (``None`` without any ``upper``).
    rep: float | None
    team: float
    #: The rate of the team's top performers this period (``None`` if unknown).
    benchmark: float | None

    @property
    def name(self) -> str:
        return f"{self.upper}→{self.lower}"

    @property
    def vs_team(self) -> float | None:
        return None if self.rep is None or not self.team else self.rep / self.team


@attrs.frozen
class Diagnosis:
    """Why a rep is where they are on the result stage: activity, conversion, or both."""

    rep_id: str
    team: str
    #: The result stage judged, and the activity stage (the top of the funnel).
    result: str
    top: str
    result_actual: float
    result_expected: float
    #: The chance of results this low if the rep were on their plan's pace.
    result_probability: float
    working_days: int
    #: The rep's activity per working day, the team's median, and the feasible level.
    per_day: float
    median_per_day: float
    cap_per_day: float
    #: What the result expected to date needs of the top stage per day, at the better of the
    #: team's rates and the rep's own (their plan), capped at the feasible level.
    need_per_day: float
    capped: bool
    #: Actual activity over that need (1.0: at the norm).
    activity: float | None
    #: The rep's rate from the top to the result, over the team's (1.0: at the team's).
    conversion: float | None
    #: The chance of results this low from the rep's activity at the team's rates.
    conversion_probability: float
    steps: tuple[Step, ...]
    #: The causes found, the larger share of the gap first.
    causes: tuple[str, ...]
    #: Each axis's share of the gap (a log ratio: 0 when at or above the norm).
    shares: dict[str, float]
    #: The team's rates from the top to the result, multiplied.
    team_chain: float

    @property
    def cause(self) -> str:
        return self.causes[0] if self.causes else "other"

    @property
    def gap(self) -> float:
        return 1 - self.result_actual / self.result_expected if self.result_expected else 0.0

    @property
    def weakest(self) -> Step | None:
        """The step furthest below the team's rate, if any is below it."""
        below = [s for s in self.steps if s.vs_team is not None and s.vs_team < 1]
        return min(below, key=lambda s: (s.vs_team, s.name)) if below else None

    @property
    def stage(self) -> str:
        """The stage or step most responsible for the cause named first."""
        if self.cause == "activity":
            return self.top
        if self.cause == "conversion" and self.weakest is not None:
            return self.weakest.name
        return self.result


@attrs.frozen
class Axes:
    """How far under the norm counts: the two axes' tolerances and the significance level."""

    activity_tolerance: float = 0.9
    conversion_tolerance: float = 0.85
    alpha: float = 0.05


def diagnose(rep_id: str, team: str, rows: dict[str, ProgressRow], result: str, top: str,
             links: list[tuple[str, str]], est: RateEstimate, period_totals: list[float],
             stage_index: dict[str, int], n: Norms, days: int,
             bench: dict[str, float], axes: Axes, win: str | None = None,
             closed: ClosedWindow | None = None) -> Diagnosis | None:
    """The rep's two axes on ``result``; ``None`` when nothing was expected of it yet.

    With a deals export, the link into the ``win`` stage counts the rep's deals
    closed this period (``closed``), won ÷ (won + lost), as the team's rate does:
    open deals are not losses.
    """
    res, act = rows.get(result), rows.get(top)
    if res is None or act is None or res.expected_to_date <= 0 or days <= 0:
        return None
    team_rates = est.teams.get(team, {})
    chain_links = _chain(links, top, result)
    if any(low not in team_rates for _, low in chain_links):
        return None
    chain = math.prod(team_rates[low].mean for _, low in chain_links)
    i_top = stage_index[top]
    per_day = n.per_day.get(rep_id, [0.0] * len(stage_index))[i_top]
    cap = n.cap.get(team, [math.inf] * len(stage_index))[i_top]
    # what the result needs at the better of the team's rates and the rep's own (their plan)
    need = res.expected_to_date / chain / days
    if act.expected_to_date > 0:
        need = min(need, act.expected_to_date / days)
    feasible = min(need, cap) if cap > 0 else need
    activity = act.actual / (feasible * days) if feasible > 0 else None
    tot_top, tot_res = period_totals[i_top], period_totals[stage_index[result]]
    won = closed if win is not None and chain_links and chain_links[-1][1] == win else None
    if won is not None:  # the top's tries that have closed, and the deals won of them
        above = period_totals[stage_index[chain_links[-1][0]]]
        tot_top = tot_top * won.closed[0] / above if above > 0 else 0.0
        tot_res = won.won[0]
    conversion = (tot_res / tot_top) / chain if tot_top > 0 else None
    conv_p = poisson_cdf(tot_res, tot_top * chain) if tot_top > 0 else 1.0
    steps = tuple(Step(up, low, _rate(period_totals, stage_index, up, low)
                       if won is None or low != win else
                       (won.won[0] / won.closed[0] if won.closed[0] else None),
                       team_rates[low].mean, bench.get(low)) for up, low in chain_links)
    shares = {"activity": _share(activity), "conversion": _share(conversion)}
    return Diagnosis(
        rep_id, team, result, top, res.actual, res.expected_to_date,
        poisson_cdf(res.actual, res.expected_to_date), days, per_day,
        n.median.get(team, [0.0] * len(stage_index))[i_top], cap, feasible, feasible < need,
        activity, conversion, conv_p, steps,
        _causes(activity, conversion, conv_p, shares, axes), shares, chain)


def judged(d: Diagnosis, axes: Axes) -> Diagnosis:
    """``d`` with its causes under ``axes``: the rest of a diagnosis does not depend on them,
    so one measured diagnosis serves checks with different tolerances."""
    causes = _causes(d.activity, d.conversion, d.conversion_probability, d.shares, axes)
    return d if causes == d.causes else attrs.evolve(d, causes=causes)


def _causes(activity: float | None, conversion: float | None, conv_p: float,
            shares: dict[str, float], axes: Axes) -> tuple[str, ...]:
    """The axes under their tolerance, the larger share of the gap first."""
    short = []
    if activity is not None and activity < axes.activity_tolerance:
        short.append("activity")
    if (conversion is not None and conversion < axes.conversion_tolerance
            and conv_p < axes.alpha):
        short.append("conversion")
    short.sort(key=lambda c: (-shares[c], c))
    return tuple(short)


def _chain(links: list[tuple[str, str]], top: str, result: str) -> list[tuple[str, str]]:
    """The count links from ``top`` down to ``result``, in funnel order."""
    out, inside = [], False
    for up, low in links:
        inside = inside or up == top
        if inside:
            out.append((up, low))
        if low == result:
            break
    return out


def _rate(totals: list[float], index: dict[str, int], up: str, low: str) -> float | None:
    n = totals[index[up]]
    return min(totals[index[low]], n) / n if n > 0 else None


def _share(ratio: float | None) -> float:
    if ratio is None:
        return 0.0
    return -math.log(min(max(ratio, 1e-6), 1.0))
