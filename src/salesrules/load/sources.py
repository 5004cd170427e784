"""The built-in data sources: the reps, leads and daily activity sheets of a CRM export."""

from __future__ import annotations

from ..components import Source
from ..hookspecs import hookimpl
from ..model import Lead, Rep
from .dataset import DatasetBuilder, InputFile
from .tables import CellError, parse_bool, parse_date, parse_datetime, parse_int, parse_number


class RepsSource(Source):
    """The team sheet: one row per rep with id, name, team, level, active and daily capacity."""

    name = "reps"
    produces = ("reps",)

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
    produces = ("leads",)

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
        for line, (lead_id, created, owner, priority, value), extra in file.rows(
            ["id", "created_at"], ["owner", "priority", "value"], keep_extra=True
        ):
            lead_id = str(lead_id).strip()
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
            if priority is not None and str(priority).strip():
                try:
                    prio = parse_int(priority)
                except CellError as exc:
                    file.error(line, "priority", str(exc))
                    ok = False
            val = 0.0
            if value is not None and str(value).strip():
                try:
                    val = parse_number(value)
                except CellError as exc:
                    file.error(line, "value", str(exc))
                    ok = False
            if ok:
                owner_id = str(owner).strip() if owner is not None else ""
                into.add_lead(Lead(lead_id, created_at, owner_id or None, prio, val, extra),
                              f"{file.display}:{line}")


class ActivitySource(Source):
    """The daily activity sheet: one row per rep per day, one column per funnel stage."""

    name = "activity"
    produces = ("activity",)

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
        stages = list(into.funnel.names)
        n = len(stages)
        rows = file.rows(["date", "rep_id"], stages)
        add = into.activity.add
        for line, values, _ in rows:
            day_text, rep_id = values[0], values[1]
            try:
                day = parse_date(day_text)
            except CellError as exc:
                file.error(line, "date", str(exc))
                continue
            nums = [0.0] * n
            bad = False
            for i in range(n):
                cell = values[2 + i]
                if cell is None or cell == "":
                    continue
                try:
                    nums[i] = v = float(cell)
                    if v - v != 0:
                        raise ValueError(cell)
                except (TypeError, ValueError):
                    try:
                        nums[i] = parse_number(cell)
                    except CellError as exc:
                        file.error(line, stages[i], str(exc))
                        bad = True
                        continue
                if nums[i] < 0:
                    file.error(line, stages[i], f"activity cannot be negative, got {cell!r}")
                    bad = True
            if not bad:
                add(str(rep_id).strip(), day, nums)
        absent = [s for s in stages if file.reader.found.get(s) is False]
        if absent:
            into.warn(f"{file.display}: no column for stage(s) {', '.join(absent)}; "
                      "counted as 0 (map them under columns if the file has them)")


@hookimpl(trylast=True)
def register_sources(register):
    register(RepsSource)
    register(LeadsSource)
    register(ActivitySource)
