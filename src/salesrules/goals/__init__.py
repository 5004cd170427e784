"""Goals: level targets pushed back down the funnel
and split over months, weeks and working days."""

from __future__ import annotations

import datetime as dt
import math
from statistics import NormalDist
from typing import TYPE_CHECKING

import attrs

from ..components import FunnelModel, TimeSplit
from ..config import RulesConfig
from ..errors import DataError, PluginError, Problem
from ..load import Dataset
from ..load.deal_presets import CLOSED_KEY
from ..model import Funnel, Goal, Period, Rep, Stage
from ..resolve import Bound
from ..warning_words import grain, warning
from .asof import expected_through
from .batches import FunnelBatch, Rate, SplitBatch
from .calendar import WorkCalendar, build_calendar, months_in, period_of
from .days import OwnDays, TeamDays, hire_date, own_days, ramp_factor
from .feasible import Cap, Limit, feasible_per_day
from .given import Given, given_targets, reps_file
from .pushback import PushWords, StageTargets, fmt, push_back, to_units
from .split import Grains, Plan, SplitRequest, largest_remainder
from .table import SplitTable, split_table
from .trace_words import TRACE, trace

if TYPE_CHECKING:
    from ..estimate import Estimate

__all__ = [
    "Cap",
    "GoalPlan",
    "Limit",
    "Grains",
    "Plan",
    "Rate",
    "SplitTable",
    "StageTargets",
    "largest_remainder",
    "push_back",
    "to_units",
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
    #: The run's one estimate of rates (:class:`~salesrules.estimate.Estimate`), shared with
    #: the checks.
    estimate: Estimate | None = None
    #: The last day work is expected up to when it is not the as-of date: the previous
    #: working day in a morning run (no activity on the as-of day yet); else ``None``.
    expected_through: dt.date | None = None
    #: Every plan's split as arrays (see :class:`~salesrules.goals.table.SplitTable`): the
    #: plans' ``grains`` are read from it, and targets.csv is written from it.
    split: SplitTable | None = None


def _check_weights(split: Bound, weights: object, months: list[Period]) -> list[float]:
    if not (isinstance(weights, (list, tuple)) and len(weights) == len(months)
            and all(isinstance(w, (int, float)) and math.isfinite(w) and w >= 0 for w in weights)
            and sum(weights) > 0):
        raise PluginError(split.plugin, f"split {split.name!r}", ValueError(
            f"month_weights() must return {len(months)} non-negative numbers with a "
            f"positive sum, got {weights!r}"))
    return [float(w) for w in weights]


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
    return trace("confidence", conf=confidence, need=need, last=counts[-1].name,
                 n=math.ceil(x * x), first=counts[0].name)


#: A goals-file target for a middle stage more than this far below what the
#: result target needs (at the rep's rates) is reported as contradicting it.
CONTRADICTION = 0.05


@attrs.frozen
class StageTarget:
    """One rep's whole-period target for one stage, before it is split over time."""

    stage: str
    split: SplitRequest
    trace: str
    cap: Cap | None = None


def set_goals(cfg: RulesConfig, dataset: Dataset, split: Bound, funnel_model: Bound,
              as_of: dt.date) -> GoalPlan:
    """Decompose every active rep's targets for the period containing ``as_of``.

    Rates are measured on the run's one estimate (:func:`~salesrules.estimate.estimate_of`,
    made here and kept as ``GoalPlan.estimate`` for the checks): the activity without
    the rows that contradict themselves.
    """
    from ..estimate import estimate_of  # it imports the checks' rates, which import goals

    g = cfg.goals
    period = period_of(as_of, g.period, g.fiscal_year_start)
    estimate = estimate_of(dataset, period, as_of)
    warnings: list[str] = []
    c = g.calendar
    calendar = build_calendar(c.weekdays, c.country, c.subdiv, c.holidays, c.workdays,
                              {period.start.year, period.end.year}, warnings)
    working = calendar.working_days(period.start, period.end)
    months = tuple(_months(period))
    month_days = tuple(sum(1 for d in working if m.start <= d <= m.end) for m in months)
    teams = {t: active for t, reps in dataset.teams().items()
             if (active := tuple(r for r in reps if r.active))}
    active_all = tuple(r for r in dataset.reps.values() if r.active)
    all_weights = {team: _month_weights(split, SplitBatch(
        team, reps, period, months, dataset.funnel, dataset.activity, as_of, month_days,
        warnings))
        for team, reps in teams.items()}
    own = _all_own_days(cfg, dataset, teams, period, working, all_weights, warnings)
    given_all = given_targets(cfg, dataset, [r for r in active_all if r.id in own],
                              {rep_id: o.factor for rep_id, o in own.items()}, warnings)
    feasible = _feasible(cfg, estimate, funnel_model, teams, as_of, period, active_all)
    goals: list[Goal] = []
    all_rates: dict[str, dict[str, Rate]] = {}
    owners: list[tuple[str, str]] = []  # (rep_id, team) of each target, in order
    targets: list[StageTarget] = []
    making = _Making(PushWords(dataset.funnel), period, g.feasible_quantile or 0.0,
                     g.confidence or 0.0, goals, warnings)
    for team, reps in teams.items():
        rates = _team_rates(funnel_model, FunnelBatch(
            team, reps, dataset.funnel, estimate.history, as_of, period, active_all, estimate,
            dataset.extra.get(CLOSED_KEY)))
        for rep in reps:
            given = given_all.get(rep.id) or {}
            if not given:
                continue
            all_rates[rep.id] = rates.get(rep.id, {})
            mine = _rep_targets(making, team, rep, given, all_rates[rep.id], own[rep.id],
                                feasible.get(team, {}))
            owners.extend((rep.id, team) for _ in mine)
            targets.extend(mine)
    table = split_table(period, [t.split for t in targets])
    plans = {(rep_id, t.stage): Plan(rep_id, team, t.stage, period, t.split.total, None, t.trace,
                                     t.cap, table=table, split_row=row)
             for (rep_id, team), t, row in zip(owners, targets, table.which.tolist())}
    if not working:
        warnings.append(warning("no-working-day", grain=grain(period.grain), start=period.start,
                                end=period.end))
    through = expected_through(as_of, dataset.activity, calendar, period, warnings)
    return GoalPlan(period, calendar, plans, goals, all_rates, all_weights, warnings,
                    list(g.tiers), estimate, through, table)


def _months(period: Period) -> list[Period]:
    return months_in(period) if period.grain == "quarter" else [period]


def _month_weights(split: Bound, batch: SplitBatch) -> list[float]:
    """The team's month weights from the time split, checked."""
    strategy = split.component
    assert isinstance(strategy, TimeSplit)  # resolved as a time split, so registered as one
    weights = split.call(strategy.month_weights, batch)
    return _check_weights(split, weights, list(batch.months))


def _team_rates(funnel_model: Bound, batch: FunnelBatch) -> dict[str, dict[str, Rate]]:
    """The team's reps' rates from the funnel model, checked."""
    model = funnel_model.component
    assert isinstance(model, FunnelModel)  # resolved as a funnel model, so registered as one
    rates = funnel_model.call(model.rates, batch)
    if not isinstance(rates, dict):
        raise PluginError(funnel_model.plugin, f"funnel {funnel_model.name!r}",
                          TypeError(f"rates() must return a dict, got {type(rates).__name__}"))
    return rates


def _all_own_days(cfg: RulesConfig, dataset: Dataset, teams: dict[str, tuple[Rep, ...]],
                  period: Period, working: list[dt.date], weights: dict[str, list[float]],
                  warnings: list[str]) -> dict[str, OwnDays]:
    """Each active rep's own days (hire date, leave,
    ramp); reps hired after the period have none."""
    where = reps_file(dataset)
    prorate = cfg.goals.leave == "prorate"
    out: dict[str, OwnDays] = {}
    problems: list[Problem] = []
    for team, reps in teams.items():
        days = TeamDays.of(working, _months(period), weights[team])
        everyday = own_days(days, (), (), prorate, None)
        for rep in reps:
            try:
                hired = hire_date(rep, where)
            except DataError as exc:
                problems.extend(exc.problems)
                continue
            if hired is not None and hired > period.end:
                warnings.append(warning("hired-after", rep=rep.id, hired=hired, start=period.start,
                                        grain=grain(period.grain), end=period.end))
                continue
            leave = dataset.leave.get(rep.id, ())
            settled = hired is None or (hired <= period.start and ramp_factor(
                period.start, hired, cfg.goals.ramp) == 1.0)  # past the ramp: every day full
            out[rep.id] = (everyday if settled and not leave
                           else own_days(days, leave, cfg.goals.ramp, prorate, hired))
    if problems:
        raise DataError(problems)
    return out


def _feasible(cfg: RulesConfig, estimate: Estimate, funnel_model: Bound,
              teams: dict[str, tuple[Rep, ...]], as_of: dt.date, period: Period,
              everyone: tuple[Rep, ...]) -> dict[str, dict[str, tuple[float, str]]]:
    """Per team, per activity stage: the feasible activity per day, over the funnel model's
    history window (its ``lookback_days``, else 90 days), rows that contradict themselves
    left out."""
    q = cfg.goals.feasible_quantile
    if not q:
        return {}
    lookback = getattr(getattr(funnel_model.component, "params", None), "lookback_days", 90)
    window = FunnelBatch("", everyone, estimate.funnel, estimate.history, as_of, period,
                         everyone).history_window(lookback)
    return feasible_per_day(estimate.history, estimate.funnel, teams, window.start, window.end,
                            q)


@attrs.define
class _Making:
    """What every rep's targets are made with, and where the goals and warnings go."""

    words: PushWords
    period: Period
    quantile: float
    confidence: float
    goals: list[Goal]
    warnings: list[str]
    #: The words of a given target, by what they say (most reps share a few).
    said: dict[tuple, str] = attrs.Factory(dict)
    #: Each team's limits, by the rep's number of working days and given stages.
    limits: dict[tuple, dict[str, Limit]] = attrs.Factory(dict)

    def limits_of(self, team: str, per_day: dict[str, tuple[float, str]], days: int,
                  given: dict[str, float]) -> dict[str, Limit]:
        key = (team, days, *given)
        hit = self.limits.get(key)
        if hit is None:
            hit = self.limits[key] = {s: Limit(v, days, self.quantile, src)
                                      for s, (v, src) in per_day.items() if s not in given}
        return hit

    def given_words(self, g: Given, stage: Stage, own: OwnDays) -> str:
        amount = fmt(g.amount, stage.unit)
        lowered = not g.prorated and own.factor != 1.0
        key = (g.how, stage.name, amount, own.note, lowered)
        said = self.said.get(key)
        if said is None:
            grain = self.period.grain
            said = trace("given", how=g.how, stage=stage.name, amount=amount,
                         grain=trace(grain) if grain in TRACE else grain)
            if own.note:
                said += trace("prorated" if lowered else "over", note=own.note)
            self.said[key] = said
        return said


def _rep_targets(making: _Making, team: str, rep: Rep, given_src: dict[str, Given],
                 rates: dict[str, Rate], own: OwnDays,
                 per_day: dict[str, tuple[float, str]]) -> list[StageTarget]:
    """One rep's period target for every stage reachable from the given ones, in funnel order.

    The directly given targets (lowered for the hire date, ramp and leave) are
    added to ``goals``; activity targets are capped at the feasible ``per_day``.
    """
    words = making.words
    funnel = words.funnel
    given = {s: g.amount if g.prorated else g.amount * own.factor for s, g in given_src.items()}
    pushed = push_back(funnel, given, rates,
                       making.limits_of(team, per_day, len(own.days), given), words)
    making.warnings.extend(_contradictions(funnel, rep, given_src, given, rates))
    out = []
    for stage in funnel.stages:
        if stage.name not in pushed.values:
            continue
        if stage.name in given:
            g = given_src[stage.name]
            making.goals.append(Goal(rep.id, stage.name, given[stage.name], g.how))
            said = making.given_words(g, stage, own)
        else:
            said = pushed.traces[stage.name]
        if stage is funnel.stages[0] and making.confidence:
            said += confidence_trace(funnel, pushed.values, rates, making.confidence)
        total = to_units(pushed.values[stage.name], stage.unit)
        out.append(StageTarget(stage.name, SplitRequest(total, own.weights, own.days), said,
                               pushed.caps.get(stage.name)))
    return out


def _contradictions(funnel: Funnel, rep: Rep, given_src: dict[str, Given],
                    given: dict[str, float], rates: dict[str, Rate]) -> list[str]:
    """Goals-file targets for a middle stage below what a lower given target needs."""
    out = []
    for name, g in given_src.items():
        i = funnel.index(name)
        below = {s: v for s, v in given.items() if funnel.index(s) > i}
        if not g.where or not below:
            continue
        implied = push_back(funnel, below, rates).values.get(name)
        if implied is None or given[name] >= implied * (1 - CONTRADICTION):
            continue
        lowest = max(below, key=funnel.index)
        unit = funnel.stage(name).unit
        out.append(warning("contradiction", where=g.where, rep=rep.id, stage=name,
                           value=fmt(given[name], unit), implied=fmt(implied, unit),
                           lowest=lowest, lowest_value=fmt(below[lowest],
                                                            funnel.stage(lowest).unit)))
    return out
