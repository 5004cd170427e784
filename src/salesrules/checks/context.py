"""What a check receives: the whole run's progress, targets and data, in one batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import attrs

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
