"""Outputs: the run's CSVs and manifest, written to a staging folder and moved into place only when complete."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from ..model import SEVERITIES, Finding, Funnel, Period, ProgressRow
from ..parallel import Job, settle
from .csvfile import csv_cell, neutralise, number, write_csv, write_lines, write_text_columns

if TYPE_CHECKING:
    from ..allocation import AllocationResult
    from ..config import RulesConfig
    from ..goals import GoalPlan
    from ..run import RunResult

BUILTIN_FILES = ("assignments.csv", "unassigned.csv", "targets.csv", "progress.csv",
                 "findings.csv", "run.json")


def write_plan_files(folder: Path, goals: GoalPlan, progress: Sequence[ProgressRow],
                     findings: Sequence[Finding], funnel: Funnel,
                     day_window: tuple[dt.date, dt.date]) -> dict[str, tuple[int, str]]:
    """``targets.csv``, ``progress.csv`` and ``findings.csv``: what is known before allocation.

    Returns each file's rows and digest (computed here, so that a second
    process writing them hashes them too).
    """
    written = {"targets.csv": write_targets(goals, funnel, day_window, folder / "targets.csv"),
               "progress.csv": write_progress(progress, funnel, folder / "progress.csv"),
               "findings.csv": write_findings(findings, folder / "findings.csv")}
    return {name: (rows, digest(folder / name)) for name, rows in written.items()}


def write_allocation(allocation: AllocationResult, folder: Path) -> dict[str, int]:
    """``assignments.csv`` and ``unassigned.csv`` (by polars: not in a forked process)."""
    a = allocation
    fields = ["lead_id", "rep_id", "team", "policy", "rule", "reason"]
    write_text_columns(folder / "assignments.csv", fields,
                       [[getattr(x, f) for x in a.assignments] for f in fields])
    write_text_columns(folder / "unassigned.csv", ["lead_id", "reason"],
                       [[u.lead_id for u in a.unassigned], [u.reason for u in a.unassigned]])
    return {"assignments.csv": len(a.assignments), "unassigned.csv": len(a.unassigned)}


def write_progress(rows: Sequence[ProgressRow], funnel: Funnel, path: Path) -> int:
    units = {s.name: s.unit for s in funnel.stages}

    def ratio(x):
        return "" if x is None else f"{x:.4f}"

    write_csv(
        path,
        ["rep_id", "team", "stage", "actual", "expected_to_date", "target", "attainment",
         "pace", "projected", "required_per_day", "remaining_days", "subject_kind"],
        ((p.rep_id, p.team, p.stage, number(p.actual, units[p.stage]),
          number(p.expected_to_date, units[p.stage]), number(p.target, units[p.stage]),
          ratio(p.attainment), ratio(p.pace), f"{p.projected:.2f}",
          f"{p.required_per_day:.2f}", p.remaining_days, p.subject_kind)
         for p in rows))
    return len(rows)


def write_findings(findings: Sequence[Finding], path: Path) -> int:
    write_csv(
        path,
        ["subject", "subject_kind", "check", "severity", "message", "action", "evidence"],
        ((f.subject, f.subject_kind, f.check, f.severity, f.message, f.action,
          json.dumps(f.evidence, ensure_ascii=False, sort_keys=True, default=str))
         for f in findings))
    return len(findings)


def write_targets(goals: GoalPlan, funnel: Funnel, day_window: tuple[dt.date, dt.date],
                  path: Path) -> int:
    """``targets.csv``: every plan's period row and its month, week and day rows; returns the row count."""
    units = {s.name: s.unit for s in funnel.stages}
    scale = {s.name: s.scale for s in funnel.stages}
    cells: dict[tuple[str, bool], str] = {}

    def cell(text: str, risky: bool = True) -> str:  # reps, teams and traces repeat: once each
        key = (text, risky)
        out = cells.get(key)
        if out is None:
            out = cells[key] = csv_cell(neutralise(text) if risky else text)
        return out

    spans: dict = {}

    def span(grain: str, start: dt.date, end: dt.date) -> str:  # "grain,start,end," once each
        key = (grain, start, end)
        out = spans.get(key)
        if out is None:
            out = spans[key] = f"{grain},{start.isoformat()},{end.isoformat()},"
        return out

    shown: dict = {}

    def num(value, s, unit):  # target values repeat across reps: format each once
        key = (value, s, unit)
        text = shown.get(key)
        if text is None:
            text = shown[key] = number(value / s, unit)
        return text

    lines: list[str] = []
    add = lines.append
    lo, hi = day_window
    for plan in goals.plans.values():
        unit, s = units[plan.stage], scale[plan.stage]
        head = f"{cell(plan.rep_id)},{cell(plan.team)},{cell(plan.stage, False)},"
        period = plan.period
        add(f"{head}{span(period.grain, period.start, period.end)}"
            f"{number(plan.total / s, unit)},{cell(plan.trace)}\r\n")
        for grain in ("month", "week", "day"):
            if grain == period.grain:
                continue
            entries = plan.grains.get(grain, ())
            if grain == "day":
                entries = [e for e in entries if lo <= e[0] <= hi]
            for start, end, value in entries:
                add(f"{head}{span(grain, start, end)}{num(value, s, unit)},\r\n")
    write_lines(path, ["rep_id", "team", "stage", "grain", "period_start", "period_end",
                       "target", "trace"], lines)
    return len(lines)


def day_target_window(period: Period, scope: str, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """Which days get a day-grain row in targets.csv (``output.day_targets``)."""
    from ..goals.calendar import month_of

    if scope == "period":
        return period.start, period.end
    if scope == "week":
        start = as_of - dt.timedelta(days=as_of.weekday())
        return start, start + dt.timedelta(days=6)
    m = month_of(as_of)
    return m.start, m.end


def digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(result: RunResult, files: dict[str, int | None]) -> dict:
    ds = result.dataset
    a = result.allocation
    by_sev = {s: 0 for s in SEVERITIES}
    for f in result.findings:
        by_sev[f.severity] += 1
    return {
        "salesrules": result.version,
        "hook_contract": result.contract,
        "as_of": result.as_of.isoformat(),
        "period": {"grain": result.goals.period.grain,
                   "start": result.goals.period.start.isoformat(),
                   "end": result.goals.period.end.isoformat()},
        "seed": result.seed,
        "dry_run": result.dry_run,
        "config": {"path": result.config_path, "digest": result.config.digest},
        "inputs": [{"name": i.name, "path": i.path, "source": i.source, "digest": i.digest,
                    "rows": i.rows, "encoding": i.encoding} for i in ds.inputs],
        "plugins": [{"name": p.name, "distribution": p.distribution, "version": p.version,
                     "builtin": p.builtin} for p in result.registry.plugins],
        "components": [b.describe() for b in result.components],
        "counts": {
            "reps": len(ds.reps),
            "active_reps": sum(1 for r in ds.reps.values() if r.active),
            "leads": len(ds.leads),
            "leads_kept_with_owner": len(a.kept),
            "leads_to_allocate": a.to_allocate,
            "assigned": len(a.assignments),
            "unassigned": len(a.unassigned),
            "activity_rep_days": len(ds.activity),
            "targets": files.get("targets.csv"),
            "progress_rows": len(result.progress),
            "findings": by_sev,
        },
        "outputs": [{"file": name, "rows": rows} for name, rows in sorted(files.items())],
        "warnings": list(result.warnings),
        "timings_s": {k: round(v, 3) for k, v in result.timings.items()},
    }


class Staged:
    """Outputs written in full to a staging folder, waiting to be moved into place."""

    def __init__(self, out_dir: Path, staging: Path, names: list[str], manifest: dict) -> None:
        self.out_dir = out_dir
        self.staging = staging
        self.names = names
        self.manifest = manifest

    def commit(self) -> list[str]:
        """Move every file into the output folder, ``run.json`` last."""
        for name in self.names:
            os.replace(self.staging / name, self.out_dir / name)
        return self.names


class Staging:
    """One run's outputs being written into a staging folder inside ``out_dir``.

    Nothing in ``out_dir`` changes until :meth:`Staged.commit`. Call
    :meth:`start_plan_files` as soon as targets, progress and findings are
    known (a second process writes them while allocation runs), then
    :meth:`finish` with the whole run. On any failure call :meth:`discard`:
    it waits for every job, then removes the folder, leaving ``out_dir``
    exactly as it was.
    """

    def __init__(self, out_dir: Path) -> None:
        self._made = not out_dir.exists()  # a failed first run leaves no empty folder behind
        out_dir.mkdir(parents=True, exist_ok=True)
        self.out_dir = out_dir
        self.folder = Path(tempfile.mkdtemp(prefix=".salesrules-staging-", dir=out_dir))
        self.pending: list[Callable[[], object]] = []
        self._plan_files: Job[dict[str, tuple[int, str]]] | None = None

    def start_plan_files(self, goals: GoalPlan, progress: Sequence[ProgressRow],
                         findings: Sequence[Finding], funnel: Funnel, config: RulesConfig,
                         as_of: dt.date) -> None:
        """Start writing ``targets.csv``, ``progress.csv`` and ``findings.csv``."""
        window = day_target_window(goals.period, config.output.day_targets, as_of)
        rows = sum(len(p.grains.get("day", ())) for p in goals.plans.values())  # at most
        job = Job(lambda: write_plan_files(self.folder, goals, progress, findings, funnel,
                                           window), rows, enabled=config.output.parallel)
        self._plan_files = job
        self.pending.append(job.wait)

    def finish(self, result: RunResult,
               extra_writers: Callable[[Path], list[Callable[[], object]]] | None = None,
               meanwhile: Callable[[], None] | None = None) -> Staged:
        """Write the rest, wait for every job, and write ``run.json``.

        ``extra_writers`` (the plugins' ``write_outputs``) run first, so that a
        slow file they hand back as a job is written while the kernel writes its
        own; it returns a waiter per such job. ``meanwhile`` runs while this
        process writes the allocation files, and the jobs may still be writing.
        """
        if self._plan_files is None:
            self.start_plan_files(result.goals, [*result.progress, *result.team_progress],
                                  result.findings, result.dataset.funnel, result.config,
                                  result.as_of)
        assert self._plan_files is not None
        staging = self.folder
        jobs = list(extra_writers(staging) or ()) if extra_writers is not None else []
        self.pending.extend(jobs)
        # polars writes the allocation files with the GIL released for most of it, and
        # sqlite releases it too: a thread overlaps the two (both only read the run)
        with ThreadPoolExecutor(1) as thread:
            writing = thread.submit(write_allocation, result.allocation, staging)
            if meanwhile is not None:
                meanwhile()
            counts: dict[str, int | None] = dict(writing.result())
        digests: dict[str, str] = {}
        for name, (rows, sha) in self._plan_files.wait().items():
            counts[name], digests[name] = rows, sha
        for wait in jobs:  # the plugins' jobs in turn; the first failure stops the run
            wait()
        self.pending = []
        for p in sorted(staging.iterdir()):
            if p.is_file() and p.name not in counts and p.name != "run.json":
                counts[p.name] = None
        data = manifest(result, counts)
        for entry in data["outputs"]:
            entry["digest"] = digests.get(entry["file"]) or digest(staging / entry["file"])
        (staging / "run.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        names = sorted(n for n in counts if n != "run.json") + ["run.json"]
        return Staged(self.out_dir, staging, names, data)

    def discard(self) -> None:
        """Wait for every job still writing, then remove the staging folder."""
        settle(self.pending)
        self.pending = []
        shutil.rmtree(self.folder, ignore_errors=True)
        if self._made:
            try:
                self.out_dir.rmdir()  # only if nothing was committed into it
            except OSError:
                pass
