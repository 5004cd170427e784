"""The built-in ``goal-raise`` check: reps ahead early
get a proposal for the next rung of the tier ladder."""

from __future__ import annotations

import math
from collections.abc import Iterable
from statistics import NormalDist

import attrs
import numpy as np

from salesrules.api import Check, CheckContext, Finding, Funnel, hookimpl


@attrs.define
class GoalRaiseParams:
    #: Share of the rep's working days in the period that must have passed.
    min_elapsed: float = attrs.field(
        default=0.33, validator=[attrs.validators.ge(0), attrs.validators.le(1)])
    #: Propose the next tier when reaching its target is at least this likely.
    min_probability: float = attrs.field(
        default=0.7, validator=[attrs.validators.gt(0), attrs.validators.lt(1)])
    #: The result stage judged; empty means the funnel's last stage.
    stage: str = ""


class GoalRaise(Check):
    """Proposes a higher goal (中间力量 → 高绩效 → 标杆)
    to reps whose projection makes the next tier likely."""

    name = "goal-raise"
    Params = GoalRaiseParams
    words = {
        "name": {"en": "goal-raise", "zh": "目标上调"},
        "message": {"en": "{name} ({team}) is on course for {tier}: projected {projected:,.0f} "
                          "{stage} against the {tier} target of {target:,.0f} (probability "
                          "{prob:.0%}), {done} of {days} working days in.",
                    "zh": "{name}（{team}）有望达到{tier}：预计{stage:stage} {projected:,.0f}，"
                          "{tier}目标为 {target:,.0f}（概率 {prob:.0%}），{days} 个工作日已过 "
                          "{done} 个。"},
        "list-sep": {"en": ", ", "zh": "、"},
        "plan-item": {"en": "{n:,} {stage}", "zh": "{stage:stage} {n:,}"},
        "next-period": {"en": "Raise next period's goal to {tier}.",
                        "zh": "下个周期把目标上调到{tier}。"},
        "past": {"en": "Already past the {tier} target: raise the goal to {tier} ({target:,.0f} "
                       "{stage}) and agree a stretch for the {left} remaining working days.",
                 "zh": "已超过{tier}目标：把目标上调到{tier}（{stage:stage} {target:,.0f}），"
                       "并为剩余 {left} 个工作日约定挑战目标。"},
        "raise": {"en": "Raise the goal to {tier} ({target:,.0f} {stage}); for the {left} "
                        "remaining working days that is {plan} a day.",
                  "zh": "把目标上调到{tier}（{stage:stage} {target:,.0f}）；剩余 {left} 个工作日，"
                        "每天{plan}。"},
    }

    def validate(self, funnel: Funnel) -> list[tuple[str, str]]:
        s = self.params.stage
        return [("stage", f"unknown stage {s!r}")] if s and s not in funnel.names else []

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        funnel = ctx.funnel
        stage = funnel.stage(self.params.stage or funnel.result.name)
        tiers = ctx.goals.tiers
        if len(tiers) < 2:
            return
        rows = {(r.rep_id, r.stage): r for r in ctx.progress}
        for (rep_id, s), plan in ctx.goals.plans.items():
            if s != stage.name:
                continue
            actual = rows[(rep_id, s)].actual if (rep_id, s) in rows else 0.0
            outlook = self._outlook(ctx, rep_id, plan, stage, actual)
            if outlook is None:
                continue
            # the highest rung above the current one that is likely enough
            likely = [(i, outlook.chance(outlook.base * tiers[i].multiplier))
                      for i in range(outlook.at + 1, len(tiers))]
            likely = [(i, p) for i, p in likely if p >= self.params.min_probability]
            if likely:
                yield self._proposal(ctx, outlook, stage, *likely[-1])

    def _outlook(self, ctx: CheckContext, rep_id: str, plan, stage, actual: float):
        """Where the rep is heading on the stage, or ``None`` if too early or already at the top."""
        tiers = ctx.goals.tiers
        days = plan.working_days()
        elapsed = plan.days_through(ctx.pace_day)
        if not days or elapsed / len(days) < self.params.min_elapsed:
            return None
        names = [t.name for t in tiers]
        current = ctx.rep(rep_id).fields.get("tier", "")
        at = names.index(current) if current in names else next(
            (i for i, t in enumerate(tiers) if t.multiplier == 1.0), 0)
        if at + 1 >= len(tiers):
            return None
        done = days[:elapsed]
        # the rep's days so far, a day without a row counting as nothing done
        values = (ctx.daily(rep_id) if done == ctx.working_days(rep_id)
                  else ctx.dataset.activity.values_on(rep_id, done))
        daily = np.nan_to_num(values[:, ctx.funnel.index(stage.name)], nan=0.0).tolist()
        mean = sum(daily) / len(daily)
        var = (sum((x - mean) ** 2 for x in daily) / (len(daily) - 1)) if len(daily) > 1 else 0.0
        remaining = len(days) - elapsed
        target = plan.total / stage.scale
        return _Outlook(rep_id, at, target, target / tiers[at].multiplier, actual,
                        actual + remaining * mean, math.sqrt(remaining * var), remaining,
                        len(done), len(days))

    def _proposal(self, ctx: CheckContext, o: _Outlook, stage, up: int, prob: float) -> Finding:
        """The finding that proposes rung ``up``, with the daily plan that reaches it."""
        funnel = ctx.funnel
        rep = ctx.rep(o.rep_id)
        tiers = ctx.goals.tiers
        nxt = tiers[up]
        next_target = o.base * nxt.multiplier
        need = max(next_target - o.actual, 0.0)
        values = ctx.pushed_back(o.rep_id, {stage.name: need})
        remaining = o.remaining
        per_day = {st.name: (math.ceil(values[st.name] / remaining) if st.unit == "count"
                             else round(values[st.name] / remaining, 2)) if remaining else 0
                   for st in funnel.stages if st.name in values}
        plan_text = self.say("list-sep").join(
            self.say("plan-item", n=v, stage=k) for k, v in per_day.items()
            if funnel.stage(k).unit == "count")
        said = {"tier": nxt.name, "target": next_target, "stage": stage.name,
                "left": remaining}
        if not remaining:
            action = self.say("next-period", **said)
        elif need == 0:
            action = self.say("past", **said)
        else:
            action = self.say("raise", plan=plan_text, **said)
        return Finding(
            o.rep_id, "rep", self.name, "info",
            self.say("message", name=rep.name, team=rep.team, projected=o.projected,
                     prob=prob, done=o.days_done, days=o.days, **said),
            {"tier": tiers[o.at].name, "next_tier": nxt.name, "target": round(o.target, 2),
             "next_target": round(next_target, 2), "actual": round(o.actual, 2),
             "projected": round(o.projected, 2), "probability": round(prob, 4),
             "remaining_days": remaining, "daily_targets": per_day},
            action, "other", stage.name,
        )


@attrs.frozen
class _Outlook:
    """A rep's projected end of period on one stage, with its uncertainty."""

    rep_id: str
    #: Index of the rep's current tier.
    at: int
    target: float
    #: The target at multiplier 1 (the level's own target).
    base: float
    actual: float
    projected: float
    sd: float
    remaining: int
    days_done: int
    days: int

    def chance(self, goal: float) -> float:
        """The probability of ending at or above ``goal`` (a normal approximation)."""
        if self.sd > 0:
            return 1 - NormalDist(self.projected, self.sd).cdf(goal)
        return 1.0 if self.projected >= goal else 0.0


@hookimpl(trylast=True)
def register_checks(register):
    register(GoalRaise)
