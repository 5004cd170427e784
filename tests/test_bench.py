"""The run benchmark (bench/bench_run.py) runs end to end and prints every figure and goal."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.slow
def test_bench_run_prints_every_figure_and_goal(tmp_path):
    pytest.importorskip("pandas", reason="the pandas peer needs the bench extra")
    done = subprocess.run([sys.executable, str(BENCH / "bench_run.py"), "--quick",
                           "--reps", "20", "--days", "20", "--leads", "500", "--repeat", "1",
                           "--work", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "scale: 20 reps, 20 days of activity, 500 leads (and 1000 for the scaling line)" in out
    assert "output.report = false, output.workbook = false" in out
    for name in ("reps.csv", "leads.csv", "activity.csv", "leave.csv", "calls.csv"):
        assert f"{name} (" in out.split("floor reads:")[1].splitlines()[0]
    figure = r"CPU +\d+\.\d\ds  wall +\d+\.\d\ds  peak +\d+ MiB"
    for label in ("floor: csv.reader, \\d+ rows", "kernel run \\(", "default run \\(",
                  "pandas peer", "kernel run, 2x leads", "kernel run, a month of history",
                  "kernel run cut to the peer's job"):
        assert re.search(rf"^{label}.*:\s+{figure}$", out, re.M), label
    for goal in ("kernel run CPU / floor", "default run CPU / floor",
                 "kernel run CPU / pandas peer CPU", "peak memory",
                 "kernel run CPU, 2x leads / 1x leads"):
        assert re.search(rf"^goal: {re.escape(goal)}.*\d+\.\d\d  \(<= [\d.]+\)  (PASS|MISS)$",
                         out, re.M), goal
    assert (tmp_path / "export-20-20-500" / "out-peer" / "assignments.csv").exists()
    assert re.search(r"^a month of history: \d+\.\d\dx the kernel run's CPU, peak \d+ MiB",
                     out, re.M)
    assert re.search(r"^the peer's job: \d+\.\d\dx the pandas peer's CPU; the rest of the kernel "
                     r"run \(call log, checks, history, duplicates\) -?\d+\.\d\ds", out, re.M)
    assert re.search(r"^  peer_job stages \(last round's run.json, wall s\): plan ", out, re.M)
    rules = tomllib.loads((tmp_path / "export-20-20-500" / "rules-peer-job.toml").read_text())
    assert "calls" not in rules["data"] and rules["allocation"]["dedupe_on"] == []
    peer_job = tmp_path / "export-20-20-500" / "out-peer-job"
    manifest = json.loads((peer_job / "run.json").read_text())
    assert [i["name"] for i in manifest["inputs"]] == ["reps", "leads", "activity", "leave"]
    assert manifest["counts"]["findings"] == {"critical": 0, "warn": 0, "info": 0}
    assert manifest["counts"]["assigned"] > 0
    with sqlite3.connect(tmp_path / "export-20-20-500" / "salesrules-history.sqlite") as db:
        configs = {json.loads(m)["config"]["path"] for (m,) in db.execute(
            "SELECT manifest FROM runs")}
    assert configs and not any("peer-job" in c for c in configs)  # recorded no history
    history = sqlite3.connect(tmp_path / "export-20-20-500-month" / "salesrules-history.sqlite")
    days = history.execute("SELECT COUNT(DISTINCT as_of), COUNT(*) FROM runs").fetchone()
    per_run = {n for (n,) in history.execute("SELECT COUNT(*) FROM assignments GROUP BY run_id")}
    history.close()
    assert days == (31, 31) and len(per_run) == 1 and per_run != {0}


@pytest.mark.slow
def test_bench_deals_prints_the_load_time_against_its_target():
    done = subprocess.run([sys.executable, str(BENCH / "bench_deals.py"), "--deals", "400",
                           "--repeat", "1"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"deals export: 400 rows, \d+ reps: load \d+\.\d{3} s "
                        r"\(target <= 0\.3 s\)  (PASS|MISS)\n", done.stdout), done.stdout


def test_bench_children_get_the_users_environment_not_what_polars_set_in_the_parent(
        monkeypatch):
    """Importing polars sets jemalloc options in os.environ; a child inheriting them would not
    get the run's own allocator settings, and its peak memory would be measured too high."""
    import importlib.util

    monkeypatch.delenv("_RJEM_MALLOC_CONF", raising=False)
    spec = importlib.util.spec_from_file_location("bench_run_env", BENCH / "bench_run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setenv("_RJEM_MALLOC_CONF", "dirty_decay_ms:500,muzzy_decay_ms:1000")
    assert "_RJEM_MALLOC_CONF" not in bench.child_env()
    monkeypatch.setenv("OTHER", "x")  # anything set later is not the user's either
    assert "OTHER" not in bench.child_env()
