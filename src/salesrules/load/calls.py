"""The ``calls`` source: a call log, one row per call, summed into daily dials and connects."""

from __future__ import annotations

from typing import Literal

import attrs
import numpy as np
import polars as pl

from ..components import Source
from .dataset import CallStats, DatasetBuilder, InputFile
from .tables import datetime_column, datetime_message


@attrs.define
class CallsParams:
    """How a call log is read. A call is connected by its ``outcome`` (one of
    ``connected_outcomes``) or, with ``connect_by = "duration"``, by lasting at
    least ``min_seconds``."""

    connect_by: Literal["outcome", "duration"] = "outcome"
    #: Outcome values that mean the call was answered: a list of strings, compared ignoring
    #: case and surrounding spaces, e.g. ``["是"]`` for a log whose outcome reads 是/否. A
    #: log none of whose outcomes is listed is an error that lists the outcomes it has.
    connected_outcomes: list[str] = attrs.Factory(
        lambda: ["connected", "answered", "接通", "已接通"])
    #: Shortest call that counts as connected when ``connect_by = "duration"``.
    min_seconds: int = attrs.field(default=10, validator=attrs.validators.ge(0))
    #: Connected calls shorter than this are "short" (the vanity-activity check).
    short_seconds: int = attrs.field(default=30, validator=attrs.validators.ge(1))
    #: The funnel stages the call counts replace.
    dials_stage: str = "dials"
    connects_stage: str = "connects"


def duration_column(cells: pl.Series) -> pl.Series:
    """Whole seconds from ``73``, ``73.4``, ``73s``, ``1:13``, ``0:01:13``; null if unreadable."""
    text = cells.cast(pl.String).str.strip_chars()
    out = text.cast(pl.Int64, strict=False)
    todo = (out.is_null() & text.is_not_null()).arg_true()
    if len(todo):
        t = text.gather(todo)
        parts = t.str.split(":")
        n = parts.list.len()
        nums = [parts.list.get(i, null_on_oob=True).cast(pl.Float64, strict=False)
                for i in range(3)]
        plain = t.str.strip_suffix("秒").str.strip_chars_end("sS").cast(pl.Float64, strict=False)
        secs = pl.select(
            pl.when(n == 1).then(plain)
            .when(n == 2).then(nums[0] * 60 + nums[1])
            .when(n == 3).then((nums[0] * 60 + nums[1]) * 60 + nums[2])).to_series()
        secs = pl.select(pl.when(secs >= 0).then(secs)).to_series()  # refuses NaN too
        out.scatter(todo, secs.cast(pl.Int64, strict=False))
    return out.alias(cells.name)


def _duration_message(cell) -> str:
    return f"expected a duration in seconds or mm:ss, got {cell!r}"


def _start_message(cell) -> str:
    return datetime_message(cell).replace("a date and time", "a start time")


def _day_key(start: pl.Expr) -> pl.Expr:
    """The date part of a start time where it stands apart (``2026-03-05 09:13``), else all."""
    return (pl.when((start.str.len_chars() == 10) | start.str.slice(10, 1).is_in([" ", "T"]))
            .then(start.str.slice(0, 10)).otherwise(start))


def _secs(frame: pl.DataFrame) -> pl.Series:
    """Each call's duration in whole seconds (null where unreadable)."""
    secs = frame["duration"].str.strip_chars().cast(pl.Int64, strict=False)
    if secs.null_count():
        secs = duration_column(frame["duration"])
    return secs


def _with_days(grouped: pl.DataFrame) -> pl.DataFrame:
    """The grouped calls with ``_day``, the date of their day text (null where unreadable)."""
    days = grouped["_key"].unique()
    return grouped.with_columns(_day=grouped["_key"].replace_strict(
        days, datetime_column(days).dt.date(), return_dtype=pl.Date))


class CallsSource(Source):
    """A call log, one row per call (rep_id, start, duration, optional outcome).

    Summed into daily dials and connects.
    """

    name = "calls"
    Params = CallsParams

    def validate(self, funnel) -> list[tuple[str, str]]:
        p = self.params
        return [(key, f"unknown stage {stage!r}") for key, stage in
                (("dials_stage", p.dials_stage), ("connects_stage", p.connects_stage))
                if stage not in funnel.names]

    def _count(self, calls: pl.LazyFrame, keys: list[str], secs: pl.Expr,
               engine: Literal["auto", "streaming"]) -> pl.DataFrame:
        """Calls counted per rep, day text (and outcome): numbers of calls (``n``) and of bad
        durations (``bad``), and what ``connect_by`` needs of their seconds (``secs``, each
        call's): with ``outcome``, the short calls and the seconds (``short``, ``talk``); with
        ``duration``, the long calls, the long but short ones and the long calls' seconds
        (``long``, ``long_short``, ``talk_long``)."""
        p = self.params
        s = pl.col("_secs")
        long, short = s >= p.min_seconds, s < p.short_seconds
        counts = ({"short": short.sum(), "talk": s.sum()} if p.connect_by == "outcome" else
                  {"long": long.sum(), "long_short": (long & short).sum(),
                   "talk_long": pl.when(long).then(s).sum()})
        return calls.with_columns(_key=_day_key(pl.col("start")), _secs=secs).group_by(
            keys).agg(n=pl.len(), bad=s.is_null().sum(), **counts).collect(engine=engine)

    def _group(self, calls: pl.LazyFrame, keys: list[str],
               engine: Literal["auto", "streaming"] = "auto") -> pl.DataFrame:
        """:meth:`_count` of the calls. Durations other than whole seconds (``1:05``,
        ``73s``) are worked out once per distinct text, looked up in a second pass."""
        plain = pl.col("duration").cast(pl.Int64, strict=False)  # " 73" is read as 1:05 is
        grouped = self._count(calls, keys, plain, engine)
        if not grouped["bad"].sum():
            return grouped
        texts = calls.filter(plain.is_null()).select(pl.col("duration").unique()).collect(
            engine=engine).to_series()
        known = pl.LazyFrame({"duration": texts, "_odd": duration_column(texts)})
        return self._count(calls.join(known, on="duration", how="left"), keys,
                           pl.coalesce(plain, pl.col("_odd")), engine)

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
        p = self.params
        if into.calls is None:
            into.calls = CallStats(p.short_seconds)
        by_outcome = p.connect_by == "outcome"
        grouped = self._grouped(file, ["rep_id", "start", "duration"]
                                + (["outcome"] if by_outcome else []))
        if grouped is None:
            return
        outcomes = sorted({o.strip().lower() for o in p.connected_outcomes})
        if by_outcome:  # few distinct outcomes per rep-day: decide them on the grouped rows
            if not _outcomes_match(file, into, grouped, outcomes):
                return
            hit = pl.col("outcome").str.strip_chars().str.to_lowercase().is_in(outcomes)
            connects, short_n, talk_s = (pl.when(hit).then(pl.col(c)).otherwise(0)
                                         for c in ("n", "short", "talk"))
        else:
            connects, short_n, talk_s = pl.col("long"), pl.col("long_short"), pl.col("talk_long")
        daily = (grouped.filter(pl.col("_day").is_not_null())
                 .group_by(pl.col("rep_id").str.strip_chars(), "_day")
                 .agg(pl.col("n").sum(), connects.sum().alias("c"), short_n.sum().alias("s"),
                      talk_s.sum().fill_null(0).alias("t")))
        calls = into.calls
        calls.add_columns(daily["rep_id"], daily["_day"].to_physical().cast(pl.Int64).to_numpy(),
                          daily.select("n", "c", "s", "t").to_numpy().astype(np.float64))
        # the figures of every call log read so far replace the sheet's, for the days they cover
        rows = calls.rows()
        reps = pl.Series("rep", rows.reps, dtype=pl.String).gather(rows.rep)
        for field, stage in ((0, p.dials_stage), (1, p.connects_stage)):
            into._replace_columns(stage, reps, rows.day, rows.values[:, field])

    def _grouped(self, file: InputFile, fields: list[str]) -> pl.DataFrame | None:
        """The calls grouped per rep, day text (and outcome), with their ``_day``, bad rows
        reported and left out: counted straight from the file where it can be scanned (the
        file is read whole, with its rows' lines, only when a row is to be blamed), else
        from its frame; ``None`` when the file cannot be read."""
        # grouped as they are first, so that each distinct day and outcome is read once
        keys = ["rep_id", "_key"] + (["outcome"] if "outcome" in fields else [])
        frame, grouped = None, None
        rows = file.scan(fields)
        if rows is not None:
            try:
                grouped = self._group(rows, keys, "streaming")
            except pl.exceptions.PolarsError:  # a row polars cannot read: the frame says where
                grouped = None
        if grouped is None:
            frame = file.frame(fields)
            if frame is None:
                return None
            grouped = self._group(frame.lazy(), keys)
        grouped = _with_days(grouped)
        if not grouped["bad"].sum() and not grouped["_day"].null_count():
            if frame is None:
                file.rows_read += int(grouped["n"].sum())
            return grouped
        if frame is None:  # find the rows to blame
            frame = file.frame(fields)
            if frame is None:
                return None
        frame = frame.with_columns(_key=_day_key(pl.col("start")), _secs=_secs(frame))
        frame = frame.join(grouped.select(*keys, "_day"), on=keys, how="left",
                           nulls_equal=True, maintain_order="left")
        file.report(frame, pl.col("_day").is_null(), "start", _start_message)
        file.report(frame, pl.col("_secs").is_null(), "duration", _duration_message)
        return grouped.filter(pl.col("bad") == 0)


def _outcomes_match(file: InputFile, into: DatasetBuilder, grouped: pl.DataFrame,
                    outcomes: list[str]) -> bool:
    """Whether any call's outcome is one of ``connected_outcomes``; if none is, every connect
    would be zero: an error listing the outcome values the log has, most frequent first."""
    if not grouped.height:
        return True
    found = (grouped.group_by(pl.col("outcome").str.strip_chars().fill_null(""))
             .agg(pl.col("n").sum()).sort(["n", "outcome"], descending=[True, False]))
    if found["outcome"].str.to_lowercase().is_in(outcomes).any():
        return True
    values = found.head(20).iter_rows()
    shown = ", ".join(f"{v or '(empty)'!r} ({n:,} calls)" for v, n in values)
    more = f" and {found.height - 20} more" if found.height > 20 else ""
    column = file.columns.get("outcome", "outcome")
    into.problems.add(
        f"{file.display}: column {column!r}",
        f"no call's outcome is one of data.{file.name}.params.connected_outcomes "
        f"({', '.join(repr(o) for o in outcomes)}), so every call would count as not "
        f"connected; the outcomes in the file: {shown}{more}. Set connected_outcomes to the "
        "values that mean a call was answered, e.g. connected_outcomes = [\"是\"]")
    return False
