"""The kernel's CSV outputs: assignments, unassigned leads, targets, progress and findings."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from ..goals.calendar import month_of
from ..model import Finding, Funnel, Period, ProgressRow
from .csvfile import number, write_csv

if TYPE_CHECKING:
    from ..allocation import AllocationResult
    from ..goals import GoalPlan


def write_assignments(allocation: AllocationResult, folder: Path) -> dict[str, int]:
    """``assignments.csv`` and ``unassigned.csv``; returns each file's row count."""
    a = allocation
    fields = ["lead_id", "rep_id", "team", "policy", "rule", "reason"]
    write_csv(folder / "assignments.csv", fields,
              [[getattr(x, f) for x in a.assignments] for f in fields])
    write_csv(folder / "unassigned.csv", ["lead_id", "reason"],
              [[u.lead_id for u in a.unassigned], [u.reason for u in a.unassigned]])
    return {"assignments.csv": len(a.assignments), "unassigned.csv": len(a.unassigned)}


def _ratio(x: float | None) -> str:
    return "" if x is None else f"{x:.4f}"


def write_progress(rows: Sequence[ProgressRow], funnel: Funnel, path: Path) -> int:
    """``progress.csv``: each rep's and team's actual
    against target, to date; returns the row count."""
    units = [funnel.stage(p.stage).unit for p in rows]
    header = ["rep_id", "team", "stage", "actual", "expected_to_date", "target", "attainment",
              "pace", "projected", "required_per_day", "remaining_days", "subject_kind"]
    write_csv(path, header, [
        [p.rep_id for p in rows], [p.team for p in rows], [p.stage for p in rows],
        [number(p.actual, u) for p, u in zip(rows, units)],
        [number(p.expected_to_date, u) for p, u in zip(rows, units)],
        [number(p.target, u) for p, u in zip(rows, units)],
        [_ratio(p.attainment) for p in rows], [_ratio(p.pace) for p in rows],
        [f"{p.projected:.2f}" for p in rows], [f"{p.required_per_day:.2f}" for p in rows],
        [str(p.remaining_days) for p in rows], [p.subject_kind for p in rows],
    ], safe=[10])  # numbers are neutralised too: a negative one must not run as a formula
    return len(rows)


def write_findings(findings: Sequence[Finding], path: Path) -> int:
    """``findings.csv``: who needs attention and why; returns the row count."""
    write_csv(
        path, ["subject", "subject_kind", "check", "severity", "message", "action", "evidence",
               "cause", "stage"],
        [[f.subject for f in findings], [f.subject_kind for f in findings],
         [f.check for f in findings], [f.severity for f in findings],
         [f.message for f in findings], [f.action for f in findings],
         [json.dumps(f.evidence, ensure_ascii=False, sort_keys=True, default=str)
          for f in findings], [f.cause for f in findings], [f.stage for f in findings]])
    return len(findings)


def write_targets(goals: GoalPlan, funnel: Funnel, day_window: DayWindow,
                  path: Path) -> int:
    """``targets.csv``: every plan's period row and its
    month, week and day rows; returns the row count."""
    cols: list[list[str]] = [[] for _ in range(8)]
    rep, team, stage, grain_c, start_c, end_c, target, trace = cols
    iso: dict[dt.date, str] = {}  # dates and target values repeat across reps: format each once
    shown: dict = {}
    lo, hi = day_window.start, day_window.end
    for plan in goals.plans.values():
        st = funnel.stage(plan.stage)
        period = plan.period
        rows = [(period.grain, period.start, period.end, plan.total)]
        for grain in ("month", "week", "day"):
            if grain != period.grain:
                rows.extend((grain, s, e, v) for s, e, v in plan.grains.get(grain, ())
                            if grain != "day" or lo <= s <= hi)
        for grain, start, end, value in rows:
            key = (value, st.scale, st.unit)
            text = shown.get(key)
            if text is None:
                text = shown[key] = number(value / st.scale, st.unit)
            target.append(text)
            grain_c.append(grain)
            start_c.append(iso.get(start) or iso.setdefault(start, start.isoformat()))
            end_c.append(iso.get(end) or iso.setdefault(end, end.isoformat()))
        n = len(rows)
        rep.extend([plan.rep_id] * n)
        team.extend([plan.team] * n)
        stage.extend([plan.stage] * n)
        trace.append(plan.trace)
        trace.extend([""] * (n - 1))
    write_csv(path, ["rep_id", "team", "stage", "grain", "period_start", "period_end",
                     "target", "trace"], cols, safe=range(2, 7))
    return len(rep)


@attrs.frozen
class DayWindow:
    """The days that get a day-grain row in targets.csv, both ends inclusive."""

    start: dt.date
    end: dt.date


def day_target_window(period: Period, scope: str, as_of: dt.date) -> DayWindow:
    """Which days get a day-grain row in targets.csv (``output.day_targets``)."""
    if scope == "period":
        return DayWindow(period.start, period.end)
    if scope == "week":
        start = as_of - dt.timedelta(days=as_of.weekday())
        return DayWindow(start, start + dt.timedelta(days=6))
    m = month_of(as_of)
    return DayWindow(m.start, m.end)
