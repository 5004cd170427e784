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
from .split import Plan, cascade, largest_remainder

__all__ = ["GoalPlan", "Plan", "Rate", "largest_remainder", "set_goals", "push_back"]


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


def push_back(funnel: Funnel, given: dict[str, float], rates: dict[str, Rate],
              ) -> tuple[dict[str, float], dict[str, str]]:
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
    return values, traces


def to_units(value: float, unit: str) -> int:
    """Counts round up (you cannot make 0.3 of a call); amounts keep cents."""
    if unit == "amount":
        return int(round(value * 100))
    return int(math.ceil(value - 1e-9))


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
        shares = largest_remainder(int(round(o.amount * scale)), weights)
        for rep, share in zip(members, shares):
            out[rep.id][o.stage] = (share / scale, f"team {o.team} target {o.amount:,.2f} "
                                                  f"shared by {cfg.goals.cascade}")
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


def set_goals(cfg: RulesConfig, dataset: Dataset, split: Bound, funnel_model: Bound,
              as_of: dt.date) -> GoalPlan:
    """Decompose every active rep's targets for the period containing ``as_of``."""
    period = period_of(as_of, cfg.goals.period)
    c = cfg.goals.calendar
    calendar = build_calendar(c.weekdays, c.country, c.subdiv, c.holidays, c.workdays,
                              {period.start.year, period.end.year})
    working = frozenset(calendar.working_days(period.start, period.end))
    months = months_in(period) if period.grain == "quarter" else [period]
    funnel = dataset.funnel
    plans: dict[tuple[str, str], Plan] = {}
    goals: list[Goal] = []
    all_rates: dict[str, dict[str, Rate]] = {}
    all_weights: dict[str, list[float]] = {}
    warnings: list[str] = []
    cache: dict[tuple, dict] = {}
    active_all = tuple(r for r in dataset.reps.values() if r.active)
    given_all = _given_targets(cfg, dataset, active_all, warnings)

    for team, reps in dataset.teams().items():
        active: tuple[Rep, ...] = tuple(r for r in reps if r.active)
        if not active:
            continue
        weights = split.call(split.component.month_weights, SplitBatch(
            team, active, period, tuple(months), funnel, dataset.activity, as_of,
            tuple(sum(1 for d in working if m.start <= d <= m.end) for m in months)))
        weights = _check_weights(split, weights, months)
        all_weights[team] = weights
        rates = funnel_model.call(funnel_model.component.rates, FunnelBatch(
            team, active, funnel, dataset.activity, as_of, period, active_all))
        if not isinstance(rates, dict):
            raise PluginError(funnel_model.plugin, f"funnel {funnel_model.name!r}",
                              TypeError(f"rates() must return a dict, got {type(rates).__name__}"))
        wkey = tuple(weights)
        for rep in active:
            given_src = given_all.get(rep.id) or {}
            if not given_src:
                continue
            own = working
            leave_note = ""
            if rep.id in dataset.leave:
                off = {d for d in working if dataset.on_leave(rep.id, d)}
                if off:
                    own = working - off
                    leave_note = f"{len(off)} leave day(s): {len(own)} of {len(working)} working days"
            factor = (len(own) / len(working) if working and cfg.goals.leave == "prorate"
                      else 1.0)
            rep_rates = rates.get(rep.id, {})
            all_rates[rep.id] = rep_rates
            given = {s: v * factor for s, (v, _) in given_src.items()}
            values, traces = push_back(funnel, given, rep_rates)
            for stage in funnel.stages:
                if stage.name not in values:
                    continue
                if stage.name in given:
                    amount, how = given_src[stage.name]
                    goals.append(Goal(rep.id, stage.name, given[stage.name], how))
                    trace = f"{how} {stage.name} target {_fmt(amount, stage.unit)} for the {period.grain}"
                    if leave_note:
                        trace += (f", prorated for {leave_note}" if factor != 1.0
                                  else f", over {leave_note}")
                else:
                    trace = traces[stage.name]
                if stage is funnel.stages[0] and cfg.goals.confidence:
                    trace += confidence_trace(funnel, values, rep_rates, cfg.goals.confidence)
                total = to_units(values[stage.name], stage.unit)
                key = (total, wkey, own)
                grains = cache.get(key)
                if grains is None:
                    grains = cache[key] = cascade(total, period, weights, own)
                plans[(rep.id, stage.name)] = Plan(rep.id, team, stage.name, period, total,
                                                   grains, trace)
    if not working:
        warnings.append(f"the {period.grain} {period.start}..{period.end} has no working day")
    return GoalPlan(period, calendar, plans, goals, all_rates, all_weights, warnings,
                    list(cfg.goals.tiers))
