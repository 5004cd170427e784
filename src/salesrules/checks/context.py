"""What a check receives: the whole run's progress, targets and data, in one batch."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

import attrs
import numpy as np

from ..goals import GoalPlan, push_back
from ..load import Dataset
from ..model import ProgressRow, Rep


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

    def working_days(self, rep_id: str) -> list[dt.date]:
        """The rep's working days in the period up to the as-of date (leave excluded)."""
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
        if plan is not None:
            return [d for d, _, _ in plan.grains["day"] if d <= self.as_of]
        days = self.goals.calendar.working_days(self.goals.period.start, self.as_of)
        return [d for d in days if not self.dataset.on_leave(rep_id, d)]

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

    def prior_rates(self, lookback_days: int) -> dict[str, dict[str, tuple[float, float]]]:
        """Each active rep's count-to-count rates from history before the period, shrunk toward the team.

        Each is a Beta posterior ``(alpha, beta)``: the rate is ``alpha / (alpha +
        beta)``, and ``alpha + beta`` (history plus prior strength) says how sure
        it is. Rates judge this period's results, so they come only from before
        it: a rep's bad weeks now cannot lower the bar they are judged against.
        Cached in the context, so all checks of a run share one computation.
        """
        # the personal funnel model's estimator (imported here: that strategy imports the API)
        from ..goals.personal.shrinkage import beta_binomial_prior

        key = ("prior_rates", lookback_days)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        end = self.goals.period.start - dt.timedelta(days=1)
        start = end - dt.timedelta(days=lookback_days)
        funnel = self.funnel
        idx = {n: i for i, n in enumerate(funnel.names)}
        pairs = [(funnel.upstream(s.name), s.name) for s in funnel.stages if s.unit == "count"]
        pairs = [(u, s) for u, s in pairs if u is not None]
        out: dict[str, dict[str, tuple[float, float]]] = {}
        everyone = self.dataset.activity.window_totals(start, end)  # every rep in one pass
        zero = [0.0] * len(funnel.names)
        for team, reps in self.dataset.teams().items():
            active = [r for r in reps if r.active]
            totals = [everyone.get(r.id, zero) for r in active]
            for r in active:
                out[r.id] = {}
            for up, low in pairs:
                n = [t[idx[up]] for t in totals]
                x = [min(t[idx[low]], t[idx[up]]) for t in totals]
                prior = beta_binomial_prior(x, n)
                mean, strength = prior.mean, prior.strength
                if not n or not any(n) or mean <= 0:
                    continue
                for r, a, b in zip(active, n, x):
                    if math.isinf(strength):
                        out[r.id][low] = (mean * 1e9, (1 - mean) * 1e9)  # as good as certain
                    else:
                        out[r.id][low] = (b + mean * strength, (a - b) + (1 - mean) * strength)
        self.cache[key] = out
        return out

    def pushed_back(self, rep_id: str, given: dict[str, float]) -> dict[str, float]:
        """Targets set on some stages (e.g. a raised result) pushed back up the funnel with the rep's rates."""
        return push_back(self.funnel, given, self.goals.rates.get(rep_id, {})).values
