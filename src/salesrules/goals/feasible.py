"""Feasible activity: the team's high-but-real daily
activity per stage, which caps activity targets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import attrs
import numpy as np

from ..model import ActivityTable, Funnel, Rep
from .trace_words import trace

#: A team needs this many reps with activity for its own quantile; fewer use the company's.
MIN_REPS = 3


@attrs.frozen
class Limit:
    """The most of one activity stage a rep can be asked for in the period."""

    #: Feasible activity per working day (a quantile of the reps' daily means).
    per_day: float
    #: The rep's working days in the period.
    days: int
    #: The quantile, e.g. 0.9.
    quantile: float
    #: Whose reps the quantile is over: ``team NAME`` or ``company``.
    source: str

    @property
    def value(self) -> float:
        """The cap for the period: ``per_day × days``, in whole units."""
        return float(int(self.per_day * self.days + 1e-9))


@attrs.frozen
class Cap:
    """An activity target the reverse funnel asked for above its feasible level, and what
    conversion the capped activity then needs.

    ``Plan.cap`` carries one for every capped stage; checks use it to tell an
    activity gap from a conversion gap.
    """

    #: The capped stage, e.g. ``dials``.
    stage: str
    #: The cap and how it was measured.
    limit: Limit
    #: What the reverse funnel asked before the cap, for the period.
    uncapped: float
    #: The stage below, whose conversion has to close the rest of the gap.
    next_stage: str
    #: The rep's own rate of ``next_stage`` (from the funnel model).
    rate: float
    #: The rate of ``next_stage`` needed from the capped activity: the stage
    #: below's target ÷ the cap. Above 1 for two counts means conversion alone
    #: cannot close the gap.
    needed_rate: float

    @property
    def value(self) -> float:
        """The capped period target."""
        return self.limit.value

    def words(self) -> str:
        """The cap and the conversion target in words, for the trace."""
        lim = self.limit
        need = (f"{self.needed_rate:.3g}" if self.needed_rate <= 1 else trace("out-of-reach"))
        return trace("cap", value=lim.value, per_day=lim.per_day, source=lim.source,
                     q=lim.quantile, days=lim.days, uncapped=self.uncapped, stage=self.stage,
                     next=self.next_stage, need=need, rate=self.rate)


def feasible_per_day(history: ActivityTable, funnel: Funnel, teams: Mapping[str, Sequence[Rep]],
                     start: dt.date, end: dt.date, quantile: float
                     ) -> dict[str, dict[str, tuple[float, str]]]:
    """Per team, per activity stage (a process count): the ``quantile`` of its reps' mean
    activity per day worked (days with a row: leave is left out), and whose reps it is over.

    A team with fewer than :data:`MIN_REPS` reps with activity uses the company's reps.
    """
    stages = [i for i, s in enumerate(funnel.stages)
              if s.unit == "count" and funnel.kind_of(s.name) == "process"]
    everyone = [r for reps in teams.values() for r in reps]
    means = _daily_means(history, everyone, start, end)
    company = _quantiles(list(means.values()), stages, quantile)
    out: dict[str, dict[str, tuple[float, str]]] = {}
    for team, reps in teams.items():
        mine = [means[r.id] for r in reps if r.id in means]
        q = _quantiles(mine, stages, quantile) if len(mine) >= MIN_REPS else company
        source = trace("team", team=team) if len(mine) >= MIN_REPS else trace("company")
        out[team] = {funnel.stages[i].name: (v, source) for i, v in q.items() if v > 0}
    return out


def _daily_means(history: ActivityTable, reps: Sequence[Rep], start: dt.date, end: dt.date
                 ) -> dict[str, np.ndarray]:
    """Each rep's mean activity per day with a row, per stage (reps without rows left out)."""
    rows = history.rows(start, end, reps=[r.id for r in reps])
    if not len(rows):
        return {}
    days = rows.per_rep(np.ones(len(rows)))
    totals = np.stack([rows.per_rep(rows.values[:, j]) for j in range(rows.values.shape[1])],
                      axis=1)
    return {rep_id: totals[k] / days[k] for k, rep_id in enumerate(rows.reps) if days[k] > 0}


def _quantiles(means: list[np.ndarray], stages: list[int], quantile: float) -> dict[int, float]:
    if not means:
        return {}
    table = np.stack(means)
    return {i: float(np.quantile(table[:, i], quantile)) for i in stages}
