"""The built-in ``effort-without-results`` check (一顿操作猛如虎): process on target, results improbably low."""

from __future__ import annotations

import math
from collections.abc import Iterable

import attrs

from salesrules.api import Check, CheckContext, Finding, Funnel, hookimpl


def _default_skills() -> dict[str, str]:
    return {"conversations": "communication", "intents": "professional knowledge",
            "revenue": "closing"}


@attrs.define
class EffortParams:
    #: Fire when results this low (or lower) have less than this probability.
    alpha: float = attrs.field(default=0.01, validator=[attrs.validators.gt(0),
                                                       attrs.validators.lt(1)])
    #: Process stages count as on target at this pace (actual over expected to date).
    min_process_pace: float = attrs.field(default=0.95, validator=attrs.validators.gt(0))
    #: The result stage tested; empty means the last count stage (intents).
    result_stage: str = ""
    #: History before the period that the rep's expected rates come from, in days.
    lookback_days: int = attrs.field(default=180, validator=attrs.validators.ge(1))
    #: Funnel stage -> the skill a weak conversion into it points to.
    skills: dict[str, str] = attrs.Factory(_default_skills)


class EffortWithoutResults(Check):
    """Process on target but results improbably low given the rep's own (shrunk) rates; names the weakest stage and skill."""

    name = "effort-without-results"
    Params = EffortParams

    def validate(self, funnel: Funnel) -> list[tuple[str, str]]:
        out = []
        s = self.params.result_stage
        if s and (s not in funnel.names or funnel.stage(s).unit != "count"):
            out.append(("result_stage", f"{s!r} is not a count stage of the funnel"))
        out += [("skills", f"unknown stage {k!r}") for k in self.params.skills
                if k not in funnel.names]
        return out

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        p = self.params
        funnel = ctx.funnel
        counts = [s.name for s in funnel.stages if s.unit == "count"]
        result = p.result_stage or counts[-1]
        source = ctx.funnel.upstream(result)
        if source is None:
            return
        rates = ctx.prior_rates(p.lookback_days)
        process = set(funnel.process)
        team_rows: dict[tuple[str, str], float] = {(r.team, r.stage): r.actual for r in ctx.teams}
        for rep, rows in ctx.by_rep():
            by_stage = {r.stage: r for r in rows}
            proc = [r for r in rows if r.stage in process and r.expected_to_date > 0]
            if not proc or any((r.pace or 0) < p.min_process_pace for r in proc):
                continue
            res = by_stage.get(result)
            if res is None or res.expected_to_date <= 0 or (res.pace or 0) >= 1:
                continue
            n = int(by_stage[source].actual) if source in by_stage else 0
            post = rates.get(rep.id, {}).get(result)
            if not n or not post or post[0] <= 0:
                continue
            rate = post[0] / (post[0] + post[1])
            x = int(res.actual)
            prob = beta_binom_cdf(x, n, *post)
            if prob >= p.alpha:
                continue
            weakest = self._weakest(ctx, rep.team, by_stage, team_rows)
            skill_text = ""
            action = "Review their calls and pipeline with them against the team's best."
            if weakest:
                stage, up, ratio = weakest
                skill = p.skills.get(stage, stage)
                skill_text = (f" The weakest step is {up}→{stage}, at {ratio:.0%} of the "
                              f"{rep.team} rate: a {skill} problem.")
                action = (f"Coach {skill}: review {up}→{stage} with them, e.g. listen to "
                          f"calls with the team's best.")
            yield Finding(
                rep.id, "rep", self.name, "critical" if prob < p.alpha / 100 else "warn",
                f"{rep.name} ({rep.team}) is on pace with dials, connects and conversations "
                f"but has {x} {result} from {n} {source}; with their usual rate of "
                f"{rate:.1%} that has a probability of {prob:.2g}.{skill_text}",
                {"process_pace": {r.stage: round(r.pace or 0, 3) for r in proc},
                 result: x, source: n, "expected_rate": round(rate, 4),
                 "expected": round(n * rate, 1), "probability": float(f"{prob:.3g}"),
                 "weakest_step": f"{weakest[1]}→{weakest[0]}" if weakest else None,
                 "weakest_vs_team": round(weakest[2], 3) if weakest else None},
                action)

    def _weakest(self, ctx: CheckContext, team: str, by_stage, team_rows):
        """The skill stage whose conversion is lowest against the team's this period."""
        worst = None
        for stage in self.params.skills:
            up = ctx.funnel.upstream(stage)
            if up is None or stage not in by_stage or up not in by_stage:
                continue
            rep_up, rep_low = by_stage[up].actual, by_stage[stage].actual
            t_up, t_low = team_rows.get((team, up), 0), team_rows.get((team, stage), 0)
            if not rep_up or not t_up or not t_low:
                continue
            ratio = (rep_low / rep_up) / (t_low / t_up)
            if worst is None or ratio < worst[2]:
                worst = (stage, up, ratio)
        return worst


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
