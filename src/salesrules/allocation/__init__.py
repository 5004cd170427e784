"""Allocation: route the leads that need a rep through the ordered rules to each rule's policy."""

from __future__ import annotations

import datetime as dt
from operator import attrgetter

import attrs

from ..config import RulesConfig, format_path
from ..errors import ConfigError, PluginError, Problems
from ..load import Dataset
from ..model import Assignment, Lead, Unassigned
from ..resolve import Bound
from .batch import AllocationBatch, RepSlot
from .conditions import LEAD_NAMES, Condition

__all__ = ["AllocationBatch", "AllocationResult", "RepSlot", "Route", "allocate", "lead_order"]


@attrs.define
class Route:
    """A routing rule ready to run: its condition, eligible reps and policy."""

    name: str
    index: int
    condition: Condition
    policy: Bound
    teams: list[str]
    reps: list[str]


@attrs.define
class AllocationResult:
    assignments: list[Assignment]
    unassigned: list[Unassigned]
    #: Leads left with the active rep who already owns them.
    kept: list[Lead]
    slots: dict[str, RepSlot]

    @property
    def to_allocate(self) -> int:
        return len(self.assignments) + len(self.unassigned)


def lead_order(lead: Lead) -> tuple:
    """Highest priority first, then highest value, then oldest, then id."""
    return (-lead.priority, -lead.value, lead.created_at, lead.id)


def sort_leads(leads: list[Lead]) -> None:
    """Sort in :func:`lead_order`, as stable sorts from the last key to the first (C speed)."""
    leads.sort(key=attrgetter("id"))
    leads.sort(key=attrgetter("created_at"))
    leads.sort(key=attrgetter("value"), reverse=True)
    leads.sort(key=attrgetter("priority"), reverse=True)


def check_fields(routes: list[Route], dataset: Dataset) -> None:
    """Refuse conditions that name a field the leads file does not have."""
    if not dataset.leads:
        return
    known = set(LEAD_NAMES)
    for lead in dataset.leads:
        known.update(lead.fields)
        break
    problems = Problems()
    for r in routes:
        for name in r.condition.names:
            if name not in known:
                problems.add(format_path(["allocation", "rules", r.index, "when"]),
                             f"unknown lead field {name!r} (fields: {', '.join(sorted(known))})")
    problems.raise_if_any(ConfigError, "routing rules name fields the leads do not have:")


def allocate(cfg: RulesConfig, routes: list[Route], dataset: Dataset, as_of: dt.date,
             seed: int) -> AllocationResult:
    """Route every lead that needs a rep; each ends up assigned or unassigned, exactly once."""
    reps = dataset.reps
    self_sourced = set(cfg.allocation.self_sourced_teams)
    slots = {rep_id: RepSlot(rep) for rep_id, rep in reps.items()}
    kept: list[Lead] = []
    pool: list[Lead] = []
    notes: dict[str, str] = {}
    for lead in dataset.leads:
        owner = reps.get(lead.owner) if lead.owner else None
        if owner is not None and owner.active:
            kept.append(lead)
            slots[owner.id].load += 1
            slots[owner.id].load_value += lead.value
        else:
            if lead.owner:
                notes[lead.id] = (f"previous owner {lead.owner} is inactive" if owner
                                  else f"previous owner {lead.owner} is not in the reps file")
            pool.append(lead)
    sort_leads(pool)
    if not cfg.allocation.enabled:
        return AllocationResult([], [Unassigned(lead.id, "allocation is disabled in rules.toml")
                                     for lead in pool], kept, slots)
    check_fields(routes, dataset)

    matched: list[list[Lead]] = [[] for _ in routes]
    unassigned: list[Unassigned] = []
    rule_names = ", ".join(repr(r.name) for r in routes)
    for lead in pool:
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
        ]
        batch = AllocationBatch(route.name, route.policy.name, leads, eligible, as_of, seed, notes)
        route.policy.call(route.policy.component.allocate, batch)
        batch.finish()
        assignments.extend(batch.assignments)
        unassigned.extend(batch.unassigned)
    _check_accounted(pool, assignments, unassigned)
    return AllocationResult(assignments, unassigned, kept, slots)


def _check_accounted(pool: list[Lead], assignments: list[Assignment],
                     unassigned: list[Unassigned]) -> None:
    # routing puts each pool lead in exactly one batch or the unmatched list, and
    # a batch decides each of its leads exactly once, so the counts must agree
    if len(assignments) + len(unassigned) != len(pool):
        raise PluginError("salesrules", "allocation", AssertionError(
            "a lead was lost or decided twice; this is a bug"))
