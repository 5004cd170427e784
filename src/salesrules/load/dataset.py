"""The loaded export: reps, leads and activity, built file by file by the data sources."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from ..errors import Problems
from ..model import ActivityTable, Funnel, Lead, Rep
from .tables import TableReader, file_digest


@attrs.frozen
class InputRecord:
    """One input file as the manifest records it."""

    name: str
    path: str
    digest: str
    rows: int
    encoding: str
    source: str


@attrs.define
class Dataset:
    """Everything read from the export, ready for the run loop."""

    funnel: Funnel
    reps: dict[str, Rep]
    leads: list[Lead]
    activity: ActivityTable
    inputs: list[InputRecord] = attrs.Factory(list)
    warnings: list[str] = attrs.Factory(list)
    #: Leave per rep: inclusive ``(start, end)`` spans.
    leave: dict[str, list[tuple[dt.date, dt.date]]] = attrs.Factory(dict)
    #: Data that plugin sources add for their own components, by key.
    extra: dict[str, Any] = attrs.Factory(dict)

    def on_leave(self, rep_id: str, day: dt.date) -> bool:
        return any(a <= day <= b for a, b in self.leave.get(rep_id, ()))

    def teams(self) -> dict[str, list[Rep]]:
        """Reps by team, teams sorted by name, reps in input order."""
        out: dict[str, list[Rep]] = {}
        for rep in self.reps.values():
            out.setdefault(rep.team, []).append(rep)
        return dict(sorted(out.items()))


class InputFile:
    """The file a source reads, with its settings; passed to :meth:`Source.read`."""

    def __init__(self, name: str, path: Path, display: str, columns: dict[str, str],
                 encoding: str, sheet: str, params: Any, problems: Problems) -> None:
        self.name = name
        self.path = path
        self.display = display
        self.params = params
        self.reader = TableReader(path, display, columns, encoding, sheet, problems)

    def rows(self, required: Sequence[str], optional: Sequence[str] = (),
             keep_extra: bool = False) -> Iterator[tuple[int, list[Any], dict[str, str]]]:
        """Rows as ``(line, values, extra)``; see :meth:`TableReader.rows`."""
        return self.reader.rows(required, optional, keep_extra)

    def error(self, line: int, column: str | None, message: str) -> None:
        """Report a bad cell as ``file:line: column 'x': message``."""
        self.reader.error(line, self.reader.columns.get(column, column) if column else None,
                          message)

    @property
    def encoding(self) -> str:
        return self.reader.encoding


def _at(where: str, line: int | None) -> str:
    return where if line is None else f"{where}{line}"


class DatasetBuilder:
    """What a source adds its reps, leads and activity to."""

    def __init__(self, funnel: Funnel, problems: Problems) -> None:
        self.funnel = funnel
        self.problems = problems
        self.reps: dict[str, Rep] = {}
        self.rep_lines: dict[str, str] = {}
        self.leads: list[Lead] = []
        self._lead_lines: dict[str, tuple[str, int | None]] = {}
        self._bulk_lines: list[tuple[list[str], str, int]] = []
        self.activity = ActivityTable(funnel.names)
        self.warnings: list[str] = []
        self.extra: dict[str, Any] = {}
        self.leave: dict[str, list[tuple[dt.date, dt.date]]] = {}
        self._replace: dict[tuple[str, dt.date, int], float] = {}
        self._after: list = []

    def add_rep(self, rep: Rep, where: str = "") -> None:
        if rep.id in self.reps:
            self.problems.add(where, f"rep id {rep.id!r} appears twice "
                              f"(first at {self.rep_lines.get(rep.id, '?')})")
            return
        self.reps[rep.id] = rep
        self.rep_lines[rep.id] = where

    @property
    def lead_lines(self) -> dict[str, tuple[str, int | None]]:
        """Where each lead was read (file, line), for errors; made when first needed."""
        lines = self._lead_lines
        for ids, where, first_line in self._bulk_lines:
            lines.update(zip(ids, zip([where] * len(ids), range(first_line,
                                                                first_line + len(ids)))))
        self._bulk_lines = []
        return lines

    def add_lead(self, lead: Lead, where: str = "", line: int | None = None) -> None:
        """Add a lead; ``where`` (and ``line``) say where it was read, for errors."""
        first = self.lead_lines.get(lead.id)
        if first is not None:
            self.problems.add(_at(where, line), f"lead id {lead.id!r} appears twice "
                              f"(first at {_at(*first)})")
            return
        self.leads.append(lead)
        self.lead_lines[lead.id] = (where, line)

    def add_leads(self, leads: list[Lead], where: str, first_line: int) -> None:
        """Add the leads of consecutive lines from ``first_line`` on, as :meth:`add_lead` does."""
        if not self.leads:  # the first (or only) leads file: nothing to clash with
            self.leads.extend(leads)
            self._bulk_lines.append(([lead.id for lead in leads], where, first_line))
            return
        for line, lead in enumerate(leads, start=first_line):
            self.add_lead(lead, where, line)

    def add_activity(self, rep_id: str, day: dt.date, values: list[float]) -> None:
        """Add one rep-day of activity, one value per funnel stage (summed with any earlier)."""
        self.activity.add(rep_id, day, values)

    def add_stage(self, rep_id: str, day: dt.date, stage: str, value: float) -> None:
        """Add to a single stage of one rep-day, e.g. a won deal's amount to revenue."""
        self.activity.add_one(rep_id, day, self.funnel.index(stage), value)

    def after_all(self, fn) -> None:
        """Run ``fn(builder)`` once every file is read, e.g. to match names across files."""
        self._after.append(fn)

    def replace_stage(self, rep_id: str, day: dt.date, stage: str, value: float) -> None:
        """Set one stage of one rep-day, whatever other sources added (applied when all are read).

        A call log uses this: its dials and connects replace the activity sheet's
        for the days it covers.
        """
        self._replace[(rep_id, day, self.funnel.index(stage))] = value

    def replace_stage_values(self, stage: str, values) -> None:
        """:meth:`replace_stage` for many ``(rep_id, day, value)`` at once."""
        i = self.funnel.index(stage)
        self._replace.update(((rep_id, day, i), v) for rep_id, day, v in values)

    def add_leave(self, rep_id: str, start: dt.date, end: dt.date) -> None:
        """Record that a rep is on leave from ``start`` to ``end``, both inclusive."""
        self.leave.setdefault(rep_id, []).append((start, end))

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def run_after(self) -> None:
        """Run the ``after_all`` callbacks (once every file is read)."""
        for fn in self._after:
            fn(self)
        self._after = []

    def build(self, inputs: list[InputRecord]) -> Dataset:
        self.run_after()
        by_stage: dict[int, list[tuple[str, dt.date, float]]] = {}
        for (rep_id, day, i), value in self._replace.items():
            by_stage.setdefault(i, []).append((rep_id, day, value))
        for i, items in sorted(by_stage.items()):
            self.activity.set_stage(i, items)
        unknown = sorted(set(self.activity.rep_ids) - set(self.reps))
        if unknown and self.reps:
            shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            self.warn(f"activity for {len(unknown)} rep id(s) not in the reps file "
                      f"is ignored: {shown}")
            self.activity.drop_reps(unknown)
        unknown_leave = sorted(set(self.leave) - set(self.reps))
        if unknown_leave and self.reps:
            self.warn(f"leave for rep id(s) not in the reps file is ignored: "
                      f"{', '.join(unknown_leave[:5])}")
        return Dataset(self.funnel, self.reps, self.leads, self.activity, inputs,
                       self.warnings, self.leave, self.extra)


def file_record(name: str, file: InputFile, source: str, base: Path,
                digest: str | None = None) -> InputRecord:
    try:
        shown = str(file.path.relative_to(base))
    except ValueError:
        shown = str(file.path)
    return InputRecord(name, shown, digest or file_digest(file.path), file.reader.rows_read,
                       file.encoding, source)
