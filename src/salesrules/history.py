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
from collections.abc import Collection, Iterable
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


#: Seconds to wait for another run's history transaction before giving up.
BUSY_WAIT_S = 120.0


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
    """What allocation needs from history for one run, read with :meth:`History.view`."""

    #: Leads each rep received in earlier runs within the load window, and their value:
    #: ``(rep_id, leads, value)``, one row per rep.
    load: list[tuple[str, int, float]] = attrs.Factory(list)
    #: Each of this export's leads that an earlier run assigned, with its latest such
    #: assignment (by date, then by when recorded): ``(lead_id, rep_id, as_of)``, ``as_of``
    #: as ``YYYY-MM-DD``.
    owners: list[tuple[str, str, str]] = attrs.Factory(list)
    #: This export's leads that earlier runs within the load window assigned, and to whom:
    #: ``(lead_id, rep_id)``, each pair once.
    window: list[tuple[str, str]] = attrs.Factory(list)
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
        if not readonly:
            if self.db.execute("PRAGMA user_version").fetchone()[0] == 0:
                self.db.executescript(SCHEMA)
            self._index()
            self.db.execute(OUTPUTS_SCHEMA)
            if not self._has_run_load():
                self._add_run_load()

    def _index(self) -> None:
        """Create the indexes a file lacks (made by an older version), and drop those they
        replace."""
        have = {r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'")}
        for name, on in INDEXES.items():
            if name not in have:  # another run may make it meanwhile
                self.db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {on}")
        for name in REPLACED_INDEXES:
            if name in have:
                self.db.execute(f"DROP INDEX IF EXISTS {name}")

    def _has_run_load(self) -> bool:
        return self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'run_load'").fetchone() is not None

    def _add_run_load(self) -> None:
        """Give a file made before :data:`RUN_LOAD_SCHEMA` the table, filled from its
        assignments (once: another run may have done it meanwhile)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if not self._has_run_load():
                for statement in RUN_LOAD_SCHEMA.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute("INSERT INTO run_load " + LOAD_OF_RUNS.format(where=""))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.db.close()

    # ---------------------------------------------------------------- reading

    def view(self, as_of: dt.date, window_days: int, lead_ids: Collection[str],
             run_id: str | None = None, redo_day: bool = False) -> HistoryView:
        """What earlier runs assigned, for allocating ``lead_ids`` on ``as_of``: each rep's
        load within ``window_days``, the earlier assignments of these leads, and what the
        runs of the as-of date gave out (those recorded before ``run_id``; with
        ``redo_day``, none: they are what it replaces).

        The as-of day itself is left out of the first two, so a rerun of a day never
        counts its own earlier result. Only sums and this export's leads leave SQLite: a
        month of daily runs holds far more assignments than any one export has leads.
        """
        day = as_of.isoformat()
        lo = (as_of - dt.timedelta(days=window_days)).isoformat()
        load = self._load(day, lo)
        replaced = self.day(as_of) if redo_day else []
        earlier = self._earlier(lead_ids, day, lo)
        return HistoryView(load, earlier.owners, earlier.window,
                           [] if redo_day else self.day(as_of, run_id),
                           {p.lead_id: p.rep_id for p in replaced})

    def _earlier(self, lead_ids: Collection[str], day: str,
                 lo: str) -> HistoryView:
        """The assignments before ``day`` of these leads: each lead's latest, and those
        after ``lo`` (the view's :attr:`~HistoryView.owners` and :attr:`~HistoryView.window`
        alone)."""
        wanted = lead_ids if isinstance(lead_ids, (set, frozenset)) else set(lead_ids)
        (stored,) = self.db.execute("SELECT COUNT(*) FROM assignments WHERE as_of < ?",
                                    (day,)).fetchone()
        columns = "SELECT lead_id, rep_id, as_of, as_of > ? FROM assignments WHERE as_of < ? "
        order = "ORDER BY as_of DESC, rowid DESC"
        if stored <= len(wanted):
            # a short history: reading it all is cheaper than looking each lead up
            rows: Iterable[tuple[str, str, str, int]] = (
                r for r in self.db.execute(columns + order, (lo, day)) if r[0] in wanted)
        else:  # the ids go in as one JSON array; their rows come from the lead index alone
            rows = self.db.execute(columns + "AND lead_id IN (SELECT value FROM json_each(?)) "
                                   + order, (lo, day, json.dumps(list(lead_ids))))
        owners: dict[str, tuple[str, str, str]] = {}
        window: set[tuple[str, str]] = set()
        for lead, rep, on, within in rows:  # latest first
            if lead not in owners:
                owners[lead] = (lead, rep, on)
            if within:
                window.add((lead, rep))
        return HistoryView(owners=list(owners.values()), window=sorted(window))

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
        rows = self._load(as_of.isoformat(), lo, hi_too=True)
        return {r: (n, v or 0.0) for r, n, v in rows}

    def _load(self, hi: str, lo: str, hi_too: bool = False) -> list[tuple[str, int, float]]:
        """Leads and their value per rep, over the runs dated after ``lo`` and before ``hi``
        (or on it, ``hi_too``): from each run's load, or from every assignment where that
        is missing or falls short of a run's count (a file made before that table and
        opened read-only, or runs an older version recorded)."""
        upto = "<=" if hi_too else "<"
        if self._has_run_load() and not self.db.execute(
                "SELECT 1 FROM runs r LEFT JOIN run_load l USING (run_id) "
                f"WHERE r.as_of {upto} ? AND r.as_of > ? GROUP BY r.run_id "
                "HAVING COALESCE(SUM(l.leads), 0) != MAX(r.assigned) LIMIT 1",
                (hi, lo)).fetchone():
            sql = ("SELECT l.rep_id, SUM(l.leads), SUM(l.value) FROM run_load l "
                   f"JOIN runs r USING (run_id) WHERE r.as_of {upto} ? AND r.as_of > ? "
                   "GROUP BY l.rep_id ORDER BY l.rep_id")
        else:
            sql = (f"SELECT rep_id, COUNT(*), SUM(value) FROM assignments WHERE as_of {upto} ? "
                   "AND as_of > ? GROUP BY rep_id ORDER BY rep_id")
        return self.db.execute(sql, (hi, lo)).fetchall()

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
        self.db.execute("DELETE FROM run_load WHERE run_id = ?", (run_id,))
        self.db.execute("INSERT INTO run_load " + LOAD_OF_RUNS.format(where="WHERE run_id = ?"),
                        (run_id,))

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
