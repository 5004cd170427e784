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
    words = {
        "name": {"en": "team-execution", "zh": "团队执行率"},
        "message": {"en": "{team}: {meeting} of {reps} reps ({share:.0%}) meet their feasible "
                          "{top} targets to date, under the {threshold:.0%} a frontline manager "
                          "must reach. The team's main cause is {main} ({main_share:.2f} of the "
                          "log gap against {other_share:.2f} for {other}).",
                    "zh": "{team}：{reps} 人中 {meeting} 人（{share:.0%}）达到可行的{top:stage}"
                          "目标，低于一线经理必须达到的 {threshold:.0%}。团队的主要原因是{main}"
                          "（对数差距 {main_share:.2f}；{other}：{other_share:.2f}）。"},
        "cause.activity": {"en": "activity", "zh": "过程没做够"},
        "cause.conversion": {"en": "conversion", "zh": "转化不足"},
        "list-sep": {"en": ", ", "zh": "、"},
        "plan": {"en": "The {team} manager agrees a daily activity plan with each of them this "
                       "week: {names}.",
                 "zh": "{team}经理本周与他们逐一约定每日活动计划：{names}。"},
        "coach": {"en": "The {team} manager coaches the team's weakest step with its best "
                        "performers; not more activity.",
                  "zh": "{team}经理带着团队最佳辅导团队最弱的环节；不是加活动量。"},
    }

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
            self.say("message", team=team, meeting=meeting, reps=len(reps), share=share,
                     top=top, threshold=p.threshold, main=self.say(f"cause.{main}"),
                     main_share=shares[main], other_share=shares[other],
                     other=self.say(f"cause.{other}")),
            {"meeting": meeting, "reps": len(reps), "share": round(share, 4),
             "threshold": p.threshold, "behind": missing,
             "cause_shares": {k: round(v, 3) for k, v in shares.items()}},
            self.say("plan", team=team, names=self.say("list-sep").join(sorted(missing)))
            if main == "activity" else self.say("coach", team=team),
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
    """Flags active reps with no activity rows on working days (leave excluded; not on a
    deals export without a daily log), and activity rows where a count stage exceeds the one
    above it: the export is wrong."""

    name = "data-gaps"
    Params = GapsParams
    words = {
        "name": {"en": "data-gaps", "zh": "数据缺失"},
        "message": {"en": "{name} ({team}) has {said}.", "zh": "{name}（{team}）：{said}。"},
        "and": {"en": "; and ", "zh": "；另外，"},
        "sep": {"en": "; ", "zh": "；"},
        "list-sep": {"en": ", ", "zh": "、"},
        "more": {"en": " and {n} more", "zh": " 等，另有 {n} 项"},
        "bad-row": {"en": "{day} ({lower} {lower_value:,.0f} > {upper} {upper_value:,.0f})",
                    "zh": "{day}（{lower:stage} {lower_value:,.0f} > {upper:stage} "
                          "{upper_value:,.0f}）"},
        "bad-rows": {"en": "{n} activity row(s) that contradict themselves: {shown}{more}; "
                           "they are left out of every rate estimate",
                     "zh": "{n} 行活动记录自相矛盾：{shown}{more}；这些行不计入任何转化率估计"},
        "missing": {"en": "no activity rows on {n} working day(s) this period: {shown}",
                    "zh": "本周期有 {n} 个工作日没有活动记录：{shown}"},
        "fix-rows": {"en": "Correct those rows in the CRM export", "zh": "在 CRM 导出中更正这些行"},
        "fix-missing": {"en": "check the CRM export or the rep's logging for the missing days; "
                              "record leave in the leave file",
                        "zh": "检查 CRM 导出或该销售缺失日期的记录；请假记入请假文件"},
        "actions": {"en": "{actions}.", "zh": "{actions}。"},
    }

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
        """Each active rep's working days without an activity row, up to the export's end.

        A deals export is a list of events, not a daily log: a working day on which a rep
        engaged no deal, or only closed one (won or lost), is normal. Without a daily log
        beside it (an ``activity`` or ``calls`` file), no day is missing."""
        last = ctx.dataset.activity.last_day()
        if last is None or not _has_daily_log(ctx):
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
            shown = self.say("sep").join(
                self.say("bad-row", day=r.where or r.day.isoformat(), lower=r.lower, upper=r.upper,
                         lower_value=r.lower_value, upper_value=r.upper_value)
                for r in rows[:5])
            more = self.say("more", n=len(rows) - 5) if len(rows) > 5 else ""
            said.append(self.say("bad-rows", n=len(rows), shown=shown, more=more))
            actions.append(self.say("fix-rows"))
        if missing:
            shown = self.say("list-sep").join(d.isoformat() for d in missing[:5]) + (
                self.say("more", n=len(missing) - 5) if len(missing) > 5 else "")
            said.append(self.say("missing", n=len(missing), shown=shown))
            actions.append(self.say("fix-missing"))
        evidence: dict = {"missing_days": [d.isoformat() for d in missing]}
        if rows:
            evidence["contradicting_rows"] = [
                {"rep_id": r.rep_id, "date": r.day.isoformat(), "where": r.where,
                 r.upper: r.upper_value, r.lower: r.lower_value} for r in rows]
        stage = f"{rows[0].upper}→{rows[0].lower}" if rows else ""
        return Finding(
            rep.id, "rep", self.name, "warn",
            self.say("message", name=rep.name, team=rep.team,
                     said=self.say("and").join(said)), evidence,
            self.say("actions", actions=self.say("sep").join(actions)), "data", stage)


#: The built-in sources that read a daily log: one row per rep and working day.
DAILY_LOGS = ("activity", "calls")


def _has_daily_log(ctx: CheckContext) -> bool:
    """Whether the export has a daily log: always without a deals export (the activity is
    then a log), and with one only when an activity or calls file is read beside it."""
    deals = ctx.closed_counts([], ctx.as_of, ctx.as_of) is not None
    return not deals or any(i.source in DAILY_LOGS for i in ctx.dataset.inputs)


@hookimpl(trylast=True)
def register_checks(register):
    register(TeamExecution)
    register(DataGaps)
