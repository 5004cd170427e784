"""Run history in a real SQLite file: load carries across runs, re-runs are idempotent, failures
change nothing."""

from __future__ import annotations

import json
import re
import sqlite3
import textwrap
from collections import Counter

import pytest
from conftest import edit_rules, invoke, read_csv


def run(export, *args):
    res = invoke("run", "--rules", str(export / "rules.toml"), *args)
    assert res.exit_code == 0, res.output
    return res


def db_rows(export, sql):
    con = sqlite3.connect(export / "salesrules-history.sqlite")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_run_records_its_manifest_and_every_assignment(export):
    run(export)
    (runs,) = db_rows(export, "SELECT as_of, assigned, manifest FROM runs")
    assert runs[0] == "2026-11-25"
    assigned = read_csv(export / "out" / "assignments.csv")
    assert runs[1] == len(assigned)
    assert json.loads(runs[2])["counts"]["assigned"] == len(assigned)
    stored = db_rows(export, "SELECT lead_id, rep_id FROM assignments ORDER BY lead_id")
    assert stored == sorted((a["lead_id"], a["rep_id"]) for a in assigned)


@pytest.mark.slow
def test_a_rerun_of_the_same_day_is_idempotent(export):
    run(export)
    first = (export / "out" / "assignments.csv").read_bytes()
    run(export)
    assert (export / "out" / "assignments.csv").read_bytes() == first
    assert db_rows(export, "SELECT COUNT(*) FROM runs") == [(1,)]
    n = len(read_csv(export / "out" / "assignments.csv"))
    assert db_rows(export, "SELECT COUNT(*) FROM assignments") == [(n,)]


@pytest.mark.slow
def test_load_carries_across_runs(export):
    run(export, "--as-of", "2026-11-24")
    day1 = Counter(a["rep_id"] for a in read_csv(export / "out" / "assignments.csv"))
    # the next day's export brings new leads
    leads = (export / "leads.csv").read_text(encoding="utf-8").splitlines()
    new = [line.replace("L0", "M0", 1) for line in leads[1:]]
    (export / "leads.csv").write_text("\n".join([leads[0], *new]) + "\n", encoding="utf-8")
    run(export, "--as-of", "2026-11-25")
    rows = read_csv(export / "out" / "assignments.csv")
    day2 = Counter(a["rep_id"] for a in rows)
    # reps who got more on day 1 get fewer on day 2, so totals even out
    totals = [day1[r] + day2[r] for r in set(day1) | set(day2)]
    firsts = [day1[r] for r in set(day1) | set(day2)]
    assert max(totals) - min(totals) < max(firsts) - min(firsts) + max(day2.values())
    assert any("received in the window" in r["reason"] and not r["reason"].count(" 0 received")
               for r in rows)
    assert db_rows(export, "SELECT COUNT(*) FROM runs") == [(2,)]


@pytest.mark.slow
def test_an_earlier_assignment_sticks_when_the_crm_has_no_owner_yet(export):
    run(export, "--as-of", "2026-11-24")
    first = {a["lead_id"]: a["rep_id"] for a in read_csv(export / "out" / "assignments.csv")}
    run(export, "--as-of", "2026-11-25")
    again = {a["lead_id"] for a in read_csv(export / "out" / "assignments.csv")}
    assert not (again & set(first))  # not assigned twice
    m = json.loads((export / "out" / "run.json").read_text())
    assert m["counts"]["leads_kept_with_owner"] >= len(first)


@pytest.mark.slow
def test_a_crash_mid_run_leaves_history_as_it_was(export):
    run(export, "--as-of", "2026-11-24")
    before = db_rows(export, "SELECT * FROM assignments ORDER BY lead_id")
    (export / "boom.py").write_text(textwrap.dedent('''
        from salesrules.api import hookimpl

        @hookimpl
        def write_outputs(result, out_dir):
            raise RuntimeError("crash after allocation")
    '''))
    edit_rules(export / "rules.toml", lambda d: d.update(plugins={"modules": ["boom.py"]}))
    res = invoke("run", "--rules", str(export / "rules.toml"), "--as-of", "2026-11-25")
    assert res.exit_code == 1
    assert db_rows(export, "SELECT * FROM assignments ORDER BY lead_id") == before
    assert db_rows(export, "SELECT as_of FROM runs") == [("2026-11-24",)]


@pytest.mark.slow
def test_dry_run_reads_history_but_leaves_it_untouched(export):
    run(export, "--as-of", "2026-11-24")
    path = export / "salesrules-history.sqlite"
    before = path.read_bytes()
    res = run(export, "--as-of", "2026-11-25", "--dry-run")
    assert "run history was read but not changed" in res.output
    assert path.read_bytes() == before


def test_dry_run_without_history_creates_no_database(export):
    run(export, "--dry-run")
    assert not (export / "salesrules-history.sqlite").exists()


@pytest.mark.slow
def test_history_command_shows_runs_and_load(export):
    run(export, "--as-of", "2026-11-24")
    run(export, "--as-of", "2026-11-25")
    res = invoke("history", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 0
    assert "2026-11-25" in res.output and "2026-11-24" in res.output
    data = json.loads(invoke("history", "--rules", str(export / "rules.toml"), "--json").output)
    assert [r["as_of"] for r in data["runs"]] == ["2026-11-25", "2026-11-24"]
    total = sum(v["leads"] for v in data["load"].values())
    assert total == sum(r["assigned"] for r in data["runs"])


@pytest.mark.slow
def test_history_shows_each_rep_s_name_beside_the_id(export):
    run(export, "--as-of", "2026-11-24")
    run(export, "--as-of", "2026-11-25")
    names = {r["rep_id"]: r["name"] for r in read_csv(export / "reps.csv")}
    res = invoke("history", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("load per rep"))
    assert re.split(r"\s{2,}", lines[at + 1]) == ["rep", "name", "leads", "value"]
    shown = [re.split(r"\s{2,}", line) for line in lines[at + 2:]]
    assert shown and all(name == names[rep] for rep, name, _, _ in shown)
    data = json.loads(invoke("history", "--rules", str(export / "rules.toml"), "--json").output)
    assert {rep: v["name"] for rep, v in data["load"].items()} == {
        rep: names[rep] for rep in data["load"]}


def test_history_without_a_readable_reps_file_shows_ids_alone(export):
    run(export)
    (export / "reps.csv").unlink()
    res = invoke("history", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("load per rep"))
    assert re.split(r"\s{2,}", lines[at + 1]) == ["rep", "leads", "value"]
    rows = [re.split(r"\s{2,}", line) for line in lines[at + 2:]]
    assert rows and all(len(r) == 3 and r[0].startswith("R") for r in rows)  # id, leads, value
    data = json.loads(invoke("history", "--rules", str(export / "rules.toml"), "--json").output)
    assert data["load"] and all(v["name"] is None for v in data["load"].values())


def test_history_lists_most_loaded_reps_first():
    from salesrules.history import load_listing

    listing = load_listing({"R2": (3, 1234.5), "R1": (3, 10.0), "R3": (1200, 2.0)},
                           {"R1": "Ann", "R3": "Bo"})
    assert [(x.rep_id, x.name, x.leads) for x in listing] == [
        ("R3", "Bo", 1200), ("R1", "Ann", 3), ("R2", None, 3)]


def test_history_can_be_switched_off(export):
    edit_rules(export / "rules.toml", lambda d: d.update(history={"enabled": False}))
    run(export)
    assert not (export / "salesrules-history.sqlite").exists()


def test_a_run_is_replaced_through_an_index_old_files_get_it_too(tmp_path):
    """Replacing a day's run deletes its assignments by run id: without an index, a scan of all."""
    from salesrules.history import open_history

    path = tmp_path / "h.sqlite"
    open_history(path).close()
    db = sqlite3.connect(path)
    plan = db.execute("EXPLAIN QUERY PLAN DELETE FROM assignments WHERE run_id = 'x'").fetchall()
    assert "assignments_run" in str(plan)
    db.execute("DROP INDEX assignments_run")  # a file from before the index
    db.commit()
    db.close()
    open_history(path, readonly=True).close()  # reading changes nothing
    names = [r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")]
    assert "assignments_run" not in names
    open_history(path).close()
    names = [r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")]
    assert "assignments_run" in names
