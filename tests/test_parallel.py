"""Big outputs written on a second core: the same bytes, and failures reported as if in place."""

from __future__ import annotations

import hashlib
import json
import os
import textwrap

import pytest

from conftest import edit_rules, invoke
from salesrules import parallel
from salesrules.errors import DataError, Problem
from salesrules.parallel import Job

needs_fork = pytest.mark.skipif(not parallel.can_fork(), reason="needs fork and two cores")


def outputs(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.is_file() and p.name != "run.json"}


@needs_fork
def test_outputs_are_the_same_bytes_written_in_one_process_or_two(export, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_ROWS", 0)  # every job forks, however small
    res = invoke("run", "--rules", str(export / "rules.toml"), "--out", str(export / "two"))
    assert res.exit_code == 0, res.output
    edit_rules(export / "rules.toml", lambda d: d.setdefault("output", {}).update(parallel=False))
    res = invoke("run", "--rules", str(export / "rules.toml"), "--out", str(export / "one"))
    assert res.exit_code == 0, res.output
    two, one = outputs(export / "two"), outputs(export / "one")
    assert {"targets.csv", "progress.csv", "findings.csv", "workbook.xlsx",
            "report.html"} <= set(two)
    assert two == one
    for folder in ("one", "two"):  # the manifest's digests are the files' own, whoever hashed them
        manifest = json.loads((export / folder / "run.json").read_text())
        assert {e["file"]: e["digest"] for e in manifest["outputs"]} == {
            name: "sha256:" + hashlib.sha256(data).hexdigest()
            for name, data in outputs(export / folder).items()}


@needs_fork
def test_a_job_runs_in_another_process_and_returns_its_value(monkeypatch):
    monkeypatch.setattr(parallel, "MIN_ROWS", 0)
    job = Job(lambda: os.getpid())
    assert job.wait() != os.getpid()
    assert Job(lambda: os.getpid(), size=-1).wait() == os.getpid()  # small: in place


@needs_fork
def test_errors_come_back_whole(monkeypatch):
    monkeypatch.setattr(parallel, "MIN_ROWS", 0)

    def bad_cell():
        raise DataError([Problem("leads.csv:3: column 'value'", "expected a number")])

    with pytest.raises(DataError) as info:
        Job(bad_cell).wait()
    assert info.value.problems == [Problem("leads.csv:3: column 'value'", "expected a number")]

    class Odd(Exception):  # a local class cannot be pickled: its text still comes back
        pass

    def odd():
        raise Odd("cannot travel")

    with pytest.raises(RuntimeError, match="Odd: cannot travel"):
        Job(odd).wait()
    with pytest.raises(RuntimeError, match="ended without a result"):
        Job(lambda: os._exit(3)).wait()


@needs_fork
def test_a_plugin_job_that_fails_fails_the_run_and_leaves_the_outputs(export, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_ROWS", 0)
    out = export / "out"
    res = invoke("run", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 0, res.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (export / "slow.py").write_text(textwrap.dedent("""
        from salesrules.api import Job, hookimpl

        def write(path):
            path.write_text("half")
            raise OSError("disk full")

        @hookimpl
        def write_outputs(result, out_dir):
            return Job(lambda: write(out_dir / "big.csv"), size=10**6)
    """))
    edit_rules(export / "rules.toml", lambda d: d.update(plugins={"modules": ["slow.py"]}))
    res = invoke("run", "--rules", str(export / "rules.toml"), "--as-of", "2026-11-20")
    assert res.exit_code == 1
    assert "plugin 'local:slow.py' failed in hook write_outputs(): OSError: disk full" in res.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@needs_fork
def test_a_job_runs_in_place_when_no_process_can_be_forked(monkeypatch):
    monkeypatch.setattr(parallel, "MIN_ROWS", 0)

    def refuse():
        raise BlockingIOError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    assert Job(lambda: os.getpid()).wait() == os.getpid()


@needs_fork
def test_when_a_later_plugin_fails_earlier_jobs_end_before_the_run_does(export, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_ROWS", 0)
    done = export / "job-finished"
    (export / "slow.py").write_text(textwrap.dedent(f"""
        import time
        from pathlib import Path
        from salesrules.api import Job, hookimpl

        def write(path):
            time.sleep(0.5)
            path.write_text("big")
            Path({str(done)!r}).write_text("yes")

        @hookimpl
        def write_outputs(result, out_dir):
            return Job(lambda: write(out_dir / "big.csv"), size=10**6)
    """))
    (export / "boom.py").write_text(textwrap.dedent("""
        from salesrules.api import hookimpl

        @hookimpl
        def write_outputs(result, out_dir):
            raise RuntimeError("boom")
    """))
    for order in (["slow.py", "boom.py"], ["boom.py", "slow.py"]):
        edit_rules(export / "rules.toml", lambda d: d.update(plugins={"modules": order}))
        res = invoke("run", "--rules", str(export / "rules.toml"))
        assert res.exit_code == 1 and "RuntimeError: boom" in res.output
        if done.exists():  # the slow plugin was called first: its job had ended already
            break
    assert done.exists(), "the slow plugin's job never ran before the failing one"
    assert not (export / "out").exists() or not any(
        p.name.startswith(".salesrules-staging") for p in (export / "out").iterdir())
