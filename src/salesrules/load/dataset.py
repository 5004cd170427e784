"""The loaded export: reps, leads and activity, built file by file by the data sources."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np
import polars as pl

from ..activity import day_number
from ..errors import Problems
from ..leads import SCHEMA, LeadList, conform, frame_of
from ..model import ActivityTable, Funnel, GoalOverride, Lead, Rep
from ..warning_words import warning
from .callstats import CallStats
from .deal_presets import CLOSED_KEY, ClosedWindow
from .inputfile import InputFile, InputRecord, file_record
from .replacing import Replacements

__all__ = ["BadRow", "CallStats", "Dataset", "DatasetBuilder", "InputFile", "InputRecord",
           "file_record"]
from .tables import CellError, parse_date


@attrs.frozen
class BadRow:
    """An activity row where a count stage exceeds the count stage above it."""

    rep_id: str
    day: dt.date
    upper: str
    lower: str
    upper_value: float
    lower_value: float
    #: Where it was read, ``file:line``.
    where: str = ""
    #: What the row adds to its rep-day in the activity, one value per stage (0 for a stage
    #: a call log replaced): the rate estimate takes it out of the rep-day, whose other rows
    #: still count. Empty: the estimate leaves the whole rep-day out.
    counted: tuple[float, ...] = ()


def _as_lead_list(leads: Any) -> LeadList:
    return LeadList.of(leads)


@attrs.define
class Dataset:
    """Everything read from the export, ready for the run loop."""

    funnel: Funnel
    reps: dict[str, Rep]
    #: The leads, in the order read: a sequence of :class:`Lead` built as they are read,
    #: with the columns in ``leads.frame`` (a list of Lead objects is turned into one).
    leads: LeadList = attrs.field(converter=_as_lead_list)
    activity: ActivityTable
    inputs: list[InputRecord] = attrs.Factory(list)
    warnings: list[str] = attrs.Factory(list)
    #: Leave per rep: inclusive ``(start, end)`` spans.
    leave: dict[str, list[tuple[dt.date, dt.date]]] = attrs.Factory(dict)
    #: Data that plugin sources add for their own components, by key.
    extra: dict[str, Any] = attrs.Factory(dict)
    #: The call log's daily figures per rep, when a ``calls`` source read one.
    calls: CallStats | None = None
    #: Targets set per rep or team by a goals file, over the level targets.
    goal_overrides: list[GoalOverride] = attrs.Factory(list)
    #: The activity rows that contradict themselves, where the source read them (``file:line``).
    contradicting: tuple[BadRow, ...] = ()

    def on_leave(self, rep_id: str, day: dt.date) -> bool:
        return any(a <= day <= b for a, b in self.leave.get(rep_id, ()))

    def teams(self) -> dict[str, list[Rep]]:
        """Reps by team, teams sorted by name, reps in input order."""
        out: dict[str, list[Rep]] = {}
        for rep in self.reps.values():
            out.setdefault(rep.team, []).append(rep)
        return dict(sorted(out.items()))

    @property
    def closed_stage(self) -> str | None:
        """With a deals export, the win stage: its rate is won ÷ (won + lost) of the deals
        closed (:meth:`closed_counts`), open deals left out. ``None`` otherwise."""
        closed = self.extra.get(CLOSED_KEY)  # the deals source decides it (won_stage)
        stage = None if closed is None else closed.stage
        return stage if stage in self.funnel.names else None

    def closed_counts(self, rep_ids: Sequence[str], start: dt.date,
                      end: dt.date) -> ClosedWindow | None:
        """With a deals export, the deals each of ``rep_ids`` closed in ``[start, end]``
        (``.won``, and ``.closed``: won plus lost), in that order; ``None`` otherwise."""
        closed = self.extra.get(CLOSED_KEY)
        return None if closed is None else closed.window(rep_ids, start, end)


def _at(where: str, line: int | None) -> str:
    return where if line is None else f"{where}{line}"


class DatasetBuilder:
    """What a source adds its reps, leads and activity to."""

    def __init__(self, funnel: Funnel, problems: Problems) -> None:
        self.funnel = funnel
        self.problems = problems
        self.reps: dict[str, Rep] = {}
        self.rep_lines: dict[str, str] = {}
        self._lead_parts: list[tuple[pl.DataFrame, Callable[[], list[str]]]] = []
        self._loose_leads: list[tuple[Lead, str]] = []
        self._checked: LeadList | None = None
        self._activity = ActivityTable(funnel.names)
        self._loose: tuple[list[str], list[dt.date], list[list[float]]] = ([], [], [])
        self.warnings: list[str] = []
        self.extra: dict[str, Any] = {}
        #: The call log's daily figures, when a ``calls`` source read one.
        self.calls: CallStats | None = None
        #: Targets a goals file sets per rep or team.
        self.goal_overrides: list[GoalOverride] = []
        self.leave: dict[str, list[tuple[dt.date, dt.date]]] = {}
        self._replace = Replacements()
        self.contradicting: list[BadRow] = []
        self._after: list = []

    def add_rep(self, rep: Rep, where: str = "") -> None:
        if rep.id in self.reps:
            self.problems.add(where, f"rep id {rep.id!r} appears twice "
                              f"(first at {self.rep_lines.get(rep.id, '?')})")
            return
        self.reps[rep.id] = rep
        self.rep_lines[rep.id] = where
        hired = str(rep.fields.get("hired", "") or "").strip()
        try:  # read by the goals stage; a bad date is reported here, where its line is known
            parse_date(hired) if hired else None
        except CellError as exc:
            self.problems.add(f"{where}: column 'hired'", str(exc))

    def add_lead(self, lead: Lead, where: str = "", line: int | None = None) -> None:
        """Add one lead; ``where`` (and ``line``) say where it was read, for errors."""
        self._loose_leads.append((lead, _at(where, line)))

    def add_leads(self, leads: pl.DataFrame, where: str,
                  line_of: Callable[[], Sequence[int]]) -> None:
        """Add a frame of leads (the columns of :data:`salesrules.leads.SCHEMA`, then any
        text fields); ``line_of()`` gives their lines in ``where`` when an error needs them."""
        self._flush_loose()
        self._checked = None
        self._lead_parts.append((conform(leads), lambda: [f"{where}{n}" for n in line_of()]))

    def _flush_loose(self) -> None:
        if self._loose_leads:
            self._checked = None  # the leads checked so far lack these
            loose, self._loose_leads = self._loose_leads, []
            places = [at for _, at in loose]
            self._lead_parts.append((frame_of(lead for lead, _ in loose), lambda: places))

    @property
    def leads(self) -> LeadList:
        """The leads read so far, in order."""
        return self._leads()

    def where_read(self) -> dict[str, str]:
        """Where each lead was read (``file:line``), for messages; worked out when asked."""
        self._flush_loose()
        out: dict[str, str] = {}
        for frame, where in self._lead_parts:
            for lead_id, at in zip(frame["id"].to_list(), where()):
                out.setdefault(lead_id, at)
        return out

    def check_leads(self) -> None:
        """Report every lead id read twice (naming both places); keep the first."""
        self._checked = self._leads()

    def _leads(self) -> LeadList:
        """Every lead in the order read; a repeated id is an error naming both places."""
        if self._checked is not None and not self._loose_leads:
            return self._checked
        self._flush_loose()
        frames = [f for f, _ in self._lead_parts]
        if not frames:
            return LeadList(conform(pl.DataFrame(schema=SCHEMA)))
        ids = pl.concat([f.select("id") for f in frames])
        again = ids.select(pl.col("id").is_duplicated()).to_series()
        if again.any():
            places = [p for _, where in self._lead_parts for p in where()]
            first: dict[str, str] = {}
            keep = []
            for i, (lead_id, dup) in enumerate(zip(ids["id"].to_list(), again.to_list())):
                if dup and lead_id in first:
                    self.problems.add(places[i], f"lead id {lead_id!r} appears twice "
                                                 f"(first at {first[lead_id]})")
                    continue
                first.setdefault(lead_id, places[i])
                keep.append(i)
            whole = pl.concat(frames, how="diagonal_relaxed")
            return LeadList(conform(whole[keep]))
        return LeadList(conform(pl.concat(frames, how="diagonal_relaxed")))

    @property
    def activity(self) -> ActivityTable:
        """The activity read so far; a source adds a sheet with ``activity.add_columns``."""
        if self._loose[0]:
            reps, days, rows = self._loose
            self._activity.add_columns(reps, days, rows)
            self._loose = ([], [], [])
        return self._activity

    def add_activity(self, rep_id: str, day: dt.date, values: list[float]) -> None:
        """Add one rep-day of activity, one value per funnel stage (summed with any earlier)."""
        if len(values) != len(self.funnel.names):
            raise ValueError(f"expected {len(self.funnel.names)} stage values, "
                             f"got {len(values)}")
        self._loose[0].append(rep_id)
        self._loose[1].append(day)
        self._loose[2].append([float(v) for v in values])

    def add_contradicting(self, row: BadRow) -> None:
        """Record an activity row that contradicts itself (a count stage above the count
        stage above it), with where it was read: it is left out of every rate estimate."""
        self.contradicting.append(row)

    def add_stage(self, rep_id: str, day: dt.date, stage: str, value: float) -> None:
        """Add to a single stage of one rep-day, e.g. a won deal's amount to revenue."""
        row = [0.0] * len(self.funnel.names)
        row[self.funnel.index(stage)] = float(value)
        self.add_activity(rep_id, day, row)

    def after_all(self, fn) -> None:
        """Run ``fn(builder)`` once every file is read, e.g. to match names across files."""
        self._after.append(fn)

    def replace_stage(self, rep_id: str, day: dt.date, stage: str, value: float) -> None:
        """Set one stage of one rep-day, whatever other sources added (applied when all are read).

        A call log uses this: its dials and connects replace the activity sheet's
        for the days it covers.
        """
        self._replace.add([(rep_id, day, self.funnel.index(stage), value)])

    def replace_stage_values(self, stage: str, values) -> None:
        """:meth:`replace_stage` for many ``(rep_id, day, value)`` at once."""
        i = self.funnel.index(stage)
        self._replace.add((rep_id, day, i, v) for rep_id, day, v in values)

    def _replace_columns(self, stage: str, rep_ids: pl.Series, days: np.ndarray,
                         values: np.ndarray) -> None:
        """:meth:`replace_stage_values` as columns (``days``: days since 1970-01-01)."""
        self._replace.add_columns(self.funnel.index(stage), rep_ids, days, values)

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
        stages = self._replace.by_stage()
        self.activity._set_stages(stages)
        unknown = sorted(set(self.activity.rep_ids) - set(self.reps))
        if unknown and self.reps:
            shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            self.warn(warning("unknown-activity", n=len(unknown), shown=shown))
            self.activity.drop_reps(unknown)
        unknown_leave = sorted(set(self.leave) - set(self.reps))
        if unknown_leave and self.reps:
            self.warn(warning("unknown-leave", shown=", ".join(unknown_leave[:5])))
        self.activity.freeze()
        replaced = Replacements.at(stages, ((r.rep_id, r.day) for r in self.contradicting
                                            if r.counted))
        return Dataset(self.funnel, self.reps, self._leads(), self.activity, inputs,
                       self.warnings, self.leave, self.extra, self.calls, self.goal_overrides,
                       tuple(_counted(r, replaced) for r in self.contradicting
                             if (r.rep_id in self.reps or not self.reps)
                             and not self._overridden(r, replaced)))

    def _overridden(self, row: BadRow, replaced: dict[tuple[str, int, int], float]) -> bool:
        """Whether the row contradicts nothing once a call log's figures replace the stages it
        replaced on the row's rep-day (a typo in the sheet's dials, which count nowhere)."""
        if not row.counted or not replaced:
            return False
        f = self.funnel
        key = (row.rep_id, day_number(row.day))
        if not any((*key, i) in replaced for i in range(len(row.counted))):
            return False
        v = [replaced.get((*key, i), x) for i, x in enumerate(row.counted)]
        return not any(v[f.index(s.name)] > v[f.index(above)] for s in f.stages
                       if s.unit == "count" and (above := f.upstream(s.name)) is not None)


def _counted(row: BadRow, replaced: dict[tuple[str, int, int], float]) -> BadRow:
    """The row with 0 for the stages of its rep-day that a call log replaced."""
    if not row.counted or not replaced:
        return row
    key = (row.rep_id, day_number(row.day))
    return attrs.evolve(row, counted=tuple(0.0 if (*key, i) in replaced else v
                                           for i, v in enumerate(row.counted)))
