"""The built-in ``team-execution`` and ``data-gaps`` checks: a
team's execution rate, and missing or self-contradicting activity."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import attrs

from salesrules.api import Check, CheckContext, Finding, hookimpl


@attrs.define
class ExecutionParams:
    #: Flag a team when fewer than this share of its reps meet their feasible activity targets.
    threshold: float = attrs.field(default=0.8, validator=[attrs.validators.gt(0),
                                                          attrs.validators.le(1)])
    #: A rep meets their feasible activity target when their activity to date is at least
    #: this share of it: what their result expected to date needs at the team's rates,
    #: capped at the feasible level.
    meet_pace: float = attrs.field(default=0.85, validator=attrs.validators.gt(0))
    #: The feasible level: this quantile of the team's reps' activity per working day.
    feasible_quantile: float = attrs.field(default=0.9, validator=[attrs.validators.gt(0),
                                                                   attrs.validators.le(1)])
    #: Teams with fewer reps with targets are not judged.
    min_reps: int = attrs.field(default=3, validator=attrs.validators.ge(1))


class TeamExecution(Check):
    """Flags a team whose share of reps meeting feasible activity targets is under
    the threshold (frontline managers: at least 80%), naming the team's main cause."""

    name = "team-execution"
    Params = ExecutionParams

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        p = self.params
        teams: dict[str, list] = {}
        for rep, _ in ctx.by_rep():
            d = ctx.diagnosis(rep.id, quantile=p.feasible_quantile)
            if d is not None and d.activity is not None:
                teams.setdefault(rep.team, []).append(d)
        for team, reps in sorted(teams.items()):
            if len(reps) < p.min_reps:
                continue
            meeting = sum(1 for d in reps if d.activity >= p.meet_pace)
            share = meeting / len(reps)
            if share >= p.threshold:
                continue
            yield self._finding(team, reps, meeting, share)

    def _finding(self, team: str, reps: list, meeting: int, share: float) -> Finding:
        p = self.params
        missing = {d.rep_id: round(d.activity, 3) for d in reps if d.activity < p.meet_pace}
        # the team's main cause: each rep's gap shares summed over the team
        shares = {c: sum(d.shares[c] for d in reps) for c in ("activity", "conversion")}
        # activity is named on a tie
        main: Literal["activity", "conversion"] = (
            "activity" if shares["activity"] >= shares["conversion"] else "conversion")
        other = "conversion" if main == "activity" else "activity"
        top = reps[0].top
        return Finding(
            team, "team", self.name, "critical" if share < p.threshold / 2 else "warn",
            f"{team}: {meeting} of {len(reps)} reps ({share:.0%}) meet their feasible "
            f"{top} targets to date, under the {p.threshold:.0%} a frontline manager must "
            f"reach. The team's main cause is {main} ({shares[main]:.2f} of the log gap "
            f"against {shares[other]:.2f} for {other}).",
            {"meeting": meeting, "reps": len(reps), "share": round(share, 4),
             "threshold": p.threshold, "behind": missing,
             "cause_shares": {k: round(v, 3) for k, v in shares.items()}},
            f"The {team} manager agrees a daily activity plan with each of them this week: "
            + ", ".join(sorted(missing)) + "." if main == "activity" else
            f"The {team} manager coaches the team's weakest step with its best performers; "
            "not more activity.",
            main, top if main == "activity" else _team_step(reps))


def _team_step(reps: list) -> str:
    """The step most often weakest among the team's reps."""
    steps = [d.weakest.name for d in reps if d.weakest is not None]
    return max(sorted(set(steps)), key=steps.count) if steps else ""


@attrs.define
class GapsParams:
    #: Flag an active rep missing activity rows on at least this many working days.
    min_days: int = attrs.field(default=2, validator=attrs.validators.ge(1))


class DataGaps(Check):
    """Flags active reps with no activity rows on working days (leave excluded), and
    activity rows where a count stage exceeds the one above it: the export is wrong."""

    name = "data-gaps"
    Params = GapsParams

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        bad: dict[str, list] = {}
        for row in ctx.bad_rows():
            bad.setdefault(row.rep_id, []).append(row)
        missing = self._missing(ctx)
        for rep in ctx.dataset.reps.values():
            rows, days = bad.get(rep.id, []), missing.get(rep.id, [])
            if not rows and len(days) < self.params.min_days:
                continue
            if len(days) < self.params.min_days:
                days = []
            yield self._finding(rep, days, rows)

    def _missing(self, ctx: CheckContext) -> dict:
        """Each active rep's working days without an activity row, up to the export's end."""
        last = ctx.dataset.activity.last_day()
        if last is None:
            return {}
        upto = min(ctx.as_of, last)  # the export ends here: days after it are not gaps
        out = {}
        for rep in ctx.dataset.reps.values():
            if rep.active:
                days = ctx.working_days(rep.id)
                out[rep.id] = [d for d, v in zip(days, ctx.daily(rep.id)[:, 0].tolist())
                               if v != v and d <= upto]  # NaN: no row that day
        return out

    def _finding(self, rep, missing: list, rows: list) -> Finding:
        said, actions = [], []
        if rows:
            shown = "; ".join(f"{r.where or r.day.isoformat()} ({r.lower} {r.lower_value:,.0f} > "
                              f"{r.upper} {r.upper_value:,.0f})" for r in rows[:5])
            more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
            said.append(f"{len(rows)} activity row(s) that contradict themselves: "
                        f"{shown}{more}; they are left out of every rate estimate")
            actions.append("Correct those rows in the CRM export")
        if missing:
            shown = ", ".join(d.isoformat() for d in missing[:5]) + (
                f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            said.append(f"no activity rows on {len(missing)} working day(s) this period: "
                        f"{shown}")
            actions.append("check the CRM export or the rep's logging for the missing days; "
                           "record leave in the leave file")
        evidence: dict = {"missing_days": [d.isoformat() for d in missing]}
        if rows:
            evidence["contradicting_rows"] = [
                {"rep_id": r.rep_id, "date": r.day.isoformat(), "where": r.where,
                 r.upper: r.upper_value, r.lower: r.lower_value} for r in rows]
        stage = f"{rows[0].upper}→{rows[0].lower}" if rows else ""
        return Finding(
            rep.id, "rep", self.name, "warn",
            f"{rep.name} ({rep.team}) has " + "; and ".join(said) + ".", evidence,
            "; ".join(actions) + ".", "data", stage)


@hookimpl(trylast=True)
def register_checks(register):
    register(TeamExecution)
    register(DataGaps)
