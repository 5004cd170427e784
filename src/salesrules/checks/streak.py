"""The built-in ``zero-streak`` check: a run of working days
with activity but no result, unlikely at the rep's rate."""

from __future__ import annotations

import math
from collections.abc import Iterable

import attrs

from salesrules.api import Check, CheckContext, Finding, Funnel, hookimpl

WORDS = {
    "name": {"en": "zero-streak", "zh": "连续零产出"},
    "message": {"en": "{name} ({team}) has had no {stage} for {days} working days (since "
                      "{since}) despite {tried:,.0f} {what}; at their usual {rate:.1%} that is "
                      "{prob:chance}.",
                "zh": "{name}（{team}）自 {since} 起连续 {days} 个工作日没有{stage:stage}，"
                      "期间{what:stage} {tried:,.0f}；按其以往 {rate:.1%} 的转化率，"
                      "这{prob:chance}。"},
    "closed-deals": {"en": "closed deals", "zh": "已结单"},
    "action": {"en": "Sit in on {name}'s {up} this week: something changed {days} working "
                     "days ago.",
               "zh": "本周旁听{name}的{up:stage}：{days} 个工作日前情况变了。"},
}


@attrs.define
class StreakParams:
    #: Count stages watched; empty means the last count stage (intents).
    stages: list[str] = attrs.Factory(list)
    #: Fire when a streak this long has less than this probability at the rep's rate.
    alpha: float = attrs.field(default=0.001, validator=[attrs.validators.gt(0),
                                                        attrs.validators.lt(1)])
    #: Shortest streak reported, in working days.
    min_days: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    #: History before the period that the rep's rate comes from, in days.
    lookback_days: int = attrs.field(default=180, validator=attrs.validators.ge(1))


class ZeroStreak(Check):
    """Flags the current run of working days with activity but
    zero results, when the rep's own rate makes it improbable."""

    name = "zero-streak"
    Params = StreakParams
    words = WORDS

    def validate(self, funnel: Funnel) -> list[tuple[str, str]]:
        return [("stages", f"{s!r} is not a count stage") for s in self.params.stages
                if s not in funnel.names or funnel.stage(s).unit != "count"]

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        p = self.params
        funnel = ctx.funnel
        counts = [s.name for s in funnel.stages if s.unit == "count"]
        stages = p.stages or counts[-1:]
        rates = ctx.prior_rates(p.lookback_days, by=self.name)
        for rep, _ in ctx.by_rep():
            working = ctx.working_days(rep.id)
            values = ctx.daily(rep.id)
            for stage in stages:
                up = ctx.funnel.upstream(stage)
                post = rates.get(rep.id, {}).get(stage)
                if up is None or not post or post.alpha <= 0 or post.beta <= 0:
                    continue
                a, b = post.alpha, post.beta
                rate = a / (a + b)
                iu, il = funnel.index(up), funnel.index(stage)
                tries_of, results_of = values[::-1, iu].tolist(), values[::-1, il].tolist()
                what = key = up  # what the tries are, as said and as the evidence's key
                if stage == ctx.closed_stage:  # a deals export: a day's tries are its closes
                    what, key = self.say("closed-deals"), "closed deals"
                    tries_of = _closes(ctx, rep.id, working[::-1])
                    results_of = [0.0 if r != r else r for r in results_of]
                streak, tried = [], 0.0
                # the current streak: back from the as-of date over the rep's working days
                # (leave excluded); days without a row (NaN) neither extend nor break it
                for day, tries, results in zip(reversed(working), tries_of, results_of):
                    if results != results:
                        continue
                    if results > 0:
                        break
                    if tries > 0:
                        streak.append(day)
                        tried += tries
                if len(streak) < p.min_days:
                    continue
                # P(no result from `tried` tries) with the rate uncertain: B(a, b + T) / B(a, b)
                lg = math.lgamma
                prob = math.exp(lg(b + tried) + lg(a + b) - lg(b) - lg(a + b + tried))
                if prob >= p.alpha:
                    continue
                who = {"name": rep.name, "team": rep.team, "stage": stage, "up": up,
                       "days": len(streak), "since": streak[-1].isoformat()}
                yield Finding(
                    rep.id, "rep", self.name, "critical" if prob < p.alpha / 100 else "warn",
                    self.say("message", tried=tried, rate=rate, prob=prob, what=what, **who),
                    {"stage": stage, "days": len(streak), "since": streak[-1].isoformat(),
                     key: tried, "rate": round(rate, 4), "probability": float(f"{prob:.3g}")},
                    self.say("action", **who), "conversion", f"{up}→{stage}")


def _closes(ctx: CheckContext, rep_id: str, days: list) -> list[float]:
    """The deals the rep closed (won or lost) on each of ``days``."""
    out = []
    for day in days:
        counts = ctx.closed_counts([rep_id], day, day)
        out.append(float(counts.closed[0]) if counts is not None else 0.0)
    return out


@hookimpl(trylast=True)
def register_checks(register):
    register(ZeroStreak)
