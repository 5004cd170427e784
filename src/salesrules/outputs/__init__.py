"""Outputs: the run's CSVs and manifest, written to a staging folder and moved into place only when complete."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..model import SEVERITIES
from .files import (
    day_target_window,
    write_assignments,
    write_findings,
    write_progress,
    write_targets,
)

if TYPE_CHECKING:
    from ..run import RunResult

__all__ = ["BUILTIN_FILES", "Staged", "Staging", "day_target_window", "digest", "manifest"]

BUILTIN_FILES = ("assignments.csv", "unassigned.csv", "targets.csv", "progress.csv",
                 "findings.csv", "run.json")


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

    Nothing in ``out_dir`` changes until :meth:`Staged.commit`. On any failure
    call :meth:`discard`: it removes the folder, leaving ``out_dir`` exactly
    as it was.
    """

    def __init__(self, out_dir: Path) -> None:
        self._made = not out_dir.exists()  # a failed first run leaves no empty folder behind
        out_dir.mkdir(parents=True, exist_ok=True)
        self.out_dir = out_dir
        self.folder = Path(tempfile.mkdtemp(prefix=".salesrules-staging-", dir=out_dir))

    def write(self, result: RunResult,
              plugin_writers: Callable[[Path], object] | None = None) -> Staged:
        """Write the kernel's files, then the plugins' (``write_outputs``), then ``run.json``."""
        folder = self.folder
        window = day_target_window(result.goals.period, result.config.output.day_targets,
                                   result.as_of)
        funnel = result.dataset.funnel
        counts: dict[str, int | None] = {
            "targets.csv": write_targets(result.goals, funnel, window, folder / "targets.csv"),
            "progress.csv": write_progress([*result.progress, *result.team_progress], funnel,
                                           folder / "progress.csv"),
            "findings.csv": write_findings(result.findings, folder / "findings.csv"),
            **write_assignments(result.allocation, folder),
        }
        if plugin_writers is not None:
            plugin_writers(folder)
        for p in sorted(folder.iterdir()):
            if p.is_file() and p.name not in counts and p.name != "run.json":
                counts[p.name] = None
        data = manifest(result, counts)
        for entry in data["outputs"]:
            entry["digest"] = digest(folder / entry["file"])
        (folder / "run.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        names = sorted(n for n in counts if n != "run.json") + ["run.json"]
        return Staged(self.out_dir, folder, names, data)

    def discard(self) -> None:
        """Remove the staging folder (and ``out_dir`` itself if this run made it and it is empty)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        if self._made:
            try:
                self.out_dir.rmdir()  # only if nothing was committed into it
            except OSError:
                pass
