"""Early warnings: the reps (and teams) each check flagged on a date, against those who
missed their result target at the period's end.

A rep missed when their result stage (the last stage with a target) summed
over the whole period fell short of their target for it; a team, when its
reps' results together fell short of their targets together. Only periods the
export covers to the end are judged. Per check and date: precision (flagged
who missed / flagged) and recall (flagged who missed / missed); per check, the
median lead time: from the first date a rep who then missed was flagged to
the period's end, in days.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import attrs

from ..load import Dataset
from ..model import Period
from .replay import Day
from .rows import ALL, Row, median, period_seen

#: Checks that propose rather than warn (measured by :mod:`.raises`).
NOT_WARNINGS = frozenset({"goal-raise"})


@attrs.frozen
class Outcome:
    """Who missed a period's result target: reps and teams."""

    stage: str
    reps: frozenset[str]
    teams: frozenset[str]
    judged_reps: int
    judged_teams: int


@attrs.define
class Tally:
    flagged: int = 0
    hits: int = 0
    missed: int = 0
    leads: list[float] = attrs.Factory(list)

    @property
    def precision(self) -> float:
        return self.hits / self.flagged if self.flagged else math.nan

    @property
    def recall(self) -> float:
        return self.hits / self.missed if self.missed else math.nan


def result_stage(day: Day) -> str | None:
    names = {stage for _, stage in day.goals.plans}
    last = [s.name for s in day.known.funnel.stages if s.name in names]
    return last[-1] if last else None


def outcome(dataset: Dataset, day: Day, period: Period) -> Outcome | None:
    """Who missed the period's result target, judged on the whole export."""
    stage = result_stage(day)
    if stage is None or not period_seen(dataset, period):
        return None
    index = dataset.funnel.index(stage)
    final = dataset.activity.window_totals(period.start, period.end)
    reps: set[str] = set()
    team_target: dict[str, float] = {}
    team_actual: dict[str, float] = {}
    judged = 0
    for row in day.progress:
        if row.stage != stage:
            continue
        judged += 1
        actual = final.get(row.rep_id, [0.0] * len(dataset.funnel.stages))[index]
        if actual < row.target:
            reps.add(row.rep_id)
        team_target[row.team] = team_target.get(row.team, 0.0) + row.target
        team_actual[row.team] = team_actual.get(row.team, 0.0) + actual
    teams = {t for t in team_target if team_actual[t] < team_target[t]}
    return Outcome(stage, frozenset(reps), frozenset(teams), judged, len(team_target))


class Warnings:
    """Scores every check's findings, date by date."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.rows: list[Row] = []
        self.tally: dict[tuple[str, str], Tally] = {}
        #: The same, per week of the period the dates fall in (how early is it right?).
        self.by_week: dict[tuple[str, str, int], Tally] = {}
        #: (check, kind, period start, subject) -> the first date it was flagged.
        self.first: dict[tuple[str, str, str, str], tuple[Period, str]] = {}
        self.outcomes: dict[str, Outcome] = {}
        self.checks: list[str] = []

    def add(self, day: Day, checks: Iterable[str]) -> None:
        period = day.goals.period
        out = outcome(self.dataset, day, period)
        if out is None:
            return
        self.outcomes[period.start.isoformat()] = out
        for check in checks:
            if check in NOT_WARNINGS:
                continue
            if check not in self.checks:
                self.checks.append(check)
            for kind, missed in (("rep", out.reps), ("team", out.teams)):
                flagged = {f.subject for f in day.findings
                           if f.check == check and f.subject_kind == kind}
                self._score(day, check, kind, flagged, missed)

    def _score(self, day: Day, check: str, kind: str, flagged: set[str],
               missed: frozenset[str]) -> None:
        hits = flagged & missed
        date = day.as_of.isoformat()
        subject = check if kind == "rep" else f"{check} (teams)"
        if flagged:
            self.rows.append(Row(date, "warnings.precision", subject, len(hits) / len(flagged)))
        if missed:
            self.rows.append(Row(date, "warnings.recall", subject, len(hits) / len(missed)))
        period = day.goals.period
        week = (day.as_of - period.start).days // 7 + 1
        for t in (self.tally.setdefault((check, kind), Tally()),
                  self.by_week.setdefault((check, kind, week), Tally())):
            t.flagged += len(flagged)
            t.hits += len(hits)
            t.missed += len(missed)
        t = self.tally[check, kind]
        for s in sorted(hits):
            key = (check, kind, period.start.isoformat(), s)
            if key not in self.first:
                self.first[key] = (period, date)
                t.leads.append(float((period.end - day.as_of).days))

    def total_rows(self) -> list[Row]:
        out = []
        for (check, kind), t in self.tally.items():
            subject = check if kind == "rep" else f"{check} (teams)"
            for name, value in (("precision", t.precision), ("recall", t.recall),
                                ("lead_days", median(t.leads))):
                if not math.isnan(value):
                    out.append(Row(ALL, f"warnings.{name}", subject, value))
        for (check, kind, week), t in sorted(self.by_week.items()):
            subject = (check if kind == "rep" else f"{check} (teams)") + f", week {week}"
            for name, value in (("precision", t.precision), ("recall", t.recall)):
                if not math.isnan(value):
                    out.append(Row(ALL, f"warnings.{name}_by_week", subject, value))
        return out
