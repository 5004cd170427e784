"""What a check receives: the whole run's progress, targets and data, in one batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import attrs
import numpy as np

from ..goals import GoalPlan
from ..load import Dataset
from ..model import ProgressRow, Rep


@attrs.frozen
class CheckContext:
    """The run so far, for a :class:`~salesrules.api.Check`."""

    dataset: Dataset
    goals: GoalPlan
    progress: tuple[ProgressRow, ...]
    as_of: dt.date
    #: Each team's sums per stage (``subject_kind == "team"``).
    teams: tuple[ProgressRow, ...] = ()
    #: Per-run results checks share (e.g. prior rates), by the computing helper's key.
    cache: dict = attrs.field(factory=dict, eq=False)

    def working_days(self, rep_id: str) -> list[dt.date]:
        """The rep's working days in the period up to the as-of date (leave excluded)."""
        known = self.cache.setdefault("working_days", {})
        days = known.get(rep_id)
        if days is None:
            days = known[rep_id] = self._working_days(rep_id)
        return days

    def daily(self, rep_id: str) -> np.ndarray:
        """The rep's activity on each of their :meth:`working_days`, one row per day.

        One value per funnel stage; NaN on a working day without an activity
        row. Measured for every rep at once, the first time a check asks.
        """
        grid = self.cache.get("daily")
        if grid is None:
            reps = list(self.dataset.reps)
            per_rep = {r: self.working_days(r) for r in reps}
            days = sorted(set().union(*per_rep.values()))
            values = self.dataset.activity.grid(reps, days)
            values.flags.writeable = False  # shared by every check
            grid = self.cache["daily"] = (
                {r: i for i, r in enumerate(reps)}, days, {d: i for i, d in enumerate(days)},
                values)
        row, days, column, values = grid
        i = row.get(rep_id)
        mine = self.working_days(rep_id)
        if i is None:
            return self.dataset.activity.values_on(rep_id, mine)
        if mine == days:
            return values[i]
        return values[i][[column[d] for d in mine]]

    def _working_days(self, rep_id: str) -> list[dt.date]:
        first = self.cache.get("first_plan")
        if first is None:
            first = self.cache["first_plan"] = {}
            for (r, _), p in self.goals.plans.items():
                first.setdefault(r, p)
        plan = first.get(rep_id)
        if plan is not None:
            return [d for d, _, _ in plan.grains["day"] if d <= self.as_of]
        days = self.goals.calendar.working_days(self.goals.period.start, self.as_of)
        return [d for d in days if not self.dataset.on_leave(rep_id, d)]

    @property
    def funnel(self):
        return self.dataset.funnel

    def rep(self, rep_id: str) -> Rep:
        return self.dataset.reps[rep_id]

    def by_rep(self) -> Iterator[tuple[Rep, list[ProgressRow]]]:
        """Progress rows grouped by rep, reps in input order."""
        groups: dict[str, list[ProgressRow]] = {}
        for row in self.progress:
            groups.setdefault(row.rep_id, []).append(row)
        for rep_id, rows in groups.items():
            yield self.dataset.reps[rep_id], rows
