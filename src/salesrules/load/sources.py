"""The built-in data sources: the reps, leads and daily activity sheets of a CRM export."""

from __future__ import annotations

import datetime as dt
from itertools import repeat
from typing import Literal

import attrs

from ..activity import day_number
from ..components import Source
from ..hookspecs import hookimpl
from ..model import GoalOverride, Lead, Rep
from .dataset import DatasetBuilder, InputFile
from .tables import CellError, parse_bool, parse_date, parse_datetime, parse_int, parse_number


class RepsSource(Source):
    """The team sheet: one row per rep with id, name, team, level, active and daily capacity."""

    name = "reps"

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
        for line, (rep_id, team, level, name, active, capacity), extra in file.rows(
            ["id", "team", "level"], ["name", "active", "capacity"], keep_extra=True
        ):
            rep_id = str(rep_id).strip()
            if not rep_id:
                file.error(line, "id", "a rep needs an id")
                continue
            try:
                is_active = True if active is None or str(active).strip() == "" else parse_bool(active)
            except CellError as exc:
                file.error(line, "active", str(exc))
                continue
            cap = None
            if capacity is not None and str(capacity).strip():
                try:
                    cap = parse_int(capacity)
                    if cap < 0:
                        raise CellError("a capacity cannot be negative")
                except CellError as exc:
                    file.error(line, "capacity", str(exc))
                    continue
            if not str(team).strip():
                file.error(line, "team", "a rep needs a team")
                continue
            into.add_rep(
                Rep(rep_id, str(name or rep_id).strip(), str(team).strip(),
                    str(level).strip(), is_active, cap, extra),
                f"{file.display}:{line}",
            )


class LeadsSource(Source):
    """New leads to route: id, created time, optional owner, priority and value, plus any columns rules use."""

    name = "leads"

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
        if not self._read_columnar(file, into):
            self._read_rows(file, into)

    def _read_columnar(self, file: InputFile, into: DatasetBuilder) -> bool:
        """All columns at once with polars; False to read row by row.

        Gives up on anything the row reader would report or parse another
        way: a blank or repeated id, a time that is not ISO 8601, a priority
        that is not a plain whole number, a value that is not a plain finite
        number (polars reads those two).
        """
        from .fast import read_text

        table = read_text(file, ["id", "created_at"], ["owner", "priority", "value"],
                          keep_extra=True, numbers={"priority": 0, "value": 0.0})
        if table is None:
            return False
        cols, n = table.columns, table.height
        ids = cols["id"]
        if "" in ids or len(set(ids)) != n:
            return False
        try:
            created = list(map(dt.datetime.fromisoformat, cols["created_at"]))
        except ValueError:
            return False
        priority = cols.get("priority") or [0] * n
        value = cols.get("value") or [0.0] * n
        if any(c.tzinfo is not None for c in created):
            created = [c.replace(tzinfo=None) for c in created]
        owners = [o or None for o in cols.get("owner", ())] or [None] * n
        names = [name for name, _ in table.extra]
        fields = (list(map(dict, map(zip, repeat(names), zip(*(c for _, c in table.extra)))))
                  if names else [{} for _ in range(n)])
        into.add_leads(list(map(Lead, ids, created, owners, priority, value, fields)),
                       file.display + ":", table.first_line)
        table.record(file)
        return True

    def _read_rows(self, file: InputFile, into: DatasetBuilder) -> None:
        where = file.display + ":"
        add = into.add_lead
        for line, (lead_id, created, owner, priority, value), extra in file.rows(
            ["id", "created_at"], ["owner", "priority", "value"], keep_extra=True
        ):
            lead_id = lead_id.strip() if lead_id.__class__ is str else str(lead_id).strip()
            if not lead_id:
                file.error(line, "id", "a lead needs an id")
                continue
            ok = True
            try:
                created_at = parse_datetime(created)
            except CellError as exc:
                file.error(line, "created_at", str(exc))
                ok = False
            prio = 0
            if priority:
                try:
                    prio = int(priority)
                except (TypeError, ValueError):
                    try:
                        prio = parse_int(priority)
                    except CellError as exc:
                        file.error(line, "priority", str(exc))
                        ok = False
            val = 0.0
            if value:
                try:
                    val = parse_number(value)
                except CellError as exc:
                    file.error(line, "value", str(exc))
                    ok = False
            if ok:
                owner_id = str(owner).strip() if owner else ""
                add(Lead(lead_id, created_at, owner_id or None, prio, val, extra), where, line)


class ActivitySource(Source):
    """The daily activity sheet: one row per rep per day, one column per funnel stage."""

    name = "activity"

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
        if not self._read_columnar(file, into):
            self._read_rows(file, into)

    def _read_columnar(self, file: InputFile, into: DatasetBuilder) -> bool:
        """Read the sheet's columns with polars; False to read row by row.

        Gives up on anything the row reader would report or parse differently
        (a missing stage column, thousands separators, a blank, a negative or
        non-finite number, a date that is not ISO-like), so that row reading
        handles it exactly. Rows of the same rep and day are summed by the
        table, in file order, as row reading sums them.
        """
        import numpy as np
        import polars as pl

        from .fast import scan

        stages = list(into.funnel.names)
        frame = scan(file, ["date", "rep_id", *stages])
        if frame is None:
            return False
        num = [pl.col(s).str.strip_chars().cast(pl.Float64, strict=False).alias(s)
               for s in stages]
        try:
            table = frame.with_columns(pl.col("rep_id").str.strip_chars(),
                                       pl.col("date").str.strip_chars(), *num).collect()
        except pl.exceptions.PolarsError:
            return False
        if table.height:
            checks = table.select(
                bad=pl.sum_horizontal([pl.col(s).null_count() + pl.col(s).is_nan().sum()
                                       + pl.col(s).is_infinite().sum() for s in stages]),
                negative=pl.min_horizontal([pl.col(s).min() for s in stages]),
                blank=(pl.col("rep_id").is_null() | (pl.col("rep_id") == "")
                       | pl.col("date").is_null()).sum())
            bad, negative, blank = checks.row(0)
            if bad or blank or (negative is not None and negative < 0):
                return False
        days: dict[str, int] = {}
        for text in table["date"].unique().to_list():
            if not (len(text) >= 8 and text[:4].isdigit()):
                return False
            try:
                days[text] = day_number(parse_date(text))
            except CellError:
                return False
        # in the table's order (by rep, then day), so that it need not sort them again
        coded = table.select(
            pl.col("rep_id").rank("dense").cast(pl.Int64).alias("_rep") - 1,
            pl.col("date").replace_strict(days, return_dtype=pl.Int64).alias("_day"),
            *stages).sort(["_rep", "_day"], maintain_order=True)
        into.activity.add_coded(table["rep_id"].unique().sort().to_list(),
                                coded["_rep"].to_numpy(), coded["_day"].to_numpy(),
                                np.column_stack([coded[s].to_numpy() for s in stages]))
        file.reader.rows_read = table.height
        return True

    def _read_rows(self, file: InputFile, into: DatasetBuilder) -> None:
        stages = list(into.funnel.names)
        add = into.activity.add
        days: dict[object, object] = {}  # date text -> date, parsed once
        for line, values, _ in file.rows(["date", "rep_id"], stages):
            day = days.get(values[0])
            if day is None:
                try:
                    day = days[values[0]] = parse_date(values[0])
                except CellError as exc:
                    file.error(line, "date", str(exc))
                    continue
            try:  # fast path: plain numbers, none blank, negative, nan or inf
                nums = list(map(float, values[2:]))
                total = sum(nums)
                if total - total != 0 or min(nums) < 0:
                    raise ValueError
            except (TypeError, ValueError):
                nums = self._slow(file, line, stages, values[2:])
                if nums is None:
                    continue
            rep_id = values[1]
            add(rep_id.strip() if rep_id.__class__ is str else str(rep_id).strip(), day, nums)

        absent = [s for s in stages if file.reader.found.get(s) is False]
        if absent:
            into.warn(f"{file.display}: no column for stage(s) {', '.join(absent)}; "
                      "counted as 0 (map them under columns if the file has them)")

    @staticmethod
    def _slow(file: InputFile, line: int, stages: list[str], cells: list) -> list[float] | None:
        """Parse one row's stage cells the careful way, reporting each bad cell."""
        nums, bad = [], False
        for stage, cell in zip(stages, cells):
            if cell is None or cell == "":
                nums.append(0.0)
                continue
            try:
                v = parse_number(cell)
                if v < 0:
                    raise CellError(f"activity cannot be negative, got {cell!r}")
                nums.append(v)
            except CellError as exc:
                file.error(line, stage, str(exc))
                bad = True
        return None if bad else nums


class LeaveSource(Source):
    """Leave: one row per absence, with rep_id, start and end (both inclusive)."""

    name = "leave"

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
        for line, (rep_id, start, end), _ in file.rows(["rep_id", "start", "end"]):
            try:
                a = parse_date(start)
            except CellError as exc:
                file.error(line, "start", str(exc))
                continue
            try:
                b = parse_date(end) if str(end).strip() else a
            except CellError as exc:
                file.error(line, "end", str(exc))
                continue
            if b < a:
                file.error(line, "end", f"ends ({b}) before it starts ({a})")
                continue
            into.add_leave(str(rep_id).strip(), a, b)


class GoalsSource(Source):
    """Target overrides: rows of rep_id or team, stage and target, for the run's period."""

    name = "goals"

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
        out = into.extra.setdefault("goals", [])
        stages = set(into.funnel.names)
        for line, (stage, target, rep_id, team), _ in file.rows(
                ["stage", "target"], ["rep_id", "team"]):
            rep_id, team, stage = (str(rep_id or "").strip(), str(team or "").strip(),
                                   str(stage).strip())
            if bool(rep_id) == bool(team):
                file.error(line, "rep_id", "give either a rep_id or a team, not both or neither")
                continue
            if stage not in stages:
                file.error(line, "stage", f"unknown funnel stage {stage!r} "
                                          f"(stages: {', '.join(into.funnel.names)})")
                continue
            try:
                amount = parse_number(target)
                if amount < 0:
                    raise CellError(f"a target cannot be negative, got {target!r}")
            except CellError as exc:
                file.error(line, "target", str(exc))
                continue
            out.append(GoalOverride(stage, amount, rep_id, team, f"{file.display}:{line}"))


@attrs.define
class CallsParams:
    """How a call log is read. A call is connected by its ``outcome`` (one of
    ``connected_outcomes``) or, with ``connect_by = "duration"``, by lasting at
    least ``min_seconds``."""

    connect_by: Literal["outcome", "duration"] = "outcome"
    #: Outcome values that mean the call was answered (compared ignoring case).
    connected_outcomes: list[str] = attrs.Factory(
        lambda: ["connected", "answered", "接通", "已接通"])
    #: Shortest call that counts as connected when ``connect_by = "duration"``.
    min_seconds: int = attrs.field(default=10, validator=attrs.validators.ge(0))
    #: Connected calls shorter than this are "short" (the vanity-activity check).
    short_seconds: int = attrs.field(default=30, validator=attrs.validators.ge(1))
    #: The funnel stages the call counts replace.
    dials_stage: str = "dials"
    connects_stage: str = "connects"


class CallStats:
    """Per rep and day: calls, connected calls, short connected calls, connected seconds."""

    FIELDS = ("dials", "connects", "short", "talk_seconds")

    def __init__(self, short_seconds: int) -> None:
        self.short_seconds = short_seconds
        self.by_rep: dict[str, dict[dt.date, list[int]]] = {}

    def totals(self, rep_id: str, start: dt.date, end: dt.date) -> list[int]:
        out = [0, 0, 0, 0]
        for day, row in self.by_rep.get(rep_id, {}).items():
            if start <= day <= end:
                for i in range(4):
                    out[i] += row[i]
        return out


def parse_duration(value) -> int:
    """Seconds from ``73``, ``73.4``, ``1:13``, ``0:01:13``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        pass
    parts = text.split(":")
    try:
        if len(parts) == 1:
            secs = float(text.rstrip("sS秒"))
        elif len(parts) in (2, 3):
            secs = 0.0
            for part in parts:
                secs = secs * 60 + float(part)
        else:
            raise ValueError(text)
    except ValueError:
        raise CellError(f"expected a duration in seconds or mm:ss, got {value!r}") from None
    if secs < 0 or secs != secs:
        raise CellError(f"expected a duration in seconds or mm:ss, got {value!r}")
    return int(secs)


class CallsSource(Source):
    """A call log, one row per call (rep_id, start, duration, optional outcome), summed into daily dials and connects."""

    name = "calls"
    Params = CallsParams

    def validate(self, funnel) -> list[tuple[str, str]]:
        p = self.params
        return [(key, f"unknown stage {stage!r}") for key, stage in
                (("dials_stage", p.dials_stage), ("connects_stage", p.connects_stage))
                if stage not in funnel.names]

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
        p = self.params
        stats = into.extra.get("calls")
        if stats is None:
            stats = into.extra["calls"] = CallStats(p.short_seconds)
        if not self._read_columnar(file, stats):
            self._read_rows(file, stats)
        for field, stage in ((0, p.dials_stage), (1, p.connects_stage)):
            into.replace_stage_values(stage, ((rep_id, day, row[field])
                                              for rep_id, rep_days in stats.by_rep.items()
                                              for day, row in rep_days.items()))

    def _read_columnar(self, file: InputFile, stats: CallStats) -> bool:
        """Sum the log with polars, grouped by rep, day and outcome; False to read row by row.

        Anything the row reader would report as a bad cell (a duration that is
        not whole seconds, a start that is not a date, a blank id) makes this
        give up, so that the row reader reports it with its line and column.
        """
        import polars as pl

        from .fast import scan

        p = self.params
        by_outcome = p.connect_by == "outcome"
        fields = ["rep_id", "start", "duration"] + (["outcome"] if by_outcome else [])
        frame = scan(file, fields)
        if frame is None:
            return False
        # cells are grouped as they are; padding is stripped on the grouped keys, and a
        # padded start or duration fails the checks below, so the row reader takes over
        secs = pl.col("duration").cast(pl.Int64, strict=False)
        keys = ["rep_id", "day"] + (["outcome"] if by_outcome else [])
        try:
            grouped = (
                frame.with_columns(day=pl.col("start").str.slice(0, 10), secs=secs)
                .group_by(keys)
                .agg(n=pl.len(),
                     bad=(pl.col("secs").is_null() | (pl.col("secs") < 0)).sum(),
                     long=(pl.col("secs") >= p.min_seconds).sum(),
                     short=(pl.col("secs") < p.short_seconds).sum(),
                     long_short=((pl.col("secs") >= p.min_seconds)
                                 & (pl.col("secs") < p.short_seconds)).sum(),
                     talk=pl.col("secs").sum(),
                     talk_long=pl.when(pl.col("secs") >= p.min_seconds)
                     .then(pl.col("secs")).otherwise(0).sum())
                .collect())
        except pl.exceptions.PolarsError:
            return False
        if grouped.height and (grouped["bad"].sum() or grouped["rep_id"].is_null().any()
                               or (grouped["rep_id"].str.strip_chars() == "").any()
                               or grouped["day"].is_null().any()):
            return False
        outcomes = sorted({o.strip().lower() for o in p.connected_outcomes})
        days: dict[str, dt.date] = {}
        for day_text in grouped["day"].unique().to_list():
            if len(day_text) == 10 and day_text[4:5] in "-/.":
                try:
                    days[day_text] = parse_date(day_text)
                    continue
                except CellError:
                    pass
            return False  # not an ISO-like date at the start: the row reader handles it
        if by_outcome:  # few distinct outcomes per rep-day: decide them on the grouped rows
            hit = pl.col("outcome").str.strip_chars().str.to_lowercase().is_in(outcomes)
            connects, short_n, talk_s = (pl.when(hit).then(pl.col(c)).otherwise(0)
                                         for c in ("n", "short", "talk"))
        else:
            connects, short_n, talk_s = pl.col("long"), pl.col("long_short"), pl.col("talk_long")
        daily = (grouped.with_columns(pl.col("rep_id").str.strip_chars())
                 .group_by(["rep_id", "day"])
                 .agg(pl.col("n").sum(), connects.sum().alias("c"), short_n.sum().alias("s"),
                      talk_s.sum().alias("t")))
        by_rep = stats.by_rep
        for rep_id, day_text, n, c, sh, talk in daily.iter_rows():
            acc = by_rep.setdefault(rep_id, {}).setdefault(days[day_text], [0, 0, 0, 0])
            acc[0] += n
            acc[1] += c
            acc[2] += sh
            acc[3] += talk or 0
        file.reader.rows_read = int(grouped["n"].sum()) if grouped.height else 0
        return True

    def _read_rows(self, file: InputFile, stats: CallStats) -> None:
        p = self.params
        by_rep = stats.by_rep
        by_outcome = p.connect_by == "outcome"
        outcomes = {o.strip().lower() for o in p.connected_outcomes}
        known: dict[str, bool] = {}  # outcome text -> connected
        min_s, short_s = p.min_seconds, p.short_seconds
        days: dict[str, dt.date] = {}
        reps: dict[str, dict[dt.date, list[int]]] = {}
        need = ["rep_id", "start", "duration"] + (["outcome"] if by_outcome else [])
        for line, values, _ in file.rows(need):
            rep_id, start, duration = values[0], values[1], values[2]
            # the day: cached per date text, so the timestamp is not parsed per call
            key = start[:10] if start.__class__ is str and (
                len(start) == 10 or (len(start) > 10 and start[10] in " T")) else start
            day = days.get(key)
            if day is None:
                try:
                    day = parse_datetime(start).date() if key is start else parse_date(key)
                except CellError as exc:
                    file.error(line, "start", str(exc).replace("a date and time", "a start time"))
                    continue
                if key is not start:
                    days[key] = day
            try:
                secs = int(duration)
            except (TypeError, ValueError):
                try:
                    secs = parse_duration(duration)
                except CellError as exc:
                    file.error(line, "duration", str(exc))
                    continue
            if by_outcome:
                out = values[3]
                hit = known.get(out)
                if hit is None:
                    hit = known[out] = str(out).strip().lower() in outcomes
            else:
                hit = secs >= min_s
            rep_days = reps.get(rep_id)
            if rep_days is None:
                rep_days = reps[rep_id] = by_rep.setdefault(str(rep_id).strip(), {})
            row = rep_days.get(day)
            if row is None:
                row = rep_days[day] = [0, 0, 0, 0]
            row[0] += 1
            if hit:
                row[1] += 1
                row[3] += secs
                if secs < short_s:
                    row[2] += 1


@hookimpl(trylast=True)
def register_sources(register):
    register(CallsSource)
    register(GoalsSource)
    register(RepsSource)
    register(LeadsSource)
    register(ActivitySource)
    register(LeaveSource)
