"""Every deal of a deal export as a lead it once was: what a backtest routes and scores.

A deal export says how each deal ended (its stage: won, lost or still open, and
its amount) but not when its owner got it. :class:`DealLeads` keeps every deal
that is not itself a lead to allocate, with its created time, its extra fields
and how it ended, so that a backtest (docs/backtest.md) can

- replay a past day with the deals created that day as that day's new leads,
  nobody's yet (:meth:`DealLeads.leads_on`; a deal is taken to be handed out at
  the end of the day it was created, as the sample's leads are the day after),
  their stage, amount and close date unknown then;
- score what the replayed rules did with them by how they ended
  (:meth:`DealLeads.outcomes`: won with its amount, or lost).

A ``salesrules run`` never reads it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import attrs
import polars as pl

from ..leads import frame_of
from ..model import Lead

#: The key of :class:`DealLeads` in ``Dataset.extra``.
DEAL_LEADS_KEY = "deals.leads"


@attrs.frozen
class DealLead:
    """One deal as a lead: when it was created, its fields, and how it ended."""

    id: str
    created_at: dt.datetime
    fields: Mapping[str, str]
    #: The amount the export shows (what a won deal brought).
    amount: float
    #: ``True`` won, ``False`` lost, ``None`` still open.
    won: bool | None
    close_date: dt.date | None


class DealLeads:
    """The deals of a deal export as leads, by the day they were created."""

    def __init__(self, deals: list[DealLead] | None = None) -> None:
        self.deals: list[DealLead] = list(deals or [])
        self._by_day: dict[dt.date, list[DealLead]] | None = None

    def add(self, deal: DealLead) -> None:
        self.deals.append(deal)
        self._by_day = None

    def __len__(self) -> int:
        return len(self.deals)

    def leads_on(self, day: dt.date) -> pl.DataFrame:
        """The deals created on ``day`` as that day's new leads (a leads frame): no owner, no
        value, and nothing of how they ended (their stage is blank)."""
        if self._by_day is None:
            self._by_day = {}
            for d in self.deals:
                self._by_day.setdefault(d.created_at.date(), []).append(d)
        return frame_of(Lead(d.id, d.created_at, None, 0, 0.0, {**d.fields, "stage": ""})
                        for d in self._by_day.get(day, []))

    def outcomes(self) -> dict[str, float | None]:
        """Deal id -> its amount if won, ``None`` if lost; open deals are left out."""
        return {d.id: (d.amount if d.won else None) for d in self.deals if d.won is not None}

    def until(self, day: dt.date) -> DealLeads:
        """The deals as they stood at the end of ``day``: those created by then, an outcome
        only where the deal had closed by then (a backtest's past day)."""
        out = []
        for d in self.deals:
            if d.created_at.date() > day:
                continue
            if d.close_date is None or d.close_date > day:  # open then: its amount may change
                d = attrs.evolve(d, won=None, close_date=None, amount=0.0)
            out.append(d)
        return DealLeads(out)
