"""The built-in ``goal-raise`` check: reps ahead early get a proposal for the next rung of the tier ladder."""

from __future__ import annotations

import math
from collections.abc import Iterable
from statistics import NormalDist

import attrs
import numpy as np

from ..components import Check
from ..goals import push_back
from ..hookspecs import hookimpl
from ..model import Finding, Funnel
from .context import CheckContext


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
    """Proposes a higher goal (中间力量 → 高绩效 → 标杆) to reps whose projection makes the next tier likely."""

    name = "goal-raise"
    Params = GoalRaiseParams

    def validate(self, funnel: Funnel) -> list[tuple[str, str]]:
        s = self.params.stage
        return [("stage", f"unknown stage {s!r}")] if s and s not in funnel.names else []

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        funnel = ctx.funnel
        stage = funnel.stage(self.params.stage or funnel.result.name)
        idx = funnel.index(stage.name)
        tiers = ctx.goals.tiers
        if len(tiers) < 2:
            return
        rows = {(r.rep_id, r.stage): r for r in ctx.progress}
        for (rep_id, s), plan in ctx.goals.plans.items():
            if s != stage.name:
                continue
            rep = ctx.rep(rep_id)
            days = plan.grains["day"]
            elapsed = plan.days_through(ctx.as_of)
            if not days or elapsed / len(days) < self.params.min_elapsed:
                continue
            remaining = len(days) - elapsed
            done = [d for d, _, _ in days[:elapsed]]
            names = [t.name for t in tiers]
            current = rep.fields.get("tier", "")
            at = names.index(current) if current in names else next(
                (i for i, t in enumerate(tiers) if t.multiplier == 1.0), 0)
            if at + 1 >= len(tiers):
                continue
            target = plan.total / stage.scale
            base = target / tiers[at].multiplier
            actual = rows[(rep_id, s)].actual if (rep_id, s) in rows else 0.0
            # the rep's days so far, a day without a row counting as nothing done
            values = (ctx.daily(rep_id) if done == ctx.working_days(rep_id)
                      else ctx.dataset.activity.values_on(rep_id, done))
            daily = np.nan_to_num(values[:, idx], nan=0.0).tolist()
            mean = sum(daily) / len(daily)
            var = (sum((x - mean) ** 2 for x in daily) / (len(daily) - 1)) if len(daily) > 1 else 0.0
            projected = actual + remaining * mean
            sd = math.sqrt(remaining * var)

            def chance(goal: float) -> float:
                if sd > 0:
                    return 1 - NormalDist(projected, sd).cdf(goal)
                return 1.0 if projected >= goal else 0.0

            # the highest rung above the current one that is likely enough
            likely = [(i, chance(base * tiers[i].multiplier)) for i in range(at + 1, len(tiers))]
            likely = [(i, p) for i, p in likely if p >= self.params.min_probability]
            if not likely:
                continue
            up, prob = likely[-1]
            nxt = tiers[up]
            next_target = base * nxt.multiplier
            need = max(next_target - actual, 0.0)
            values = push_back(funnel, {stage.name: need}, ctx.goals.rates.get(rep_id, {})).values
            per_day = {st.name: (math.ceil(values[st.name] / remaining) if st.unit == "count"
                                 else round(values[st.name] / remaining, 2)) if remaining else 0
                       for st in funnel.stages if st.name in values}
            plan_text = ", ".join(f"{v:,} {k}" for k, v in per_day.items()
                                  if funnel.stage(k).unit == "count")
            if not remaining:
                action = f"Raise next period's goal to {nxt.name}."
            elif need == 0:
                action = (f"Already past the {nxt.name} target: raise the goal to {nxt.name} "
                          f"({next_target:,.0f} {stage.name}) and agree a stretch for the "
                          f"{remaining} remaining working days.")
            else:
                action = (f"Raise the goal to {nxt.name} ({next_target:,.0f} {stage.name}); "
                          f"for the {remaining} remaining working days that is {plan_text} a day.")
            yield Finding(
                rep_id, "rep", self.name, "info",
                f"{rep.name} ({rep.team}) is on course for {nxt.name}: projected "
                f"{projected:,.0f} {stage.name} against the {nxt.name} target of "
                f"{next_target:,.0f} (probability {prob:.0%}), "
                f"{len(done)} of {len(days)} working days in.",
                {"tier": tiers[at].name, "next_tier": nxt.name, "target": round(target, 2),
                 "next_target": round(next_target, 2), "actual": round(actual, 2),
                 "projected": round(projected, 2), "probability": round(prob, 4),
                 "remaining_days": remaining, "daily_targets": per_day},
                action,
            )


@hookimpl(trylast=True)
def register_checks(register):
    register(GoalRaise)
