"""Allocation: route the leads that need a rep through the ordered rules to each rule's policy.

The leads stay a frame throughout: owners, recycling, load, duplicates, lead
order and the routing conditions are frame operations (:mod:`.pool`,
:mod:`.conditions`). A policy receives its rule's leads as a :class:`LeadList`,
whose Lead objects are built only as the policy reads them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs
import polars as pl

from ..components import Policy
from ..config import RulesConfig, format_path
from ..errors import ConfigError, PluginError, Problems
from ..history import HistoryView
from ..leads import LeadList
from ..load import Dataset
from ..model import Assignment, Unassigned, UnassignedList
from ..resolve import Bound
from .affinity import account_column, keep_with_accounts
from .batch import AllocationBatch, AllocationContext, RepSlot
from .conditions import Condition, column_type, condition_frame
from .conditions.types import LEAD_TYPES
from .fairness import fairness, gini
from .pool import Pool, settle
from .reasons import REASONS, reason, reasoner

__all__ = ["AllocationBatch", "AllocationContext", "AllocationResult", "RepSlot", "Route",
           "allocate", "assigned_values", "check_fields", "eligible_reps", "gini"]


@attrs.define
class Route:
    """A routing rule ready to run: its condition, eligible reps and policy."""

    name: str
    index: int
    condition: Condition
    policy: Bound
    teams: list[str]
    reps: list[str]


def _unassigned_list(items: Iterable[Unassigned]) -> UnassignedList:
    return items if isinstance(items, UnassignedList) else UnassignedList(items)


@attrs.define
class AllocationResult:
    assignments: list[Assignment]
    #: The leads that needed a rep and got none (a sequence of :class:`Unassigned`).
    unassigned: UnassignedList = attrs.field(converter=_unassigned_list)
    #: Leads left with the active rep who owns them: ``lead_id``, ``rep_id`` and ``source``
    #: (``export``: the CRM's owner; ``history``: an earlier run gave it).
    kept: pl.DataFrame
    slots: dict[str, RepSlot]
    #: Lead ids sent back to the pool by the recycling SLA, with the rep they left.
    recycled: dict[str, str] = attrs.Factory(dict)
    #: Duplicate lead id -> the lead id it duplicates.
    duplicates: dict[str, str] = attrs.Factory(dict)
    #: Lead ids among ``assignments`` that an earlier run of the same day made (kept as they
    #: were; history already has them).
    carried: frozenset[str] = frozenset()
    #: The reps who could receive leads on the as-of day: active, not in a self-sourced team,
    #: not on leave. The fairness figure covers them alone.
    eligible: tuple[str, ...] = ()

    def fairness(self) -> dict[str, float]:
        """Gini of count and of value over the eligible reps: today's leads
        (``gini_count``, ``gini_value``) and the window's load with them
        (``gini_count_window``, ``gini_value_window``). 0 is an even spread."""
        return fairness(self.slots, self.eligible)

    @property
    def new_assignments(self) -> list[Assignment]:
        """The assignments this run made itself: what history records for it."""
        carried = self.carried
        return [a for a in self.assignments if a.lead_id not in carried] if carried \
            else self.assignments

    @property
    def to_allocate(self) -> int:
        return len(self.assignments) + len(self.unassigned)


def assigned_values(assignments: Iterable[Assignment], leads: LeadList) -> dict[str, float]:
    """The value of each assigned lead, by lead id."""
    return LeadList.of(leads).value_of(a.lead_id for a in assignments)


def field_types(leads: LeadList, wanted: Iterable[str]) -> dict[str, str]:
    """The type of every field a condition can use: the lead's own, and each export column
    (only the ``wanted`` ones are read to find their type; the others are text)."""
    wanted = set(wanted)
    frame = leads.frame
    return {**LEAD_TYPES, **{
        f: column_type(frame[f].unique().to_list()) if f in wanted else "text"
        for f in leads.fields if f not in LEAD_TYPES}}


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


def prepare(cfg: RulesConfig, dataset: Dataset, as_of: dt.date,
            history: HistoryView | None = None) -> Pool:
    """Owners, recycling, load, duplicates and lead order, before any rule runs."""
    view = history if history is not None else HistoryView()
    prior = pl.DataFrame(view.owners, orient="row", schema={
        "lead_id": pl.String, "prior_rep": pl.String, "prior_as_of": pl.String},
    ).with_columns(pl.col("prior_as_of").str.to_date("%Y-%m-%d"))
    load = pl.DataFrame(view.load, orient="row",
                        schema={"rep_id": pl.String, "n": pl.Int64, "v": pl.Float64})
    day = view.today
    today = pl.DataFrame(
        {"lead_id": [p.lead_id for p in day], "rep_id": [p.rep_id for p in day],
         "value": [p.value for p in day]},
        schema={"lead_id": pl.String, "rep_id": pl.String, "value": pl.Float64})
    acfg = cfg.allocation
    window = pl.DataFrame(view.window, orient="row",
                          schema={"lead_id": pl.String, "rep_id": pl.String})
    return settle(dataset.leads.frame, dataset.reps, as_of, prior, load, window, acfg.recycle,
                  acfg.dedupe_on if acfg.enabled else [], today,
                  acfg.phone_region)


def _carried(pool: Pool, history: HistoryView | None) -> list[Assignment]:
    """This export's leads that an earlier run of the day assigned, as that run left them."""
    if history is None or pool.carried.is_empty():
        return []
    wanted = set(pool.carried["lead_id"].to_list())
    out: dict[str, Assignment] = {}
    for p in history.today:
        if p.lead_id in wanted:
            out[p.lead_id] = Assignment(p.lead_id, p.rep_id, p.team, p.policy, p.rule,
                                        reason("kept", at=p.at, reason=p.reason))
    return list(out.values())


def allocate(cfg: RulesConfig, routes: list[Route], dataset: Dataset, as_of: dt.date,
             seed: int, history: HistoryView | None = None,
             context: AllocationContext | None = None) -> AllocationResult:
    """Route every lead that needs a rep; each ends up assigned or unassigned, exactly once.

    ``history`` holds what earlier runs assigned: within the load window, and
    the last owner of each lead in this export.
    """
    pool = prepare(cfg, dataset, as_of, history)
    carried = _carried(pool, history)
    can_receive = eligible_reps(cfg, dataset, as_of)
    if not cfg.allocation.enabled:
        return AllocationResult(list(carried), [
            Unassigned(i, "allocation is disabled in rules.toml")
            for i in pool.leads["id"].to_list()], pool.kept, pool.slots, pool.recycled,
            carried=frozenset(a.lead_id for a in carried), eligible=can_receive)
    check_fields(routes, dataset)
    affine = _affinity(cfg, dataset, pool, can_receive)
    routed = _match(routes, pool)
    unassigned = routed.unassigned
    assignments: list[Assignment] = [*carried, *affine]
    for route, leads in zip(routes, routed.matched):
        if not leads:
            continue
        eligible = [
            pool.slots[rep_id] for rep_id in can_receive
            if (not route.teams or dataset.reps[rep_id].team in route.teams)
            and (not route.reps or rep_id in route.reps)
        ]
        policy = route.policy.component
        batch = AllocationBatch(route.name, route.policy.name, leads, eligible, as_of, seed,
                                pool.notes, pool.excluded, context, policy.shown_name())
        assert isinstance(policy, Policy)  # resolved as a policy, so registered as one
        route.policy.call(policy.allocate, batch)
        batch.finish()
        assignments.extend(batch.assignments)
        unassigned.extend(batch.unassigned)
    unassigned.extend(_duplicates_unassigned(pool, assignments))
    if len(assignments) + len(unassigned) != (pool.leads.height + len(pool.duplicates)
                                              + len(carried) + len(affine)):
        raise PluginError("salesrules", "allocation", AssertionError(
            "a lead was lost or decided twice; this is a bug"))
    return AllocationResult(assignments, unassigned, pool.kept, pool.slots, pool.recycled,
                            {k: v[0] for k, v in pool.duplicates.items()},
                            frozenset(a.lead_id for a in carried), can_receive)


def _affinity(cfg: RulesConfig, dataset: Dataset, pool: Pool,
              can_receive: tuple[str, ...]) -> list[Assignment]:
    """Leads of accounts an eligible rep owns, given to that rep before the rules run."""
    frame = dataset.leads.frame
    column = account_column(cfg.allocation.account_field, frame.columns)
    if column is None or pool.leads.is_empty():
        return []
    return keep_with_accounts(pool, frame, column, pool.slots, can_receive)


def eligible_reps(cfg: RulesConfig, dataset: Dataset, as_of: dt.date) -> tuple[str, ...]:
    """The reps who may receive leads on ``as_of``: active, not self-sourced, not on leave."""
    self_sourced = set(cfg.allocation.self_sourced_teams)
    return tuple(rep.id for rep in dataset.reps.values()
                 if rep.active and rep.team not in self_sourced
                 and not dataset.on_leave(rep.id, as_of))


@attrs.frozen
class _Routed:
    """Each route's leads, in route order, and the leads no route matched."""

    matched: list[LeadList]
    unassigned: UnassignedList


def _match(routes: list[Route], pool: Pool) -> _Routed:
    """Each route's leads (the first rule that matches wins), and the leads no rule matched."""
    leads = pool.leads
    if not routes:
        rule = pl.Series("rule", [None] * leads.height, dtype=pl.Int64)
    elif routes[0].condition.tree is None:  # the first rule takes every lead
        rule = pl.Series("rule", [0] * leads.height, dtype=pl.Int64)
    else:
        conditions = [r.condition for r in routes]
        frame = condition_frame(leads, {n: c.types[n] for c in conditions for n in c.names})
        firsts = [pl.when(c.expr().fill_null(False)).then(pl.lit(i, dtype=pl.Int64))
                  for i, c in enumerate(conditions)]
        try:
            rule = frame.select(pl.coalesce(firsts).alias("rule")).to_series()
        except pl.exceptions.PolarsError as exc:
            raise ConfigError(f"{format_path(['allocation', 'rules'])}: cannot evaluate the "
                              f"routing conditions: {exc}") from None
        if rule.len() != leads.height:  # a condition polars folds to a constant gives one row
            rule = rule.new_from_index(0, leads.height)
    leads = leads.with_columns(rule.alias("_rule"))
    matched = [LeadList(leads.filter(pl.col("_rule") == i).drop("_rule"))
               for i in range(len(routes))]
    names = ", ".join(repr(r.name) for r in routes)
    unmatched = leads.filter(pl.col("_rule").is_null())["id"].to_list()
    plain = reason("unmatched", names=names)
    unassigned = UnassignedList()
    unassigned.add(unmatched, [reason("note", note=pool.notes[i], rest=plain)
                               if i in pool.notes else plain for i in unmatched])
    return _Routed(matched, unassigned)


def _duplicates_unassigned(pool: Pool, assignments: list[Assignment]) -> UnassignedList:
    """A reason for each duplicate lead, naming where the lead it duplicates went."""
    out = UnassignedList()
    if not pool.duplicates:
        return out
    went = {a.lead_id: a.rep_id for a in assignments}
    went.update(zip(pool.kept["lead_id"].to_list(), pool.kept["rep_id"].to_list()))
    to_rep, nowhere, duplicate = reasoner("went"), reason("went-nowhere"), reasoner("duplicate")
    shown = {f: reason(f"field.{f}") if f"field.{f}" in REASONS else f
             for f in {f for _, f in pool.duplicates.values()}}
    out.add(pool.duplicates, [
        duplicate(first=first, field=shown[field],
                  where=to_rep(rep=went[first]) if first in went else nowhere)
        for first, field in pool.duplicates.values()])
    return out
