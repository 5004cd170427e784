"""The ``deals`` source: a CRM's deal (opportunity) export as history, reps and leads.

One row per deal: an owner, a stage, a created (or engage) date, a close date
for closed deals, an amount. Each stage value maps to the funnel stage the
deal has reached; each funnel stage is dated by its own column (``dates``:
intents by the created date, wins and revenue by the close date). The deals
are then summed into the same per-rep, per-day stage figures an activity sheet
gives, so goals, progress, checks, ranking and seasonality work unchanged; the
closed deals (won or lost, by close date) are kept as :class:`ClosedDeals` for
win rates that leave open deals out. Open deals that match ``leads_when``
(e.g. nobody owns them yet) become the leads to allocate; every other deal is kept
as the lead it once was (:mod:`.deal_leads`) for a backtest's allocation measures.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import polars as pl

from ..allocation.conditions import compile_condition
from ..components import Source
from ..hookspecs import hookimpl
from ..model import Funnel, Lead, Rep
from ..warning_words import warning
from .dataset import DatasetBuilder, InputFile
from .deal_leads import DEAL_LEADS_KEY, DealLead, DealLeads
from .deal_presets import (  # noqa: F401  (re-exported: the presets are documented here)
    CLOSED_KEY,
    ENTRY,
    FIELDS,
    LOST,
    OPEN,
    PRESET_DATES,
    PRESET_PATH,
    PRESET_STAGES,
    PRESETS,
    WON,
    ClosedDeals,
    DealStage,
    KnownFile,
    _known_values,
    _squash,
    closest,
    won_stage,
)
from .sources import text
from .tables import datetime_column, datetime_message, number_column, number_message


@attrs.define
class DealsParams:
    """Params of the ``deals`` source. ``preset`` names the export's columns and
    stage values; ``columns`` in the ``[data.NAME]`` table overrides single columns,
    and ``stages`` single stage values."""

    #: ``salesforce``, ``hubspot`` or ``generic``.
    preset: str = "generic"
    #: Stage value -> where it stands; merged over the preset's stages.
    stages: dict[str, DealStage] = attrs.Factory(dict)
    #: Funnel stage -> the date column that dates it (``created_at``, ``close_date``
    #: or any date column of the file); merged over ``wins`` and ``revenue`` by
    #: ``close_date``; every other stage is dated by ``created_at``. A deal with
    #: an empty date does not count in that stage.
    dates: dict[str, str] = attrs.Factory(dict)
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
    #: Field -> known values: a list (``{ product = ["GTX Pro", "GTX Mini"] }``) or a
    #: reference file's column (``{ product = { file = "products.csv", column = "product" } }``).
    #: Values in the deals that are not known are reported with the closest known one.
    known: dict[str, Any] = attrs.Factory(dict)

    def __attrs_post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"preset: expected one of {', '.join(PRESETS)}, got {self.preset!r}")
        self.known = {f: _known_values(v) for f, v in self.known.items()}
        err = compile_condition(self.leads_when).error
        if err:
            raise ValueError(f"leads_when: {err}")

    def stage_dates(self) -> dict[str, str]:
        return {**PRESET_DATES, **self.dates}


def _date_or_none(frame: pl.DataFrame, column: str) -> pl.Expr:
    cell = text(column)
    return pl.when(cell == "").then(None).otherwise(
        datetime_column(frame[column]).dt.date()).alias(f"_d_{column}")


def _parsed(file: InputFile, date_columns: set[str]) -> pl.DataFrame | None:
    """The deals with their cells parsed, bad cells reported and left out.

    An empty date is no error here: it counts in no stage that column dates.
    """
    frame = file.frame(["id", "stage", "amount"], ["owner", "created_at", "close_date"],
                       keep_extra=True)
    if frame is None:
        return None
    extra = frame.columns[6:frame.columns.index("row")]
    dated = ["created_at", "close_date", *sorted(date_columns & set(extra))]
    amount, created = text("amount"), text("created_at")
    frame = frame.with_columns(
        *[_date_or_none(frame, c) for c in dated],
        _id=text("id"), _stage=text("stage"), _owner=text("owner"),
        _created=pl.when(created == "").then(None).otherwise(
            datetime_column(frame["created_at"])),
        _amount=pl.when(amount == "").then(0.0).otherwise(number_column(frame["amount"])))
    bad = pl.lit(False)
    for c in dated:
        wrong = (text(c) != "") & pl.col(f"_d_{c}").is_null()
        file.report(frame, wrong, c, datetime_message)
        bad = bad | wrong
    file.report(frame, pl.col("_amount").is_null(), "amount", number_message)
    return frame.filter(~bad & pl.col("_amount").is_not_null())


@attrs.frozen
class Reached:
    """The funnel index a deal's stage counts down to (``None``: none), and an info line
    when a preset's stage was adapted to the funnel."""

    index: int | None
    info: str = ""


def reached_index(value: str, st: DealStage, funnel: Funnel, entry: int,
                  from_preset: bool) -> Reached:
    """The funnel stage a deal at ``value`` counts down to, and an info line if adapted.

    A preset's stage that the funnel has not is dropped: the deal counts down
    to the deepest preset stage before it that the funnel has.
    """
    if not st.reaches:
        return Reached(entry)
    if st.reaches in funnel.names:
        return Reached(funnel.index(st.reaches))
    if not from_preset or st.reaches not in PRESET_PATH:
        return Reached(None)
    path = PRESET_PATH[:PRESET_PATH.index(st.reaches)]
    present = [s for s in path if s in funnel.names]
    to = funnel.index(present[-1]) if present else entry
    return Reached(max(to, entry), (f"the funnel has no stage {st.reaches!r}, so deals at "
                                    f"{value!r} count down to {funnel.names[max(to, entry)]!r}"))


class _Seen:
    """What a deals file's rows add up to: history, owners, unknown stages and values."""

    def __init__(self, p: DealsParams, into: DatasetBuilder, where: str) -> None:
        self.p, self.into, self.where = p, into, where
        condition = compile_condition(p.leads_when).condition
        self.leads_cond = condition if p.leads_when else None
        self.unknown_stages: Counter[str] = Counter()
        self.owners: Counter[str] = Counter()
        self.values: dict[str, Counter[str]] = {f: Counter() for f in p.known}
        #: Open deals without an owner that ``leads_when`` left out, by stage; leads taken.
        self.missed: Counter[str] = Counter()
        self.leads = 0
        #: (owner, reached, value, dates by column, won/lost/None, dating column of reached)
        self.history: list[tuple] = []
        #: Every deal that is not a lead, as the lead it once was (for a backtest).
        self.deals: DealLeads = into.extra.setdefault(DEAL_LEADS_KEY, DealLeads())

    def values_of(self, fields: dict[str, str]) -> None:
        """Count the values of the ``known`` fields; a field matches its column as headers do,
        ignoring case and surrounding spaces (``product`` finds ``Product``)."""
        if not self.p.known:
            return
        by_name = {k.strip().lower(): v for k, v in fields.items()}
        for f in self.p.known:
            value = by_name.get(f.strip().lower())
            if value:
                self.values[f][value] += 1

    def warn_unknown(self, stage_map: dict[str, DealStage], known: dict[str, list[str]]) -> None:
        into, where = self.into, self.where
        if self.missed and not self.leads:  # a condition spelt unlike the file, most likely
            into.warn(warning("leads-when-none", where=where, n=sum(self.missed.values()),
                              stages=", ".join(f"{s!r} ({n})" for s, n in
                                               self.missed.most_common(5))))
        for stage, n in self.unknown_stages.most_common():
            near = closest(stage, list(stage_map))
            hint = warning("deal-stage.near", near=near) if near else ""
            into.warn(warning("deal-stage", where=where, n=n, stage=stage, hint=hint))
        for f, counts in self.values.items():
            for value, n in counts.most_common():
                if value not in known.get(f, []):
                    near = closest(value, known.get(f, []))
                    into.warn(warning("deal-value", where=where, field=f, value=value, n=n,
                                      hint=warning("near", near=near) if near else ""))


def _reference(file: InputFile, field: str, ref: KnownFile) -> list[str]:
    """The values of a reference file's column, read by the one reader of its format."""
    path = Path(ref.file) if Path(ref.file).is_absolute() else file.path.parent / ref.file
    display = str(Path(file.display).parent / ref.file) if not Path(ref.file).is_absolute() \
        else ref.file
    if not path.is_file():
        file.problems.add(display, f"the file of known {field} values is missing "
                                   f"(params.known.{field}.file)")
        return []
    ref_file = InputFile(f"known {field}", path, display, {"value": ref.column}, "", "",
                         None, file.problems)
    frame = ref_file.frame(["value"])
    ref_file.finish()
    if frame is None:
        return []
    return sorted({v for v in frame.select(text("value")).to_series() if v})


class DealsSource(Source):
    """A deal (opportunity) export: history by stage reached, open unowned deals as leads.

    Reps are made from the owners when there is no reps file.
    """

    name = "deals"
    Params = DealsParams

    def validate(self, funnel: Funnel) -> list[tuple[str, str]]:
        p = self.params
        out = []
        if p.entry not in funnel.names:
            out.append(("entry", f"unknown funnel stage {p.entry!r}"))
        for value, st in p.stages.items():  # the preset's own adapt to the funnel
            if st.reaches and st.reaches not in funnel.names:
                out.append(("stages", f"{value!r} reaches unknown funnel stage {st.reaches!r}"))
            elif st.reaches and p.entry in funnel.names and \
                    funnel.index(st.reaches) < funnel.index(p.entry):
                out.append(("stages", f"{value!r} reaches {st.reaches!r}, above the entry "
                                      f"stage {p.entry!r}"))
        out += [("dates", f"unknown funnel stage {s!r} (stages: {', '.join(funnel.names)})")
                for s in p.dates if s not in funnel.names]
        return out

    def stage_map(self) -> dict[str, DealStage]:
        return {**PRESET_STAGES[self.params.preset], **self.params.stages}

    def _reaches(self, into: DatasetBuilder, where: str) -> dict[str, tuple[DealStage, int]]:
        """Each stage value (squashed) with its stage and the funnel index it counts down to."""
        funnel, p = into.funnel, self.params
        entry = funnel.index(p.entry)
        out: dict[str, tuple[DealStage, int]] = {}
        adapted: dict[tuple[str, str], list[str]] = {}
        for value, st in self.stage_map().items():
            hit = reached_index(value, st, funnel, entry, value not in p.stages)
            reached, info = hit.index, hit.info
            if reached is None:
                continue  # validate has said so
            if info:
                adapted.setdefault((st.reaches, funnel.names[reached]), []).append(value)
            out[_squash(value)] = (st, reached)
        for (missing, to), values in adapted.items():
            into.warn(warning("deal-preset", where=where, missing=missing, preset=p.preset,
                              values=", ".join(map(repr, values)), to=to))
        return out

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
        p = self.params
        # the preset names the columns; the [data.NAME] columns override single ones
        file.columns = {**PRESETS[p.preset], **file.columns}
        self.columns_shown = file.columns
        stages = self._reaches(into, file.display)
        into.extra.setdefault(CLOSED_KEY, ClosedDeals()).stage = won_stage(
            into.funnel, ((st.closed, reached) for st, reached in stages.values()))
        columns = {*p.stage_dates().values(), *(st.date for st, _ in stages.values() if st.date)}
        frame = _parsed(file, columns)
        if frame is None:
            return
        known = {f: v if isinstance(v, list) else _reference(file, f, v)
                 for f, v in p.known.items()}
        seen = _Seen(p, into, file.display)
        self._rows(file, frame, stages, seen, into)
        seen.warn_unknown(self.stage_map(), known)
        # owners are matched to reps once every file is read (the reps file may come later)
        into.after_all(lambda b: self._finish(b, seen, file.display))

    def _rows(self, file: InputFile, frame: pl.DataFrame,
              stages: dict[str, tuple[DealStage, int]], seen: _Seen,
              into: DatasetBuilder) -> None:
        extra = frame.columns[6:frame.columns.index("row")]
        dated = [c[3:] for c in frame.columns if c.startswith("_d_")]
        lines = file.lines(frame["row"])
        result = into.funnel.index(into.funnel.result.name)
        rows = frame.select("_id", "_stage", "_owner", "_created", "_amount",
                            *(f"_d_{c}" for c in dated), *extra).iter_rows()
        for k, (deal_id, stage, owner, created_at, value, *more) in enumerate(rows):
            days, more = dict(zip(dated, more[:len(dated)])), more[len(dated):]
            hit = stages.get(_squash(stage))
            if hit is None:
                seen.unknown_stages[stage] += 1
                continue
            st, reached = hit
            close = days["close_date"]
            if st.closed and close is None:
                file.error(lines[k], "close_date", f"the deal is closed ({stage!r}) but has no "
                                                   "close date")
                continue
            if not st.closed and close is not None:
                into.warn(warning("deal-open", where=f"{file.display}:{lines[k]}",
                                  deal=deal_id, stage=stage, close=close))
                days["close_date"] = None
            fields = dict(zip(extra, more))
            seen.values_of(fields)
            lead = Lead(deal_id, created_at, owner or None, 0, value,
                        {**fields, "stage": stage, "owner": owner})
            if not st.closed and seen.leads_cond is not None and seen.leads_cond.matches(lead):
                if created_at is None:
                    file.error(lines[k], "created_at", "an open deal that is a lead needs a "
                                                       "created date")
                else:
                    into.add_lead(lead, f"{file.display}:", lines[k])
                    seen.leads += 1
                continue
            if not st.closed and not owner and seen.leads_cond is not None:
                seen.missed[stage] += 1
            won = (reached >= result) if st.closed else None
            if created_at is not None:
                seen.deals.add(DealLead(deal_id, created_at, fields, value, won,
                                        days["close_date"]))
            if owner:
                seen.owners[owner] += 1
                seen.history.append((owner, reached, value, days, won, st.date))

    def _finish(self, into: DatasetBuilder, seen: _Seen, where: str) -> None:
        rep_of = self._owners(into, seen.owners, where)
        funnel, p = into.funnel, self.params
        entry = funnel.index(p.entry)
        by_stage = [p.stage_dates().get(s, "created_at") for s in funnel.names]
        closed = into.extra.setdefault(CLOSED_KEY, ClosedDeals())
        undated: Counter[tuple[str, str]] = Counter()
        for owner, reached, value, days, won, own_date in seen.history:
            rep_id = rep_of.get(owner)
            if rep_id is None:
                continue
            if won is not None:
                closed.add(rep_id, days["close_date"], won)
            for i in range(entry, reached + 1):
                stage = funnel.stages[i]
                column = own_date if (i == reached and own_date) else by_stage[i]
                day = days.get(column)
                if day is None:
                    undated[(stage.name, column)] += 1
                elif stage.unit != "amount" or value:  # a zero amount adds no day of activity
                    into.add_stage(rep_id, day, stage.name,
                                   value if stage.unit == "amount" else 1.0)
        closed.seal()
        shown = getattr(self, "columns_shown", {})
        for (stage_name, column), n in sorted(undated.items()):
            into.warn(warning("deal-undated", where=where, n=n,
                              column=shown.get(column, column), stage=stage_name))

    def _owners(self, into: DatasetBuilder, owners: Counter, where: str) -> dict[str, str]:
        """Each deal owner's rep id (reps are made of the owners when there is no reps file)."""
        p = self.params
        if not into.reps and p.derive_reps and owners:
            for owner in sorted(owners):
                into.add_rep(Rep(owner, owner, p.team, p.level))
            into.warn(warning("deal-reps", where=where, n=len(owners), team=p.team,
                              level=p.level))
        by_name = {r.name: r.id for r in into.reps.values()}
        rep_of: dict[str, str] = {}
        for owner, n in owners.most_common():
            rep_id = owner if owner in into.reps else by_name.get(owner)
            if rep_id is None:
                near = closest(owner, list(into.reps) + list(by_name))
                into.warn(warning("deal-owner", where=where, owner=owner, n=n,
                                  hint=warning("near", near=near) if near else ""))
                continue
            rep_of[owner] = rep_id
        return rep_of


def closed_deals(dataset: Any) -> ClosedDeals | None:
    """The closed deals a deals source read into ``dataset`` (``None`` without one)."""
    return dataset.extra.get(CLOSED_KEY)


@hookimpl(trylast=True)
def register_sources(register):
    register(DealsSource)
