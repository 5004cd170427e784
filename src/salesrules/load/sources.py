"""The built-in data sources: the reps, leads and daily activity sheets of a CRM export.

Each reads its file as one frame of text columns, parses whole columns,
reports the bad cells it finds with frame filters, and hands the rest to the
builder in bulk.
"""

from __future__ import annotations

import datetime as dt

import attrs
import numpy as np
import polars as pl

from ..components import Source
from ..hookspecs import hookimpl
from ..model import GoalOverride, Rep
from ..warning_words import stages as stages_said
from ..warning_words import warning
from .calls import CallsSource
from .dataset import BadRow, DatasetBuilder, InputFile
from .tables import (
    CellError,
    bool_column,
    bool_message,
    date_column,
    date_message,
    datetime_column,
    datetime_message,
    int_column,
    int_message,
    number_column,
    number_message,
    parse_date,
)


def text(field: str) -> pl.Expr:
    """A text column without surrounding spaces ("" where the file has no cell)."""
    return pl.col(field).str.strip_chars().fill_null("")


def _ok(*flags: str) -> pl.Expr:
    return ~pl.any_horizontal(pl.col(f).fill_null(False) for f in flags)


@attrs.define
class RepsParams:
    """Params of the ``reps`` source (``[data.reps] params = { ... }``)."""

    #: The level of a rep whose level cell is empty, or of every rep when the file
    #: has no level column.
    level: str = "P1"
    #: A rep with no activity and no deals in this many days before the last day
    #: of the data is warned about as idle; 0 turns the warning off.
    idle_days: int = attrs.field(default=90, validator=attrs.validators.ge(0))
    #: Whether idle reps are marked inactive, so that they are given no leads.
    idle_inactive: bool = False


class RepsSource(Source):
    """The team sheet: one row per rep with id, name, team, level, active and daily capacity."""

    name = "reps"
    Params = RepsParams

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
        fields = ["id", "team", "level", "name", "active", "capacity"]
        frame = file.frame(fields[:2], fields[2:], keep_extra=True)
        if frame is None:
            return
        extra = frame.columns[len(fields):-1]
        active, cap = text("active"), text("capacity")
        frame = frame.with_columns(
            _active=pl.when(active == "").then(True).otherwise(bool_column(frame["active"])),
            _cap=pl.when(cap == "").then(None).otherwise(int_column(frame["capacity"])))
        frame = frame.with_columns(
            no_id=text("id") == "",
            bad_active=pl.col("_active").is_null(),
            bad_cap=(cap != "") & pl.col("_cap").is_null(),
            neg_cap=pl.col("_cap") < 0,
            no_team=text("team") == "")
        for flag, column, message in (
                ("no_id", "id", lambda _: "a rep needs an id"),
                ("bad_active", "active", bool_message),
                ("bad_cap", "capacity", int_message),
                ("neg_cap", "capacity", lambda _: "a capacity cannot be negative"),
                ("no_team", "team", lambda _: "a rep needs a team")):
            file.report(frame, pl.col(flag).fill_null(False), column, message)
        frame = frame.filter(_ok("no_id", "bad_active", "bad_cap", "neg_cap", "no_team"))
        lines = file.lines(frame["row"])
        rows = frame.select(text("id"), text("name"), text("team"), text("level"), "_active",
                            "_cap", *extra).iter_rows()
        for line, (rep_id, name, team, level, is_active, capacity, *more) in zip(lines, rows):
            into.add_rep(Rep(rep_id, name or rep_id, team, level or self.params.level,
                             is_active, capacity, dict(zip(extra, more))),
                         f"{file.display}:{line}")
        ids = frame.select(text("id")).to_series().to_list()
        if self.params.idle_days:
            # after every other source's own after_all (the deals add their activity there)
            into.after_all(lambda b: b.after_all(lambda b2: self._idle(b2, ids, file.display)))

    def _idle(self, into: DatasetBuilder, ids: list[str], where: str) -> None:
        """Warn about reps with no activity in ``idle_days`` (and, if asked, make them inactive)."""
        last = into.activity.last_day()
        if last is None or last.toordinal() <= self.params.idle_days:
            return  # no activity, or none in a real year (a run refuses such dates later)
        since = last - dt.timedelta(days=self.params.idle_days - 1)
        totals = into.activity.window_totals(since, last)
        idle = [r for r in ids if r in into.reps and into.reps[r].active
                and not _hired_after(into.reps[r], since) and not any(totals.get(r, ()))]
        if not idle:
            return
        shown = ", ".join(idle[:5]) + (" ..." if len(idle) > 5 else "")
        if self.params.idle_inactive:
            for r in idle:
                into.reps[r] = attrs.evolve(into.reps[r], active=False)
        into.warn(warning("idle", where=where, n=len(idle), days=self.params.idle_days,
                          last=last, shown=shown, then=warning(
                              "idle.inactive" if self.params.idle_inactive else "idle.active")))


class LeadsSource(Source):
    """New leads to route: id, created time, optional owner, priority and value.

    Plus any columns the routing rules use.
    """

    name = "leads"

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
        frame = file.frame(["id", "created_at"], ["owner", "priority", "value"], keep_extra=True)
        if frame is None:
            return
        extra = frame.columns[5:-1]
        prio = text("priority")
        frame = frame.with_columns(
            _created=datetime_column(frame["created_at"]),
            _priority=pl.when(prio == "").then(0).otherwise(int_column(frame["priority"])),
            _value=number_column(frame["value"], blank=0.0))
        frame = frame.with_columns(
            no_id=text("id") == "",
            bad_created=pl.col("_created").is_null(),
            bad_priority=pl.col("_priority").is_null(),
            bad_value=pl.col("_value").is_null())
        file.report(frame, pl.col("no_id"), "id", lambda _: "a lead needs an id")
        ok_id = ~pl.col("no_id")
        for flag, column, message in (("bad_created", "created_at", datetime_message),
                                      ("bad_priority", "priority", int_message),
                                      ("bad_value", "value", number_message)):
            file.report(frame, ok_id & pl.col(flag), column, message)
        frame = frame.filter(_ok("no_id", "bad_created", "bad_priority", "bad_value"))
        rows = frame["row"]
        leads = frame.select(
            text("id").alias("id"), pl.col("_created").alias("created_at"),
            pl.when(text("owner") != "").then(text("owner")).alias("owner"),
            pl.col("_priority").alias("priority"), pl.col("_value").alias("value"), *extra)
        into.add_leads(leads, file.display + ":", lambda: file.lines(rows))


class ActivitySource(Source):
    """The daily activity sheet: one row per rep per day, one column per funnel stage."""

    name = "activity"

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
        stages = list(into.funnel.names)
        frame = file.frame(["date", "rep_id"], stages)
        if frame is None:
            return
        frame = frame.with_columns(_day=date_column(frame["date"]), **{
            f"_{s}": number_column(frame[s], blank=0.0) for s in stages})
        good = pl.col("_day").is_not_null()
        for s in stages:
            good = good & (pl.col(f"_{s}") >= 0).fill_null(False)
        if not frame.select(good.all()).item():  # one pass when every cell is good
            file.report(frame, pl.col("_day").is_null(), "date", date_message)
            for s in stages:
                file.report(frame, pl.col(f"_{s}").is_null(), s, number_message)
                file.report(frame, pl.col(f"_{s}") < 0, s,
                            lambda cell: f"activity cannot be negative, got {cell!r}")
            frame = frame.filter(good)
        # row by row, as the table keeps them
        values = frame.select(pl.col(f"_{s}").cast(pl.Float64) for s in stages).to_numpy(
            order="c")
        rep_ids = frame.select(text("rep_id")).to_series()
        into.activity.add_columns(rep_ids, frame["_day"].to_numpy(),
                                  values.reshape(-1, len(stages)))
        _contradicting(file, into, frame, rep_ids, values.reshape(-1, len(stages)))
        absent = [s for s in stages if file.found.get(s) is False]
        if absent:
            into.warn(warning("no-column", where=file.display, stages=stages_said(absent)))


def _contradicting(file: InputFile, into: DatasetBuilder, frame: pl.DataFrame,
                   rep_ids: pl.Series, values: np.ndarray) -> None:
    """Record where each row that contradicts itself (a count stage above the count stage
    above it) was read, as ``file:line``; lines are worked out for those rows only."""
    funnel = into.funnel
    links = [(funnel.index(above), funnel.index(s.name)) for s in funnel.stages
             if s.unit == "count" and (above := funnel.upstream(s.name)) is not None]
    bad = np.zeros(len(values), dtype=bool)
    for i, j in links:
        bad |= values[:, j] > values[:, i]
    if not bad.any():
        return
    at = np.flatnonzero(bad)
    lines = file.lines(frame["row"].gather(at))
    days = frame["_day"].gather(at).to_list()
    names = funnel.names
    for k, rep_id, line, day in zip(at.tolist(), rep_ids.gather(at).to_list(), lines, days):
        v = values[k]
        i, j = next((u, lo) for u, lo in links if v[lo] > v[u])
        into.add_contradicting(BadRow(rep_id, day, names[i], names[j], float(v[i]),
                                      float(v[j]), f"{file.display}:{line}",
                                      tuple(float(x) for x in v)))


class LeaveSource(Source):
    """Leave: one row per absence, with rep_id, start and end (both inclusive)."""

    name = "leave"

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
        frame = file.frame(["rep_id", "start", "end"])
        if frame is None:
            return
        blank_end = text("end") == ""
        frame = frame.with_columns(_start=date_column(frame["start"]),
                                   _end=date_column(frame["end"]))
        frame = frame.with_columns(
            _end=pl.when(blank_end).then(pl.col("_start")).otherwise(pl.col("_end")))
        file.report(frame, pl.col("_start").is_null(), "start", date_message)
        bad_end = pl.col("_start").is_not_null() & pl.col("_end").is_null()
        file.report(frame, bad_end, "end", date_message)
        before = (pl.col("_end") < pl.col("_start")).fill_null(False)
        file.report(frame.with_columns(_why=pl.format("ends ({}) before it starts ({})",
                                                      "_end", "_start")),
                    before, "end", str, cell="_why")
        frame = frame.filter(pl.col("_end").is_not_null() & ~before)
        for rep_id, start, end in frame.select(text("rep_id"), "_start", "_end").iter_rows():
            into.add_leave(rep_id, start, end)


class GoalsSource(Source):
    """Target overrides: rows of rep_id or team, stage and target, for the run's period."""

    name = "goals"

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
        out = into.goal_overrides
        frame = file.frame(["stage", "target"], ["rep_id", "team"])
        if frame is None:
            return
        names = into.funnel.names
        frame = frame.with_columns(_target=number_column(frame["target"]))
        frame = frame.with_columns(
            both=(text("rep_id") != "") == (text("team") != ""),
            bad_stage=~text("stage").is_in(list(names)),
            bad_target=pl.col("_target").is_null(),
            neg_target=pl.col("_target") < 0)
        file.report(frame, pl.col("both"), "rep_id",
                    lambda _: "give either a rep_id or a team, not both or neither")
        ok = ~pl.col("both")
        file.report(frame, ok & pl.col("bad_stage"), "stage",
                    lambda cell: f"unknown funnel stage {str(cell).strip()!r} "
                                 f"(stages: {', '.join(names)})")
        ok = ok & ~pl.col("bad_stage")
        file.report(frame, ok & pl.col("bad_target"), "target", number_message)
        file.report(frame, ok & pl.col("neg_target").fill_null(False), "target",
                    lambda cell: f"a target cannot be negative, got {cell!r}")
        frame = frame.filter(_ok("both", "bad_stage", "bad_target", "neg_target"))
        rows = frame.select(text("stage"), "_target", text("rep_id"), text("team")).iter_rows()
        for line, (stage, amount, rep_id, team) in zip(file.lines(frame["row"]), rows):
            out.append(GoalOverride(stage, amount, rep_id, team, f"{file.display}:{line}"))


@hookimpl(trylast=True)
def register_sources(register):
    register(CallsSource)
    register(GoalsSource)
    register(RepsSource)
    register(LeadsSource)
    register(ActivitySource)
    register(LeaveSource)


def _hired_after(rep: Rep, day: dt.date) -> bool:
    """Whether the rep joined after ``day`` (the reps file's ``hired`` column): a new rep
    without activity yet is not idle."""
    hired = rep.fields.get("hired", "")
    try:
        return bool(hired) and parse_date(hired) > day
    except CellError:
        return False  # the goals report an unreadable hire date, with its line
