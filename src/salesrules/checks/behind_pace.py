"""The built-in ``behind-pace`` check: reps whose actuals trail the expected-to-date curve."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

import attrs

from salesrules.api import Check, CheckContext, Finding, Funnel, hookimpl


@attrs.define
class BehindPaceParams:
    #: Points behind expected-to-date (0.165 = 16.5%) from which a rep is flagged as warn.
    warn_gap: float = attrs.field(default=0.165, validator=attrs.validators.gt(0))
    #: Points behind from which the finding is critical.
    critical_gap: float = attrs.field(default=0.33, validator=attrs.validators.gt(0))
    #: Stages to judge; empty means the process stages (behaviour: dials, connects,
    #: conversations), which is what the rep controls day by day.
    stages: list[str] = attrs.Factory(list)
    #: Skip a stage while less than this much was expected to date.
    min_expected: float = attrs.field(default=1.0, validator=attrs.validators.ge(0))
    #: ``mean``: judge the average gap over the stages (one stage far behind, at
    #: the critical gap, still counts); ``each``: judge every stage on its own.
    judge: Literal["mean", "each"] = "mean"

    def __attrs_post_init__(self) -> None:
        if self.critical_gap < self.warn_gap:
            raise ValueError("critical_gap must be at least warn_gap")


class BehindPace(Check):
    """Flags reps behind their process targets' expected-to-date curve: warn past 16.5 points, critical past 33."""

    name = "behind-pace"
    Params = BehindPaceParams

    def validate(self, funnel: Funnel) -> list[tuple[str, str]]:
        return [("stages", f"unknown stage {s!r} (stages: {', '.join(funnel.names)})")
                for s in self.params.stages if s not in funnel.names]

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        p = self.params
        wanted = set(p.stages) if p.stages else set(ctx.funnel.process)
        units = {s.name: s.unit for s in ctx.funnel.stages}
        for rep, rows in ctx.by_rep():
            gaps = [(1 - row.actual / row.expected_to_date, row) for row in rows
                    if row.stage in wanted and row.expected_to_date >= p.min_expected]
            if not gaps:
                continue
            mean_gap = sum(g for g, _ in gaps) / len(gaps)
            worst_gap = max(g for g, _ in gaps)
            if p.judge == "mean":
                if mean_gap < p.warn_gap and worst_gap < p.critical_gap:
                    continue
                level = max(mean_gap, p.warn_gap if worst_gap >= p.critical_gap else 0.0)
            else:
                if worst_gap < p.warn_gap:
                    continue
                level = worst_gap
            behind = [(g, r) for g, r in gaps if g >= min(p.warn_gap, level)] or gaps
            behind.sort(key=lambda g: (-g[0], g[1].stage))
            worst = behind[0][1]
            severity = "critical" if level >= p.critical_gap else "warn"
            parts = [f"{math.floor(g * 100)}% behind on {r.stage} ({_n(r.actual, units[r.stage])} of "
                     f"{_n(r.expected_to_date, units[r.stage])} expected)"
                     for g, r in behind[:3]]
            more = f" and {len(behind) - 3} more stage(s)" if len(behind) > 3 else ""
            if worst.remaining_days:
                per_day = worst.required_per_day
                per_day_s = (f"{math.ceil(per_day)}" if units[worst.stage] == "count"
                             else f"{per_day:,.2f}")
                action = (f"Agree a catch-up plan: {per_day_s} {worst.stage} a day on the "
                          f"{worst.remaining_days} remaining working days reaches the target.")
            else:
                action = f"The period is over; review why {worst.stage} fell short."
            yield Finding(
                rep.id, "rep", self.name, severity,  # type: ignore[arg-type]
                f"{rep.name} ({rep.team}) is " + "; ".join(parts) + more
                + f" as of {ctx.as_of.isoformat()}.",
                {"mean_gap": round(mean_gap, 4),
                 **{r.stage: {"actual": round(r.actual, 2),
                              "expected_to_date": round(r.expected_to_date, 2),
                              "target": round(r.target, 2), "gap": round(g, 4)}
                    for g, r in behind}},
                action,
            )


def _n(x: float, unit: str) -> str:
    return f"{x:,.2f}" if unit == "amount" else f"{x:,.0f}"


@hookimpl(trylast=True)
def register_checks(register):
    register(BehindPace)
