"""The run history's SQLite schema, and how a file made by an older version is brought up
to date when it is opened for writing (:func:`upgrade`)."""

from __future__ import annotations

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id        TEXT PRIMARY KEY,
    as_of         TEXT NOT NULL,
    committed_at  TEXT NOT NULL,
    config_digest TEXT NOT NULL,
    inputs_digest TEXT NOT NULL,
    assigned      INTEGER NOT NULL,
    unassigned    INTEGER NOT NULL,
    manifest      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_as_of ON runs (as_of);
CREATE TABLE IF NOT EXISTS assignments (
    run_id  TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    as_of   TEXT NOT NULL,
    lead_id TEXT NOT NULL,
    rep_id  TEXT NOT NULL,
    team    TEXT NOT NULL,
    policy  TEXT NOT NULL,
    rule    TEXT NOT NULL,
    value   REAL NOT NULL,
    reason  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS assignments_as_of ON assignments (as_of);
PRAGMA user_version = 1;
"""

#: Indexes every file opened for writing gets, files of any age included: replacing a run
#: finds its assignments by run id, and a run finds its leads' earlier owners (their as-of
#: dates and reps) in the lead index alone, without reading the rows.
INDEXES = {
    "assignments_run": "assignments (run_id)",
    "assignments_lead_day": "assignments (lead_id, as_of, rep_id)",
}
#: Indexes that those replace, dropped once they exist.
REPLACED_INDEXES = ("assignments_lead",)

#: Each run's leads and their value per rep: what the load window sums, without reading
#: every assignment in it. Added to files of any age when opened for writing, and filled
#: from their assignments.
RUN_LOAD_SCHEMA = """
CREATE TABLE run_load (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    rep_id TEXT NOT NULL,
    leads  INTEGER NOT NULL,
    value  REAL NOT NULL
);
CREATE INDEX run_load_run ON run_load (run_id);
"""
#: The load of the runs (or a run's, with ``WHERE run_id = ?``), per rep, from assignments.
LOAD_OF_RUNS = ("SELECT run_id, rep_id, COUNT(*), SUM(value) FROM assignments {where} "
                "GROUP BY run_id, rep_id")

#: For each output folder (its resolved path), the run folder under ``runs/`` that the last
#: recorded run made current there; the next run reconciles the folder with it. Added to
#: files of any age when opened for writing.
OUTPUTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS outputs (
    out_dir TEXT PRIMARY KEY,
    folder  TEXT NOT NULL,
    run_id  TEXT NOT NULL
);
"""


def upgrade(db: sqlite3.Connection) -> None:
    """Make a new file's schema, or bring an older file's up to date (opened for writing)."""
    if db.execute("PRAGMA user_version").fetchone()[0] == 0:
        db.executescript(SCHEMA)
    have = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    for name, on in INDEXES.items():
        if name not in have:  # another run may make it meanwhile
            db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {on}")
    for name in REPLACED_INDEXES:
        if name in have:
            db.execute(f"DROP INDEX IF EXISTS {name}")
    db.execute(OUTPUTS_SCHEMA)
    if not has_run_load(db):
        _add_run_load(db)


def has_run_load(db: sqlite3.Connection) -> bool:
    """Whether the file has :data:`RUN_LOAD_SCHEMA`'s table."""
    return db.execute("SELECT 1 FROM sqlite_master WHERE name = 'run_load'").fetchone() is not None


def _add_run_load(db: sqlite3.Connection) -> None:
    """Give a file made before :data:`RUN_LOAD_SCHEMA` the table, filled from its
    assignments (once: another run may have done it meanwhile)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        if not has_run_load(db):
            for statement in RUN_LOAD_SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT INTO run_load " + LOAD_OF_RUNS.format(where=""))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
