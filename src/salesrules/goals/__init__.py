"""Goals: level targets pushed back down the funnel
and split over months, weeks and working days."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from statistics import NormalDist
from typing import TYPE_CHECKING

import attrs

from ..components import FunnelModel, TimeSplit
from ..config import RulesConfig
from ..errors import DataError, PluginError, Problem
from ..load import Dataset
from ..load.deal_presets import CLOSED_KEY
from ..model import Funnel, Goal, Period, Rep, link_kind
from ..resolve import Bound
from ..warning_words import grain, warning
from .asof import expected_through
from .batches import FunnelBatch, Rate, SplitBatch
from .calendar import WorkCalendar, build_calendar, months_in, period_of
from .days import OwnDays, TeamDays, hire_date, own_days, ramp_factor
from .feasible import Cap, Limit, feasible_per_day
from .given import Given, given_targets, reps_file
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


@attrs.frozen
class StageTargets:
    """What :func:`push_back` gives: every stage's unrounded target, and how each was computed."""

    #: Stage name -> target (the given ones and those pushed back from them).
    values: dict[str, float]
    #: Stage name -> the computation in words, for the stages pushed back.
    traces: dict[str, str]
    #: Stage name -> its cap, for the activity stages capped at a feasible level.
    caps: dict[str, Cap] = attrs.Factory(dict)


def push_back(funnel: Funnel, given: dict[str, float], rates: dict[str, Rate],
              limits: Mapping[str, Limit] | None = None) -> StageTargets:
    """Push result targets back up the funnel: ``upper = lower / rate(lower)``.

    ``given`` holds the targets set directly (usually only revenue). Returns
    every stage's unrounded value, and its computation in words. A stage in
    ``limits`` asked for more than its limit is capped at it (see
    :class:`~salesrules.goals.feasible.Cap`), and the stages above are pushed
    back from the capped value.
    """
    values = dict(given)
    traces: dict[str, str] = {}
    caps: dict[str, Cap] = {}
    stages = funnel.stages
    for i in range(len(stages) - 1, 0, -1):
        upper, lower = stages[i - 1], stages[i]
        if upper.name in values or lower.name not in values:
            continue
        rate = rates.get(lower.name)
        if rate is None or not rate.value > 0:
            continue
        if upper.unit == lower.unit == "count" and rate.value > 1:
            # more of a count out of fewer of the one above: never a rate; taken as 1
            rate = Rate(1.0, "the funnel model's rate is above 1, which a conversion cannot "
                             "be: taken as 1")
        values[upper.name] = values[lower.name] / rate.value
        arpu = link_kind(upper, lower) == "arpu"
        traces[upper.name] = trace(
            "push", lower=lower.name, lower_value=_fmt(values[lower.name], lower.unit),
            what=trace("arpu") if arpu else trace("step", upper=upper.name, lower=lower.name),
            rate=f"{rate.value:,.2f}" if arpu else f"{rate.value:.4g}", why=rate.trace,
            upper_value=_fmt(values[upper.name], upper.unit), upper=upper.name)
        limit = (limits or {}).get(upper.name)
        if limit is not None and values[upper.name] > limit.value > 0:
            cap = Cap(upper.name, limit, values[upper.name], lower.name, rate.value,
                      values[lower.name] / limit.value)
            caps[upper.name] = cap
            values[upper.name] = limit.value
            traces[upper.name] += cap.words()
    return StageTargets(values, traces, caps)


def to_units(value: float, unit: str) -> int:
    """Counts round up (you cannot make 0.3 of a call); amounts keep cents."""
    if unit == "amount":
        return round(value * 100)
    return math.ceil(value - 1e-9)


def _fmt(value: float, unit: str) -> str:
    return f"{value:,.2f}" if unit == "amount" else f"{value:,.1f}"


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
    for team, reps in teams.items():
        rates = _team_rates(funnel_model, FunnelBatch(
            team, reps, dataset.funnel, estimate.history, as_of, period, active_all, estimate,
            dataset.extra.get(CLOSED_KEY)))
        for rep in reps:
            given = given_all.get(rep.id) or {}
            if not given:
                continue
            all_rates[rep.id] = rates.get(rep.id, {})
            mine = _rep_targets(cfg, dataset.funnel, rep, given, all_rates[rep.id], period,
                                own[rep.id], feasible.get(team, {}), goals, warnings)
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


def _rep_targets(cfg: RulesConfig, funnel: Funnel, rep: Rep, given_src: dict[str, Given],
                 rates: dict[str, Rate], period: Period, own: OwnDays,
                 per_day: dict[str, tuple[float, str]], goals: list[Goal],
                 warnings: list[str]) -> list[StageTarget]:
    """One rep's period target for every stage reachable from the given ones, in funnel order.

    The directly given targets (lowered for the hire date, ramp and leave) are
    added to ``goals``; activity targets are capped at the feasible ``per_day``.
    """
    given = {s: g.amount if g.prorated else g.amount * own.factor for s, g in given_src.items()}
    q = cfg.goals.feasible_quantile or 0.0
    limits = {s: Limit(v, len(own.days), q, src) for s, (v, src) in per_day.items()
              if s not in given}
    pushed = push_back(funnel, given, rates, limits)
    warnings.extend(_contradictions(funnel, rep, given_src, given, rates))
    out = []
    for stage in funnel.stages:
        if stage.name not in pushed.values:
            continue
        if stage.name in given:
            g = given_src[stage.name]
            goals.append(Goal(rep.id, stage.name, given[stage.name], g.how))
            amount = _fmt(g.amount, stage.unit)
            said = trace("given", how=g.how, stage=stage.name, amount=amount,
                         grain=trace(period.grain) if period.grain in TRACE else period.grain)
            if own.note:
                lowered = not g.prorated and own.factor != 1.0
                said += trace("prorated" if lowered else "over", note=own.note)
        else:
            said = pushed.traces[stage.name]
        if stage is funnel.stages[0] and cfg.goals.confidence:
            said += confidence_trace(funnel, pushed.values, rates, cfg.goals.confidence)
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
                           value=_fmt(given[name], unit), implied=_fmt(implied, unit),
                           lowest=lowest, lowest_value=_fmt(below[lowest],
                                                            funnel.stage(lowest).unit)))
    return out
