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
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

import attrs

from .history_schema import LOAD_OF_RUNS, has_run_load, upgrade
from .model import Assignment

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
class _Earlier:
    """:attr:`HistoryView.owners` and :attr:`HistoryView.window`, as :meth:`History._earlier`
    reads them."""

    owners: list[tuple[str, str, str]]
    window: list[tuple[str, str]]


#: Earlier assignments (dated before ``:day``), latest first: by date, then by when
#: recorded; each with whether it is dated after the window's start (``:lo``).
EARLIER = ("SELECT lead_id, rep_id, as_of, as_of > :lo FROM assignments WHERE as_of < :day "
           "{leads}ORDER BY as_of DESC, rowid DESC")
#: :data:`EARLIER` of the leads whose ids are the JSON array ``:ids``: found in the
#: ``assignments_lead_day`` index alone.
EARLIER_OF_LEADS = EARLIER.format(leads="AND lead_id IN (SELECT value FROM json_each(:ids)) ")


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
        try:
            self.db.execute("PRAGMA foreign_keys = ON")
            if not readonly:
                upgrade(self.db)
        except BaseException:
            self.db.close()
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
        began = not self.db.in_transaction
        if began:  # one snapshot: a run committing meanwhile is seen whole or not at all
            self.db.execute("BEGIN")
        try:
            load = self._load(day, lo)
            replaced = self.day(as_of) if redo_day else []
            earlier = self._earlier(lead_ids, day, lo)
            today = [] if redo_day else self.day(as_of, run_id)
        finally:
            if began:
                self.db.execute("COMMIT")
        return HistoryView(load, earlier.owners, earlier.window, today,
                           {p.lead_id: p.rep_id for p in replaced})

    def _earlier(self, lead_ids: Collection[str], day: str, lo: str) -> _Earlier:
        """The assignments before ``day`` of these leads: each lead's latest (two on one
        date: the one recorded last), and those dated after ``lo``."""
        wanted = lead_ids if isinstance(lead_ids, (set, frozenset)) else set(lead_ids)
        args = {"day": day, "lo": lo}
        if self._read_whole(lead_ids, wanted, day):
            rows: Iterable[tuple[str, str, str, int]] = (
                r for r in self.db.execute(EARLIER.format(leads=""), args) if r[0] in wanted)
        else:
            rows = self.db.execute(EARLIER_OF_LEADS, {**args, "ids": json.dumps(list(wanted))})
        owners: dict[str, tuple[str, str, str]] = {}
        window: dict[tuple[str, str], None] = {}  # a set that keeps the rows' order
        for lead, rep, on, within in rows:  # latest first
            if lead not in owners:
                owners[lead] = (lead, rep, on)
            if within:
                window[lead, rep] = None
        return _Earlier(list(owners.values()), list(window))

    def _read_whole(self, lead_ids: Collection[str], wanted: Collection[str], day: str) -> bool:
        """Whether reading every assignment before ``day`` costs less than looking the
        leads up one by one: each row read costs about as much as each id looked up, and
        each row found that way about twice that (measured on a month of history). The
        rows found are estimated from every 500th id."""
        (stored,) = self.db.execute("SELECT COUNT(*) FROM assignments WHERE as_of < ?",
                                    (day,)).fetchone()
        if stored <= len(wanted):
            return True
        sample = list(lead_ids if isinstance(lead_ids, Sequence) else sorted(wanted))[::500]
        (found,) = self.db.execute(
            "SELECT COUNT(*) FROM assignments WHERE as_of < ? "
            "AND lead_id IN (SELECT value FROM json_each(?))",
            (day, json.dumps(sample))).fetchone()
        return stored <= len(wanted) + 2 * found * len(wanted) / max(len(sample), 1)

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
        if has_run_load(self.db) and not self.db.execute(
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
        # to a millionth, so that the order SQLite adds them in (which differs between
        # the two ways, and between SQLite versions) never shows in the last digit
        return [(rep, n, round(v, 6)) for rep, n, v in self.db.execute(sql, (hi, lo))]

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

        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            raise ConfigError(f"history.path: {path} is in use: another run held it for "
                              f"{BUSY_WAIT_S:.0f} s ({exc}); try again when it is done") from exc
        raise ConfigError(
            f"history.path: {path} is not a salesrules history database ({exc})") from exc
