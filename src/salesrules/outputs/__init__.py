"""Outputs: the run's CSVs and manifest, in a run folder that becomes current in one step."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from ..errors import PluginError
from ..load.tables import file_digest
from ..model import SEVERITIES
from .crm import FILE as CRM_FILE
from .crm import write_crm_import
from .files import (
    day_target_window,
    write_assignments,
    write_findings,
    write_progress,
    write_targets,
)
from .folder import RESERVED, OutputFolder, crash_point

if TYPE_CHECKING:
    from ..run import RunResult

__all__ = ["BUILTIN_FILES", "OutputFolder", "day_target_window", "digest", "manifest",
           "write_set"]

BUILTIN_FILES = ("assignments.csv", "unassigned.csv", "targets.csv", "progress.csv",
                 "findings.csv", "run.json")


def manifest(result: RunResult, files: dict[str, int | None], run_id: str) -> dict:
    """``run.json``: what the run read, used and wrote; ``run_id`` is the history's name for it."""
    ds = result.dataset
    a = result.allocation
    by_sev = {s: 0 for s in SEVERITIES}
    for f in result.findings:
        by_sev[f.severity] += 1
    return {
        "salesrules": result.version,
        "run_id": run_id,
        "hook_contract": result.contract,
        "as_of": result.as_of.isoformat(),
        "expected_through": (result.goals.expected_through or result.as_of).isoformat(),
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
        "fairness": a.fairness(),
        "rates": result.goals.estimate.describe() if result.goals.estimate else {},
        "outputs": [{"file": name, "rows": rows} for name, rows in sorted(files.items())],
        "warnings": list(result.warnings),
        "timings_s": {k: round(v, 3) for k, v in result.timings.items()},
    }


@attrs.frozen
class WrittenSet:
    """The file names of an output set, ``run.json`` last, and the manifest written to it."""

    files: list[str]
    manifest: dict


def write_set(folder: Path, result: RunResult, run_id: str,
              plugin_writers: Callable[[Path], object] | None = None) -> WrittenSet:
    """Write the kernel's files, then the plugins' (``write_outputs``), then ``run.json``.

    Returns the file names, ``run.json`` last, and the manifest written to it.
    """
    window = day_target_window(result.goals.period, result.config.output.day_targets,
                               result.as_of)
    funnel = result.dataset.funnel
    counts: dict[str, int | None] = {
        "targets.csv": write_targets(result.goals, funnel, window, folder / "targets.csv")}
    crash_point("written:targets.csv")
    counts["progress.csv"] = write_progress([*result.progress, *result.team_progress], funnel,
                                            folder / "progress.csv")
    crash_point("written:progress.csv")
    counts["findings.csv"] = write_findings(result.findings, folder / "findings.csv")
    crash_point("written:findings.csv")
    counts.update(write_assignments(result.allocation, folder))
    crash_point("written:assignments.csv")
    crm = result.config.output.crm_import
    if crm is not None:
        written = write_crm_import(
            result.allocation.new_assignments, result.dataset.reps, crm.format,
            crm.user_field, folder, crm.hubspot_object)
        counts[CRM_FILE] = written.rows
        result.warnings.extend(written.warnings)
    if plugin_writers is not None:
        plugin_writers(folder)
        _check_names(folder)
        crash_point("written:plugins")
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.name not in counts and p.name != "run.json":
            counts[p.name] = None
    data = manifest(result, counts, run_id)
    for entry in data["outputs"]:
        entry["digest"] = file_digest(folder / entry["file"])
    (folder / "run.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    crash_point("written:run.json")
    return WrittenSet(sorted(n for n in counts if n != "run.json") + ["run.json"], data)


def _check_names(folder: Path) -> None:
    """Refuse what a plugin wrote that cannot become an output file, before anything is
    recorded: a folder, or a name the output folder uses itself."""
    for p in sorted(folder.iterdir()):
        why = ("is a folder: outputs are files" if p.is_dir() else
               "is a name the output folder uses itself" if p.name in RESERVED
               or p.name.startswith(".") else "")
        if why:
            raise PluginError("write_outputs", "hook write_outputs()",
                              ValueError(f"the output {p.name!r} {why}"))
