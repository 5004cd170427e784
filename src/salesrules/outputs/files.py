"""The kernel's CSV outputs: assignments, unassigned leads, targets, progress and findings."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import numpy as np
import polars as pl

from ..goals.calendar import month_of
from ..model import Finding, Funnel, Period, ProgressRow, Stage
from .csvfile import number, write_csv, write_csv_parts

if TYPE_CHECKING:
    from ..allocation import AllocationResult
    from ..goals import GoalPlan, Plan
    from ..goals.table import TargetGrid


#: Plans whose targets.csv rows are made and written at a time.
PLANS_AT_A_TIME = 2000


def write_assignments(allocation: AllocationResult, folder: Path) -> dict[str, int]:
    """``assignments.csv`` and ``unassigned.csv``; returns each file's row count."""
    a = allocation
    fields = ["lead_id", "rep_id", "team", "policy", "rule", "reason"]
    write_csv(folder / "assignments.csv", fields,
              [[getattr(x, f) for x in a.assignments] for f in fields])
    write_csv(folder / "unassigned.csv", ["lead_id", "reason"],
              [a.unassigned.lead_ids, a.unassigned.reasons])
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
    header = ["rep_id", "team", "stage", "grain", "period_start", "period_end", "target",
              "trace"]
    plans = list(goals.plans.values())
    chunks = [plans[at:at + PLANS_AT_A_TIME] for at in range(0, len(plans), PLANS_AT_A_TIME)]
    parts: Iterator[Sequence[Sequence[str] | pl.Series]]
    if plans and _as_split(goals, plans):
        assert goals.split is not None
        grid = goals.split.grid(day_window.start, day_window.end)
        parts = (_target_columns(chunk, funnel, grid) for chunk in chunks)
    else:  # a plugin changed or made plans: each written from its own rows
        parts = (_plan_columns(chunk, funnel, day_window) for chunk in chunks)
    # a part of the plans at a time: their columns are made, written and let go
    return write_csv_parts(path, header, parts, safe=range(2, 7))


def _as_split(goals: GoalPlan, plans: list[Plan]) -> bool:
    """Whether every plan is still its row of the run's split: made by set_goals, its total
    and grains as the split left them."""
    table = goals.split
    if table is None:
        return False
    totals = table.totals.tolist()
    return all(p.table is table and p.from_split and p.total == totals[p.split_row]
               for p in plans)


def _plan_columns(plans: list[Plan], funnel: Funnel, day_window: DayWindow) -> list[list[str]]:
    """targets.csv's columns plan by plan, from each plan's period total and grains."""
    cols: list[list[str]] = [[] for _ in range(8)]
    rep, team, stage, grain_c, start_c, end_c, target, trace = cols
    iso: dict[dt.date, str] = {}  # dates and values repeat across plans: each formatted once
    shown: dict[tuple[int, int, str], str] = {}
    lo, hi = day_window.start, day_window.end
    for plan in plans:
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
    return cols


def _target_columns(plans: list[Plan], funnel: Funnel, grid: TargetGrid) -> list[pl.Series]:
    """targets.csv's columns, gathered from the split's grid: a plan's rows are its split
    row's cells that are present, in the grid's column order (every plan still its split
    row: see :func:`_as_split`)."""
    rows = np.fromiter((p.split_row for p in plans), dtype=np.intp, count=len(plans))
    present = grid.present[rows]
    flat = np.flatnonzero(present)  # row-major: plan by plan, each plan's cells in order
    plan_at, col = np.divmod(flat, present.shape[1])
    values = grid.values[rows].ravel()[flat]

    def per_plan(texts: list[str]) -> pl.Series:
        return pl.Series(texts, dtype=pl.String).gather(plan_at)

    def per_col(texts: list[str]) -> pl.Series:
        return pl.Series(texts, dtype=pl.String).gather(col)

    # the trace only on a plan's first row: the others point past the plans, at ""
    trace = pl.Series([p.trace for p in plans] + [""], dtype=pl.String).gather(
        np.where(col == 0, plan_at, len(plans)))
    return [per_plan([p.rep_id for p in plans]), per_plan([p.team for p in plans]),
            per_plan([p.stage for p in plans]), per_col(grid.grains),
            per_col([d.isoformat() for d in grid.starts]),
            per_col([d.isoformat() for d in grid.ends]),
            _target_texts(values, plan_at, [funnel.stage(p.stage) for p in plans]), trace]


def _target_texts(values: np.ndarray, plan_at: np.ndarray, stages: list[Stage]) -> pl.Series:
    """Each value as :func:`number` shows it in its plan's stage: each distinct value of
    each kind of stage formatted once."""
    kinds: dict[tuple[int, str], int] = {}
    kind_of = np.fromiter((kinds.setdefault((s.scale, s.unit), len(kinds)) for s in stages),
                          dtype=np.intp, count=len(stages))[plan_at]
    texts: list[str] = []
    index = np.empty(len(values), dtype=np.intp)
    for (scale, unit), k in kinds.items():
        mine = np.flatnonzero(kind_of == k)
        distinct, where = np.unique(values[mine], return_inverse=True)
        index[mine] = where.ravel() + len(texts)
        texts.extend(number(v / scale, unit) for v in distinct.tolist())
    return pl.Series(texts, dtype=pl.String).gather(index)


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
