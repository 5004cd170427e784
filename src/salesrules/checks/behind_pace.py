"""The built-in ``behind-pace`` check: reps behind,
with the cause named (过程没做够 or 一顿操作猛如虎)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import attrs

from salesrules.api import Check, CheckContext, Finding, Funnel, hookimpl


def _default_skills() -> dict[str, str]:
    return {"connects": "communication", "conversations": "communication",
            "intents": "professional knowledge", "pipeline": "closing", "revenue": "closing"}


WORDS = {
    "name": {"en": "behind-pace", "zh": "落后进度"},
    "sep": {"en": "; ", "zh": "；"},
    "head": {"en": "{name} ({team}) is {gap}% behind on {result} ({actual:,.0f} of "
                   "{expected:,.0f} expected) as of {as_of}",
             "zh": "{name}（{team}）截至 {as_of} {result:stage}落后进度 {gap}%"
                   "（应完成 {expected:,.0f}，实际 {actual:,.0f}）"},
    "on-pace": {"en": "{name} ({team}) is on pace on {result} as of {as_of}",
                "zh": "{name}（{team}）截至 {as_of} {result:stage}符合进度"},
    "cause.activity": {"en": "activity is the cause", "zh": "原因在过程：过程没做够"},
    "cause.conversion": {"en": "conversion is the cause",
                         "zh": "原因在转化：一顿操作猛如虎，结果没跟上"},
    "cause.other": {"en": "the cause is unclear", "zh": "原因不明确"},
    "both": {"en": " Both are true: the larger share of the gap is named first.",
             "zh": "两者都有：占差距更大的一项列在前面。"},
    "message": {"en": "{head}: {lead}. {said}.{both}", "zh": "{head}：{lead}。{said}。{both}"},
    "near-norm": {"en": "activity ({activity:.0%} of the norm) and conversion "
                        "({conversion:.0%} of the team's) are both near the team's norm",
                  "zh": "活动量（常模的 {activity:.0%}）与转化率（团队的 {conversion:.0%}）"
                        "都接近团队常模"},
    "review": {"en": "Review {name}'s {result} with them: the plan may ask more than "
                     "the team's norm.",
               "zh": "与{name}一起复盘{result:stage}：计划可能高于团队常模。"},
    "activity-text": {"en": "{per_day:,.0f} {top} a working day against the {need:,.0f} their "
                            "target needs at the {team} rates{cap}, {activity:.0%} of the norm "
                            "(team median {median:,.0f})",
                      "zh": "每个工作日{top:stage} {per_day:,.0f}，按{team}的转化率目标需要 "
                            "{need:,.0f}{cap}，为常模的 {activity:.0%}"
                            "（团队中位数 {median:,.0f}）"},
    "capped": {"en": " (capped at the team's feasible level)", "zh": "（已按团队可行水平封顶）"},
    "conversion-plain": {"en": "conversion from {top} to {result} is {conversion:.0%} of the "
                               "team's",
                         "zh": "从{top:stage}到{result:stage}的转化率是团队的 {conversion:.0%}"},
    "bench": {"en": " and {vs:.0%} of the success cases' {bench:.1%}",
              "zh": "，是成功案例 {bench:.1%} 的 {vs:.0%}"},
    "conversion-text": {"en": "{top} are at {activity:.0%} of the norm, but {step} is {rep:.1%} "
                              "against the {team} rate of {team_rate:.1%} ({vs_team:.0%} of "
                              "the team's{bench}): a {skill} problem",
                        "zh": "{top:stage}达到常模的 {activity:.0%}，但{step:stage}只有 {rep:.1%}，"
                              "{team}为 {team_rate:.1%}（团队的 {vs_team:.0%}{bench}）："
                              "{skill:skill}问题"},
    "coach-plain": {"en": "Review their calls with them against the team's best; not more "
                          "activity.",
                    "zh": "对照团队最佳，和他一起复盘通话；不是加活动量。"},
    "coach": {"en": "Coach {skill} at {step} ({rep:.1%} against the team's {team:.1%}): listen "
                    "to calls with the team's best this week; not more {top}.",
              "zh": "辅导{skill:skill}，重点在{step:stage}（{rep:.1%}，团队 {team:.1%}）："
                    "本周和团队最佳一起听通话；不是加{top:stage}。"},
    "over": {"en": "The period is over; review why {top} fell short.",
             "zh": "本周期已结束；复盘{top:stage}为何不足。"},
    "plan-item": {"en": "{n:,} {stage}", "zh": "{stage:stage} {n:,}"},
    "plan-sep": {"en": ", ", "zh": "、"},
    "plan-capped": {"en": "; that is the team's feasible level, so the rest needs better "
                          "conversion",
                    "zh": "；这已是团队的可行水平，其余差距要靠提升转化"},
    "plan": {"en": "Agree a daily activity plan: {plan} a day on the {left} remaining working "
                   "days{capped}.",
             "zh": "约定每日活动计划：剩余 {left} 个工作日，每天{plan}{capped}。"},
}


@attrs.define
class BehindPaceParams:
    #: Points behind expected-to-date (0.165 = 16.5%) from which a rep is flagged as warn.
    warn_gap: float = attrs.field(default=0.165, validator=attrs.validators.gt(0))
    #: Points behind from which the finding is critical.
    critical_gap: float = attrs.field(default=0.33, validator=attrs.validators.gt(0))
    #: The result stage judged; empty means the last count stage (intents).
    result_stage: str = ""
    #: Results count as behind only when this low is less likely than this on the plan's pace.
    alpha: float = attrs.field(default=0.01, validator=[attrs.validators.gt(0),
                                                       attrs.validators.lt(1)])
    #: Activity under this share of the norm (what the result expected to date needs at
    #: the team's rates, capped at the feasible level) is an activity cause.
    activity_tolerance: float = attrs.field(default=0.9, validator=attrs.validators.gt(0))
    #: Conversion under this share of the team's rates (and improbable) is a conversion cause.
    conversion_tolerance: float = attrs.field(default=0.85, validator=attrs.validators.gt(0))
    #: The feasible level: this quantile of the team's reps' activity per working day. A
    #: catch-up plan never asks for more.
    feasible_quantile: float = attrs.field(default=0.9, validator=[attrs.validators.gt(0),
                                                                   attrs.validators.le(1)])
    #: Funnel stage -> the skill a weak conversion into it points to.
    skills: dict[str, str] = attrs.Factory(_default_skills)

    def __attrs_post_init__(self) -> None:
        if self.critical_gap < self.warn_gap:
            raise ValueError("critical_gap must be at least warn_gap")


class BehindPace(Check):
    """Flags reps behind on results or activity and names the cause: activity under
    the team's norm, or conversion under the team's rates at the weakest step."""

    name = "behind-pace"
    Params = BehindPaceParams
    words = WORDS

    def validate(self, funnel: Funnel) -> list[tuple[str, str]]:
        s = self.params.result_stage
        if s and (s not in funnel.names or funnel.stage(s).unit != "count"):
            return [("result_stage", f"{s!r} is not a count stage of the funnel")]
        return []

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        p = self.params
        for rep, rows in ctx.by_rep():
            d = ctx.diagnosis(rep.id, p.result_stage, p.feasible_quantile,
                              p.activity_tolerance, p.conversion_tolerance, p.alpha)
            if d is None:
                continue
            results_behind = d.gap >= p.warn_gap and d.result_probability < p.alpha
            activity_gap = 1 - (d.activity if d.activity is not None else 1.0)
            activity_behind = ("activity" in d.causes and activity_gap >= p.warn_gap
                               and _own_plan_gap(ctx, rows) >= p.warn_gap)
            if not results_behind and not activity_behind:
                continue
            level = max(d.gap if results_behind else 0.0, activity_gap if activity_behind else 0.0)
            if not d.causes and level < p.critical_gap:
                continue  # both axes at the norm: within what the plan's own estimates explain
            yield self._finding(ctx, rep, d, "critical" if level >= p.critical_gap else "warn",
                                rows)

    def _finding(self, ctx: CheckContext, rep, d, severity: str, rows) -> Finding:
        said = [self._activity_text(d) if c == "activity" else self._conversion_text(d)
                for c in d.causes]
        if not said:
            said = [self.say("near-norm", activity=d.activity or 0, conversion=d.conversion or 0)]
        who = {"name": rep.name, "team": rep.team, "result": d.result,
               "as_of": ctx.as_of.isoformat()}
        head = (self.say("head", gap=math.floor(d.gap * 100), actual=d.result_actual,
                         expected=d.result_expected, **who) if d.gap > 0 else
                self.say("on-pace", **who))
        action = (self._activity_plan(ctx, d, rows) if d.cause == "activity"
                  else self._coaching(d) if d.cause == "conversion"
                  else self.say("review", **who))
        return Finding(
            rep.id, "rep", self.name, severity,  # type: ignore[arg-type]
            self.say("message", head=head, lead=self.say(f"cause.{d.cause}"),
                     said=self.say("sep").join(s[0].upper() + s[1:] for s in said),
                     both=self.say("both") if len(d.causes) > 1 else ""),
            _evidence(d), action, d.cause, d.stage)  # type: ignore[arg-type]

    def _activity_text(self, d) -> str:
        return self.say("activity-text", per_day=d.per_day, top=d.top, need=d.need_per_day,
                        team=d.team, cap=self.say("capped") if d.capped else "",
                        activity=d.activity, median=d.median_per_day)

    def _conversion_text(self, d) -> str:
        w = d.weakest
        if w is None:
            return self.say("conversion-plain", top=d.top, result=d.result,
                            conversion=d.conversion)
        bench = (self.say("bench", vs=w.rep / w.benchmark, bench=w.benchmark)
                 if w.benchmark else "")
        return self.say("conversion-text", top=d.top, activity=d.activity, step=w.name,
                        rep=w.rep, team=d.team, team_rate=w.team, vs_team=w.vs_team,
                        bench=bench, skill=self.params.skills.get(w.lower, w.lower))

    def _coaching(self, d) -> str:
        w = d.weakest
        if w is None:
            return self.say("coach-plain")
        return self.say("coach", skill=self.params.skills.get(w.lower, w.lower), step=w.name,
                        rep=w.rep, team=w.team, top=d.top)

    def _activity_plan(self, ctx: CheckContext, d, rows) -> str:
        left = next((r.remaining_days for r in rows if r.stage == d.result), 0)
        res = next((r for r in rows if r.stage == d.result), None)
        if not left or res is None:
            return self.say("over", top=d.top)
        need = max(res.target - res.actual, 0.0) / d.team_chain / left
        per_day = min(need, d.cap_per_day) if d.cap_per_day > 0 else need
        plan = [self.say("plan-item", n=math.ceil(per_day), stage=d.top)]
        rate = 1.0
        for s in d.steps[:-1]:
            rate *= s.team
            plan.append(self.say("plan-item", n=math.ceil(per_day * rate), stage=s.lower))
        return self.say("plan", plan=self.say("plan-sep").join(plan), left=left,
                        capped=self.say("plan-capped") if per_day < need else "")


def _own_plan_gap(ctx: CheckContext, rows) -> float:
    """The mean gap over the process stages to the rep's own expected-to-date curve."""
    process = set(ctx.funnel.process)
    gaps = [1 - r.actual / r.expected_to_date for r in rows
            if r.stage in process and r.expected_to_date >= 1]
    return sum(gaps) / len(gaps) if gaps else 0.0


def _evidence(d) -> dict:
    return {
        "result": d.result, "actual": round(d.result_actual, 2),
        "expected_to_date": round(d.result_expected, 2), "gap": round(d.gap, 4),
        "result_probability": float(f"{d.result_probability:.3g}"),
        "causes": list(d.causes),
        "activity": {"stage": d.top, "per_day": round(d.per_day, 1),
                     "team_median_per_day": round(d.median_per_day, 1),
                     "feasible_per_day": round(d.cap_per_day, 1),
                     "needed_per_day": round(d.need_per_day, 1),
                     "vs_norm": None if d.activity is None else round(d.activity, 3)},
        "conversion": {"vs_team": None if d.conversion is None else round(d.conversion, 3),
                       "probability": float(f"{d.conversion_probability:.3g}"),
                       "steps": {s.name: {"rep": None if s.rep is None else round(s.rep, 4),
                                          "team": round(s.team, 4),
                                          "benchmark": None if s.benchmark is None
                                          else round(s.benchmark, 4)} for s in d.steps}},
    }


@hookimpl(trylast=True)
def register_checks(register):
    register(BehindPace)
