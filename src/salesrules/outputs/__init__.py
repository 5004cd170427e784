"""Outputs: the run's CSVs and manifest, written to a staging folder and moved into place only when complete."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..model import SEVERITIES
from ..parallel import Job, settle
from .csvfile import neutralise, number, write_csv, write_text_columns

if TYPE_CHECKING:
    from ..run import RunResult

BUILTIN_FILES = ("assignments.csv", "unassigned.csv", "targets.csv", "progress.csv",
                 "findings.csv", "run.json")


def start_targets(result: RunResult, folder: Path) -> Job[int]:
    """Start writing ``targets.csv``, the biggest file: in a second process on a big run."""
    rows = sum(len(p.grains.get("day", ())) for p in result.goals.plans.values())  # at most
    return Job(lambda: write_targets(result, folder / "targets.csv"), rows,
               enabled=result.config.output.parallel)


def write_others(result: RunResult, folder: Path) -> dict[str, int]:
    """``assignments.csv``, ``unassigned.csv``, ``progress.csv`` and ``findings.csv``."""
    units = {s.name: s.unit for s in result.dataset.funnel.stages}
    a = result.allocation
    counts = {"assignments.csv": len(a.assignments), "unassigned.csv": len(a.unassigned),
              "progress.csv": len(result.progress) + len(result.team_progress),
              "findings.csv": len(result.findings)}
    fields = ["lead_id", "rep_id", "team", "policy", "rule", "reason"]
    write_text_columns(folder / "assignments.csv", fields,
                       [[getattr(x, f) for x in a.assignments] for f in fields])
    write_text_columns(folder / "unassigned.csv", ["lead_id", "reason"],
                       [[u.lead_id for u in a.unassigned], [u.reason for u in a.unassigned]])

    def ratio(x):
        return "" if x is None else f"{x:.4f}"

    write_csv(
        folder / "progress.csv",
        ["rep_id", "team", "stage", "actual", "expected_to_date", "target", "attainment",
         "pace", "projected", "required_per_day", "remaining_days", "subject_kind"],
        ((p.rep_id, p.team, p.stage, number(p.actual, units[p.stage]),
          number(p.expected_to_date, units[p.stage]), number(p.target, units[p.stage]),
          ratio(p.attainment), ratio(p.pace), f"{p.projected:.2f}",
          f"{p.required_per_day:.2f}", p.remaining_days, p.subject_kind)
         for p in [*result.progress, *result.team_progress]))
    write_csv(
        folder / "findings.csv",
        ["subject", "subject_kind", "check", "severity", "message", "action", "evidence"],
        ((f.subject, f.subject_kind, f.check, f.severity, f.message, f.action,
          json.dumps(f.evidence, ensure_ascii=False, sort_keys=True, default=str))
         for f in result.findings))
    return counts


def write_targets(result: RunResult, path: Path) -> int:
    """``targets.csv``: every plan's period row and its month, week and day rows; returns the row count."""
    units = {s.name: s.unit for s in result.dataset.funnel.stages}
    scale = {s.name: s.scale for s in result.dataset.funnel.stages}
    day_window = day_target_window(result)
    iso: dict = {}
    count = 0

    def d(x):  # dates repeat across reps: format each once
        s = iso.get(x)
        if s is None:
            s = iso[x] = x.isoformat()
        return s

    shown: dict = {}

    def num(value, s, unit):  # target values repeat across reps: format each once
        key = (value, s, unit)
        text = shown.get(key)
        if text is None:
            text = shown[key] = number(value / s, unit)
        return text

    def target_rows():
        nonlocal count
        for plan in result.goals.plans.values():
            unit, s = units[plan.stage], scale[plan.stage]
            rep, team, stage = neutralise(plan.rep_id), neutralise(plan.team), plan.stage
            period = plan.period
            count += 1
            yield (rep, team, stage, period.grain, d(period.start), d(period.end),
                   number(plan.total / s, unit), neutralise(plan.trace))
            for grain in ("month", "week", "day"):
                if grain == period.grain:
                    continue
                entries = plan.grains.get(grain, ())
                if grain == "day":
                    lo, hi = day_window
                    entries = [e for e in entries if lo <= e[0] <= hi]
                count += len(entries)
                for start, end, value in entries:
                    yield (rep, team, stage, grain, d(start), d(end), num(value, s, unit), "")

    write_csv(
        path,
        ["rep_id", "team", "stage", "grain", "period_start", "period_end", "target", "trace"],
        target_rows(), text_columns=())
    return count


def day_target_window(result: RunResult) -> tuple:
    """Which days get a day-grain row in targets.csv (``output.day_targets``)."""
    from ..goals.calendar import month_of

    period = result.goals.period
    scope = result.config.output.day_targets
    if scope == "period":
        return period.start, period.end
    if scope == "week":
        start = result.as_of - dt.timedelta(days=result.as_of.weekday())
        return start, start + dt.timedelta(days=6)
    m = month_of(result.as_of)
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

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def stage_outputs(result: RunResult, out_dir: Path,
                  extra_writers: Callable[[Path], list[Callable[[], object]]] | None = None,
                  meanwhile: Callable[[], None] | None = None) -> Staged:
    """Write every output into a staging folder inside ``out_dir``.

    Nothing in ``out_dir`` changes until :meth:`Staged.commit`; on any failure
    the staging folder is removed and ``out_dir`` is exactly as it was.
    ``extra_writers`` (the plugins' ``write_outputs``) run first, so that a
    slow file they hand back as a job is written while the kernel writes its
    own; it returns a waiter per such job. ``meanwhile`` runs once this
    process has written its files, while the jobs may still be writing.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".salesrules-staging-", dir=out_dir))
    pending: list[Callable[[], object]] = []
    try:
        pending.append(start_targets(result, staging).wait)
        if extra_writers is not None:
            pending.extend(extra_writers(staging) or ())
        counts: dict[str, int | None] = dict(write_others(result, staging))
        if meanwhile is not None:
            meanwhile()
        counts["targets.csv"] = pending.pop(0)()  # type: ignore[assignment]
        while pending:  # the plugins' jobs in turn; the first failure stops the run
            pending.pop(0)()
        for p in sorted(staging.iterdir()):
            if p.is_file() and p.name not in counts and p.name != "run.json":
                counts[p.name] = None
        data = manifest(result, counts)
        for entry in data["outputs"]:
            entry["digest"] = digest(staging / entry["file"])
        (staging / "run.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        names = sorted(n for n in counts if n != "run.json") + ["run.json"]
        return Staged(out_dir, staging, names, data)
    except BaseException:
        settle(pending)
        shutil.rmtree(staging, ignore_errors=True)
        raise
