"""The output folder: one commit for the whole set, whatever moment a run is killed at.

Each run writes ``out/runs/<seq>-<run id>/`` and one rename of ``out/current``
makes it current; ``out/<file>`` links through ``current``. The kill tests use
the commit code's test hook: ``SALESRULES_CRASH_AT=<point>`` ends the process
at that point with status 137, as SIGKILL would.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import cli, edit_rules, invoke

AFTER_HISTORY_COMMIT = ("history-committed", "linked:", "switched", "unlinked:", "pruned:")


def run_ok(rules: Path, *extra: str):
    res = invoke("run", "-q", "--rules", str(rules), *extra)
    assert res.exit_code == 0, res.output
    return res


def history(folder: Path, sql: str) -> list:
    con = sqlite3.connect(folder / "salesrules-history.sqlite")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def complete_set(out: Path) -> dict:
    """Assert ``out`` shows one complete run (every file matching run.json's digest); return its
    run.json."""
    current = out / "current"
    assert current.is_symlink() and current.resolve().parent == (out / "runs").resolve()
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest == json.loads((current / "run.json").read_text(encoding="utf-8"))
    for entry in manifest["outputs"]:
        raw = (out / entry["file"]).read_bytes()  # what a reader of out/<file> gets
        assert entry["digest"] == "sha256:" + hashlib.sha256(raw).hexdigest(), entry["file"]
    listed = {e["file"] for e in manifest["outputs"]} | {"run.json"}
    for p in out.iterdir():  # every other name is salesrules' own, or a link to no file
        if p.name not in listed:
            assert p.name in ("current", "runs", ".salesrules.lock") or not p.exists(), p.name
    return manifest


def no_leftovers(out: Path, keep: int = 2) -> None:
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert not [n for n in runs if n.startswith(".")], runs
    assert len(runs) <= keep and os.readlink(out / "current") == f"runs/{runs[-1]}"
    assert not [p for p in out.iterdir() if p.is_symlink() and not p.exists()]


@pytest.fixture(scope="module")
def killable(export_template, tmp_path_factory) -> dict:
    """An export with two days run, a list of the commit's crash points, and the next day's run."""
    base = tmp_path_factory.mktemp("killable") / "export"
    shutil.copytree(export_template, base)
    edit_rules(base / "rules.toml", lambda d: d["output"].update(workbook=False))
    run_ok(base / "rules.toml", "--as-of", "2026-11-23")
    run_ok(base / "rules.toml", "--as-of", "2026-11-24")
    # the next run's set differs: a file appears (its link is made) and one goes (unlinked)
    edit_rules(base / "rules.toml", lambda d: d["output"].update(workbook=True, report=False))
    reference = base.parent / "reference"
    shutil.copytree(base, reference, symlinks=True)
    log = base.parent / "points.txt"
    res = cli("run", "-q", "--rules", str(reference / "rules.toml"), "--as-of", "2026-11-25",
              env={**os.environ, "SALESRULES_CRASH_AT": f"log:{log}"})
    assert res.returncode == 0, res.stderr
    return {"base": base, "points": log.read_text().split(),
            "next": complete_set(reference / "out"),
            "assignments": (reference / "out" / "assignments.csv").read_bytes()}


@pytest.mark.slow
def test_the_commit_passes_every_named_point(killable):
    points = killable["points"]
    assert points[:4] == ["written:targets.csv", "written:progress.csv", "written:findings.csv",
                          "written:assignments.csv"]
    for kind in ("written:plugins", "written:run.json", "staged", "recorded", "history-committed",
                 "linked:workbook.xlsx", "switched", "unlinked:report.html", "pruned:"):
        assert any(p.startswith(kind) for p in points), kind
    assert points.index("recorded") < points.index("history-committed") < points.index("switched")


@pytest.mark.slow
def test_a_kill_at_any_step_of_the_commit_leaves_one_complete_set(killable, tmp_path):
    """Killed at each point, a reader sees one whole run; the history agrees; the rerun succeeds."""
    base, new = killable["base"], killable["next"]
    old = complete_set(base / "out")
    before = history(base, "SELECT as_of, run_id FROM runs ORDER BY as_of")
    for point in killable["points"]:
        folder = tmp_path / point.replace(":", "_")
        shutil.copytree(base, folder, symlinks=True)
        res = cli("run", "-q", "--rules", str(folder / "rules.toml"), "--as-of", "2026-11-25",
                  env={**os.environ, "SALESRULES_CRASH_AT": point})
        assert res.returncode == 137, (point, res.stderr)
        out = folder / "out"
        shown = complete_set(out)["run_id"]
        committed = point.startswith(AFTER_HISTORY_COMMIT)
        recorded = history(folder, "SELECT run_id FROM runs WHERE as_of = '2026-11-25'")
        assert recorded == ([(new["run_id"],)] if committed else []), point
        if shown == old["run_id"]:  # killed before the switch: the previous set, whole
            assert not point.startswith(("switched", "unlinked:", "pruned:")), point
        else:
            assert shown == new["run_id"] and committed, point
        # the next run finishes the commit or undoes what was left, then runs
        run_ok(folder / "rules.toml", "--as-of", "2026-11-25")
        assert complete_set(out)["run_id"] == new["run_id"]
        assert (out / "assignments.csv").read_bytes() == killable["assignments"], point
        assert history(folder, "SELECT as_of, run_id FROM runs ORDER BY as_of") == before + [
            ("2026-11-25", new["run_id"])], point
        no_leftovers(out)


@pytest.mark.slow
def test_a_run_killed_after_its_history_commit_is_made_current_by_the_next_run(killable,
                                                                                tmp_path):
    folder = tmp_path / "export"
    shutil.copytree(killable["base"], folder, symlinks=True)
    res = cli("run", "-q", "--rules", str(folder / "rules.toml"), "--as-of", "2026-11-25",
              env={**os.environ, "SALESRULES_CRASH_AT": "history-committed"})
    assert res.returncode == 137
    assert complete_set(folder / "out")["as_of"] == "2026-11-24"
    # a dry run of another day reads the history: it first rolls the recorded run forward
    run_ok(folder / "rules.toml", "--as-of", "2026-11-26", "--dry-run")
    runs = sorted(p.name for p in (folder / "out" / "runs").iterdir())
    kept = json.loads((folder / "out" / "runs" / runs[0] / "run.json").read_text())
    assert kept["run_id"] == killable["next"]["run_id"]
    assert complete_set(folder / "out")["dry_run"] is True


@pytest.mark.slow
def test_two_runs_started_together_each_finish_with_a_complete_set(export):
    rules = export / "rules.toml"
    exe = Path(sys.executable).with_name("salesrules")
    procs = [subprocess.Popen([str(exe), "run", "-q", "--rules", str(rules), "--as-of", day],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for day in ("2026-11-24", "2026-11-25")]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert [code for code, _ in results] == [0, 0], results
    waited = [err for _, err in results if "waiting for it to finish" in err]
    assert all("another run is using" in err for err in waited)
    shown = complete_set(export / "out")
    stored = dict(history(export, "SELECT run_id, as_of FROM runs"))
    assert sorted(stored.values()) == ["2026-11-24", "2026-11-25"]
    assert shown["run_id"] in stored  # the current set is a recorded run
    no_leftovers(export / "out")


@pytest.mark.slow
def test_what_a_killed_run_left_is_removed_and_nothing_else_is_written(export):
    rules = export / "rules.toml"
    run_ok(rules)
    out = export / "out"
    (out / "runs" / ".partial-000005-0123456789abcdef").mkdir()
    (out / "runs" / ".partial-000005-0123456789abcdef" / "targets.csv").write_text("half")
    shutil.copytree(out / "current", out / "runs" / "000004-fedcba9876543210")  # never current
    (out / ".salesrules-staging-x1y2").mkdir()  # what versions before this layout left
    (out / "half.csv").symlink_to("current/half.csv")
    run_ok(rules)
    complete_set(out)
    no_leftovers(out)
    listed = {e["file"] for e in json.loads((out / "run.json").read_text())["outputs"]}
    assert {p.name for p in out.iterdir()} == listed | {"run.json", "current", "runs",
                                                         ".salesrules.lock"}


@pytest.mark.slow
@pytest.mark.parametrize("keep", [1, 3])
def test_old_run_folders_are_pruned_to_keep_runs(export, keep):
    rules = export / "rules.toml"
    edit_rules(rules, lambda d: d["output"].update(keep_runs=keep))
    for day in ("2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24"):
        run_ok(rules, "--as-of", day)
    runs = sorted(p.name for p in (export / "out" / "runs").iterdir())
    assert len(runs) == keep
    days = [json.loads((export / "out" / "runs" / n / "run.json").read_text())["as_of"]
            for n in runs]
    assert days == ["2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24"][-keep:]
    assert complete_set(export / "out")["as_of"] == "2026-11-24"


def test_keep_runs_below_one_is_a_config_error(export):
    edit_rules(export / "rules.toml", lambda d: d["output"].update(keep_runs=0))
    res = invoke("run", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 2 and "output.keep_runs" in res.output


@pytest.mark.slow
def test_a_flat_output_folder_from_an_older_salesrules_is_taken_over_unchanged(export, tmp_path):
    rules = export / "rules.toml"
    run_ok(rules, "--as-of", "2026-11-24")
    flat = tmp_path / "flat"
    shutil.copytree(export / "out" / "current", flat)  # the old layout: the files themselves
    before = {p.name: p.read_bytes() for p in flat.iterdir()}
    run_ok(rules, "--out", str(flat), "--as-of", "2026-11-25")
    assert complete_set(flat)["as_of"] == "2026-11-25"
    legacy = flat / "runs" / "000000-legacy"
    assert {p.name: p.read_bytes() for p in legacy.iterdir()} == before
    no_leftovers(flat)


@pytest.mark.slow
@pytest.mark.parametrize("name", [".notes", "current", "runs"])
def test_a_plugin_output_the_folder_cannot_take_fails_before_anything_is_recorded(export, name):
    """Found in review: such a name used to fail only after the history commit, for good."""
    (export / "extra.py").write_text(textwrap.dedent(f"""
        from salesrules.api import hookimpl

        @hookimpl
        def write_outputs(result, out_dir):
            (out_dir / {name!r}).write_text("hi")
    """))
    edit_rules(export / "rules.toml", lambda d: d.update(plugins={"modules": ["extra.py"]}))
    res = invoke("run", "--rules", str(export / "rules.toml"), "-q")
    assert res.exit_code == 1 and f"the output {name!r} is a name the output folder" in res.output
    history = export / "salesrules-history.sqlite"
    if history.exists():
        with sqlite3.connect(history) as db:
            assert db.execute("SELECT COUNT(*) FROM runs").fetchone() == (0,)
    edit_rules(export / "rules.toml", lambda d: d.update(plugins={"modules": []}))
    assert invoke("run", "--rules", str(export / "rules.toml"), "-q").exit_code == 0
