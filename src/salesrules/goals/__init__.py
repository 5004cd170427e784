"""Goals: level targets pushed back down the funnel and split over months, weeks and working days."""

from __future__ import annotations

import datetime as dt
import math
from statistics import NormalDist

import attrs

from ..config import RulesConfig
from ..errors import PluginError
from ..load import Dataset
from ..model import Funnel, Goal, Period, Rep, link_kind
from ..resolve import Bound
from .batches import FunnelBatch, Rate, SplitBatch
from .calendar import WorkCalendar, build_calendar, months_in, period_of
from .split import Grains, Plan, SplitRequest, largest_remainder, split_plans

__all__ = [
    "GoalPlan",
    "Grains",
    "Plan",
    "Rate",
    "StageTargets",
    "largest_remainder",
    "push_back",
    "set_goals",
]


@attrs.define
class GoalPlan:
    """The targets of every rep for the run's period."""

    period: Period
    calendar: WorkCalendar
    #: ``(rep_id, stage) -> Plan``, reps in input order, stages in funnel order.
    plans: dict[tuple[str, str], Plan]
    goals: list[Goal]
    rates: dict[str, dict[str, Rate]]
    month_weights: dict[str, list[float]]
    warnings: list[str] = attrs.Factory(list)
    #: The goal ladder from rules.toml, lowest first.
    tiers: list = attrs.Factory(list)


@attrs.frozen
class StageTargets:
    """What :func:`push_back` gives: every stage's unrounded target, and how each was computed."""

    #: Stage name -> target (the given ones and those pushed back from them).
    values: dict[str, float]
    #: Stage name -> the computation in words, for the stages pushed back.
    traces: dict[str, str]


def push_back(funnel: Funnel, given: dict[str, float], rates: dict[str, Rate]) -> StageTargets:
    """Push result targets back up the funnel: ``upper = lower / rate(lower)``.

    ``given`` holds the targets set directly (usually only revenue). Returns
    every stage's unrounded value, and its computation in words.
    """
    values = dict(given)
    traces: dict[str, str] = {}
    stages = funnel.stages
    for i in range(len(stages) - 1, 0, -1):
        upper, lower = stages[i - 1], stages[i]
        if upper.name in values or lower.name not in values:
            continue
        rate = rates.get(lower.name)
        if rate is None or not rate.value > 0:
            continue
        values[upper.name] = values[lower.name] / rate.value
        what = "ARPU" if link_kind(upper, lower) == "arpu" else f"{upper.name}→{lower.name}"
        traces[upper.name] = (
            f"{lower.name} {_fmt(values[lower.name], lower.unit)} ÷ {what} "
            f"{rate.value:.4g} ({rate.trace}) = {_fmt(values[upper.name], upper.unit)} "
            f"{upper.name}")
    return StageTargets(values, traces)


def to_units(value: float, unit: str) -> int:
    """Counts round up (you cannot make 0.3 of a call); amounts keep cents."""
    if unit == "amount":
        return round(value * 100)
    return math.ceil(value - 1e-9)


def _fmt(value: float, unit: str) -> str:
    return f"{value:,.2f}" if unit == "amount" else f"{value:,.1f}"


def _check_weights(split: Bound, weights: object, months: list[Period]) -> list[float]:
    ok = (isinstance(weights, (list, tuple)) and len(weights) == len(months)
          and all(isinstance(w, (int, float)) and math.isfinite(w) and w >= 0 for w in weights)
          and sum(weights) > 0)
    if not ok:
        raise PluginError(split.plugin, f"split {split.name!r}", ValueError(
            f"month_weights() must return {len(months)} non-negative numbers with a "
            f"positive sum, got {weights!r}"))
    return [float(w) for w in weights]  # type: ignore[union-attr]


def _given_targets(cfg: RulesConfig, dataset: Dataset, reps: tuple[Rep, ...],
                   warnings: list[str]) -> dict[str, dict[str, tuple[float, str]]]:
    """Each active rep's directly set targets by stage, with where each came from.

    Level targets (times the rep's tier multiplier), then team targets from the
    goals file shared among the team's reps, then per-rep targets from the goals
    file, each replacing the one before for its stage.
    """
    tiers = {t.name: t.multiplier for t in cfg.goals.tiers}
    units = {s.name: s.scale for s in dataset.funnel.stages}
    out: dict[str, dict[str, tuple[float, str]]] = {}
    missing: dict[str, int] = {}
    for rep in reps:
        level = cfg.goals.levels.get(rep.level)
        if level is None:
            missing[rep.level] = missing.get(rep.level, 0) + 1
            out[rep.id] = {}
            continue
        tier = rep.fields.get("tier", "")
        mult = tiers.get(tier, 1.0)
        how = f"level {rep.level}" + (f" × {mult:g} ({tier})" if mult != 1.0 else "")
        out[rep.id] = {stage: (amount * mult, how) for stage, amount in level.items()}
    for level, n in sorted(missing.items()):
        warnings.append(f"{n} active rep(s) at level {level!r} have no level targets: add "
                        f"[goals.levels.{level}] to rules.toml or give them goals-file targets")
    overrides = dataset.goal_overrides
    by_team: dict[str, list[Rep]] = {}
    for rep in reps:
        by_team.setdefault(rep.team, []).append(rep)
    for o in (o for o in overrides if o.team):
        members = by_team.get(o.team, [])
        if not members:
            warnings.append(f"{o.where}: team {o.team!r} has no active reps; target ignored")
            continue
        if cfg.goals.cascade == "level":
            weights = [cfg.goals.levels.get(r.level, {}).get(o.stage, 0.0) for r in members]
            if not any(weights):
                weights = [1.0] * len(members)
        else:
            weights = [1.0] * len(members)
        scale = units[o.stage]
        shares = largest_remainder(round(o.amount * scale), weights)
        for rep, share in zip(members, shares):
            out[rep.id][o.stage] = (share / scale, (f"team {o.team} target {o.amount:,.2f} "
                                                   f"shared by {cfg.goals.cascade}"))
    active = {r.id for r in reps}
    for o in (o for o in overrides if o.rep_id):
        if o.rep_id not in active:
            warnings.append(f"{o.where}: rep {o.rep_id!r} is not an active rep; target ignored")
            continue
        out[o.rep_id][o.stage] = (o.amount, f"goals file ({o.where})")
    return out


def confidence_trace(funnel: Funnel, values: dict[str, float], rates: dict[str, Rate],
                     confidence: float) -> str:
    """How much of the first stage reaches the last count stage's target with this probability."""
    counts = [s for s in funnel.stages if s.unit == "count"]
    if len(counts) < 2 or counts[-1].name not in values:
        return ""
    p = 1.0
    for s in counts[1:]:
        r = rates.get(s.name)
        if r is None or not 0 < r.value <= 1:
            return ""
        p *= r.value
    need = values[counts[-1].name]
    if p >= 1 or need <= 0:
        return ""
    z = NormalDist().inv_cdf(confidence)
    # D·p − z·sqrt(D·p·(1−p)) ≥ need, solved for sqrt(D)
    b = z * math.sqrt(p * (1 - p))
    x = (b + math.sqrt(b * b + 4 * p * need)) / (2 * p)
    return (f"; at {confidence:.0%} confidence of reaching {need:,.0f} {counts[-1].name}: "
            f"{math.ceil(x * x):,} {counts[0].name}")


@attrs.frozen
class StageTarget:
    """One rep's whole-period target for one stage, before it is split over time."""

    stage: str
    split: SplitRequest
    trace: str


@attrs.frozen
class OwnDays:
    """A rep's working days in the period (leave days taken out), and the leave in words."""

    days: frozenset[dt.date]
    #: How many working days the period has for everyone.
    of: int
    note: str = ""

    @property
    def share(self) -> float:
        """The share of the period's working days the rep works (1.0 without working days)."""
        return len(self.days) / self.of if self.of else 1.0


def set_goals(cfg: RulesConfig, dataset: Dataset, split: Bound, funnel_model: Bound,
              as_of: dt.date) -> GoalPlan:
    """Decompose every active rep's targets for the period containing ``as_of``."""
    period = period_of(as_of, cfg.goals.period)
    c = cfg.goals.calendar
    calendar = build_calendar(c.weekdays, c.country, c.subdiv, c.holidays, c.workdays,
                              {period.start.year, period.end.year})
    working = frozenset(calendar.working_days(period.start, period.end))
    goals: list[Goal] = []
    all_rates: dict[str, dict[str, Rate]] = {}
    all_weights: dict[str, list[float]] = {}
    warnings: list[str] = []
    active_all = tuple(r for r in dataset.reps.values() if r.active)
    given_all = _given_targets(cfg, dataset, active_all, warnings)
    owners: list[tuple[str, str]] = []  # (rep_id, team) of each target, in order
    targets: list[StageTarget] = []
    for team, reps in dataset.teams().items():
        active: tuple[Rep, ...] = tuple(r for r in reps if r.active)
        if not active:
            continue
        weights = all_weights[team] = _month_weights(split, SplitBatch(
            team, active, period, tuple(_months(period)), dataset.funnel, dataset.activity,
            as_of, tuple(sum(1 for d in working if m.start <= d <= m.end)
                         for m in _months(period))))
        rates = _team_rates(funnel_model, FunnelBatch(
            team, active, dataset.funnel, dataset.activity, as_of, period, active_all))
        for rep in active:
            given = given_all.get(rep.id) or {}
            if not given:
                continue
            all_rates[rep.id] = rates.get(rep.id, {})
            mine = _rep_targets(cfg, dataset, rep, given, all_rates[rep.id], period,
                                _own_days(dataset, rep, working), tuple(weights), goals)
            owners.extend((rep.id, team) for _ in mine)
            targets.extend(mine)
    grains = split_plans(period, [t.split for t in targets])
    plans = {(rep_id, t.stage): Plan(rep_id, team, t.stage, period, t.split.total, g, t.trace)
             for (rep_id, team), t, g in zip(owners, targets, grains)}
    if not working:
        warnings.append(f"the {period.grain} {period.start}..{period.end} has no working day")
    return GoalPlan(period, calendar, plans, goals, all_rates, all_weights, warnings,
                    list(cfg.goals.tiers))


def _months(period: Period) -> list[Period]:
    return months_in(period) if period.grain == "quarter" else [period]


def _month_weights(split: Bound, batch: SplitBatch) -> list[float]:
    """The team's month weights from the time split, checked."""
    weights = split.call(split.component.month_weights, batch)
    return _check_weights(split, weights, list(batch.months))


def _team_rates(funnel_model: Bound, batch: FunnelBatch) -> dict[str, dict[str, Rate]]:
    """The team's reps' rates from the funnel model, checked."""
    rates = funnel_model.call(funnel_model.component.rates, batch)
    if not isinstance(rates, dict):
        raise PluginError(funnel_model.plugin, f"funnel {funnel_model.name!r}",
                          TypeError(f"rates() must return a dict, got {type(rates).__name__}"))
    return rates


def _own_days(dataset: Dataset, rep: Rep, working: frozenset[dt.date]) -> OwnDays:
    """The period's working days the rep is not on leave."""
    if rep.id not in dataset.leave:
        return OwnDays(working, len(working))
    off = {d for d in working if dataset.on_leave(rep.id, d)}
    if not off:
        return OwnDays(working, len(working))
    own = working - off
    return OwnDays(own, len(working), f"{len(off)} leave day(s): {len(own)} of {len(working)} working days")


def _rep_targets(cfg: RulesConfig, dataset: Dataset, rep: Rep,
                 given_src: dict[str, tuple[float, str]], rates: dict[str, Rate],
                 period: Period, own: OwnDays, weights: tuple[float, ...],
                 goals: list[Goal]) -> list[StageTarget]:
    """One rep's period target for every stage reachable from the given ones, in funnel order.

    The directly given targets (prorated for leave if configured) are added to ``goals``.
    """
    funnel = dataset.funnel
    factor = own.share if cfg.goals.leave == "prorate" else 1.0
    given = {s: v * factor for s, (v, _) in given_src.items()}
    pushed = push_back(funnel, given, rates)
    out = []
    for stage in funnel.stages:
        if stage.name not in pushed.values:
            continue
        if stage.name in given:
            amount, how = given_src[stage.name]
            goals.append(Goal(rep.id, stage.name, given[stage.name], how))
            trace = f"{how} {stage.name} target {_fmt(amount, stage.unit)} for the {period.grain}"
            if own.note:
                trace += (f", prorated for {own.note}" if factor != 1.0 else f", over {own.note}")
        else:
            trace = pushed.traces[stage.name]
        if stage is funnel.stages[0] and cfg.goals.confidence:
            trace += confidence_trace(funnel, pushed.values, rates, cfg.goals.confidence)
        total = to_units(pushed.values[stage.name], stage.unit)
        out.append(StageTarget(stage.name, SplitRequest(total, weights, own.days), trace))
    return out
