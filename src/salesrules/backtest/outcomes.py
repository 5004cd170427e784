"""Allocation: what became of the leads each route gave out, where leads carry outcomes.

A lead's outcome is read from the export as it stands now (the backtest's
future): its first field of :data:`STATUS_FIELDS` says won or lost (deal
exports' stages included), ``amount`` what a won lead brought. On a deal
export, each deal replayed as a lead (:mod:`salesrules.load.deal_leads`) ends
as its stage and amount say. Leads still open, or without such a field, are
left out. Per route and per rep (the rep
the replayed rules gave the lead to): leads with an outcome, the share won and
the revenue.

With a second rule set, both sides' assignments on the same dates are also
valued as ``salesrules compare`` does: each lead a rep receives counts their
shrunk historical conversion rate (:func:`salesrules.compare.conversion_rates`,
from what was known on the date). That assumes a rep's rate does not depend on
how many leads they get (:data:`CAVEAT`).
"""

from __future__ import annotations

from ..compare import conversion_rates
from ..load import Dataset
from ..load.tables import CellError, parse_number
from .replay import Day
from .rows import ALL, Row

STATUS_FIELDS = ("outcome", "stage", "status")
WON = frozenset({"won", "closed won", "win", "赢单", "成交", "已成交"})
LOST = frozenset({"lost", "closed lost", "loss", "输单", "丢单", "已输单"})
CAVEAT = ("this values each rule set's assignments through each rep's historical conversion "
          "rate, which assumes a rep's rate does not depend on how many leads they get")


def lead_outcomes(dataset: Dataset) -> dict[str, float | None]:
    """Lead id -> revenue if won (0 if won without an amount), ``None`` if lost; open and
    unknown leads are left out. A deal export's deals count by how they ended (stage and
    amount), as the deals source read them."""
    out: dict[str, float | None] = {}
    for v in dataset.extra.values():  # a deal export's deals (salesrules.load.deal_leads)
        if callable(getattr(v, "outcomes", None)):
            out.update(v.outcomes())
    frame = dataset.leads.frame
    status = next((c for c in STATUS_FIELDS if c in frame.columns), None)
    if status is None:
        return out
    amounts = frame["amount"].to_list() if "amount" in frame.columns else [""] * frame.height
    for lead_id, s, a in zip(frame["id"].to_list(), frame[status].to_list(), amounts):
        word = str(s).strip().lower()
        if word in WON:
            try:
                out[lead_id] = parse_number(a) if str(a).strip() else 0.0
            except (CellError, ValueError):
                out[lead_id] = 0.0
        elif word in LOST:
            out[lead_id] = None
    return out


class Allocation:
    """Adds up the realised outcomes of each route's and rep's leads, and with a second rule
    set each side's expected conversions."""

    def __init__(self, dataset: Dataset) -> None:
        self.outcomes = lead_outcomes(dataset)
        self.by: dict[tuple[str, str], list[float]] = {}  # (kind, name) -> [n, won, revenue]
        #: (kind, name) -> every lead given out, open ones included (``by`` counts the closed).
        self.given: dict[tuple[str, str], int] = {}
        self.expected: dict[str, float] = {}
        #: side -> the leads its rules gave out on the replayed dates (with ``--against``).
        self.assigned: dict[str, int] = {}
        self.rows: list[Row] = []

    @property
    def available(self) -> bool:
        return bool(self.outcomes)

    def add(self, day: Day, other: Day | None) -> None:
        if day.allocation is None or not self.outcomes:
            return
        for a in day.allocation.new_assignments:
            got = self.outcomes.get(a.lead_id, "open")
            for key in (("route", a.rule), ("rep", a.rep_id)):
                self.given[key] = self.given.get(key, 0) + 1
            if got == "open":
                continue
            for key in (("route", a.rule), ("rep", a.rep_id)):
                acc = self.by.setdefault(key, [0.0, 0.0, 0.0])
                acc[0] += 1
                if got is not None:
                    acc[1] += 1
                    acc[2] += float(got)
        if other is not None and other.allocation is not None:
            rates = conversion_rates(day.known, day.as_of)
            for side, d in (("a", day), ("b", other)):
                assert d.allocation is not None
                value = sum(rates.get(x.rep_id, 0.0) for x in d.allocation.new_assignments)
                self.expected[side] = self.expected.get(side, 0.0) + value
                self.assigned[side] = (self.assigned.get(side, 0)
                                       + len(d.allocation.new_assignments))
                self.rows.append(Row(day.as_of.isoformat(), f"allocation.expected.{side}",
                                     "all", value))

    def total_rows(self) -> list[Row]:
        out = [Row(ALL, f"allocation.{kind}.given", name, n)
               for (kind, name), n in sorted(self.given.items())]
        for (kind, name), (n, won, revenue) in sorted(self.by.items()):
            out += [Row(ALL, f"allocation.{kind}.leads", name, n),
                    Row(ALL, f"allocation.{kind}.won_share", name, won / n if n else 0.0),
                    Row(ALL, f"allocation.{kind}.revenue", name, revenue)]
        out += [Row(ALL, f"allocation.expected.{side}", "all", v)
                for side, v in sorted(self.expected.items())]
        return out
