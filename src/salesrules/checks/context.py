"""What a check receives: the whole run's progress, targets and data, in one batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import attrs
import numpy as np

from ..goals import GoalPlan, push_back
from ..load import Dataset
from ..load.dataset import BadRow
from ..load.deal_presets import ClosedWindow
from ..model import ProgressRow, Rep
from .diagnosis import Axes, Diagnosis, Norms, diagnose, judged, norms
from .rates import Beta, RateEstimate, count_links

if TYPE_CHECKING:
    from ..estimate import Estimate

#: The share of a team's reps (by attainment on the result stage) that are its success cases.
BENCHMARK_SHARE = 0.2


@attrs.frozen
class _Shape:
    """The funnel as a diagnosis reads it, worked out once per run."""

    #: The count stages, top first.
    counts: list[str]
    #: ``(upper, lower)`` names of each count stage and the count stage above it.
    links: list[tuple[str, str]]
    #: ``stage name -> index``.
    index: dict[str, int]


@attrs.frozen
class CheckContext:
    """The run so far, for a :class:`~salesrules.api.Check`."""

    dataset: Dataset
    goals: GoalPlan
    progress: tuple[ProgressRow, ...]
    as_of: dt.date
    #: Each team's sums per stage (``subject_kind == "team"``).
    teams: tuple[ProgressRow, ...] = ()
    #: Per-run results checks share (e.g. prior rates), by the computing helper's key.
    cache: dict = attrs.field(factory=dict, eq=False)
    #: Lines for the run's warnings (``run.json``, the terminal) that checks add, e.g. a check
    #: that judged no one for lack of data.
    notes: list[str] = attrs.field(factory=list, eq=False)

    def working_days(self, rep_id: str) -> list[dt.date]:
        """The rep's working days in the period up to :attr:`pace_day` (leave excluded)."""
        known = self.cache.setdefault("working_days", {})
        days = known.get(rep_id)
        if days is None:
            days = known[rep_id] = self._working_days(rep_id)
        return days

    def daily(self, rep_id: str) -> np.ndarray:
        """The rep's activity on each of their :meth:`working_days`, one row per day.

        One value per funnel stage; NaN on a working day without an activity
        row. Measured for every rep at once, the first time a check asks.
        """
        grid = self.cache.get("daily")
        if grid is None:
            reps = list(self.dataset.reps)
            per_rep = {r: self.working_days(r) for r in reps}
            days = sorted(set().union(*per_rep.values()))
            values = self.dataset.activity.grid(reps, days)
            values.flags.writeable = False  # shared by every check
            grid = self.cache["daily"] = (
                {r: i for i, r in enumerate(reps)}, days, {d: i for i, d in enumerate(days)},
                values)
        row, days, column, values = grid
        i = row.get(rep_id)
        mine = self.working_days(rep_id)
        if i is None:
            return self.dataset.activity.values_on(rep_id, mine)
        if mine == days:
            return values[i]
        return values[i][[column[d] for d in mine]]

    def _working_days(self, rep_id: str) -> list[dt.date]:
        first = self.cache.get("first_plan")
        if first is None:
            first = self.cache["first_plan"] = {}
            for (r, _), p in self.goals.plans.items():
                first.setdefault(r, p)
        plan = first.get(rep_id)
        upto = self.pace_day
        if plan is not None:
            return plan.working_days(upto)
        days = self.goals.calendar.working_days(self.goals.period.start, upto)
        return [d for d in days if not self.dataset.on_leave(rep_id, d)]

    @property
    def pace_day(self) -> dt.date:
        """The last day work is expected up to: the as-of date, or in a morning run (no
        activity on it yet) the previous working day."""
        return self.goals.expected_through or self.as_of

    @property
    def funnel(self):
        return self.dataset.funnel

    def rep(self, rep_id: str) -> Rep:
        return self.dataset.reps[rep_id]

    def by_rep(self) -> Iterator[tuple[Rep, list[ProgressRow]]]:
        """Progress rows grouped by rep, reps in input order."""
        groups: dict[str, list[ProgressRow]] = {}
        for row in self.progress:
            groups.setdefault(row.rep_id, []).append(row)
        for rep_id, rows in groups.items():
            yield self.dataset.reps[rep_id], rows

    @property
    def estimate(self) -> Estimate:
        """The run's one estimate of rates, shared with the goals (``goals.estimate``): the
        activity without the rows that contradict themselves, and the rates measured on it."""
        est = self.goals.estimate or self.cache.get("estimate")
        if est is None:  # a plan made without one (e.g. by a test)
            from ..estimate import estimate_of  # the estimate module imports the checks' rates

            est = self.cache["estimate"] = estimate_of(self.dataset, self.goals.period,
                                                       self.as_of)
        return est

    def rate_estimate(self, lookback_days: int = 180, by: str = "") -> RateEstimate:
        """Every rep's and team's rates for this run: the run's one estimate, shared by every
        check and by the goals (:attr:`estimate`; with history before the period a rep's
        rate is the one the ``personal`` funnel model set their targets with).

        The window is the goals' (:meth:`FunnelBatch.history_window`): up to
        ``lookback_days`` before the period, or, when the export has no history
        before the period, the period so far, each rep judged against the rest
        of their team. Rows where a count stage exceeds the one above it are
        left out. ``source`` says which window was used; ``by`` (a check's name) puts
        the window in ``run.json`` under ``rates.used``. With a deals export, the
        rate into the win stage is won ÷ (won + lost) of the deals closed in the
        window: open deals are pipeline, not losses.
        """
        return self.estimate.rates(lookback_days, by)

    def prior_rates(self, lookback_days: int, by: str = ""
                    ) -> dict[str, dict[str, Beta]]:
        """Each active rep's count-to-count rates, as Beta posteriors (``.alpha``, ``.beta``).

        The rate is ``.mean`` (``alpha / (alpha + beta)``), and ``alpha + beta``
        (history plus prior strength) says how sure it is: see :meth:`rate_estimate`.
        """
        return self.rate_estimate(lookback_days, by).reps

    def bad_rows(self) -> tuple[BadRow, ...]:
        """Activity rows (rep-days) where a count stage exceeds the count stage above it."""
        return self.estimate.bad_rows

    def period_totals(self, rep_id: str) -> list[float]:
        """The rep's stage sums over the period to the as-of date, contradicting rows left out."""
        hit = self.estimate.totals(self.goals.period.start, self.as_of)
        return hit.get(rep_id) or [0.0] * len(self.funnel.names)

    @property
    def closed_stage(self) -> str | None:
        """With a deals export, the win stage: its rate is won ÷ (won + lost) of the deals
        closed, open deals left out, and checks count closed deals as its tries
        (:meth:`closed_counts`) instead of the stage above. ``None`` otherwise."""
        return self.dataset.closed_stage

    def closed_counts(self, rep_ids: Sequence[str], start: dt.date | None = None,
                      end: dt.date | None = None) -> ClosedWindow | None:
        """The deals each of ``rep_ids`` closed in ``[start, end]`` (default: the period to
        the as-of date): won, and won plus lost. ``None`` without a deals export."""
        return self.dataset.closed_counts(rep_ids, start or self.goals.period.start,
                                          end or self.as_of)

    def norms(self, quantile: float = 0.9) -> Norms:
        """Each team's activity per working day: the median rep's, and the ``quantile`` as the
        feasible level a catch-up plan never exceeds."""
        key = ("norms", quantile)
        hit = self.cache.get(key)
        if hit is None:
            per_day = {}
            for rep in self.dataset.reps.values():
                days = self.working_days(rep.id)
                if rep.active and days:
                    per_day[rep.id] = (np.nansum(self.daily(rep.id), axis=0) / len(days)).tolist()
            team_of = {r: self.dataset.reps[r].team for r in per_day}
            hit = self.cache[key] = norms(per_day, team_of, quantile)
        return hit

    def benchmark(self, team: str) -> dict[str, float]:
        """The team's success cases: the rates (by lower count stage) of its top performers this
        period, the top fifth of its reps by attainment on the result stage."""
        hit = self.cache.setdefault("benchmark", {})
        if team not in hit:
            result = self.funnel.result.name
            rows = [r for r in self.progress if r.stage == result and r.team == team]
            rows.sort(key=lambda r: (-(r.attainment or 0.0), r.rep_id))
            top = rows[:max(1, round(len(rows) * BENCHMARK_SHARE))]
            tot = [sum(x) for x in zip(*(self.period_totals(r.rep_id) for r in top))]
            names = self.funnel.names
            hit[team] = {names[low]: tot[low] / tot[up]
                         for up, low in count_links(self.funnel) if tot and tot[up] > 0}
            win = self.closed_stage
            closed = self.closed_counts([r.rep_id for r in top]) if win else None
            if win and closed is not None:  # the success cases' win rate of closed deals
                hit[team].pop(win, None)
                if sum(closed.closed):
                    hit[team][win] = sum(closed.won) / sum(closed.closed)
        return hit[team]

    def diagnosis(self, rep_id: str, result_stage: str = "", quantile: float = 0.9,
                  activity_tolerance: float = 0.9, conversion_tolerance: float = 0.85,
                  alpha: float = 0.05) -> Diagnosis | None:
        """The rep's two axes on the result stage (default: the last count stage).

        Activity is the top stage against what the result expected to date needs at
        the team's rates, capped at the ``quantile`` of the team's daily activity
        (the feasible level); under ``activity_tolerance`` of it is an activity
        cause. Conversion is the rep's rate from the top to the result against the
        team's; under ``conversion_tolerance`` and with results this low less
        likely than ``alpha`` at the team's rates, it is a conversion cause. The
        causes come larger share of the gap first. ``None`` when nothing was
        expected of the stage yet.
        """
        axes = Axes(activity_tolerance, conversion_tolerance, alpha)
        shape = self._shape()
        result = result_stage or shape.counts[-1]
        known = self.cache.setdefault("diagnosis", {})
        key = (rep_id, result, quantile)
        if key not in known:  # measured once; only the causes depend on the axes
            known[key] = self._diagnose(rep_id, result, quantile, axes, shape)
        d = known[key]
        return None if d is None else judged(d, axes)

    def _diagnose(self, rep_id: str, result: str, quantile: float, axes: Axes,
                  shape: _Shape) -> Diagnosis | None:
        rows = self.cache.get("progress_by")
        if rows is None:
            rows = self.cache["progress_by"] = {}
            for r in self.progress:
                rows.setdefault(r.rep_id, {})[r.stage] = r
        team = self.rep(rep_id).team
        return diagnose(
            rep_id, team, rows.get(rep_id, {}), result, shape.counts[0], shape.links,
            self.rate_estimate(by="diagnosis"),
            self.period_totals(rep_id), shape.index,
            self.norms(quantile), len(self.working_days(rep_id)), self.benchmark(team), axes,
            self.closed_stage, self.closed_counts([rep_id]))

    def _shape(self) -> _Shape:
        hit = self.cache.get("funnel_shape")
        if hit is None:
            funnel, names = self.funnel, self.funnel.names
            hit = self.cache["funnel_shape"] = _Shape(
                [s.name for s in funnel.stages if s.unit == "count"],
                [(names[u], names[lo]) for u, lo in count_links(funnel)],
                {n: i for i, n in enumerate(names)})
        return hit

    def pushed_back(self, rep_id: str, given: dict[str, float]) -> dict[str, float]:
        """Targets set on some stages (e.g. a raised result)
        pushed back up the funnel with the rep's rates."""
        return push_back(self.funnel, given, self.goals.rates.get(rep_id, {})).values
