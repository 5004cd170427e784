"""Allocation: route the leads that need a rep through the ordered rules to each rule's policy."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from operator import attrgetter

import attrs

from ..config import RulesConfig, format_path
from ..errors import ConfigError, PluginError, Problems
from ..history import HistoryView
from ..load import Dataset
from ..load.tables import CellError, parse_date
from ..model import Assignment, Lead, Unassigned
from ..resolve import Bound
from .batch import AllocationBatch, AllocationContext, RepSlot
from .conditions import Condition, field_types

__all__ = ["AllocationBatch", "AllocationContext", "AllocationResult", "Prepared", "RepSlot",
           "Route", "allocate", "assigned_values", "lead_order", "normalise_key", "prepare",
           "sorted_positions"]


@attrs.define
class Route:
    """A routing rule ready to run: its condition, eligible reps and policy."""

    name: str
    index: int
    condition: Condition
    policy: Bound
    teams: list[str]
    reps: list[str]


@attrs.frozen
class Kept:
    """A lead left with the active rep who owns it (in the CRM, or by an earlier run)."""

    lead: Lead
    rep_id: str
    source: str  # "export" or "history"


@attrs.define
class AllocationResult:
    assignments: list[Assignment]
    unassigned: list[Unassigned]
    kept: list[Kept]
    slots: dict[str, RepSlot]
    #: Lead ids sent back to the pool by the recycling SLA, with the rep they left.
    recycled: dict[str, str] = attrs.Factory(dict)
    #: Duplicate lead id -> the lead id it duplicates.
    duplicates: dict[str, str] = attrs.Factory(dict)

    @property
    def to_allocate(self) -> int:
        return len(self.assignments) + len(self.unassigned)


def assigned_values(assignments: Iterable[Assignment], leads: Iterable[Lead]) -> dict[str, float]:
    """The value of each assigned lead, by lead id."""
    assigned = {a.lead_id for a in assignments}
    return {lead.id: lead.value for lead in leads if lead.id in assigned}


def lead_order(lead: Lead) -> tuple:
    """Highest priority first, then highest value, then oldest, then id."""
    return (-lead.priority, -lead.value, lead.created_at, lead.id)


def sorted_positions(leads: list[Lead], positions: list[int]) -> list[int]:
    """``positions`` (into ``leads``) in the :func:`lead_order` of their leads.

    Stable sorts from the last key to the first, each on a list of that key
    read once in memory order: C speed, and no tuple per lead.
    """
    out = list(positions)
    for attr, reverse in (("id", False), ("created_at", False), ("value", True),
                          ("priority", True)):
        keys = list(map(attrgetter(attr), leads))  # read in memory order, once per key
        out.sort(key=keys.__getitem__, reverse=reverse)
    return out


_NOT_DIGITS = re.compile(r"\D")


def _is_phone(field: str) -> bool:
    f = field.lower()
    return "phone" in f or "mobile" in f or "电话" in field or "手机" in field


def _phone(value: str) -> str:
    if value.isdigit() and len(value) < 13:
        return value  # the common case, already clean
    digits = _NOT_DIGITS.sub("", value)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]  # +86 138... and 138... are one number
    return digits


def _text(value: str) -> str:
    return value.strip().lower()


def normaliser(field: str):
    """How values of a contact field compare: digits of a phone, else trimmed lower case."""
    return _phone if _is_phone(field) else _text


def normalise_key(field: str, value: str) -> str:
    """The comparable form of a contact field value; empty when there is none."""
    return normaliser(field)(value.strip()) if value and value.strip() else ""


def check_fields(routes: list[Route], dataset: Dataset) -> None:
    """Refuse conditions that do not fit the leads' columns; bind the rest to their types."""
    if not dataset.leads:
        return
    types = field_types(dataset.leads, {n for r in routes for n in r.condition.names})
    problems = Problems()
    for r in routes:
        for error in r.condition.errors(types):
            problems.add(format_path(["allocation", "rules", r.index, "when"]), str(error))
        r.condition = r.condition.typed(types)
    problems.raise_if_any(ConfigError, "routing conditions do not fit the leads' columns:")


def find_duplicates(fields: list[str], kept: list[Kept],
                    pool: list[Lead]) -> dict[str, tuple[str, str]]:
    """Lead id -> (the lead it duplicates, the field), for pool leads sharing a contact key.

    Of the leads with one key, a kept one (the first) wins, else the first in
    :func:`lead_order`. A lead is a duplicate by the first field in ``fields``
    on which it loses. Leads are compared only where keys clash.
    """
    kept_ids = {k.lead.id for k in kept}
    out: dict[str, tuple[str, str]] = {}
    for f in fields:
        norm = normaliser(f)
        first: dict[str, Lead] = {}
        for k in kept:
            value = k.lead.fields.get(f)
            if value and (key := norm(value)):
                first.setdefault(key, k.lead)
        clash: dict[str, list[Lead]] = {}
        setdefault = first.setdefault
        for lead in pool:
            value = lead.fields.get(f)
            if value and (key := norm(value)):
                have = setdefault(key, lead)
                if have is not lead:
                    members = clash.get(key)
                    if members is None:
                        clash[key] = [have, lead]
                    else:
                        members.append(lead)
                    if have.id not in kept_ids and lead_order(lead) < lead_order(have):
                        first[key] = lead
        for key, members in clash.items():
            win = first[key]
            for m in members:
                if m is not win and m.id not in kept_ids:
                    out.setdefault(m.id, (win.id, f))
    return out


def _date_field(lead: Lead, field: str) -> dt.date | None:
    text = lead.fields.get(field, "")
    if not text:
        return None
    try:
        return parse_date(text)
    except CellError:
        return None


@attrs.define
class Prepared:
    """What allocation settles before any rule runs, from the leads, reps and history alone.

    Which leads stay with their owner, which need a rep (in lead order, with
    duplicates set aside), each rep's load so far, and the notes that go into
    reasons. No plugin code is involved.
    """

    slots: dict[str, RepSlot]
    kept: list[Kept]
    #: The leads to route, in :func:`lead_order`, duplicates left out.
    pool: list[Lead]
    #: Duplicate lead id -> (the lead id it duplicates, the field), in lead order.
    duplicates: dict[str, tuple[str, str]]
    #: Lead id -> a note that goes into its reason (recycled, previous owner inactive, ...).
    notes: dict[str, str]
    #: Lead id -> the rep it must not go back to (recycled from them).
    excluded: dict[str, str]
    #: Lead id -> the rep it was recycled from.
    recycled: dict[str, str]


def _window_load(slots: dict[str, RepSlot], history: HistoryView | None) -> set[str]:
    """Count what earlier runs gave each rep within the window; the lead ids counted."""
    in_window: set[str] = set()
    for p in history.window if history is not None else ():
        if p.rep_id in slots:
            slots[p.rep_id].received += 1
            slots[p.rep_id].received_value += p.value
            in_window.add(p.lead_id)
    return in_window


def _owner_of(lead: Lead, history: HistoryView | None, assigned_field: str):
    """The lead's current owner id and where that comes from (``export`` or ``history``)."""
    owner_id, source = lead.owner, "export"
    prior = history.owners.get(lead.id) if history is not None else None
    if prior is not None and prior.rep_id != owner_id:
        # an earlier run gave the lead away; unless the CRM shows a newer owner,
        # the export is just not updated yet
        crm_since = _date_field(lead, assigned_field) if owner_id else None
        if crm_since is None or crm_since <= prior.as_of:
            owner_id, source = prior.rep_id, "history"
    return owner_id, source, prior


def _stale(lead: Lead, owner_id: str, source: str, prior, recycle, as_of: dt.date) -> str | None:
    """The recycling note when the owner has not followed the lead up within the SLA, else None."""
    since = (prior.as_of if source == "history" else
             _date_field(lead, recycle.assigned_field) or (
                 prior.as_of if prior is not None and prior.rep_id == owner_id else None))
    touched = _date_field(lead, recycle.follow_up_field)
    if (since is not None and (as_of - since).days > recycle.after_days
            and (touched is None or touched < since)):
        return (f"recycled from {owner_id} (assigned {since}, no "
                f"follow-up within {recycle.after_days} days)")
    return None


def prepare(cfg: RulesConfig, dataset: Dataset, as_of: dt.date,
            history: HistoryView | None = None) -> Prepared:
    """Settle owners, recycling, load, duplicates and lead order (see :class:`Prepared`)."""
    reps = dataset.reps
    acfg = cfg.allocation
    slots = {rep_id: RepSlot(rep) for rep_id, rep in reps.items()}
    in_window = _window_load(slots, history)
    out = Prepared(slots, [], [], {}, {}, {}, {})
    pool_at: list[int] = []
    recycle = acfg.recycle
    assigned_field = recycle.assigned_field if recycle is not None else "assigned_at"
    for at, lead in enumerate(dataset.leads):
        owner_id, source, prior = _owner_of(lead, history, assigned_field)
        owner = reps.get(owner_id) if owner_id else None
        if owner is not None and owner.active:
            note = _stale(lead, owner.id, source, prior, recycle, as_of) if recycle else None
            if note is None:
                out.kept.append(Kept(lead, owner.id, source))
                if lead.id not in in_window:
                    slots[owner.id].held += 1
                    slots[owner.id].held_value += lead.value
                continue
            out.notes[lead.id] = note
            out.excluded[lead.id] = out.recycled[lead.id] = owner.id
        elif owner_id:
            out.notes[lead.id] = (f"previous owner {owner_id} is inactive" if owner
                                  else f"previous owner {owner_id} is not in the reps file")
        out.pool.append(lead)
        pool_at.append(at)
    duplicates = (find_duplicates(acfg.dedupe_on, out.kept, out.pool)
                  if acfg.dedupe_on and acfg.enabled else {})
    ordered = [dataset.leads[i] for i in sorted_positions(dataset.leads, pool_at)]
    out.pool = [lead for lead in ordered if lead.id not in duplicates]
    out.duplicates = {lead.id: duplicates[lead.id] for lead in ordered if lead.id in duplicates}
    return out


def allocate(cfg: RulesConfig, routes: list[Route], dataset: Dataset, as_of: dt.date,
             seed: int, history: HistoryView | None = None,
             context: AllocationContext | None = None) -> AllocationResult:
    """Route every lead that needs a rep; each ends up assigned or unassigned, exactly once.

    ``history`` holds what earlier runs assigned: within the load window, and
    the last owner of each lead in this export.
    """
    prepared = prepare(cfg, dataset, as_of, history)
    slots, kept, pool = prepared.slots, prepared.kept, prepared.pool
    if not cfg.allocation.enabled:
        return AllocationResult([], [Unassigned(lead.id, "allocation is disabled in rules.toml")
                                     for lead in pool], kept, slots, prepared.recycled)
    check_fields(routes, dataset)
    matched, unassigned = _match(routes, pool, prepared.notes)
    self_sourced = set(cfg.allocation.self_sourced_teams)
    assignments: list[Assignment] = []
    for route, leads in zip(routes, matched):
        if not leads:
            continue
        eligible = [
            slots[rep.id] for rep in dataset.reps.values()
            if rep.active and rep.team not in self_sourced
            and (not route.teams or rep.team in route.teams)
            and (not route.reps or rep.id in route.reps)
            and not dataset.on_leave(rep.id, as_of)
        ]
        batch = AllocationBatch(route.name, route.policy.name, leads, eligible, as_of, seed,
                                prepared.notes, prepared.excluded, context)
        route.policy.call(route.policy.component.allocate, batch)
        batch.finish()
        assignments.extend(batch.assignments)
        unassigned.extend(batch.unassigned)
    unassigned.extend(_duplicates_unassigned(prepared.duplicates, assignments, kept))
    if len(assignments) + len(unassigned) != len(pool) + len(prepared.duplicates):
        raise PluginError("salesrules", "allocation", AssertionError(
            "a lead was lost or decided twice; this is a bug"))
    return AllocationResult(assignments, unassigned, kept, slots, prepared.recycled,
                            {k: v[0] for k, v in prepared.duplicates.items()})


def _match(routes: list[Route], pool: list[Lead],
           notes: dict[str, str]) -> tuple[list[list[Lead]], list[Unassigned]]:
    """Each route's leads (the first rule that matches wins), and the leads no rule matched."""
    matched: list[list[Lead]] = [[] for _ in routes]
    unassigned: list[Unassigned] = []
    rule_names = ", ".join(repr(r.name) for r in routes)
    to_route = pool
    if routes and routes[0].condition.tree is None:
        matched[0], to_route = pool, []  # the first rule takes every lead: nothing to evaluate
    for lead in to_route:
        for i, route in enumerate(routes):
            try:
                hit = route.condition.matches(lead)
            except Exception as exc:
                raise ConfigError(
                    f"{format_path(['allocation', 'rules', route.index, 'when'])}: "
                    f"cannot evaluate for lead {lead.id!r}: {exc}") from None
            if hit:
                matched[i].append(lead)
                break
        else:
            note = notes.get(lead.id)
            unassigned.append(Unassigned(
                lead.id, (note + "; " if note else "") + f"no routing rule matched ({rule_names})"))
    return matched, unassigned


def _duplicates_unassigned(duplicates: dict[str, tuple[str, str]],
                           assignments: list[Assignment], kept: list[Kept]) -> list[Unassigned]:
    """A reason for each duplicate lead, naming where the lead it duplicates went."""
    if not duplicates:
        return []
    went = {a.lead_id: a.rep_id for a in assignments}
    went.update({k.lead.id: k.rep_id for k in kept})
    out = []
    for lead_id, (first, field) in duplicates.items():
        where = f", which went to {went[first]}" if first in went else ", which is unassigned"
        out.append(Unassigned(lead_id, f"duplicate of {first} (same {field})"
                                       f"{where}; handled once"))
    return out
