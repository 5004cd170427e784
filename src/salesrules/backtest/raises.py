"""Raises: each goal-raise proposal against the rep's result at the period's end.

A proposal is a ``goal-raise`` finding whose evidence names the proposed
target (``next_target``) on its stage. Each rep's first proposal of a period
counts once; it was reached when the rep's total on that stage over the whole
period came to the proposed target. Only periods the export covers to the end
are judged.
"""

from __future__ import annotations

from ..load import Dataset
from .replay import Day
from .rows import ALL, Row, period_seen

RAISE_CHECK = "goal-raise"


class Raises:
    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.seen: dict[tuple[str, str], bool] = {}
        self.rows: list[Row] = []

    def add(self, day: Day) -> None:
        period = day.goals.period
        if not period_seen(self.dataset, period):
            return
        final = None
        for f in day.findings:
            if f.check != RAISE_CHECK or f.subject_kind != "rep" or not f.stage:
                continue
            target = f.evidence.get("next_target")
            key = (period.start.isoformat(), f.subject)
            if not isinstance(target, (int, float)) or key in self.seen:
                continue
            if final is None:
                final = self.dataset.activity.window_totals(period.start, period.end)
            got = final.get(f.subject, [0.0] * len(self.dataset.funnel.stages))[
                self.dataset.funnel.index(f.stage)]
            self.seen[key] = got >= target
            self.rows.append(Row(day.as_of.isoformat(), "raises.reached", f.subject,
                                 1.0 if got >= target else 0.0))

    @property
    def proposals(self) -> int:
        return len(self.seen)

    @property
    def reached(self) -> int:
        return sum(self.seen.values())

    def total_rows(self) -> list[Row]:
        if not self.seen:
            return []
        return [Row(ALL, "raises.proposals", RAISE_CHECK, float(self.proposals)),
                Row(ALL, "raises.reached_share", RAISE_CHECK, self.reached / self.proposals)]
