"""Deal exports' presets: their columns, stage values and stage dates; closed deals by rep."""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from ..model import Funnel

FIELDS = ("id", "owner", "stage", "amount", "created_at", "close_date")
#: The key of :class:`ClosedDeals` in ``Dataset.extra``.
CLOSED_KEY = "deals.closed"

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

#: The funnel stages the presets' stage values reach, in funnel order. A funnel
#: without one of them counts a deal at the deepest of them it has.
PRESET_PATH = ("intents", "pipeline", "wins", "revenue")
#: Every preset's stage dates: the stages not named here are dated by ``created_at``.
PRESET_DATES = {"wins": "close_date", "revenue": "close_date"}


@attrs.define
class DealStage:
    """Where a deal at this stage value stands: how far down the funnel, and whether closed."""

    #: The funnel stage the deal has reached; it also counts in every stage
    #: from ``entry`` down to this one. Empty: it counts only as ``entry``.
    reaches: str = ""
    #: A date column that dates the reached stage for deals at this value,
    #: over ``dates``; empty means ``dates`` decides.
    date: str = ""
    #: Whether the deal is closed (won or lost): a closed deal must have a close date.
    #: A closed deal that reaches the funnel's result stage is won, any other is lost.
    closed: bool = False


def _stages(*pairs: tuple[str, DealStage]) -> dict[str, DealStage]:
    return dict(pairs)


ENTRY = DealStage("")
OPEN = DealStage("pipeline")
WON = DealStage("revenue", closed=True)
LOST = DealStage("pipeline", closed=True)

#: The standard stage values of each preset's default sales process.
PRESET_STAGES: dict[str, dict[str, DealStage]] = {
    "salesforce": _stages(
        ("Prospecting", ENTRY), ("Qualification", ENTRY),
        ("Needs Analysis", OPEN), ("Value Proposition", OPEN), ("Id. Decision Makers", OPEN),
        ("Perception Analysis", OPEN), ("Proposal/Price Quote", OPEN),
        ("Negotiation/Review", OPEN), ("Closed Won", WON), ("Closed Lost", LOST)),
    "hubspot": _stages(
        ("Appointment Scheduled", ENTRY), ("Qualified To Buy", ENTRY),
        ("Presentation Scheduled", OPEN), ("Decision Maker Bought-In", OPEN),
        ("Contract Sent", OPEN), ("Closed Won", WON), ("Closed Lost", LOST)),
    "generic": _stages(
        ("New", ENTRY), ("Prospecting", ENTRY), ("Engaging", ENTRY), ("Proposal", OPEN),
        ("Won", WON), ("Lost", LOST)),
}


@attrs.define
class KnownFile:
    """Known values read from a column of a reference file (e.g. the CRM's product list)."""

    #: The file, relative to the deals file's folder.
    file: str
    #: Its column that holds the values.
    column: str


def _known_values(value: Any) -> list[str] | KnownFile:
    if isinstance(value, dict):
        extra = set(value) - {"file", "column"}
        if extra or not {"file", "column"} <= set(value):
            raise ValueError("known: a reference file is { file = \"...\", column = \"...\" }")
        return KnownFile(str(value["file"]), str(value["column"]))
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ValueError("known: expected a list of values or { file = ..., column = ... }, "
                     f"got {value!r}")


@attrs.frozen
class ClosedCounts:
    """How many of a rep's deals closed in a window were won and lost."""

    won: int
    lost: int


@attrs.frozen
class ClosedWindow:
    """Deals closed in a window, per rep in the order asked: how many were won, and how many
    closed at all (won plus lost); open deals are in neither."""

    won: tuple[int, ...]
    closed: tuple[int, ...]


def won_stage(funnel: Funnel, reached: Iterable[tuple[bool, int]]) -> str | None:
    """The stage whose rate is won ÷ (won + lost) of the deals closed: the first count stage
    that won deals reach and lost ones do not, with a count stage just above it (the link into
    it). ``reached`` gives, per stage value, whether it is closed and the funnel index it
    counts down to. ``None`` when no stage is reached by won deals only (lost deals reach as
    far as the last count stage), or when no stage value means lost."""
    result = funnel.index(funnel.result.name)
    lost = [r for closed, r in reached if closed and r < result]
    if not lost:
        return None
    for i in range(max(lost) + 1, result + 1):
        if funnel.stages[i].unit == "count":
            return funnel.names[i] if i and funnel.stages[i - 1].unit == "count" else None
    return None


class ClosedDeals:
    """Each rep's closed deals by close date: how many were won and lost in a window."""

    def __init__(self, stage: str | None = None) -> None:
        #: The stage whose rate is a win rate of these deals (:func:`won_stage`).
        self.stage = stage
        self._days: dict[str, list[dt.date]] = {}
        self._won: dict[str, list[int]] = {}
        self._rows: list[tuple[str, dt.date, bool]] = []

    def add(self, rep_id: str, day: dt.date, won: bool) -> None:
        self._rows.append((rep_id, day, won))

    def seal(self) -> ClosedDeals:
        """Index the added deals (called once, when every file is read)."""
        for rep_id, day, won in sorted(self._rows):
            self._days.setdefault(rep_id, []).append(day)
            won_so_far = self._won.setdefault(rep_id, [0])
            won_so_far.append(won_so_far[-1] + won)
        self._rows = []
        return self

    def until(self, day: dt.date) -> ClosedDeals:
        """The deals closed by the end of ``day``, as a new index (a backtest's past day)."""
        out = ClosedDeals(self.stage)
        for rep_id, days in self._days.items():
            won = self._won[rep_id]
            for k, d in enumerate(days):
                if d <= day:
                    out.add(rep_id, d, won[k + 1] > won[k])
        return out.seal()

    def counts(self, rep_id: str, start: dt.date, end: dt.date) -> ClosedCounts:
        """How many of the rep's deals closed in ``[start, end]`` were won and lost."""
        days = self._days.get(rep_id, [])
        a, b = bisect.bisect_left(days, start), bisect.bisect_right(days, end)
        won = self._won[rep_id][b] - self._won[rep_id][a] if days else 0
        return ClosedCounts(won, (b - a) - won)

    def window(self, rep_ids: Sequence[str], start: dt.date, end: dt.date) -> ClosedWindow:
        """The deals each of ``rep_ids`` closed in ``[start, end]``: won, and won plus lost."""
        won, closed = [], []
        for rep_id in rep_ids:
            days = self._days.get(rep_id, [])
            a, b = bisect.bisect_left(days, start), bisect.bisect_right(days, end)
            won.append(self._won[rep_id][b] - self._won[rep_id][a] if days else 0)
            closed.append(b - a)
        return ClosedWindow(tuple(won), tuple(closed))

    def win_rate(self, rep_id: str, start: dt.date, end: dt.date) -> float | None:
        """won ÷ (won + lost) in the window; ``None`` without a closed deal."""
        c = self.counts(rep_id, start, end)
        return c.won / (c.won + c.lost) if c.won + c.lost else None


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
