"""Run history: every run's manifest and assignments in an embedded SQLite file.

History keeps allocation balanced across runs and is the source of truth for what has
been given out: successive runs on one as-of date add up (each keeps what the earlier
ones assigned), a rerun of the very same run (same run id: as-of, config, inputs, seed)
replaces only itself, and ``--redo-day`` replaces every run of the day.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import attrs

from .model import Assignment

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
CREATE INDEX IF NOT EXISTS assignments_lead ON assignments (lead_id);
CREATE INDEX IF NOT EXISTS assignments_run ON assignments (run_id);
PRAGMA user_version = 1;
"""

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


#: Seconds to wait for another run's history transaction before giving up.
BUSY_WAIT_S = 120.0


@attrs.frozen
class PastAssignment:
    """A lead an earlier run gave to a rep."""

    lead_id: str
    rep_id: str
    as_of: dt.date
    value: float


@attrs.frozen
class DayAssignment:
    """A lead an earlier run of the same as-of date gave to a rep: it stays where it went."""

    lead_id: str
    rep_id: str
    team: str
    policy: str
    rule: str
    value: float
    reason: str
    #: When that run was recorded, ``HH:MM`` (UTC).
    at: str


@attrs.frozen
class HistoryView:
    """What allocation needs from history for one run."""

    #: Assignments of earlier runs within the load window, latest first.
    window: list[PastAssignment]
    #: The latest earlier assignment of each lead in this export.
    owners: dict[str, PastAssignment]
    #: What earlier runs of this as-of date assigned (kept, and counted against today's caps).
    today: list[DayAssignment] = attrs.Factory(list)
    #: With ``--redo-day``: the day's assignments this run replaces, lead id -> rep id.
    replaced: dict[str, str] = attrs.Factory(dict)


@attrs.frozen
class RunRow:
    run_id: str
    as_of: str
    committed_at: str
    assigned: int
    unassigned: int


class History:
    """The history database of one rules.toml. Open it with :func:`open_history`."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        if readonly:
            self.db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                      isolation_level=None, timeout=BUSY_WAIT_S)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            # explicit transactions; a run writing to another output folder may hold the lock
            self.db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_WAIT_S)
        self.db.execute("PRAGMA foreign_keys = ON")
        if self.db.execute("PRAGMA user_version").fetchone()[0] == 0 and not readonly:
            self.db.executescript(SCHEMA)
        elif not readonly and not self.db.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'assignments_run'").fetchone():
            # files made before it: without it, replacing a run scans every assignment
            self.db.execute("CREATE INDEX assignments_run ON assignments (run_id)")
        if not readonly:
            self.db.execute(OUTPUTS_SCHEMA)

    def close(self) -> None:
        self.db.close()

    # ---------------------------------------------------------------- reading

    def before(self, as_of: dt.date, days: int | None = None) -> list[PastAssignment]:
        """Assignments of runs strictly before ``as_of``, within ``days`` if given, latest first.

        The as-of day itself is excluded, so a re-run of a day never counts its
        own earlier result.
        """
        lo = (as_of - dt.timedelta(days=days)).isoformat() if days is not None else ""
        rows = self.db.execute(
            "SELECT lead_id, rep_id, as_of, value FROM assignments "
            "WHERE as_of < ? AND as_of > ? ORDER BY as_of DESC, lead_id",
            (as_of.isoformat(), lo))
        return [PastAssignment(a, b, dt.date.fromisoformat(c), v) for a, b, c, v in rows]

    def owners(self, lead_ids: Iterable[str], as_of: dt.date) -> dict[str, PastAssignment]:
        """For each of ``lead_ids`` that an earlier run
        assigned, its latest assignment before ``as_of``."""
        wanted = set(lead_ids)
        day = as_of.isoformat()
        (stored,) = self.db.execute("SELECT COUNT(*) FROM assignments WHERE as_of < ?",
                                    (day,)).fetchone()
        rows: Iterable[tuple[str, str, str, float]]
        if stored <= 4 * len(wanted):
            # a short history: scanning it is cheaper than shipping the ids to SQLite
            rows = self.db.execute(
                "SELECT lead_id, rep_id, as_of, value FROM assignments WHERE as_of < ? "
                "ORDER BY as_of DESC", (day,))
            rows = (r for r in rows if r[0] in wanted)
        else:
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (lead_id TEXT)")
            self.db.execute("DELETE FROM wanted")
            self.db.executemany("INSERT INTO wanted VALUES (?)", ((i,) for i in wanted))
            rows = self.db.execute(
                "SELECT a.lead_id, a.rep_id, a.as_of, a.value FROM assignments a "
                "WHERE a.as_of < ? AND a.lead_id IN (SELECT lead_id FROM wanted) "
                "ORDER BY a.as_of DESC", (day,))
        out: dict[str, PastAssignment] = {}
        for a, b, c, v in rows:
            if a not in out:
                out[a] = PastAssignment(a, b, dt.date.fromisoformat(c), v)
        return out

    def day(self, as_of: dt.date, run_id: str | None = None) -> list[DayAssignment]:
        """What the runs of ``as_of`` recorded, in the order they were recorded.

        When ``run_id`` is one of them (the very same run again), only the runs
        recorded before it count: a rerun sees what the first time saw.
        """
        runs = self.db.execute("SELECT rowid, run_id FROM runs WHERE as_of = ? ORDER BY rowid",
                               (as_of.isoformat(),)).fetchall()
        ids = [r for _, r in runs]
        if run_id in ids:
            ids = ids[:ids.index(run_id)]
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        rows = self.db.execute(
            "SELECT a.lead_id, a.rep_id, a.team, a.policy, a.rule, a.value, a.reason, "
            f"r.committed_at FROM assignments a JOIN runs r USING (run_id) "
            f"WHERE a.run_id IN ({marks}) ORDER BY r.rowid, a.rowid", ids)
        return [DayAssignment(lead, rep, team, policy, rule, value, why, at[11:16])
                for lead, rep, team, policy, rule, value, why, at in rows]

    def has_run(self, run_id: str) -> bool:
        found = self.db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return found is not None

    def runs(self, limit: int = 20) -> list[RunRow]:
        rows = self.db.execute(
            "SELECT run_id, as_of, committed_at, assigned, unassigned FROM runs "
            "ORDER BY as_of DESC, committed_at DESC LIMIT ?", (limit,))
        return [RunRow(*r) for r in rows]

    def load_by_rep(self, as_of: dt.date, days: int) -> dict[str, tuple[int, float]]:
        """Leads and lead value each rep received in runs within ``days`` up to ``as_of``."""
        lo = (as_of - dt.timedelta(days=days)).isoformat()
        rows = self.db.execute(
            "SELECT rep_id, COUNT(*), SUM(value) FROM assignments "
            "WHERE as_of <= ? AND as_of > ? GROUP BY rep_id ORDER BY rep_id",
            (as_of.isoformat(), lo))
        return {r: (n, v or 0.0) for r, n, v in rows}

    # ---------------------------------------------------------------- writing

    def begin(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def record(self, run_id: str, as_of: dt.date, committed_at: str, config_digest: str,
               inputs_digest: str, assignments: Iterable[Assignment],
               values: dict[str, float], unassigned: int, redo_day: bool = False) -> None:
        """Add this run to its as-of date's runs (inside a transaction).

        ``assignments`` are the run's own, not those it kept from earlier runs
        of the day. The same run id again replaces only that run, in its place
        and with its first time; ``redo_day`` replaces every run of the day. The
        run's manifest follows with :meth:`set_manifest` once the outputs are
        written, in the same transaction.
        """
        day = as_of.isoformat()
        if redo_day:
            self.db.execute("DELETE FROM runs WHERE as_of = ?", (day,))
        rows = [(run_id, day, a.lead_id, a.rep_id, a.team, a.policy, a.rule,
                 values.get(a.lead_id, 0.0), a.reason) for a in assignments]
        if self.has_run(run_id):
            self.db.execute("DELETE FROM assignments WHERE run_id = ?", (run_id,))
            self.db.execute("UPDATE runs SET config_digest = ?, inputs_digest = ?, assigned = ?, "
                            "unassigned = ? WHERE run_id = ?",
                            (config_digest, inputs_digest, len(rows), unassigned, run_id))
        else:
            self.db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, day, committed_at, config_digest, inputs_digest, len(rows),
                 unassigned, "{}"))
        self.db.executemany("INSERT INTO assignments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def set_manifest(self, run_id: str, manifest: dict) -> None:
        self.db.execute("UPDATE runs SET manifest = ? WHERE run_id = ?",
                        (json.dumps(manifest, ensure_ascii=False, sort_keys=True), run_id))

    def set_output(self, out_dir: Path, folder: str, run_id: str) -> None:
        """Note (in the run's transaction) that run
        folder ``folder`` becomes current in ``out_dir``."""
        self.db.execute("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?)",
                        (str(out_dir.resolve()), folder, run_id))

    def output_folder(self, out_dir: Path) -> str | None:
        """The run folder the last recorded run made current in ``out_dir``, if any."""
        try:
            row = self.db.execute("SELECT folder FROM outputs WHERE out_dir = ?",
                                  (str(out_dir.resolve()),)).fetchone()
        except sqlite3.OperationalError:  # a file from before the table, opened read-only
            return None
        return row[0] if row else None

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")


def open_history(path: Path, readonly: bool = False) -> History:
    try:
        return History(path, readonly)
    except sqlite3.DatabaseError as exc:
        from .errors import ConfigError

        raise ConfigError(
            f"history.path: {path} is not a salesrules history database ({exc})") from exc


# ---------------------------------------------------------------- display


@attrs.frozen
class RepLoad:
    """One rep's line in ``salesrules history``: who, and what they received in the window."""

    rep_id: str
    #: From the reps file; ``None`` when it could not be read or names nobody.
    name: str | None
    leads: int
    value: float


def load_listing(loads: dict[str, tuple[int, float]], names: dict[str, str]) -> list[RepLoad]:
    """:meth:`History.load_by_rep` with each rep's name, most leads first (then by rep id)."""
    rows = [RepLoad(rep, names.get(rep), n, v) for rep, (n, v) in loads.items()]
    return sorted(rows, key=lambda r: (-r.leads, r.rep_id))
