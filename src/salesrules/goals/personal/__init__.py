"""The built-in ``personal`` funnel model: each rep's
own rates, shrunk toward the team's (empirical Bayes)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import attrs
import numpy as np

from salesrules.api import ActivityTable, Funnel, FunnelBatch, FunnelModel, Rate, Rep, hookimpl

from .shrinkage import (
    beta_binomial_prior,
    normal_shrink,
    pooled_between,
    shrink,
)

WORDS = {
    "name": {"en": "personal", "zh": "个人漏斗"},
    "arpu": {"en": "ARPU", "zh": "客单价"},
    "rate": {"en": "rate", "zh": "转化率"},
    "company": {"en": "company {kind} {value} (team {team} has no history)",
                "zh": "全公司{kind} {value}（团队{team}没有历史数据）"},
    "default": {"en": "default {kind} (no history in any team)",
                "zh": "默认{kind}（所有团队都没有历史数据）"},
    "closed-deals": {"en": "closed deals", "zh": "已结单"},
    "no-own-stage": {"en": "team {team} {value:.3g} (no {stage} of their own)",
                     "zh": "团队{team} {value:.3g}（本人没有{stage:stage}）"},
    "no-own": {"en": "team {team} {kind} {value} (no history of their own)",
               "zh": "团队{team}{kind} {value}（本人没有历史数据）"},
    "shrunk": {"en": "rep {value} from {n:,.0f} {unit}, shrunk toward team {team}{strength}: "
                     "{weights}",
               "zh": "本人 {value}（基于 {n:,.0f} 个{unit:stage}），向团队 {team} 收缩{strength}："
                     "{weights}"},
    "strength": {"en": " with prior strength {m:,.0f}", "zh": "（先验强度 {m:,.0f}）"},
    "weights": {"en": "your own history counts for {own}%, the team's for {team}%",
                "zh": "你自己的历史占 {own}%，团队的占 {team}%"},
}


@attrs.define
class PersonalParams:
    #: Days of history before the as-of date that the rates are measured on
    #: (two quarters by default: a quarter of revenue is too few deals to trust).
    lookback_days: int = attrs.field(default=180, validator=attrs.validators.ge(1))


@attrs.frozen
class RepStats:
    """Each rep's stage totals over a window, and per link their ratio statistics."""

    #: ``rep_id -> [total of each stage]``.
    totals: dict[str, list[float]]
    #: ``(rep_id, link) -> (ratio, noise)``, link ``i`` going from stage ``i`` to ``i + 1``,
    #: as :func:`~salesrules.goals.shrinkage.ratio_stats` gives them.
    ratios: dict[tuple[str, int], tuple[float, float]]


@attrs.frozen
class Pooled:
    """What pooling over the company found: each team's rates and how far reps spread."""

    #: Per team, per link (by lower stage): the team's rate pulled toward the company's.
    team_means: dict[str, dict[str, float]]
    #: Per binomial link: the reps' prior strength, from their spread around their teams.
    strength: dict[str, float]
    #: Per other link: the reps' real spread (variance) around their teams.
    tau2: dict[str, float]
    reps: RepStats


def _measure(history: ActivityTable, reps: Sequence[Rep], start: dt.date, end: dt.date
             ) -> RepStats:
    """Each rep's stage totals over ``[start, end]``, and per link their ratio statistics.

    The ratio statistics are :func:`ratio_stats` over the rep's days, computed
    for every rep at once over the table's arrays: per link ``i`` (stage ``i``
    to ``i + 1``), the ratio of the sums and its delta-method variance.
    """
    rows = history.rows(start, end, reps=[rep.id for rep in reps])
    v = rows.values
    width = v.shape[1]
    tot = (np.stack([rows.per_rep(v[:, j]) for j in range(width)], axis=1) if width
           else np.zeros((len(reps), 0)))
    ratio: dict[tuple[str, int], tuple[float, float]] = {}
    ids = rows.reps
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i in range(width - 1):
            u, low = v[:, i], v[:, i + 1]
            k = rows.per_rep(((u > 0) | (low > 0)).astype(np.float64))
            up_sum, low_sum = tot[:, i], tot[:, i + 1]
            none = (k == 0) | (up_sum == 0)
            r = np.where(none, 0.0, low_sum / np.where(none, 1.0, up_sum))
            resid = rows.per_rep((low - r[rows.rep] * u) ** 2)
            noise = np.where(k > 1, resid / (up_sum * up_sum) * k / np.maximum(k - 1, 1), np.nan)
            r[none], noise[none] = np.nan, np.inf
            ratio.update(zip(((rep_id, i) for rep_id in ids), zip(r.tolist(), noise.tolist())))
    return RepStats(dict(zip(ids, tot.tolist())), ratio)


def _team_days(history: ActivityTable, width: int, everyone: Sequence[Rep], names: list[str],
               start: dt.date, end: dt.date) -> list[np.ndarray]:
    """Per team (in ``names`` order), its activity summed per day, over the days one of its
    reps has a row, in date order: ``(days, stages)``."""
    team_of = np.array([names.index(rep.team) for rep in everyone], dtype=np.int64)
    rows = history.rows(start, end, reps=[rep.id for rep in everyone])
    first = int(rows.day.min()) if len(rows) else 0
    n_days = int(rows.day.max()) - first + 1 if len(rows) else 0
    slot = team_of[rows.rep] * n_days + (rows.day - first)
    size = len(names) * n_days
    present = np.bincount(slot, minlength=size).reshape(len(names), n_days) > 0
    by_day = np.stack([np.bincount(slot, weights=rows.values[:, j], minlength=size)
                       for j in range(rows.values.shape[1])], axis=1
                      ).reshape(len(names), n_days, width)
    return [by_day[t][present[t]] for t in range(len(names))]


def _pool_binomial(i: int, teams: dict[str, list[Rep]], up: list[float], low: list[float],
                   trials: dict[str, tuple[float, float]], out: dict[str, dict[str, float]],
                   lower: str) -> float:
    """A count→count link: each team's rate pulled toward the company's (into ``out``);
    returns the reps' prior strength, from their spread around their teams. ``trials``
    holds each rep's ``(upper, lower)`` totals of the link."""
    prior = beta_binomial_prior(low, up)
    for t, a, b in zip(teams, up, low):
        out[t][lower] = shrink(b, a, prior.mean, prior.strength) if a > 0 else prior.mean
    # the reps' real spread around their team's rate, pooled over the company,
    # gives each rep's prior strength (a handful of reps per team is too few)
    groups, centers = [], []
    for t, members in teams.items():
        m = out[t][lower]
        groups.append([(min(x, n) / n, m * (1 - m) / n)
                       for n, x in (trials[rep.id] for rep in members) if n > 0])
        centers.append(m)
    tau2 = pooled_between(groups, centers)
    company = sum(low) / sum(up)
    return max(company * (1 - company) / tau2 - 1, 0.0) if tau2 > 0 else math.inf


def _pool_normal(i: int, teams: dict[str, list[Rep]], team_days: list[np.ndarray],
                 stats: RepStats, out: dict[str, dict[str, float]], lower: str) -> float:
    """Another link: each team's ratio shrunk (into ``out``); returns the reps' real spread
    around their teams, pooled over the company."""
    daily = [list(zip(d[moved, i].tolist(), d[moved, i + 1].tolist()))
             for d in team_days
             for moved in [(d[:, i] > 0) | (d[:, i + 1] > 0)]]
    for t, v in zip(teams, normal_shrink(daily).shrunk):
        out[t][lower] = v
    groups = [[stats.ratios[rep.id, i] for rep in members] for members in teams.values()]
    return pooled_between(groups, [out[t][lower] for t in teams])


def pool(history: ActivityTable, funnel: Funnel, everyone: Sequence[Rep], start: dt.date,
         end: dt.date, closed: ClosedTrials | None = None) -> Pooled:
    """The company-wide pooling over ``[start, end]``: each team's rate pulled toward the
    company's, and how far reps spread around their teams (a prior strength per count link,
    a variance per other link). With a deals export, ``closed`` gives the link into the win
    stage its trials: deals closed, won ÷ (won + lost), open deals left out."""
    teams: dict[str, list[Rep]] = {}
    for rep in sorted(everyone, key=lambda r: r.team):  # stable: reps in input order
        teams.setdefault(rep.team, []).append(rep)
    stats = _measure(history, everyone, start, end)
    team_days = _team_days(history, len(funnel.stages), everyone, list(teams), start, end)
    totals = [d.sum(axis=0).tolist() for d in team_days]
    out: dict[str, dict[str, float]] = {t: {} for t in teams}
    strength: dict[str, float] = {}
    tau2: dict[str, float] = {}
    for i, (upper, lower) in enumerate(funnel.links()):
        up, low = [t[i] for t in totals], [t[i + 1] for t in totals]
        trials = {r.id: (tot[i], tot[i + 1]) for r in everyone
                  for tot in [stats.totals.get(r.id, [0.0] * len(funnel.stages))]}
        if closed is not None and closed.stage == i + 1:
            trials = closed.trials  # a win rate of the deals closed: open deals left out
            up = [sum(trials[r.id][0] for r in members) for members in teams.values()]
            low = [sum(trials[r.id][1] for r in members) for members in teams.values()]
        if sum(up) <= 0 or sum(low) <= 0:
            continue
        if upper.unit == lower.unit == "count" and all(b <= a for a, b in zip(up, low)):
            strength[lower.name] = _pool_binomial(i, teams, up, low, trials, out, lower.name)
        else:
            tau2[lower.name] = _pool_normal(i, teams, team_days, stats, out, lower.name)
    return Pooled(out, strength, tau2, stats)


class Personal(FunnelModel):
    """Each rep's own rates, shrunk toward the team's by how thin their history is (不搞一刀切).

    Two levels: each team's rate is first pulled toward the company's (a small
    team's rate is noisy too), then each rep's toward their team's.
    """

    name = "personal"
    Params = PersonalParams
    words = WORDS

    def __init__(self, params: PersonalParams | None = None) -> None:
        super().__init__(params)
        self._teams: dict[tuple, tuple] = {}

    def team_means(self, batch: FunnelBatch) -> dict[str, dict[str, float]]:
        """Per team, per link (by lower stage): the team's rate pulled toward the company's."""
        return self._pooled(batch).team_means

    def _pooled(self, batch: FunnelBatch) -> Pooled:
        """The company-wide pooling, with each rep's totals and ratio statistics.

        In a run, the run's one estimate (``batch.estimate``) pools once and
        the checks judge with the same team rates and prior strengths. A batch
        made outside a run pools here, once for all the teams' batches.
        """
        everyone = batch.everyone or batch.reps
        if batch.estimate is not None and batch.everyone:
            return batch.estimate.pooled(self.params.lookback_days, everyone,
                                         by=f"funnel {self.name}")
        window = batch.history_window(self.params.lookback_days)
        start, end = window.start, window.end
        cached = self._teams.get((start, end))
        # the same run passes the same reps and history objects to every team's batch
        if cached is not None and cached[0] is everyone and cached[1] is batch.history:
            return cached[2]
        pooled = pool(batch.history, batch.funnel, everyone, start, end,
                      closed_trials(batch, everyone, start, end))
        self._teams[(start, end)] = (everyone, batch.history, pooled)
        return pooled

    def rates(self, batch: FunnelBatch) -> dict[str, dict[str, Rate]]:
        window = batch.history_window(self.params.lookback_days)
        start, end = window.start, window.end
        pooled = self._pooled(batch)
        stats = pooled.reps
        missing = [rep for rep in batch.reps if rep.id not in stats.totals]
        if missing:  # reps the pooling did not see: measured the same way
            more = _measure(batch.history, missing, start, end)
            stats = RepStats({**stats.totals, **more.totals}, {**stats.ratios, **more.ratios})
        totals = [stats.totals[rep.id] for rep in batch.reps]
        closed = closed_trials(batch, batch.reps, start, end)
        out: dict[str, dict[str, Rate]] = {rep.id: {} for rep in batch.reps}
        for i, (upper, lower) in enumerate(batch.funnel.links()):
            up, low = [t[i] for t in totals], [t[i + 1] for t in totals]
            of = upper.name
            if closed is not None and closed.stage == i + 1:
                up = [closed.trials[rep.id][0] for rep in batch.reps]
                low = [closed.trials[rep.id][1] for rep in batch.reps]
                of = Personal.say("closed-deals")
            kind = "ARPU" if batch.funnel.link_kind(upper, lower) == "arpu" else "rate"
            team = pooled.team_means.get(batch.team, {}).get(lower.name)
            if sum(up) <= 0 or sum(low) <= 0:
                _no_history(batch, lower, kind, team, out)
                continue
            if upper.unit == lower.unit == "count" and all(b <= a for a, b in zip(up, low)):
                _binomial_rates(batch, pooled, i, up, low, team, out, of)
            else:
                _normal_rates(batch, stats, i, totals, team if team is not None
                              else sum(low) / sum(up), pooled.tau2.get(lower.name, 0.0),
                              kind, out)
        return out


@attrs.frozen
class ClosedTrials:
    """With a deals export: the link into the win stage measured on closed deals."""

    #: The funnel index of the win stage (the link's lower stage).
    stage: int
    #: Each rep's ``(closed, won)`` deals: the link's trials and successes.
    trials: dict[str, tuple[float, float]]


def closed_trials(batch: FunnelBatch, reps: Sequence[Rep], start: dt.date,
                  end: dt.date) -> ClosedTrials | None:
    """With a deals export: each rep's ``(closed, won)`` deals over ``[start, end]``, the
    trials and successes of the link into the win stage (open deals in neither)."""
    stage = batch.closed_stage
    counts = batch.closed_counts([r.id for r in reps], start, end)
    if stage is None or counts is None:
        return None
    return ClosedTrials(stage, {r.id: (float(n), float(x))
                                for r, n, x in zip(reps, counts.closed, counts.won)})


def _no_history(batch: FunnelBatch, lower, kind: str, company: float | None,
                out: dict[str, dict[str, Rate]]) -> None:
    """A team without history of a link: the company's rate (pooled over every team),
    else the stage's ``default_rate``."""
    if company is not None and company > 0:
        rate = Rate(company, Personal.say("company", kind=_kind(kind), value=_num(company, kind),
                                          team=batch.team))
    elif lower.default_rate is not None:
        rate = Rate(lower.default_rate, Personal.say("default", kind=_kind(kind)))
    else:
        return
    for rep in batch.reps:
        out[rep.id][lower.name] = rate


def _binomial_rates(batch: FunnelBatch, pooled: Pooled, i: int, up: list[float],
                    low: list[float], team: float | None, out: dict[str, dict[str, Rate]],
                    of: str) -> None:
    """A count→count link: each rep's rate by beta-binomial shrinkage toward the team's;
    ``of`` names what ``up`` counts (the upper stage, or closed deals)."""
    lower = batch.funnel.stages[i + 1]
    prior = beta_binomial_prior(low, up)
    strength = pooled.strength.get(lower.name, prior.strength)
    mean = team if team is not None else prior.mean
    # the words every rep of the link shares, said once
    shrunk, weights = Personal.sayer("shrunk"), _Weights()
    said_team, said_strength = f"{mean:.3g}", (
        "" if math.isinf(strength) else Personal.say("strength", m=strength))
    for rep, a, b in zip(batch.reps, up, low):
        if a <= 0:
            out[rep.id][lower.name] = Rate(
                mean, Personal.say("no-own-stage", team=batch.team, value=mean, stage=of))
            continue
        own = 0.0 if math.isinf(strength) else a / (a + strength)
        out[rep.id][lower.name] = Rate(shrink(b, a, mean, strength), shrunk(
            value=f"{b / a:.3g}", n=a, unit=of, team=said_team, strength=said_strength,
            weights=weights(own)))


def _normal_rates(batch: FunnelBatch, stats: RepStats, i: int, totals: list[list[float]],
                  mean: float, tau2: float, kind: str, out: dict[str, dict[str, Rate]]) -> None:
    """Another link: each rep's ratio pulled toward the team's by the share of its variance
    that is noise."""
    lower = batch.funnel.stages[i + 1]
    count_idx = [j for j, s in enumerate(batch.funnel.stages) if s.unit == "count"]
    deals = count_idx[-1] if count_idx else None
    unit = batch.funnel.stages[deals].name if deals is not None else "days"
    shrunk, weights, said_team = Personal.sayer("shrunk"), _Weights(), _num(mean, kind)
    for j, rep in enumerate(batch.reps):
        raw, noise = stats.ratios[rep.id, i]
        if math.isnan(raw):
            out[rep.id][lower.name] = Rate(
                mean, Personal.say("no-own", team=batch.team, kind=_kind(kind),
                                   value=_num(mean, kind)))
            continue
        b = 1.0 if tau2 == 0 or math.isnan(noise) else noise / (noise + tau2)
        n = totals[j][deals] if deals is not None else 0
        out[rep.id][lower.name] = Rate(b * mean + (1 - b) * raw, shrunk(
            value=_num(raw, kind), n=n, unit=unit, team=said_team, strength="",
            weights=weights(1 - b)))


def _num(x: float, kind: str) -> str:
    """A rate as a manager reads it: ARPU an amount (two decimals), a rate three digits."""
    return f"{x:,.2f}" if kind == "ARPU" else f"{x:.3g}"


def _kind(kind: str) -> str:
    return Personal.say("arpu") if kind == "ARPU" else Personal.say("rate")


class _Weights:
    """What shrinkage did, in words: the shares of the rep's own history and the team's,
    said once per whole percent (for the reps of one link)."""

    def __init__(self) -> None:
        self.said: dict[int, str] = {}
        self.weights = Personal.sayer("weights")

    def __call__(self, own: float) -> str:
        mine = round(own * 100)
        hit = self.said.get(mine)
        if hit is None:
            hit = self.said[mine] = self.weights(own=mine, team=100 - mine)
        return hit


@hookimpl(trylast=True)
def register_funnels(register):
    register(Personal)
