"""The built-in ``effort-without-results`` check
(一顿操作猛如虎): process on target, results improbably low."""

from __future__ import annotations

import math
from collections.abc import Iterable

import attrs

from salesrules.api import Check, CheckContext, Finding, Funnel, hookimpl


def _default_skills() -> dict[str, str]:
    return {"connects": "communication", "conversations": "communication",
            "intents": "professional knowledge", "pipeline": "closing", "revenue": "closing"}


WORDS = {
    "name": {"en": "effort-without-results", "zh": "一顿操作猛如虎"},
    "message": {"en": "{name} ({team}) works at {activity:.0%} of the activity norm but has {x:,} "
                      "{result} from {n:,} {source}; with {usual} of {rate:.1%} that is "
                      "{prob:chance}.{skill_text}",
                "zh": "{name}（{team}）一顿操作猛如虎：活动量达到常模的 {activity:.0%}，但 {n:,} "
                      "个{source:stage}只带来 {x:,} 个{result:stage}；按{usual} {rate:.1%} 计，"
                      "这{prob:chance}。{skill_text}"},
    "usual": {"en": "their usual rate", "zh": "其以往的转化率"},
    "no-rates": {"en": "{name}: no activity from {start} to {end} to estimate rates from; "
                       "no rep was judged",
                 "zh": "{name}：{start} 至 {end} 没有活动数据可用于估计转化率；未评判任何销售"},
    "usual-team": {"en": "the rest of {team}'s rate this period (no earlier history)",
                   "zh": "{team}其他人本周期的转化率（没有更早的历史）"},
    "weakest": {"en": " The weakest step is {step}, at {vs_team:.0%} of the {team} rate{bench}: "
                      "a {skill} problem.",
                "zh": "最弱的环节是{step:stage}，为{team}转化率的 {vs_team:.0%}{bench}："
                      "{skill:skill}问题。"},
    "bench": {"en": ", {vs:.0%} of the success cases'", "zh": "，成功案例的 {vs:.0%}"},
    "review": {"en": "Review their calls and pipeline with them against the team's best; "
                     "not more activity.",
               "zh": "对照团队最佳，和他一起复盘通话与储备；不是加活动量。"},
    "coach": {"en": "Coach {skill}: review {step} with them, e.g. listen to calls with "
                    "the team's best; not more {top}.",
              "zh": "辅导{skill:skill}：和他一起复盘{step:stage}，例如与团队最佳一起听通话；"
                    "不是加{top:stage}。"},
}


@attrs.define
class EffortParams:
    #: Fire when results this low (or lower) have less than this probability.
    alpha: float = attrs.field(default=0.01, validator=[attrs.validators.gt(0),
                                                       attrs.validators.lt(1)])
    #: Activity counts as at the norm from this share of it (what the result expected to
    #: date needs at the team's rates, capped at the feasible level).
    activity_tolerance: float = attrs.field(default=0.9, validator=attrs.validators.gt(0))
    #: Only reps at least this far behind on the result stage's expected to date are judged.
    min_gap: float = attrs.field(default=0.165, validator=attrs.validators.ge(0))
    #: The result stage tested; empty means the last count stage (intents).
    result_stage: str = ""
    #: History before the period that the rep's expected rates come from, in days (as the
    #: goals' funnel model: without earlier history, the period so far against the team).
    lookback_days: int = attrs.field(default=180, validator=attrs.validators.ge(1))
    #: Funnel stage -> the skill a weak conversion into it points to.
    skills: dict[str, str] = attrs.Factory(_default_skills)


class EffortWithoutResults(Check):
    """Activity at or above the norm but results improbably low given the rep's (shrunk)
    rates, or the team's when there is no earlier history; names the weakest step and skill."""

    name = "effort-without-results"
    Params = EffortParams
    words = WORDS

    def validate(self, funnel: Funnel) -> list[tuple[str, str]]:
        out = []
        s = self.params.result_stage
        if s and (s not in funnel.names or funnel.stage(s).unit != "count"):
            out.append(("result_stage", f"{s!r} is not a count stage of the funnel"))
        defaults = _default_skills()  # the defaults name stages a funnel may not have
        out += [("skills", f"unknown stage {k!r}") for k, v in self.params.skills.items()
                if k not in funnel.names and defaults.get(k) != v]
        return out

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        p = self.params
        counts = [s.name for s in ctx.funnel.stages if s.unit == "count"]
        result = p.result_stage or counts[-1]
        source = ctx.funnel.upstream(result)
        if source is None:
            return
        est = ctx.rate_estimate(p.lookback_days, by=self.name)
        if not est.reps or not any(est.reps.values()):
            ctx.notes.append(self.say("no-rates", name=self.shown_name(), start=est.start,
                                      end=est.end))
            return
        for rep, _ in ctx.by_rep():
            d = ctx.diagnosis(rep.id, result, activity_tolerance=p.activity_tolerance)
            if d is None or d.activity is None or d.activity < p.activity_tolerance:
                continue
            mine = ctx.period_totals(rep.id)
            n, x = int(mine[ctx.funnel.index(source)]), int(mine[ctx.funnel.index(result)])
            closed = ctx.closed_counts([rep.id]) if result == ctx.closed_stage else None
            tries = source
            if closed is not None:  # a deals export: won of the deals closed, open ones apart
                n, x, tries = closed.closed[0], closed.won[0], "closed deals"
            post = est.reps.get(rep.id, {}).get(result)
            if not n or not post or post.alpha <= 0 or d.gap < p.min_gap:
                continue
            prob = beta_binom_cdf(x, n, post.alpha, post.beta)
            if prob < p.alpha:
                yield self._finding(ctx, rep, d, est, result, tries, x, n, post, prob)

    def _finding(self, ctx, rep, d, est, result, source, x, n, post, prob) -> Finding:
        rate = post.mean
        w = d.weakest
        skill_text = ""
        action = self.say("review")
        if w is not None:
            skill = self.params.skills.get(w.lower, w.lower)
            bench = self.say("bench", vs=w.rep / w.benchmark) if w.benchmark else ""
            skill_text = self.say("weakest", step=w.name, vs_team=w.vs_team, team=rep.team,
                                  bench=bench, skill=skill)
            action = self.say("coach", skill=skill, step=w.name, top=d.top)
        usual = self.say("usual") if est.from_history else self.say("usual-team", team=rep.team)
        return Finding(
            rep.id, "rep", self.name, "critical" if prob < self.params.alpha / 100 else "warn",
            self.say("message", name=rep.name, team=rep.team, activity=d.activity, x=x,
                     result=result, n=n, source=source, usual=usual, rate=rate, prob=prob,
                     skill_text=skill_text),
            {"activity_vs_norm": round(d.activity, 3), result: x, source: n,
             "expected_rate": round(rate, 4), "expected": round(n * rate, 1),
             "probability": float(f"{prob:.3g}"), "rates_from": est.source,
             "window": [est.start.isoformat(), est.end.isoformat()],
             "weakest_step": w.name if w else None,
             "weakest_vs_team": round(w.vs_team, 3) if w and w.vs_team is not None else None,
             "weakest_vs_benchmark": (round(w.rep / w.benchmark, 3)
                                      if w and w.benchmark and w.rep is not None else None)},
            action, "conversion", w.name if w else f"{source}→{result}")


@hookimpl(trylast=True)
def register_checks(register):
    register(EffortWithoutResults)


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
    """P(X ≤ x) when X ~ Binomial(n, p) and p ~
    Beta(alpha, beta): the rate's own uncertainty counts.

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
