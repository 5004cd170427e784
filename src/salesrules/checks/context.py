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

    def remaining_working_days(self) -> int:
        """Working days left in the period after the as-of date."""
        p = self.goals.period
        return len(self.goals.calendar.working_days(self.as_of + dt.timedelta(days=1), p.end))
