"""Allocation: route the leads that need a rep through the ordered rules to each rule's policy."""

from __future__ import annotations

import datetime as dt
import re
import time
from array import array
from collections.abc import Callable, Iterable
from operator import attrgetter

import attrs

from ..config import RulesConfig, format_path
from ..errors import ConfigError, PluginError, Problems
from ..history import HistoryView
from ..load import Dataset
from ..load.tables import CellError, parse_date
from ..model import Assignment, Lead, Unassigned
from ..parallel import Job
from ..resolve import Bound
from .batch import AllocationBatch, AllocationContext, RepSlot
from .conditions import LEAD_NAMES, Condition

__all__ = ["AllocationBatch", "AllocationContext", "AllocationResult", "Prepared", "RepSlot",
           "Route", "allocate", "assigned_values", "lead_order", "normalise_key", "prepare",
           "sorted_positions", "start_prepare"]


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
    """Refuse conditions that name a field the leads file does not have."""
    if not dataset.leads:
        return
    known = set(LEAD_NAMES) | set(dataset.leads[0].fields)
    problems = Problems()
    for r in routes:
        for name in r.condition.names:
            if name not in known:
                problems.add(format_path(["allocation", "rules", r.index, "when"]),
                             f"unknown lead field {name!r} (fields: {', '.join(sorted(known))})")
    problems.raise_if_any(ConfigError, "routing rules name fields the leads do not have:")


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
    reasons. No plugin code is involved, so a run can work this out on a
    second core while goals, progress and checks run (:func:`start_prepare`).
    """

    slots: dict[str, RepSlot]
    kept: list[Kept]
    #: The leads to route, in :func:`lead_order`, duplicates left out.
    pool: list[Lead]
    #: Duplicate lead id -> (the lead id it duplicates, the field), in lead order.
    duplicates: dict[str, tuple[str, str]]
    notes: dict[str, str]
    excluded: dict[str, str]
    recycled: dict[str, str]
    #: Seconds it took (on whichever core).
    seconds: float = 0.0


def prepare(cfg: RulesConfig, dataset: Dataset, as_of: dt.date,
            history: HistoryView | None = None) -> Prepared:
    """Settle owners, recycling, load, duplicates and lead order (see :class:`Prepared`)."""
    return _unpacked(_settle(cfg, dataset, as_of, history), dataset)


def _settle(cfg: RulesConfig, dataset: Dataset, as_of: dt.date,
            history: HistoryView | None) -> tuple:
    """:func:`prepare`, with leads as their positions in ``dataset.leads`` (cheap to send)."""
    started = time.perf_counter()
    reps = dataset.reps
    acfg = cfg.allocation
    slots = {rep_id: RepSlot(rep) for rep_id, rep in reps.items()}
    # what earlier runs gave each rep within the window, and each lead's last owner
    in_window: set[str] = set()
    last_owner = history.owners if history is not None else {}
    for p in history.window if history is not None else ():
        if p.rep_id in slots:
            slots[p.rep_id].received += 1
            slots[p.rep_id].received_value += p.value
            in_window.add(p.lead_id)

    kept: list[Kept] = []
    kept_at: list[int] = []
    pool: list[Lead] = []
    pool_at: list[int] = []
    notes: dict[str, str] = {}
    excluded: dict[str, str] = {}
    recycled: dict[str, str] = {}
    recycle = acfg.recycle
    assigned_field = recycle.assigned_field if recycle is not None else "assigned_at"
    for at, lead in enumerate(dataset.leads):
        owner_id, source = lead.owner, "export"
        prior = last_owner.get(lead.id)
        if prior is not None and prior.rep_id != owner_id:
            # an earlier run gave the lead away; unless the CRM shows a newer owner,
            # the export is just not updated yet
            crm_since = _date_field(lead, assigned_field) if owner_id else None
            if crm_since is None or crm_since <= prior.as_of:
                owner_id, source = prior.rep_id, "history"
        owner = reps.get(owner_id) if owner_id else None
        if owner is not None and owner.active:
            if recycle is not None:
                since = (prior.as_of if source == "history" else
                         _date_field(lead, recycle.assigned_field) or (
                             prior.as_of if prior is not None and prior.rep_id == owner.id
                             else None))
                touched = _date_field(lead, recycle.follow_up_field)
                if (since is not None and (as_of - since).days > recycle.after_days
                        and (touched is None or touched < since)):
                    notes[lead.id] = (f"recycled from {owner.id} (assigned {since}, no "
                                      f"follow-up within {recycle.after_days} days)")
                    excluded[lead.id] = owner.id
                    recycled[lead.id] = owner.id
                    pool.append(lead)
                    pool_at.append(at)
                    continue
            kept.append(Kept(lead, owner.id, source))
            kept_at.append(at)
            if lead.id not in in_window:
                slots[owner.id].held += 1
                slots[owner.id].held_value += lead.value
        else:
            if owner_id:
                notes[lead.id] = (f"previous owner {owner_id} is inactive" if owner
                                  else f"previous owner {owner_id} is not in the reps file")
            pool.append(lead)
            pool_at.append(at)
    # found in file order, which walks memory in order; listed in lead order below
    duplicates = (find_duplicates(acfg.dedupe_on, kept, pool) if acfg.dedupe_on and acfg.enabled
                  else {})
    order = sorted_positions(dataset.leads, pool_at)
    if duplicates:  # set aside by position: looking at each lead in lead order is slow
        dup_at = {at for at, lead in zip(pool_at, pool) if lead.id in duplicates}
        leads = dataset.leads
        duplicates = {leads[i].id: duplicates[leads[i].id] for i in order if i in dup_at}
        order = [i for i in order if i not in dup_at]
    return (array("l", order), [(at, k.rep_id, k.source) for at, k in zip(kept_at, kept)],
            {r: (s.held, s.held_value, s.received, s.received_value) for r, s in slots.items()},
            duplicates, notes, excluded, recycled, time.perf_counter() - started)


def _unpacked(settled: tuple, dataset: Dataset) -> Prepared:
    """:func:`_settle`'s positions and counters back as the dataset's own leads and reps."""
    order, kept, counts, duplicates, notes, excluded, recycled, seconds = settled
    leads = dataset.leads
    slots = {rep_id: RepSlot(dataset.reps[rep_id], *c) for rep_id, c in counts.items()}
    return Prepared(slots, [Kept(leads[i], rep_id, source) for i, rep_id, source in kept],
                    list(map(leads.__getitem__, order)), duplicates, notes, excluded, recycled,
                    seconds)


def start_prepare(cfg: RulesConfig, dataset: Dataset, as_of: dt.date,
                  history: HistoryView | None = None) -> Callable[[], Prepared]:
    """Start :func:`prepare` on a second core where a run is big enough; call the result to get it.

    Leads travel back as their positions in ``dataset.leads``, and slots as
    their counters, so that little is copied between the processes.
    """
    job = Job(lambda: _settle(cfg, dataset, as_of, history), len(dataset.leads),
              enabled=cfg.output.parallel)
    return lambda: _unpacked(job.wait(), dataset)


def allocate(cfg: RulesConfig, routes: list[Route], dataset: Dataset, as_of: dt.date,
             seed: int, history: HistoryView | None = None,
             context: AllocationContext | None = None,
             prepared: Prepared | None = None) -> AllocationResult:
    """Route every lead that needs a rep; each ends up assigned or unassigned, exactly once.

    ``history`` holds what earlier runs assigned: within the load window, and
    the last owner of each lead in this export. ``prepared`` is what
    :func:`prepare` worked out from them, when it was started earlier.
    """
    if prepared is None:
        prepared = prepare(cfg, dataset, as_of, history)
    reps = dataset.reps
    acfg = cfg.allocation
    self_sourced = set(acfg.self_sourced_teams)
    slots, kept, pool = prepared.slots, prepared.kept, prepared.pool
    notes, excluded, recycled = prepared.notes, prepared.excluded, prepared.recycled
    duplicates = prepared.duplicates
    if not acfg.enabled:
        return AllocationResult([], [Unassigned(lead.id, "allocation is disabled in rules.toml")
                                     for lead in pool], kept, slots, recycled)
    check_fields(routes, dataset)

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

    assignments: list[Assignment] = []
    for route, leads in zip(routes, matched):
        if not leads:
            continue
        eligible = [
            slots[rep.id] for rep in reps.values()
            if rep.active and rep.team not in self_sourced
            and (not route.teams or rep.team in route.teams)
            and (not route.reps or rep.id in route.reps)
            and not dataset.on_leave(rep.id, as_of)
        ]
        batch = AllocationBatch(route.name, route.policy.name, leads, eligible, as_of, seed,
                                notes, excluded, context)
        route.policy.call(route.policy.component.allocate, batch)
        batch.finish()
        assignments.extend(batch.assignments)
        unassigned.extend(batch.unassigned)

    if duplicates:
        went = {a.lead_id: a.rep_id for a in assignments}
        went.update({k.lead.id: k.rep_id for k in kept})
        for lead_id, (first, field) in duplicates.items():
            where = f", which went to {went[first]}" if first in went else ", which is unassigned"
            unassigned.append(Unassigned(lead_id, f"duplicate of {first} (same {field})"
                                         f"{where}; handled once"))
    total = len(pool) + len(duplicates)
    if len(assignments) + len(unassigned) != total:
        raise PluginError("salesrules", "allocation", AssertionError(
            "a lead was lost or decided twice; this is a bug"))
    return AllocationResult(assignments, unassigned, kept, slots, recycled,
                            {k: v[0] for k, v in duplicates.items()})
