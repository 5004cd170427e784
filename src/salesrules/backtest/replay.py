"""Replay a rule set on past days: the kernel's own stages, on the export as it stood each day."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterator

import attrs

from ..allocation import AllocationContext, AllocationResult, allocate
from ..checks import CheckContext, run_checks
from ..errors import UserError
from ..estimate import estimate_of
from ..goals import GoalPlan, set_goals
from ..goals.asof import expected_through
from ..goals.calendar import period_of
from ..load import Dataset
from ..model import Finding, ProgressRow
from ..progress import team_totals, track
from ..run import Plan
from .cut import cut_dataset

EVERY = ("day", "week", "month")
#: Time splits and funnel models whose targets, within one period, depend on the as-of
#: date only through the leave known by then (and the history before the period):
#: a replay reuses their goals for every date of a period.
STEADY_SPLITS = frozenset({"even"})
STEADY_FUNNELS = frozenset({"personal", "team-rates"})


def as_of_dates(start: dt.date, end: dt.date, every: str) -> list[dt.date]:
    """The as-of dates from ``start`` to ``end`` (both included when they fall on a step)."""
    if every not in EVERY:
        raise UserError(f"--every must be one of {', '.join(EVERY)}, got {every!r}")
    if end < start:
        raise UserError(f"--to {end} is before --from {start}")
    out: list[dt.date] = []
    k = 0
    while True:
        if every == "day":
            day = start + dt.timedelta(days=k)
        elif every == "week":
            day = start + dt.timedelta(days=7 * k)
        else:
            month = start.month - 1 + k
            y, m = start.year + month // 12, month % 12 + 1
            day = dt.date(y, m, min(start.day, calendar.monthrange(y, m)[1]))
        if day > end:
            return out
        out.append(day)
        k += 1


@attrs.frozen
class Day:
    """What the rules decided on one past day, from what was known then."""

    as_of: dt.date
    goals: GoalPlan
    progress: tuple[ProgressRow, ...]
    teams: tuple[ProgressRow, ...]
    findings: tuple[Finding, ...]
    allocation: AllocationResult | None
    #: The export as it stood that day.
    known: Dataset


@attrs.frozen
class _PeriodGoals:
    """A period's goals as set on its first replayed day, and the warnings that belong to the
    period rather than to that day."""

    plan: GoalPlan
    period_warnings: list[str]

    def on(self, known: Dataset, as_of: dt.date) -> GoalPlan:
        """The period's targets with what depends on the day made anew for ``as_of``: the
        estimate of rates (the checks read the period so far from it), the day work is
        expected up to, and that day's warnings."""
        plan = self.plan
        warnings = list(self.period_warnings)
        through = expected_through(as_of, known.activity, plan.calendar, plan.period, warnings)
        return attrs.evolve(plan, estimate=estimate_of(known, plan.period, as_of),
                            expected_through=through, warnings=warnings)


class Replayer:
    """Replays one plan on one loaded export, date after date; goals are computed once per
    period where the split and funnel model allow it (:data:`STEADY_SPLITS`)."""

    def __init__(self, plan: Plan, dataset: Dataset, seed: int, allocation: bool = True,
                 checks: bool = True) -> None:
        self.plan = plan
        self.checks = checks
        self.dataset = dataset
        self.seed = seed
        self.allocation = allocation
        self._goals: dict[tuple, _PeriodGoals] = {}
        self.steady = (plan.split.name in STEADY_SPLITS and plan.funnel.name in STEADY_FUNNELS)

    def goals(self, known: Dataset, as_of: dt.date) -> GoalPlan:
        """The day's goals: the period's, reused while nothing they depend on changed."""
        cfg = self.plan.config
        if not self.steady:
            return set_goals(cfg, known, self.plan.split, self.plan.funnel, as_of)
        period = period_of(as_of, cfg.goals.period, cfg.goals.fiscal_year_start)
        first = known.activity.first_day()
        if first is None or first >= period.start:  # rates from the period so far: no reuse
            return set_goals(cfg, known, self.plan.split, self.plan.funnel, as_of)
        leave = tuple(sorted((r, tuple(s)) for r, s in known.leave.items()))
        key = (period.start, period.end, leave)
        got = self._goals.get(key)
        if got is None:
            plan = set_goals(cfg, known, self.plan.split, self.plan.funnel, as_of)
            day_warnings: list[str] = []
            expected_through(as_of, known.activity, plan.calendar, period, day_warnings)
            assert plan.warnings[len(plan.warnings) - len(day_warnings):] == day_warnings
            self._goals[key] = _PeriodGoals(
                plan, plan.warnings[:len(plan.warnings) - len(day_warnings)])
            return plan  # set on this very day: its estimate and warnings are the day's
        return got.on(known, as_of)

    def day(self, as_of: dt.date) -> Day:
        """The rules' goals, progress, findings and allocation on ``as_of``."""
        known = cut_dataset(self.dataset, as_of)
        goals = self.goals(known, as_of)
        progress = track(goals, known, as_of)
        teams = team_totals(progress)
        ctx = CheckContext(known, goals, tuple(progress), as_of, tuple(teams))
        findings = run_checks(self.plan.checks, ctx) if self.checks else []
        result = None
        if self.allocation:
            result = allocate(self.plan.config, self.plan.routes, known, as_of, self.seed, None,
                              AllocationContext(known, goals, tuple(progress), as_of, self.seed))
        return Day(as_of, goals, tuple(progress), tuple(teams), tuple(findings), result, known)

    def days(self, dates: list[dt.date],
             on_day: Callable[[dt.date], None] | None = None) -> Iterator[Day]:
        for day in dates:
            if on_day is not None:
                on_day(day)
            yield self.day(day)
