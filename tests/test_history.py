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
from hypothesis import given, settings
from hypothesis import strategies as st


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
    from salesrules.cli.info import load_listing

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


def test_earlier_owners_are_read_from_the_lead_index_alone_old_files_get_it_too(tmp_path):
    """A run looks its leads' earlier owners up in an index holding lead, date and rep, so a
    long history is not read row by row; a file with the older lead index gets the new one
    in its place when opened for writing."""
    from salesrules.history import EARLIER_OF_LEADS, open_history

    path = tmp_path / "h.sqlite"
    open_history(path).close()
    db = sqlite3.connect(path)
    plan = db.execute("EXPLAIN QUERY PLAN " + EARLIER_OF_LEADS,
                      {"day": "2026-11-25", "lo": "2026-10-26", "ids": '["a", "b"]'}).fetchall()
    assert "COVERING INDEX assignments_lead_day" in str(plan)
    db.execute("DROP INDEX assignments_lead_day")  # a file from before it
    db.execute("CREATE INDEX assignments_lead ON assignments (lead_id)")
    db.commit()
    db.close()
    open_history(path, readonly=True).close()  # reading changes nothing
    names = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert "assignments_lead" in names and "assignments_lead_day" not in names
    open_history(path).close()
    names = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert "assignments_lead_day" in names and "assignments_lead" not in names


def _reference_view(runs, as_of, window_days, lead_ids):
    """What History.view must read, worked out from every recorded row in plain Python:
    rows (as_of, lead, rep, value) in the order they were recorded."""
    import datetime as dt

    lo = as_of - dt.timedelta(days=window_days)
    before = [(i, r) for i, r in enumerate(runs) if r[0] < as_of]
    load: dict[str, list] = {}
    for _, (day, _, rep, value) in before:
        if day > lo:
            n, v = load.setdefault(rep, [0, 0.0])
            load[rep] = [n + 1, v + value]
    latest = sorted(before, key=lambda ir: (ir[1][0], ir[0]), reverse=True)
    owners: dict[str, tuple] = {}
    for _, (day, lead, rep, _) in latest:
        if lead in lead_ids:
            owners.setdefault(lead, (lead, rep, day.isoformat()))
    window = sorted({(lead, rep) for _, (day, lead, rep, _) in before
                     if lead in lead_ids and day > lo})
    return load, owners, window


#: Lead ids as exports have them, some of which JSON must escape.
LEAD_IDS = ["L0", "L1", "L2", "00Q5g000004XyZ", 'L"4', "L\\5", "线索-6", "L 7", "🙂8", "L9",
            "l0", "L1 ", "L12", "L13"]


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.sampled_from(LEAD_IDS[:12]),
                          st.sampled_from(["R1", "R2", "R3"]),
                          st.sampled_from([0.0, 1.5, 250.25, 1e6])), max_size=40),
       st.integers(0, 14), st.integers(1, 10), st.sets(st.sampled_from(LEAD_IDS), max_size=14))
def test_history_view_reads_load_and_earlier_owners_as_the_rows_say(rows, day, window, wanted):
    """Each rep's load within the window, each lead's latest earlier assignment and the
    leads assigned within the window, whichever way they are read (the whole history, or
    the leads looked up one by one)."""
    import datetime as dt
    import tempfile
    from pathlib import Path

    from salesrules.history import open_history
    from salesrules.model import Assignment

    start = dt.date(2026, 9, 1)
    batches: dict[tuple[int, int], list] = {}
    for k, (d, lead, rep, v) in enumerate(rows):  # up to two runs a day
        batch = batches.setdefault((d, k % 2), [])
        if all(lead != b[1] for b in batch):  # a run assigns a lead once
            batch.append((start + dt.timedelta(days=d), lead, rep, v))
    runs = [row for batch in batches.values() for row in batch]  # in the order recorded
    as_of = start + dt.timedelta(days=day)
    with tempfile.TemporaryDirectory() as tmp:
        h = open_history(Path(tmp) / "h.sqlite")
        try:
            for k, batch in enumerate(batches.values()):
                d = batch[0][0]
                h.begin()
                h.record(f"run{k}", d, f"{d}T09:00:00+00:00", "c", "i",
                         [Assignment(lead, rep, "t", "balanced", "all", "why")
                          for _, lead, rep, _ in batch], {lead: v for _, lead, _, v in batch}, 0)
                h.commit()
            view = h.view(as_of, window, sorted(wanted))
        finally:
            h.close()
    load, owners, in_window = _reference_view(runs, as_of, window, wanted)
    assert {r: (n, pytest.approx(v)) for r, n, v in view.load} == \
        {r: (n, pytest.approx(v)) for r, (n, v) in load.items()}
    assert [r for r, _, _ in view.load] == sorted(load)
    assert sorted(view.owners) == sorted(owners.values())
    assert sorted(view.window) == in_window and len(set(view.window)) == len(view.window)
    assert len(view.today) == sum(1 for r in runs if r[0] == as_of)  # the day's own runs


def test_each_run_s_load_follows_reruns_and_redone_days_old_files_get_it_too(tmp_path):
    """The per-run load the window sums stays what the assignments say: a rerun replaces its
    run's, --redo-day drops the day's; a file from before it is read from its assignments
    when opened read-only, and gets it, filled, when opened for writing."""
    import datetime as dt

    from salesrules.history import open_history
    from salesrules.model import Assignment

    def record(h, run_id, day, given, redo_day=False):
        h.begin()
        h.record(run_id, day, f"{day}T09:00:00+00:00", "c", "i",
                 [Assignment(lead, rep, "t", "balanced", "all", "why") for lead, rep, _ in given],
                 {lead: v for lead, _, v in given}, 0, redo_day)
        h.commit()

    d1, d2, as_of = dt.date(2026, 11, 2), dt.date(2026, 11, 3), dt.date(2026, 11, 4)
    path = tmp_path / "h.sqlite"
    h = open_history(path)
    record(h, "a", d1, [("L1", "R1", 10.0), ("L2", "R1", 20.0), ("L3", "R2", 5.0)])
    record(h, "b", d2, [("L4", "R1", 7.0)])
    record(h, "a", d1, [("L1", "R2", 1.0), ("L2", "R2", 2.0)])  # the same run again
    record(h, "c", d2, [("L5", "R3", 4.0)], redo_day=True)  # replaces b
    want = [("R2", 2, 3.0), ("R3", 1, 4.0)]
    assert h.view(as_of, 30, []).load == want
    assert h.load_by_rep(d2, 30) == {"R2": (2, 3.0), "R3": (1, 4.0)}
    stored = [("a", "R2", 2, 3.0), ("c", "R3", 1, 4.0)]
    assert sorted(h.db.execute("SELECT run_id, rep_id, leads, value FROM run_load")) == stored
    h.close()
    db = sqlite3.connect(path)
    db.execute("DROP TABLE run_load")  # a file from before it
    db.commit()
    db.close()
    h = open_history(path, readonly=True)
    assert h.view(as_of, 30, []).load == want
    h.close()
    h = open_history(path)
    assert h.view(as_of, 30, []).load == want
    assert sorted(h.db.execute("SELECT run_id, rep_id, leads, value FROM run_load")) == stored
    # a run an older version recorded (its assignments, no load): the window still counts it
    h.db.execute("INSERT INTO runs VALUES ('d', '2026-11-03', 't', 'c', 'i', 1, 0, '{}')")
    h.db.execute("INSERT INTO assignments VALUES "
                 "('d', '2026-11-03', 'L6', 'R3', 't', 'balanced', 'all', 2.5, 'why')")
    assert h.view(as_of, 30, []).load == [("R2", 2, 3.0), ("R3", 2, 6.5)]
    h.close()


@pytest.mark.parametrize("others", [0, 50], ids=["read whole", "looked up"])
def test_a_lead_two_runs_of_one_day_assigned_goes_back_to_the_one_recorded_last(tmp_path,
                                                                                 others):
    """Two runs of one day (into different output folders, at the same time) can both
    assign a lead; the next day it is the later one's, whichever way history is read
    (``others``: assignments of other leads, which make looking the lead up cheaper)."""
    import datetime as dt

    from salesrules.history import open_history
    from salesrules.model import Assignment

    h = open_history(tmp_path / "h.sqlite")
    day = dt.date(2026, 9, 1)
    if others:
        h.begin()
        h.record("other", day, f"{day}T08:00:00+00:00", "c", "i",
                 [Assignment(f"X{i}", "R9", "t", "b", "a", "w") for i in range(others)], {}, 0)
        h.commit()
    for k, rep in enumerate(["R1", "R2"]):
        h.begin()
        h.record(f"run{k}", day, f"{day}T09:0{k}:00+00:00", "c", "i",
                 [Assignment("L0", rep, "t", "b", "a", "w")], {"L0": 1.0}, 0)
        h.commit()
    assert h._read_whole(["L0"], {"L0"}, "2026-09-03") == (not others)
    assert h.view(dt.date(2026, 9, 3), 5, ["L0"]).owners == [("L0", "R2", "2026-09-01")]
    h.close()


def test_a_history_another_run_holds_too_long_is_said_to_be_in_use(tmp_path, monkeypatch):
    """Upgrading an older file takes the write lock; when another run holds it past the wait,
    the message says the file is in use (not that it is no history), and nothing is left
    open or half-changed."""
    import salesrules.history as history
    from salesrules.errors import ConfigError

    path = tmp_path / "h.sqlite"
    history.open_history(path).close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("DROP TABLE run_load")  # an older file: the next writer upgrades it
    db.execute("BEGIN EXCLUSIVE")  # another run, mid-transaction
    monkeypatch.setattr(history, "BUSY_WAIT_S", 0.2)
    try:
        with pytest.raises(ConfigError, match=r"h\.sqlite is in use: another run held it"):
            history.open_history(path)
    finally:
        db.execute("ROLLBACK")
        db.close()
    names = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert "run_load" not in names
    history.open_history(path).close()  # once free, it opens and upgrades
    names = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert "run_load" in names
