"""Peak and off-season splits (旺季/淡季): months weighted by config, or estimated from history.

Each month's weight is its working days (as with ``even``) times a
multiplier. With ``months`` each named month gets its multiplier (others
1.0). With ``estimate = true`` the multiplier is the month's share of past
results: the team's result per rep-day in that calendar month (or, with
``by = "month-of-quarter"``, in that month of every quarter), shrunk toward
the overall rate when that month's history is thin. Only the history that
covers results counts: from the team's first result on. A month the history
does not cover weighs by its working days, and the run says so. The kernel
then splits the period total by these weights exactly, so the total is
always kept.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
from typing import Literal

import attrs

from salesrules.api import Funnel, SplitBatch, TimeSplit, hookimpl

__version__ = "0.1.0"
SALESRULES_CONTRACT = "2.0"

MONTH = "month"
MONTH_OF_QUARTER = "month-of-quarter"
POSITIONS = ("first", "second", "third")


@attrs.define
class SeasonalParams:
    """Params of ``seasonal``: either ``months`` multipliers or ``estimate = true``."""

    #: Month number -> multiplier, e.g. ``{ "11" = 1.3, "12" = 1.3, "2" = 0.7 }``.
    months: dict[str, float] = attrs.Factory(dict)
    #: Estimate the weights from the team's history instead of ``months``.
    estimate: bool = False
    #: Stage whose history is used; empty means the result stage.
    stage: str = ""
    #: How strongly a thin month is pulled toward the overall rate, in rep-days.
    prior_days: float = attrs.field(default=20.0, validator=attrs.validators.ge(0))
    #: What an estimate learns: ``month``, each calendar month's own rate (November
    #: from past Novembers); ``month-of-quarter``, the first, second and third month
    #: of a quarter, each learned across every quarter in the history (the quarter-end
    #: peak of B2B sales). Needs ``estimate = true``.
    by: Literal["month", "month-of-quarter"] = "month"

    def __attrs_post_init__(self) -> None:
        for key, mult in self.months.items():
            if not key.isdigit() or not 1 <= int(key) <= 12:
                raise ValueError(f"months: {key!r} is not a month number 1-12")
            if mult <= 0:
                raise ValueError(f"months: the multiplier of month {key} must be above 0")
        if self.months and self.estimate:
            raise ValueError("give either months or estimate = true, not both")
        if self.by != MONTH and not self.estimate:
            raise ValueError(f"by = {self.by!r} needs estimate = true")


@attrs.frozen
class Learned:
    """What the history gives per key (calendar month 1-12, or 0-2 within a quarter)."""

    #: The result summed per key, over the covered days.
    value: dict[int, float]
    #: Rep-days per key: each day the team was active, for each rep then on the team.
    rep_days: dict[int, int]
    #: The team's first day with a result (the start of coverage); ``None`` without one.
    first_result: dt.date | None
    #: The team's last day with a row before the period (the end of coverage).
    last_day: dt.date | None = None


def learn(batch: SplitBatch, idx: int, key_of) -> Learned:
    """Sum the result and count rep-days per key, over the days from the first result on.

    A rep-day is a day the team has any row, within the rep's own span of rows
    (first to last): a rep who had nothing to log that day still worked it, and
    a rep not yet hired (or gone) does not count. Days before the team's first
    result are left out: a history that starts with activity only (deals
    engaged, none closed yet) does not cover results.
    """
    cutoff = min(batch.as_of, batch.period.start - dt.timedelta(days=1))
    rows = {rep.id: [(d, r[idx]) for d, r in batch.history.days(rep.id).items() if d <= cutoff]
            for rep in batch.reps}
    results = [d for days in rows.values() for d, v in days if v]
    first = min(results) if results else None
    value: dict[int, float] = {}
    rep_days: dict[int, int] = {}
    if first is None:
        return Learned(value, rep_days, None)
    team_days = sorted({d for days in rows.values() for d, _ in days if d >= first})
    for days in rows.values():
        if not days:
            continue
        lo = bisect.bisect_left(team_days, days[0][0])
        hi = bisect.bisect_right(team_days, days[-1][0])
        for d in team_days[lo:hi]:
            rep_days[key_of(d)] = rep_days.get(key_of(d), 0) + 1
        for d, v in days:
            if d >= first:
                value[key_of(d)] = value.get(key_of(d), 0.0) + v
    return Learned(value, rep_days, first, team_days[-1] if team_days else None)


class Seasonal(TimeSplit):
    """Peak and off-season months (旺季 ×1.3, 淡季 ×0.7) times
    their working days, given or estimated from history."""

    name = "seasonal"
    Params = SeasonalParams
    words = {
        "no-history": {"en": "seasonal: team {team} has no {stage} in the history before the "
                             "period, so its months weigh by their working days",
                       "zh": "季节拆分：团队{team}在本期之前的历史中没有{stage:stage}，"
                             "所以各月按工作日加权"},
        "uncovered": {"en": "seasonal: team {team}'s history covers {stage} from {first} to "
                            "{last}, not {what}, so those months weigh by their working days",
                      "zh": "季节拆分：团队{team}的历史覆盖{stage:stage}从 {first} 到 {last}，"
                            "不含{what}，所以这些月份按工作日加权"},
        "position": {"en": "the {n} month of a quarter", "zh": "季度的第{n}个月"},
        "first": {"en": "first", "zh": "一"}, "second": {"en": "second", "zh": "二"},
        "third": {"en": "third", "zh": "三"},
        **{f"month.{k}": {"en": calendar.month_name[k], "zh": f"{k}月"} for k in range(1, 13)},
        "list-sep": {"en": ", ", "zh": "、"},
    }

    def validate(self, funnel: Funnel) -> list[tuple[str, str]]:
        s = self.params.stage
        return [("stage", f"unknown stage {s!r}")] if s and s not in funnel.names else []

    def month_weights(self, batch: SplitBatch) -> list[float]:
        if not self.params.estimate:
            days = batch.month_working_days or (1,) * len(batch.months)
            return [self.params.months.get(str(m.start.month), 1.0) * d
                    for m, d in zip(batch.months, days)]
        return self.estimate(batch)

    def estimate(self, batch: SplitBatch) -> list[float]:
        """Each month's weight: its shrunk result rate per rep-day times its working days.

        A month without a covered day in the history weighs its working days.
        """
        days = [float(d) for d in batch.month_working_days or (1,) * len(batch.months)]
        stage = self.params.stage or batch.funnel.result.name
        by_quarter = self.params.by == MONTH_OF_QUARTER
        if by_quarter and len(batch.months) != 3:
            return days  # a month's period: nothing to split
        start_month = batch.period.start.month
        keys = ([i for i in range(len(batch.months))] if by_quarter
                else [m.start.month for m in batch.months])

        def key_of(d: dt.date) -> int:
            return (d.month - start_month) % 3 if by_quarter else d.month

        seen = learn(batch, batch.funnel.index(stage), key_of)
        total_days = sum(seen.rep_days.values())
        if seen.first_result is None or not total_days or not sum(seen.value.values()):
            batch.notes.append(self.say("no-history", team=batch.team, stage=stage))
            return days
        overall = sum(seen.value.values()) / total_days
        k = self.params.prior_days
        weights, uncovered = [], []
        for key, month, d in zip(keys, batch.months, days):
            n = seen.rep_days.get(key, 0)
            if not n:
                uncovered.append(month)
                weights.append(d)
                continue
            rate = (seen.value.get(key, 0.0) + k * overall) / (n + k)
            weights.append(rate / overall * d)
        if uncovered:
            batch.notes.append(self._uncovered(batch, stage, seen, uncovered, by_quarter))
        return weights

    @classmethod
    def _uncovered(cls, batch: SplitBatch, stage: str, seen: Learned, months: list,
                   by_quarter: bool) -> str:
        if by_quarter:
            said = [cls.say("position", n=cls.say(POSITIONS[batch.months.index(m)]))
                    for m in months]
        else:
            said = [cls.say(f"month.{m.start.month}") for m in months]
        return cls.say("uncovered", team=batch.team, stage=stage, first=seen.first_result,
                       last=seen.last_day, what=cls.say("list-sep").join(said))


@hookimpl
def register_splits(register):
    register(Seasonal)
