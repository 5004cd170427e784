"""Goals: level targets pushed back down the funnel and split over months, weeks and working days."""

from __future__ import annotations

import datetime as dt
import math

import attrs

from ..config import RulesConfig
from ..errors import PluginError
from ..load import Dataset
from ..model import Funnel, Goal, Period, Rep, link_kind
from ..resolve import Bound
from .batches import FunnelBatch, Rate, SplitBatch
from .calendar import WorkCalendar, months_in, period_of
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

    def for_rep(self, rep_id: str) -> list[Plan]:
        return [p for (r, _), p in self.plans.items() if r == rep_id]


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


def set_goals(cfg: RulesConfig, dataset: Dataset, split: Bound, funnel_model: Bound,
              as_of: dt.date) -> GoalPlan:
    """Decompose every active rep's level target for the period containing ``as_of``."""
    period = period_of(as_of, cfg.goals.period)
    cal_cfg = cfg.goals.calendar
    calendar = WorkCalendar.from_names(cal_cfg.weekdays, cal_cfg.holidays, cal_cfg.workdays)
    working = frozenset(calendar.working_days(period.start, period.end))
    months = months_in(period) if period.grain == "quarter" else [period]
    funnel = dataset.funnel
    plans: dict[tuple[str, str], Plan] = {}
    goals: list[Goal] = []
    all_rates: dict[str, dict[str, Rate]] = {}
    all_weights: dict[str, list[float]] = {}
    warnings: list[str] = []
    missing_levels: dict[str, int] = {}
    cache: dict[tuple[int, tuple[float, ...]], dict] = {}

    for team, reps in dataset.teams().items():
        active: tuple[Rep, ...] = tuple(r for r in reps if r.active)
        if not active:
            continue
        weights = split.call(split.component.month_weights, SplitBatch(
            team, active, period, tuple(months), funnel, dataset.activity, as_of))
        weights = _check_weights(split, weights, months)
        all_weights[team] = weights
        rates = funnel_model.call(funnel_model.component.rates, FunnelBatch(
            team, active, funnel, dataset.activity, as_of, period))
        if not isinstance(rates, dict):
            raise PluginError(funnel_model.plugin, f"funnel {funnel_model.name!r}",
                              TypeError(f"rates() must return a dict, got {type(rates).__name__}"))
        wkey = tuple(weights)
        for rep in active:
            level = cfg.goals.levels.get(rep.level)
            if level is None:
                missing_levels[rep.level] = missing_levels.get(rep.level, 0) + 1
                continue
            rep_rates = rates.get(rep.id, {})
            all_rates[rep.id] = rep_rates
            given = {s: float(v) for s, v in level.items()}
            values, traces = push_back(funnel, given, rep_rates)
            for stage in funnel.stages:
                if stage.name not in values:
                    continue
                if stage.name in given:
                    goals.append(Goal(rep.id, stage.name, given[stage.name], f"level {rep.level}"))
                    trace = (f"level {rep.level} {stage.name} target "
                             f"{_fmt(given[stage.name], stage.unit)} for the {period.grain}")
                else:
                    trace = traces[stage.name]
                total = to_units(values[stage.name], stage.unit)
                key = (total, wkey)
                grains = cache.get(key)
                if grains is None:
                    grains = cache[key] = cascade(total, period, weights, working)
                plans[(rep.id, stage.name)] = Plan(rep.id, team, stage.name, period, total,
                                                   grains, trace)
    for level, n in sorted(missing_levels.items()):
        warnings.append(f"{n} active rep(s) at level {level!r} have no targets: add "
                        f"[goals.levels.{level}] to rules.toml")
    if not working:
        warnings.append(f"the {period.grain} {period.start}..{period.end} has no working day")
    return GoalPlan(period, calendar, plans, goals, all_rates, all_weights, warnings)
