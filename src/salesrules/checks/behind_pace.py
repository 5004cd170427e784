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
            said = [f"activity ({d.activity or 0:.0%} of the norm) and conversion "
                    f"({d.conversion or 0:.0%} of the team's) are both near the team's norm"]
        head = (f"{rep.name} ({rep.team}) is {math.floor(d.gap * 100)}% behind on {d.result} "
                f"({d.result_actual:,.0f} of {d.result_expected:,.0f} expected) as of "
                f"{ctx.as_of.isoformat()}" if d.gap > 0 else
                f"{rep.name} ({rep.team}) is on pace on {d.result} as of {ctx.as_of.isoformat()}")
        lead = {"activity": "activity is the cause", "conversion": "conversion is the cause",
                "other": "the cause is unclear"}[d.cause]
        both = (" Both are true: the larger share of the gap is named first."
                if len(d.causes) > 1 else "")
        action = (self._activity_plan(ctx, d, rows) if d.cause == "activity"
                  else self._coaching(d) if d.cause == "conversion"
                  else f"Review {rep.name}'s {d.result} with them: the plan may ask more than "
                       "the team's norm.")
        return Finding(
            rep.id, "rep", self.name, severity,  # type: ignore[arg-type]
            f"{head}: {lead}. " + "; ".join(s[0].upper() + s[1:] for s in said) + "." + both,
            _evidence(d), action, d.cause, d.stage)  # type: ignore[arg-type]

    def _activity_text(self, d) -> str:
        cap = " (capped at the team's feasible level)" if d.capped else ""
        return (f"{d.per_day:,.0f} {d.top} a working day against the {d.need_per_day:,.0f} "
                f"their target needs at the {d.team} rates{cap}, {d.activity:.0%} of the norm "
                f"(team median {d.median_per_day:,.0f})")

    def _conversion_text(self, d) -> str:
        w = d.weakest
        if w is None:
            return f"conversion from {d.top} to {d.result} is {d.conversion:.0%} of the team's"
        skill = self.params.skills.get(w.lower, w.lower)
        bench = (f" and {w.rep / w.benchmark:.0%} of the success cases' {w.benchmark:.1%}"
                 if w.benchmark else "")
        return (f"{d.top} are at {d.activity:.0%} of the norm, but {w.name} is {w.rep:.1%} "
                f"against the {d.team} rate of {w.team:.1%} ({w.vs_team:.0%} of the team's"
                f"{bench}): a {skill} problem")

    def _coaching(self, d) -> str:
        w = d.weakest
        if w is None:
            return "Review their calls with them against the team's best; not more activity."
        skill = self.params.skills.get(w.lower, w.lower)
        return (f"Coach {skill} at {w.name} ({w.rep:.1%} against the team's {w.team:.1%}): "
                f"listen to calls with the team's best this week; not more {d.top}.")

    def _activity_plan(self, ctx: CheckContext, d, rows) -> str:
        left = next((r.remaining_days for r in rows if r.stage == d.result), 0)
        res = next((r for r in rows if r.stage == d.result), None)
        if not left or res is None:
            return f"The period is over; review why {d.top} fell short."
        need = max(res.target - res.actual, 0.0) / d.team_chain / left
        per_day = min(need, d.cap_per_day) if d.cap_per_day > 0 else need
        plan = [f"{math.ceil(per_day):,} {d.top}"]
        rate = 1.0
        for s in d.steps[:-1]:
            rate *= s.team
            plan.append(f"{math.ceil(per_day * rate):,} {s.lower}")
        capped = ("; that is the team's feasible level, so the rest needs better conversion"
                  if per_day < need else "")
        return (f"Agree a daily activity plan: {', '.join(plan)} a day on the {left} "
                f"remaining working days{capped}.")


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
