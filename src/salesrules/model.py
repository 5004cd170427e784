"""The domain's nouns: reps, leads, activity, funnel stages, targets, assignments, findings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableSequence, Sequence
from typing import Literal, overload

import attrs

Unit = Literal["count", "amount"]
Grain = Literal["quarter", "month", "week", "day"]
Severity = Literal["info", "warn", "critical"]
SubjectKind = Literal["rep", "team"]

Cause = Literal["activity", "conversion", "data", "other"]

SEVERITIES: tuple[str, ...] = ("info", "warn", "critical")
#: What a finding can name as its cause (``Finding.cause``).
CAUSES: tuple[str, ...] = ("activity", "conversion", "data", "other")


# ---------------------------------------------------------------- people


@attrs.frozen
class Rep:
    """A sales rep: who they are, where they sit, and whether they take leads."""

    id: str
    name: str
    team: str
    level: str
    active: bool = True
    #: Most new leads this rep may receive in one day; ``None`` means no cap.
    capacity: int | None = None
    #: Any further columns of the reps file, by their mapped name.
    fields: Mapping[str, str] = attrs.field(factory=dict, eq=False)


@attrs.define
class Lead:
    """A customer resource (名片) to route to a rep."""

    id: str
    created_at: dt.datetime
    #: Rep id of the current owner, if the CRM says it has one.
    owner: str | None = None
    priority: int = 0
    value: float = 0.0
    #: Further columns (source, region, grade, ...) that routing rules can use.
    fields: Mapping[str, str] = attrs.field(factory=dict, eq=False)


# ---------------------------------------------------------------- funnel


@attrs.frozen
class Stage:
    """One funnel stage, such as dials (外呼) or revenue (业绩)."""

    name: str
    label: str = ""
    unit: Unit = "count"
    #: Ratio of this stage to the previous one when there is no history: a
    #: conversion rate between two counts or two amounts, or an amount per
    #: customer (ARPU) from a count to an amount.
    default_rate: float | None = None
    #: ``process`` (behaviour a rep controls: dials, connects, conversations) or
    #: ``result`` (what it yields: intents, pipeline, revenue). Empty: amount
    #: stages and the last count stage are results, the other counts process.
    kind: str = ""

    @property
    def scale(self) -> int:
        """Integer units per displayed unit: amounts are kept in cents."""
        return 100 if self.unit == "amount" else 1


@attrs.frozen
class Funnel:
    """The ordered funnel stages, from the first touch to the result."""

    stages: tuple[Stage, ...]
    _index: dict[str, int] = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_index", {s.name: i for i, s in enumerate(self.stages)})

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    def index(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise ValueError(f"{name!r} is not a funnel stage") from None

    def stage(self, name: str) -> Stage:
        return self.stages[self.index(name)]

    @property
    def result(self) -> Stage:
        return self.stages[-1]

    def kind_of(self, name: str) -> str:
        """``process`` or ``result``, declared or by the default rule."""
        s = self.stage(name)
        if s.kind:
            return s.kind
        counts = [x.name for x in self.stages if x.unit == "count"]
        return "result" if s.unit == "amount" or (counts and name == counts[-1]) else "process"

    @property
    def process(self) -> tuple[str, ...]:
        return tuple(n for n in self.names if self.kind_of(n) == "process")

    def links(self) -> Iterator[tuple[Stage, Stage]]:
        """Each adjacent pair ``(upper, lower)``, from the top of the funnel down."""
        return zip(self.stages, self.stages[1:])

    def upstream(self, name: str) -> str | None:
        """The nearest count stage above ``name``: what it converts from (``None`` at the top)."""
        for above in reversed(self.names[: self.index(name)]):
            if self.stage(above).unit == "count":
                return above
        return None

    @staticmethod
    def link_kind(upper: Stage, lower: Stage) -> str:
        """What the ratio ``lower / upper`` means: a
        conversion ``rate``, or ``arpu`` (count to amount)."""
        return link_kind(upper, lower)


def link_kind(upper: Stage, lower: Stage) -> str:
    """What the ratio ``lower / upper`` means: a conversion ``rate`` or ``arpu``."""
    return "arpu" if upper.unit == "count" and lower.unit == "amount" else "rate"


# ---------------------------------------------------------------- activity


# Held as columns: see :mod:`salesrules.activity`.
from .activity import ActivityTable, DailyActivity  # noqa: E402,F401

# ---------------------------------------------------------------- goals


@attrs.frozen
class Period:
    """A span of calendar days, both ends inclusive."""

    grain: Grain
    start: dt.date
    end: dt.date

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def days(self) -> Iterator[dt.date]:
        d = self.start
        while d <= self.end:
            yield d
            d += dt.timedelta(days=1)


@attrs.frozen
class Goal:
    """A result target for one rep over the run's period, before decomposition."""

    rep_id: str
    stage: str
    amount: float
    #: Where the goal came from, e.g. "level P2".
    source: str = ""


@attrs.frozen
class GoalOverride:
    """A target from the goals file, for one rep or a whole team, replacing the level target."""

    stage: str
    amount: float
    rep_id: str = ""
    team: str = ""
    #: Where it was read, for messages.
    where: str = ""


@attrs.frozen
class Target:
    """A target for one rep, funnel stage and period.

    ``value`` is an integer in the stage's units: a count, or cents for amounts.
    """

    rep_id: str
    team: str
    stage: str
    grain: Grain
    start: dt.date
    end: dt.date
    value: int
    #: How the number was computed, in words.
    trace: str = ""


@attrs.frozen
class ProgressRow:
    """Where one rep (or, summed, one team) stands on one funnel stage, to date."""

    rep_id: str
    team: str
    stage: str
    actual: float
    expected_to_date: float
    target: float
    #: Where the period ends if the rest goes at the pace so far (along the target curve).
    projected: float = 0.0
    #: What each remaining working day now needs to reach the target (the re-plan).
    required_per_day: float = 0.0
    remaining_days: int = 0
    #: ``rep``, or ``team`` for a team's sums (then ``rep_id`` is empty).
    subject_kind: str = "rep"

    @property
    def attainment(self) -> float | None:
        return self.actual / self.target if self.target else None

    @property
    def pace(self) -> float | None:
        """Actual against expected to date: 1.0 is exactly on pace."""
        return self.actual / self.expected_to_date if self.expected_to_date else None


# ---------------------------------------------------------------- allocation


@attrs.frozen
class Assignment:
    """A lead given to a rep, with the reason in words."""

    lead_id: str
    rep_id: str
    team: str
    policy: str
    rule: str
    reason: str


@attrs.frozen
class Unassigned:
    """A lead that needed a rep and did not get one, with the reason."""

    lead_id: str
    reason: str


class UnassignedList(MutableSequence[Unassigned]):
    """Unassigned leads held as two columns, lead ids and reasons: each :class:`Unassigned`
    is made when it is read (a run may leave most of 200,000 leads unassigned, and the
    outputs read the columns). It does what a list does (``+``, ``+=``, ``sort``, ``pop``,
    ``del``, item assignment) but is not a ``list``; ``list(x)`` makes one. Equal to any
    sequence of the same Unassigned."""

    __slots__ = ("lead_ids", "reasons")

    def __init__(self, items: Iterable[Unassigned] = ()) -> None:
        #: Each unassigned lead's id, in order (a reader may use the two lists as columns).
        self.lead_ids: list[str] = []
        #: Each unassigned lead's reason, in the same order.
        self.reasons: list[str] = []
        self.extend(items)

    def append(self, item: Unassigned) -> None:
        self.lead_ids.append(item.lead_id)
        self.reasons.append(item.reason)

    def extend(self, items: Iterable[Unassigned]) -> None:
        if isinstance(items, UnassignedList):
            self.add(items.lead_ids, items.reasons)
        else:
            for item in items:
                self.append(item)

    def add(self, lead_ids: Iterable[str], reasons: Iterable[str]) -> None:
        """Add leads by their ids and reasons (two sequences of the same length)."""
        self.lead_ids.extend(lead_ids)
        self.reasons.extend(reasons)

    def __len__(self) -> int:
        return len(self.lead_ids)

    @overload
    def __getitem__(self, i: int) -> Unassigned: ...

    @overload
    def __getitem__(self, i: slice) -> list[Unassigned]: ...

    def __getitem__(self, i: int | slice) -> Unassigned | list[Unassigned]:
        if isinstance(i, slice):
            return list(map(Unassigned, self.lead_ids[i], self.reasons[i]))
        return Unassigned(self.lead_ids[i], self.reasons[i])

    def __iter__(self) -> Iterator[Unassigned]:
        return map(Unassigned, self.lead_ids, self.reasons)

    @overload
    def __setitem__(self, i: int, item: Unassigned) -> None: ...

    @overload
    def __setitem__(self, i: slice, item: Iterable[Unassigned]) -> None: ...

    def __setitem__(self, i: int | slice, item: Unassigned | Iterable[Unassigned]) -> None:
        if isinstance(i, slice):
            items = list(item)  # type: ignore[arg-type]
            self.lead_ids[i] = [u.lead_id for u in items]
            self.reasons[i] = [u.reason for u in items]
        else:
            self.lead_ids[i], self.reasons[i] = item.lead_id, item.reason  # type: ignore[union-attr]

    def __delitem__(self, i: int | slice) -> None:
        del self.lead_ids[i]
        del self.reasons[i]

    def insert(self, i: int, item: Unassigned) -> None:
        self.lead_ids.insert(i, item.lead_id)
        self.reasons.insert(i, item.reason)

    def __add__(self, other: Iterable[Unassigned]) -> UnassignedList:
        out = UnassignedList(self)
        out.extend(other)
        return out

    def __radd__(self, other: Iterable[Unassigned]) -> UnassignedList:
        out = UnassignedList(other)
        out.extend(self)
        return out

    def sort(self, *, key: Callable[[Unassigned], object] | None = None,
             reverse: bool = False) -> None:
        """Sorted in place, as ``list.sort`` sorts a list of the same Unassigned."""
        items = sorted(self, key=key, reverse=reverse)  # type: ignore[arg-type]
        self.lead_ids = [u.lead_id for u in items]
        self.reasons = [u.reason for u in items]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, UnassignedList):
            return self.lead_ids == other.lead_ids and self.reasons == other.reasons
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"UnassignedList({list(self)!r})"


# ---------------------------------------------------------------- checks


@attrs.frozen
class Finding:
    """Something a manager should look at: who, which check, how bad, and why."""

    subject: str
    subject_kind: SubjectKind
    check: str
    severity: Severity
    message: str
    #: The numbers behind the finding.
    evidence: Mapping[str, object] = attrs.field(factory=dict)
    #: What to do about it.
    action: str = ""
    #: Why: ``activity`` (the work was not done), ``conversion`` (the work was done
    #: without results), ``data`` (the export is wrong) or ``other``.
    cause: Cause = "other"
    #: The funnel stage or step most responsible, e.g. ``dials`` or
    #: ``conversations→intents``; empty when no single stage is.
    stage: str = ""
