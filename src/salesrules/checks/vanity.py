"""The built-in ``vanity-activity`` check (虚假繁荣指标): volume that is not real work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import attrs

from salesrules.api import Check, CheckContext, Finding, Funnel, hookimpl


@attrs.define
class VanityParams:
    #: Flag a rep whose robust z-score against the team is at least this.
    z: float = attrs.field(default=3.5, validator=attrs.validators.gt(0))
    #: ... and whose share of short connected calls is at least this (call logs only).
    min_short_share: float = attrs.field(default=0.2, validator=attrs.validators.ge(0))
    #: Stage pair whose rate is compared with the team's: connects per dial by default.
    rate: list[str] = attrs.Factory(lambda: ["dials", "connects"])
    #: A high rate counts only when the next step converts this far below the team
    #: (robust z at most minus this): "connects" that never become conversations.
    follow_z: float = attrs.field(default=2.0, validator=attrs.validators.ge(0))
    #: Days of the rep's own history before the period to compare with.
    own_days: int = attrs.field(default=90, validator=attrs.validators.ge(1))


class VanityActivity(Check):
    """Short "connected" calls, or a connect rate far above the team whose connects do not become
    conversations (robust z, median and MAD), judged against the team and the rep's own history."""

    name = "vanity-activity"
    Params = VanityParams
    words = {
        "name": {"en": "vanity-activity", "zh": "虚假繁荣指标"},
        "message": {"en": "{name} ({team}): {signals}.{own}",
                    "zh": "{name}（{team}）：{signals}。{own}"},
        "sep": {"en": "; ", "zh": "；"},
        "rate": {"en": "{low} per {up} is {rate:.0%} against a {team} median of {median:.0%} "
                       "(robust z {z:.1f})",
                 "zh": "{low:stage}/{up:stage}为 {rate:.0%}，{team}中位数 {median:.0%}"
                       "（稳健 z 值 {z:.1f}）"},
        "follow": {"en": ", yet only {follow:.0%} of {low} become {next} (team median "
                         "{median:.0%})",
                   "zh": "，但{low:stage}只有 {follow:.0%} 成为{next:stage}"
                         "（团队中位数 {median:.0%}）"},
        "short": {"en": "{share:.0%} of connected calls are shorter than {seconds}s against a "
                        "{team} median of {median:.0%} (robust z {z:.1f})",
                  "zh": "{share:.0%} 的接通通话短于 {seconds} 秒，{team}中位数 {median:.0%}"
                        "（稳健 z 值 {z:.1f}）"},
        "own": {"en": " Their own rate before this period was {own:.0%}.",
                "zh": "其本周期之前的比率为 {own:.0%}。"},
        "no-own": {"en": " There is no earlier history of theirs to compare with.",
                   "zh": "没有其更早的历史可供比较。"},
        "action": {"en": "Listen to a sample of {name}'s connected calls; count only calls "
                         "that reach a real conversation.",
                   "zh": "抽听{name}的接通通话；只把真正进入沟通的通话计入。"},
    }

    def validate(self, funnel: Funnel) -> list[tuple[str, str]]:
        if self.params.rate == ["dials", "connects"]:
            return []  # the default: on a funnel without those stages the check has nothing to do
        if len(self.params.rate) != 2 or any(s not in funnel.names for s in self.params.rate):
            return [("rate", f"expected two funnel stages, got {self.params.rate!r}")]
        return []

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        p = self.params
        if any(s not in ctx.funnel.names for s in p.rate):
            return
        start, end = ctx.goals.period.start, ctx.as_of
        own_end = start - dt.timedelta(days=1)
        own_start = own_end - dt.timedelta(days=p.own_days - 1)
        act = ctx.dataset.activity
        # every rep's sums over both windows in one pass each: totals() then recalls them
        act.window_totals(start, end)
        act.window_totals(own_start, own_end)
        for team, reps in ctx.dataset.teams().items():
            active = [r for r in reps if r.active]
            if len(active) >= 3:
                scores = self._scores(ctx, active, start, end)
                for i, rep in enumerate(active):
                    before = act.totals(rep.id, own_start, own_end)
                    finding = self._finding(ctx, scores, i, rep, team, before)
                    if finding is not None:
                        yield finding

    def _scores(self, ctx: CheckContext, active: list, start: dt.date, end: dt.date) -> _Scores:
        """The team's rates and their robust z-scores:
        the watched rate, the one after, short calls."""
        up, low = self.params.rate
        idx, names = ctx.funnel.index, ctx.funnel.names
        now = [ctx.dataset.activity.totals(r.id, start, end) for r in active]
        rate = [t[idx(low)] / t[idx(up)] if t[idx(up)] else 0.0 for t in now]
        nxt = idx(low) + 1
        follow = ([t[nxt] / t[idx(low)] if t[idx(low)] else 0.0 for t in now]
                  if nxt < len(names) else [0.0] * len(now))
        short = None
        calls = ctx.dataset.calls
        if calls is not None:
            c = [calls.totals(r.id, start, end) for r in active]
            short = [x[2] / x[1] if x[1] else 0.0 for x in c]
        return _Scores(rate, robust_z(rate), follow, robust_z(follow),
                       names[nxt] if nxt < len(names) else "", short,
                       robust_z(short) if short is not None else None)

    def _finding(self, ctx: CheckContext, sc: _Scores, i: int, rep, team: str,
                 before: list[float]) -> Finding | None:
        p = self.params
        up, low = p.rate
        idx = ctx.funnel.index
        own = before[idx(low)] / before[idx(up)] if before[idx(up)] else None
        signals = []
        if sc.rate_z[i] >= p.z and (not sc.follow_name or sc.follow_z[i] <= -p.follow_z):
            text = self.say("rate", low=low, up=up, rate=sc.rate[i], team=team,
                            median=_median(sc.rate), z=sc.rate_z[i])
            if sc.follow_name:
                text += self.say("follow", follow=sc.follow[i], low=low, next=sc.follow_name,
                                 median=_median(sc.follow))
            signals.append(text)
        short, short_z, calls = sc.short, sc.short_z, ctx.dataset.calls
        if calls is not None and short is not None and short_z is not None \
                and short_z[i] >= p.z and short[i] >= p.min_short_share:
            signals.append(self.say("short", share=short[i], seconds=calls.short_seconds,
                                    team=team, median=_median(short), z=short_z[i]))
        if not signals:
            return None
        own_text = self.say("own", own=own) if own is not None else self.say("no-own")
        both = own is not None and sc.rate[i] > 1.5 * own
        return Finding(
            rep.id, "rep", self.name, "critical" if len(signals) > 1 or both else "warn",
            self.say("message", name=rep.name, team=team,
                     signals=self.say("sep").join(signals), own=own_text),
            {"rate": round(sc.rate[i], 4), "rate_z": round(sc.rate_z[i], 2),
             "follow_rate": round(sc.follow[i], 4), "follow_z": round(sc.follow_z[i], 2),
             "team_median_rate": round(_median(sc.rate), 4),
             "own_rate_before": None if own is None else round(own, 4),
             **({"short_share": round(short[i], 4), "short_z": round(short_z[i], 2),
                 "team_median_short_share": round(_median(short), 4)}
                if short is not None and short_z is not None else {})},
            self.say("action", name=rep.name), "activity", low)


@attrs.frozen
class _Scores:
    """One team's rates and robust z-scores, rep by rep (in the order of its active reps)."""

    rate: list[float]
    rate_z: list[float]
    follow: list[float]
    follow_z: list[float]
    #: The stage after the watched one ("" at the end of the funnel).
    follow_name: str
    #: Each rep's share of short connected calls, when there is a call log.
    short: list[float] | None
    short_z: list[float] | None


def _median(xs: list[float]) -> float:
    s = sorted(xs)
    n = len(s)
    return (s[(n - 1) // 2] + s[n // 2]) / 2 if s else 0.0


@hookimpl(trylast=True)
def register_checks(register):
    register(VanityActivity)


def robust_z(values: Sequence[float]) -> list[float]:
    """Modified z-scores (Iglewicz-Hoaglin): 0.6745·(x − median) / MAD.

    Far from the team means above about 3.5. When the MAD is 0, the mean
    absolute deviation stands in (scaled to match); with no spread at all
    every score is 0.
    """
    if not values:
        return []
    xs = sorted(values)
    n = len(xs)
    med = (xs[(n - 1) // 2] + xs[n // 2]) / 2
    devs = sorted(abs(x - med) for x in values)
    mad = (devs[(n - 1) // 2] + devs[n // 2]) / 2
    if mad > 0:
        return [0.6745 * (x - med) / mad for x in values]
    meanad = sum(devs) / n
    if meanad > 0:
        return [(x - med) / (1.2533 * meanad) for x in values]
    return [0.0] * n
