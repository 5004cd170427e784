"""The built-in data sources: the reps, leads and daily activity sheets of a CRM export."""

from __future__ import annotations

from ..components import Source
from ..hookspecs import hookimpl
from ..model import GoalOverride, Lead, Rep
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
    produces = ("activity",)

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
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
    produces = ("leave",)

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
    produces = ("goals",)

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


@hookimpl(trylast=True)
def register_sources(register):
    register(GoalsSource)
    register(RepsSource)
    register(LeadsSource)
    register(ActivitySource)
    register(LeaveSource)
