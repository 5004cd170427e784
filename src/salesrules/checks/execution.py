"""The built-in ``team-execution`` and ``data-gaps`` checks: a team's execution rate, and missing days of data."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from salesrules.api import Check, CheckContext, Finding, hookimpl


@attrs.define
class ExecutionParams:
    #: Flag a team when fewer than this share of its reps meet their process targets.
    threshold: float = attrs.field(default=0.8, validator=[attrs.validators.gt(0),
                                                          attrs.validators.le(1)])
    #: A rep meets their process targets when their average pace over the process
    #: stages (actual over expected to date) is at least this.
    meet_pace: float = attrs.field(default=0.85, validator=attrs.validators.gt(0))
    #: Teams with fewer reps with targets are not judged.
    min_reps: int = attrs.field(default=3, validator=attrs.validators.ge(1))


class TeamExecution(Check):
    """Flags a team whose share of reps meeting process targets is under the threshold (frontline managers: at least 80%)."""

    name = "team-execution"
    Params = ExecutionParams

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        p = self.params
        process = set(ctx.funnel.process)
        teams: dict[str, list[tuple[str, bool, list[str]]]] = {}
        for rep, rows in ctx.by_rep():
            proc = [r for r in rows if r.stage in process and r.expected_to_date > 0]
            if not proc:
                continue
            mean = sum(r.pace or 0 for r in proc) / len(proc)
            short = [r.stage for r in proc if (r.pace or 0) < p.meet_pace]
            teams.setdefault(rep.team, []).append((rep.id, mean >= p.meet_pace, short))
        for team, reps in sorted(teams.items()):
            if len(reps) < p.min_reps:
                continue
            meeting = sum(1 for _, ok, _ in reps if ok)
            share = meeting / len(reps)
            if share >= p.threshold:
                continue
            missing = {rep_id: short for rep_id, ok, short in reps if not ok}
            yield Finding(
                team, "team", self.name, "critical" if share < p.threshold / 2 else "warn",
                f"{team}: {meeting} of {len(reps)} reps ({share:.0%}) meet their process "
                f"targets to date, under the {p.threshold:.0%} a frontline manager must reach.",
                {"meeting": meeting, "reps": len(reps), "share": round(share, 4),
                 "threshold": p.threshold, "behind": missing},
                f"The {team} manager reviews each rep's daily plan with them this week: "
                + ", ".join(sorted(missing)) + ".")


@attrs.define
class GapsParams:
    #: Flag an active rep missing activity rows on at least this many working days.
    min_days: int = attrs.field(default=2, validator=attrs.validators.ge(1))


class DataGaps(Check):
    """Flags active reps with no activity rows on working days (leave excluded): an export or logging gap."""

    name = "data-gaps"
    Params = GapsParams

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        last = ctx.dataset.activity.last_day()
        if last is None:
            return
        upto = min(ctx.as_of, last)  # the export ends here: days after it are not gaps
        for rep in ctx.dataset.reps.values():
            if not rep.active:
                continue
            days = ctx.working_days(rep.id)
            missing = [d for d, v in zip(days, ctx.daily(rep.id)[:, 0].tolist())
                       if v != v and d <= upto]  # NaN: no row that day
            if len(missing) < self.params.min_days:
                continue
            shown = ", ".join(d.isoformat() for d in missing[:5]) + (
                f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            yield Finding(
                rep.id, "rep", self.name, "warn",
                f"{rep.name} ({rep.team}) has no activity rows on {len(missing)} working "
                f"day(s) this period: {shown}.",
                {"missing_days": [d.isoformat() for d in missing]},
                "Check the CRM export or the rep's logging for those days; record leave in "
                "the leave file.")


@hookimpl(trylast=True)
def register_checks(register):
    register(TeamExecution)
    register(DataGaps)
