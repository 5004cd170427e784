"""What an allocation policy receives: one routing rule's leads and the reps it may give them to."""

from __future__ import annotations

import datetime as dt
import operator
from collections import Counter
from collections.abc import Sequence
from itertools import compress
from typing import TYPE_CHECKING, Any

import attrs
import polars as pl

from ..leads import LeadList
from ..model import Assignment, Lead, Rep, Unassigned, UnassignedList
from ..words import say_each, sayer
from .reasons import REASONS, reason, reasoner

if TYPE_CHECKING:
    from ..goals import GoalPlan
    from ..load import Dataset
    from ..model import ProgressRow


@attrs.define(eq=False)
class RepSlot:
    """A rep as allocation sees them: load so far, and today's count against the cap.

    Slots are shared by every rule of a run, so a cap holds across rules.
    """

    rep: Rep
    #: Open leads the rep holds that no earlier run gave them (count, value).
    held: int = 0
    held_value: float = 0.0
    #: Leads earlier runs gave the rep within ``allocation.window_days``.
    received: int = 0
    received_value: float = 0.0
    #: Leads given to the rep on the as-of day so far: by earlier runs of the day, then this one.
    today: int = 0
    today_value: float = 0.0

    @property
    def load(self) -> int:
        """Leads counted for balance before this run: held plus received."""
        return self.held + self.received

    @property
    def load_value(self) -> float:
        return self.held_value + self.received_value

    @property
    def capacity(self) -> int | None:
        return self.rep.capacity

    @property
    def remaining(self) -> int | None:
        """Leads the rep can still take today; ``None`` when uncapped."""
        return None if self.rep.capacity is None else max(self.rep.capacity - self.today, 0)

    @property
    def full(self) -> bool:
        return self.rep.capacity is not None and self.today >= self.rep.capacity

    def cap_text(self, n: int | None = None) -> str:
        """Where the next lead would put the rep against their cap, in words; with ``n``,
        where their ``n``-th lead of the day does (for a policy that decides many at once)."""
        n = self.today + 1 if n is None else n
        if self.rep.capacity is None:
            return sayer("no-cap", REASONS)(n=n)
        return sayer("cap", REASONS)(n=n, cap=self.rep.capacity)  # once per lead


@attrs.frozen
class AllocationContext:
    """The run so far, for policies that rank or weigh reps: computed once per run."""

    dataset: Dataset
    goals: GoalPlan
    progress: tuple[ProgressRow, ...]
    as_of: dt.date
    seed: int
    #: A place for a policy to keep per-run results (e.g. rankings), by its own key.
    cache: dict[Any, Any] = attrs.field(factory=dict, eq=False)


class AllocationBatch:
    """One rule's leads, sorted by priority, value and age, and its eligible reps.

    A policy calls :meth:`assign` or :meth:`skip` for each lead. Leads it does
    neither for are listed as unassigned. The kernel refuses assignments to a
    rep outside the batch, past a cap, to a rep the lead was recycled from, or
    of a lead twice.
    """

    def __init__(self, rule: str, policy: str, leads: Sequence[Lead],
                 reps: Sequence[RepSlot], as_of: dt.date, seed: int,
                 notes: dict[str, str] | None = None,
                 excluded: dict[str, str] | None = None,
                 context: AllocationContext | None = None, shown: str = "") -> None:
        self.rule = rule
        self.policy = policy
        #: The rule's leads, best first (a LeadList: each Lead is built as it is read).
        self.leads = leads if isinstance(leads, LeadList) else list(leads)
        self.reps = list(reps)
        self.as_of = as_of
        self.seed = seed
        self.notes = notes or {}
        #: lead id -> rep id the lead may not go back to (it was recycled from them)
        self.excluded = excluded or {}
        self.context = context
        self._slots = {s.rep.id: s for s in self.reps}
        self.assignments: list[Assignment] = []
        self.unassigned = UnassignedList()
        # Leads are usually decided in the order given: then ``leads[:_next]`` are the
        # decided ones and no set is needed. The first lead decided out of order
        # switches to sets of ids (made then).
        self._next = 0
        self._lead_ids: set[str] | None = None
        self._done: set[str] | None = None
        self._base = reason("prefix", rule=rule, policy=shown or policy)

    def allowed(self, lead: Lead, slot: RepSlot) -> bool:
        """Whether ``slot`` may take ``lead``: room today, and not the rep it was recycled from."""
        return not slot.full and self.excluded.get(lead.id) != slot.rep.id

    def _prefix(self, lead_id: str) -> str:
        """The kernel's part of a lead's reason: the rule and policy, after the lead's note."""
        note = self.notes.get(lead_id)
        return reason("note", note=note, rest=self._base) if note else self._base

    def _claim(self, lead: Lead) -> None:
        at = self._next
        if self._done is None and at < len(self.leads) and self.leads[at] is lead:
            self._next = at + 1  # the next lead in order: not decided yet, by construction
            return
        done = self._done_ids(at)
        assert self._lead_ids is not None
        if lead.id not in self._lead_ids:
            raise ValueError(f"lead {lead.id!r} is not in this batch")
        if lead.id in done:
            raise ValueError(f"lead {lead.id!r} was already decided")
        done.add(lead.id)

    @property
    def decided(self) -> int:
        """How many of the batch's leads have been assigned or skipped so far."""
        return self._next if self._done is None else len(self._done)

    def assign(self, lead: Lead, rep: RepSlot | Rep | str, why: str) -> None:
        """Give ``lead`` to ``rep``; ``why`` is the policy's part of the reason."""
        if isinstance(rep, str):
            rep_id = rep
        else:
            rep_id = rep.rep.id if isinstance(rep, RepSlot) else rep.id
        slot = self._slots.get(rep_id)
        if slot is None:
            raise ValueError(f"rep {rep_id!r} is not eligible under rule {self.rule!r}")
        if slot.full:
            raise ValueError(f"rep {rep_id!r} is at their daily capacity of {slot.capacity}")
        if self.excluded.get(lead.id) == rep_id:
            raise ValueError(f"lead {lead.id!r} was recycled from rep {rep_id!r} and may not "
                             "go back to them")
        self._claim(lead)
        slot.today += 1
        slot.today_value += lead.value
        self.assignments.append(Assignment(lead.id, rep_id, slot.rep.team, self.policy,
                                           self.rule, self._prefix(lead.id) + why))

    def assign_rows(self, rows: Sequence[int], reps: Sequence[str], whys: Sequence[str]
                    ) -> None:
        """Give the leads at positions ``rows`` of ``leads`` (and of ``frame``) to the
        reps with ids ``reps``, each with its reason: :meth:`assign` for many leads at once,
        in the order given, for a policy that decides them as columns. Every lead is
        checked as :meth:`assign` checks one, and nothing is assigned if any is refused."""
        rows = [operator.index(r) for r in rows]  # whole numbers: 1.7 is not a row
        if not len(rows) == len(reps) == len(whys):
            raise ValueError("assign_rows needs as many reps and reasons as rows")
        if not all(isinstance(w, str) for w in whys):
            raise TypeError("assign_rows: every reason must be text")
        ids = self._ids()
        if any(not 0 <= r < len(ids) for r in rows):
            raise ValueError(f"a row is outside the batch's {len(ids)} leads")
        lead_ids = [ids[r] for r in rows]
        self._refuse(lead_ids, reps)
        self._claim_all(rows, lead_ids)
        leads = self.leads
        values = (leads.frame["value"].gather(rows).to_list() if isinstance(leads, LeadList)
                  else [leads[r].value for r in rows])
        slots = self._slots
        for rep_id, value in zip(reps, values):
            slot = slots[rep_id]
            slot.today += 1
            slot.today_value += value
        prefix, policy, rule = self._prefix, self.policy, self.rule
        self.assignments.extend(
            Assignment(i, rep_id, slots[rep_id].rep.team, policy, rule, prefix(i) + why)
            for i, rep_id, why in zip(lead_ids, reps, whys))

    def cap_texts(self, reps: Sequence[str], n: Sequence[int]) -> list[str]:
        """:meth:`RepSlot.cap_text` for many leads: where each rep's ``n``-th lead of the
        day puts them against their cap, in words."""
        caps = [self._slots[r].capacity for r in reps]
        if all(c is not None for c in caps):
            return say_each("cap", REASONS, n=n, cap=caps)
        if all(c is None for c in caps):
            return say_each("no-cap", REASONS, n=n)
        return [self._slots[r].cap_text(k) for r, k in zip(reps, n)]

    def _refuse(self, lead_ids: list[str], reps: Sequence[str]) -> None:
        """The first reason :meth:`assign_rows` may not give these leads to these reps."""
        slots = self._slots
        outside = next((r for r in reps if r not in slots), None)
        if outside is not None:
            raise ValueError(f"rep {outside!r} is not eligible under rule {self.rule!r}")
        for rep_id, k in Counter(reps).items():
            room = slots[rep_id].remaining
            if room is not None and k > room:
                raise ValueError(f"rep {rep_id!r} has room for {room} more lead(s) today "
                                 f"(cap {slots[rep_id].capacity}), not {k}")
        excluded = self.excluded
        for lead_id, rep_id in zip(lead_ids, reps):
            if excluded.get(lead_id) == rep_id:
                raise ValueError(f"lead {lead_id!r} was recycled from rep {rep_id!r} and may "
                                 "not go back to them")

    def _done_ids(self, at: int) -> set[str]:
        """The decided lead ids as a set: made, with the set of the batch's lead ids, when
        the first lead is decided out of order (the first ``at`` were decided in order)."""
        if self._done is None:
            ids = self._ids()
            self._lead_ids, self._done = set(ids), set(ids[:at])
        return self._done

    def _claim_all(self, rows: list[int], lead_ids: list[str]) -> None:
        """:meth:`_claim` of many leads: all of them, or (refused) none."""
        at = self._next
        if self._done is None and rows == list(range(at, at + len(rows))):
            self._next = at + len(rows)
            return
        done = self._done_ids(at)
        twice = next((i for i in lead_ids if i in done), None)
        if twice is None and len(set(lead_ids)) < len(lead_ids):
            twice = next(i for i, k in Counter(lead_ids).items() if k > 1)
        if twice is not None:
            raise ValueError(f"lead {twice!r} was already decided")
        done.update(lead_ids)

    def skip(self, lead: Lead, why: str) -> None:
        """Leave ``lead`` unassigned, with the reason."""
        self._claim(lead)
        self.unassigned.append(Unassigned(lead.id, self._prefix(lead.id) + why))

    def skip_rest(self, why: str) -> None:
        """Leave every lead not yet decided unassigned, with the same reason."""
        notes = self.notes
        plain = self._base + why
        if self._done is None:
            rest = self._ids()[self._next:]
            self._next = len(self.leads)
        else:
            done = self._done
            rest = [i for i in self._ids() if i not in done]
            done.update(rest)
        reasons = [plain] * len(rest)
        if notes:  # the few leads with a note, found at C speed
            noted = reasoner("note")
            for k in compress(range(len(rest)), map(notes.get, rest)):
                reasons[k] = noted(note=notes[rest[k]], rest=plain)
        self.unassigned.add(rest, reasons)

    @property
    def frame(self) -> pl.DataFrame:
        """The batch's leads as columns, for a vectorised policy (see ``salesrules.leads``)."""
        return LeadList.of(self.leads).frame

    def _ids(self) -> list[str]:
        leads = self.leads
        return leads.ids if isinstance(leads, LeadList) else [x.id for x in leads]

    def finish(self) -> None:
        """Called by the kernel after the policy: leads it left undecided become unassigned."""
        if self.decided < len(self.leads):
            self.skip_rest(reason("no-one"))
