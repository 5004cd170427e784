"""The ``deals`` source: a CRM's deal (opportunity) export as history, reps and leads.

One row per deal: an owner, a stage, a created date, a close date for closed
deals, an amount. Each stage value maps to the funnel stage the deal has
reached and the date column that dates it; the deals are then summed into the
same per-rep, per-day stage figures an activity sheet gives, so goals,
progress, checks, ranking and seasonality work unchanged. Open deals that
match ``leads_when`` (e.g. nobody owns them yet) become the leads to allocate.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter

import attrs
import polars as pl

from ..allocation.conditions import compile_condition
from ..components import Source
from ..hookspecs import hookimpl
from ..model import Funnel, Lead, Rep
from .dataset import DatasetBuilder, InputFile
from .sources import text
from .tables import datetime_column, datetime_message, number_column, number_message

FIELDS = ("id", "owner", "stage", "amount", "created_at", "close_date")

#: Column headers of common exports, by our field name.
PRESETS: dict[str, dict[str, str]] = {
    # a Salesforce Opportunity report exported as CSV (field labels as headers)
    "salesforce": {"id": "Opportunity ID", "owner": "Opportunity Owner", "stage": "Stage",
                   "amount": "Amount", "created_at": "Created Date",
                   "close_date": "Close Date"},
    # HubSpot's deals export (property labels as headers)
    "hubspot": {"id": "Record ID", "owner": "Deal owner", "stage": "Deal Stage",
                "amount": "Amount", "created_at": "Create Date", "close_date": "Close Date"},
    # the documented default names
    "generic": {f: f for f in FIELDS},
}


@attrs.define
class DealStage:
    """Where a deal at this stage value stands: how far down the funnel, dated by which column."""

    #: The funnel stage the deal has reached; it also counts in every stage
    #: from ``entry`` down to this one. Empty: it counts only as ``entry``.
    reaches: str = ""
    #: The column that dates the reached stage (``created_at``, ``close_date`` or
    #: any date column of the file); the stages before it are dated by ``created_at``.
    date: str = "created_at"
    #: Whether the deal is closed (won or lost): a closed deal must have a close date.
    closed: bool = False


def _stages(*pairs: tuple[str, DealStage]) -> dict[str, DealStage]:
    return dict(pairs)


OPEN = DealStage("pipeline")
WON = DealStage("revenue", "close_date", True)
LOST = DealStage("pipeline", "created_at", True)

#: The standard stage values of each preset's default sales process.
PRESET_STAGES: dict[str, dict[str, DealStage]] = {
    "salesforce": _stages(
        ("Prospecting", DealStage("")), ("Qualification", DealStage("")),
        ("Needs Analysis", OPEN), ("Value Proposition", OPEN), ("Id. Decision Makers", OPEN),
        ("Perception Analysis", OPEN), ("Proposal/Price Quote", OPEN),
        ("Negotiation/Review", OPEN), ("Closed Won", WON), ("Closed Lost", LOST)),
    "hubspot": _stages(
        ("Appointment Scheduled", DealStage("")), ("Qualified To Buy", DealStage("")),
        ("Presentation Scheduled", OPEN), ("Decision Maker Bought-In", OPEN),
        ("Contract Sent", OPEN), ("Closed Won", WON), ("Closed Lost", LOST)),
    "generic": _stages(
        ("New", DealStage("")), ("Engaging", DealStage("")), ("Proposal", OPEN),
        ("Won", WON), ("Lost", LOST)),
}


@attrs.define
class DealsParams:
    """Params of the ``deals`` source. ``preset`` names the export's columns and
    stage values; ``columns`` in the ``[data.NAME]`` table overrides single columns,
    and ``stages`` single stage values."""

    #: ``salesforce``, ``hubspot`` or ``generic``.
    preset: str = "generic"
    #: Stage value -> where it stands; merged over the preset's stages.
    stages: dict[str, DealStage] = attrs.Factory(dict)
    #: The funnel stage every deal counts as when it is created (a new customer).
    entry: str = "intents"
    #: Open deals matching this condition become leads to allocate (same language
    #: as routing rules; fields: id, owner, stage, amount, value and the other columns).
    leads_when: str = ""
    #: Without a reps file, make reps of the owners seen in the deals (with a warning).
    derive_reps: bool = True
    #: Team and level of derived reps.
    team: str = "Sales"
    level: str = "P1"
    #: Field -> known values, e.g. ``{ product = ["GTX Pro", "GTX Mini"] }``: values
    #: in the deals that are not known are reported with the closest known one.
    known: dict[str, list[str]] = attrs.Factory(dict)

    def __attrs_post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"preset: expected one of {', '.join(PRESETS)}, got {self.preset!r}")
        cond, err = compile_condition(self.leads_when)
        if err:
            raise ValueError(f"leads_when: {err}")


def _parsed(file: InputFile) -> pl.DataFrame | None:
    """The deals with their cells parsed, bad cells reported and left out."""
    frame = file.frame(["id", "stage", "created_at", "amount"], ["owner", "close_date"],
                       keep_extra=True)
    if frame is None:
        return None
    amount, close = text("amount"), text("close_date")
    frame = frame.with_columns(
        _id=text("id"), _stage=text("stage"), _owner=text("owner"),
        _created=datetime_column(frame["created_at"]),
        _amount=pl.when(amount == "").then(0.0).otherwise(number_column(frame["amount"])),
        _close=pl.when(close == "").then(None)
        .otherwise(datetime_column(frame["close_date"]).dt.date()))
    bad_close = (close != "") & pl.col("_close").is_null()
    file.report(frame, pl.col("_created").is_null(), "created_at", datetime_message)
    file.report(frame, pl.col("_amount").is_null(), "amount", number_message)
    file.report(frame, bad_close, "close_date", datetime_message)
    return frame.filter(pl.col("_created").is_not_null() & pl.col("_amount").is_not_null()
                        & ~bad_close)


class _Seen:
    """What a deals file's rows add up to: history, owners, unknown stages and values."""

    def __init__(self, p: DealsParams, into: DatasetBuilder, where: str) -> None:
        self.p, self.into, self.where = p, into, where
        condition, _ = compile_condition(p.leads_when)
        self.leads_cond = condition if p.leads_when else None
        self.entry = into.funnel.index(p.entry)
        self.unknown_stages: Counter[str] = Counter()
        self.owners: Counter[str] = Counter()
        self.values: dict[str, Counter[str]] = {f: Counter() for f in p.known}
        self.history: list[tuple[str, object, int, float, object]] = []

    def values_of(self, fields: dict[str, str]) -> None:
        for f in self.p.known:
            if fields.get(f):
                self.values[f][fields[f]] += 1

    def deal(self, owner: str, created, st: DealStage, value: float, when) -> None:
        self.owners[owner] += 1
        reached = self.into.funnel.index(st.reaches) if st.reaches else self.entry
        self.history.append((owner, created, reached, value, when))

    def warn_unknown(self, stage_map: dict[str, DealStage]) -> None:
        into, where, p = self.into, self.where, self.p
        for stage, n in self.unknown_stages.most_common():
            near = closest(stage, list(stage_map))
            hint = f"; closest known stage: {near!r}" if near else ""
            into.warn(f"{where}: {n} deal(s) at stage {stage!r}, which no stage "
                      f"mapping names, are not counted{hint} (map it under params.stages)")
        for f, counts in self.values.items():
            for value, n in counts.most_common():
                if value not in p.known[f]:
                    near = closest(value, p.known[f])
                    into.warn(f"{where}: {f} {value!r} ({n} deal(s)) is not a known "
                              f"{f}" + (f"; closest known: {near!r}" if near else ""))


def _squash(text: str) -> str:
    return re.sub(r"[\s\-_.·/]+", "", text).lower()


def closest(value: str, known: list[str]) -> str | None:
    """The known value most like ``value`` (ignoring case, spaces and punctuation)."""
    squashed = {_squash(k): k for k in known}
    hit = squashed.get(_squash(value))
    if hit is not None:
        return hit
    best = difflib.get_close_matches(_squash(value), list(squashed), n=1, cutoff=0.6)
    return squashed[best[0]] if best else None


class DealsSource(Source):
    """A deal (opportunity) export: history by stage reached, open unowned deals as leads, reps from owners."""

    name = "deals"
    Params = DealsParams

    def validate(self, funnel: Funnel) -> list[tuple[str, str]]:
        out = []
        if self.params.entry not in funnel.names:
            out.append(("entry", f"unknown funnel stage {self.params.entry!r}"))
        for value, st in self.stage_map().items():
            if st.reaches and st.reaches not in funnel.names:
                out.append(("stages", f"{value!r} reaches unknown funnel stage {st.reaches!r}"))
            elif st.reaches and self.params.entry in funnel.names and \
                    funnel.index(st.reaches) < funnel.index(self.params.entry):
                out.append(("stages", f"{value!r} reaches {st.reaches!r}, above the entry "
                                      f"stage {self.params.entry!r}"))
        return out

    def stage_map(self) -> dict[str, DealStage]:
        return {**PRESET_STAGES[self.params.preset], **self.params.stages}

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
        p = self.params
        # the preset names the columns; the [data.NAME] columns override single ones
        file.columns = {**PRESETS[p.preset], **file.columns}
        frame = _parsed(file)
        if frame is None:
            return
        stage_map = {_squash(k): v for k, v in self.stage_map().items()}
        extra = frame.columns[6:frame.columns.index("row")]
        extra_dates = ({st.date for st in stage_map.values()} - {"created_at", "close_date"}) \
            & set(extra)
        when = {d: datetime_column(frame[d]).dt.date().to_list() for d in extra_dates}
        lines = file.lines(frame["row"])
        seen = _Seen(p, into, file.display)
        rows = frame.select("_id", "_stage", "_owner", "_created", "_amount", "_close",
                            *extra).iter_rows()
        for k, (deal_id, stage, owner, created_at, value, close, *more) in enumerate(rows):
            st = stage_map.get(_squash(stage))
            if st is None:
                seen.unknown_stages[stage] += 1
                continue
            if st.closed and close is None:
                file.error(lines[k], "close_date", f"the deal is closed ({stage!r}) but has no "
                                                   "close date")
                continue
            if not st.closed and close is not None:
                into.warn(f"{file.display}:{lines[k]}: deal {deal_id!r} is open ({stage!r}) but "
                          f"has a close date ({close}); it counts as open")
            fields = dict(zip(extra, more))
            seen.values_of(fields)
            lead = Lead(deal_id, created_at, owner or None, 0, value,
                        {**fields, "stage": stage, "owner": owner})
            if not st.closed and seen.leads_cond is not None and seen.leads_cond.matches(lead):
                into.add_lead(lead, f"{file.display}:", lines[k])
                continue
            if owner:
                dates = {"created_at": created_at.date(), "close_date": close}
                day = dates.get(st.date) or (when[st.date][k] if st.date in when else None)
                seen.deal(owner, created_at.date(), st, value, day or created_at.date())
        seen.warn_unknown(self.stage_map())
        # owners are matched to reps once every file is read (the reps file may come later)
        into.after_all(lambda b: self._finish(b, seen.history, seen.owners, file.display))

    def _finish(self, into: DatasetBuilder, history, owners: Counter, where: str) -> None:
        p = self.params
        if not into.reps and p.derive_reps and owners:
            for owner in sorted(owners):
                into.add_rep(Rep(owner, owner, p.team, p.level))
            into.warn(f"{where}: no reps file, so {len(owners)} rep(s) were made from the "
                      f"deal owners, all in team {p.team!r} at level {p.level!r}; add a "
                      "[data.reps] file to give them their teams, levels and caps")
        by_name = {r.name: r.id for r in into.reps.values()}
        rep_of: dict[str, str] = {}
        for owner, n in owners.most_common():
            rep_id = owner if owner in into.reps else by_name.get(owner)
            if rep_id is None:
                near = closest(owner, list(into.reps) + list(by_name))
                into.warn(f"{where}: deal owner {owner!r} ({n} deal(s)) is not in the reps "
                          "file" + (f"; closest known: {near!r}" if near else "")
                          + "; those deals count for no one")
                continue
            rep_of[owner] = rep_id
        funnel = into.funnel
        entry = funnel.index(p.entry)
        for owner, created, reached, value, when in history:
            rep_id = rep_of.get(owner)
            if rep_id is None:
                continue
            for i in range(entry, reached + 1):
                stage = funnel.stages[i]
                if stage.unit == "amount" and not value:
                    continue  # a zero amount adds nothing, and must not make a day of activity
                into.add_stage(rep_id, when if i == reached else created, stage.name,
                               value if stage.unit == "amount" else 1.0)


@hookimpl(trylast=True)
def register_sources(register):
    register(DealsSource)
