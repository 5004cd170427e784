"""Metrics worth watching: how well a week of activity on a stage predicts the results of the
following weeks, across reps.

At each as-of date, for each stage above the result stage: every active rep's
total on the stage over the :data:`WEEK` days up to the date, against their
result over the :data:`FOLLOWING` days after it, as Spearman's rank
correlation across reps. The dates' correlations are pooled (Fisher's z) with
the 95% interval of one date's reps (the dates' windows overlap; they add no
reps). A stage whose interval reaches :data:`USEFUL` or below predicts nothing
worth tracking: a candidate to stop tracking (剔除虚假繁荣指标).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..load import Dataset
from .replay import Day
from .rows import ALL, Correlation, Row, after, pooled, spearman

WEEK = 7
FOLLOWING = 28
#: A stage is worth watching when all of its interval is above this (it predicts something).
USEFUL = 0.0


class Metrics:
    """Collects each stage's rank correlation, date by date."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.rhos: dict[str, list[float]] = {}
        self.rows: list[Row] = []
        self.n = 0
        self.result = ""

    def add(self, day: Day, result: str | None) -> None:
        window = after(self.dataset, day.as_of, FOLLOWING)
        if window is None or result is None:
            return
        self.result = result
        funnel = self.dataset.funnel
        reps = [r.id for r in day.known.reps.values() if r.active]
        start = day.as_of - dt.timedelta(days=WEEK - 1)
        before = day.known.activity.window_totals(start, day.as_of)
        later = self.dataset.activity.window_totals(window.start, window.end)
        zero = [0.0] * len(funnel.stages)
        r_index = funnel.index(result)
        y = np.array([later.get(r, zero)[r_index] for r in reps])
        self.n = max(self.n, len(reps))
        for i, stage in enumerate(funnel.stages[:r_index]):
            x = np.array([before.get(r, zero)[i] for r in reps])
            rho = spearman(x, y)
            self.rhos.setdefault(stage.name, []).append(rho)
            if rho == rho:
                self.rows.append(Row(day.as_of.isoformat(), "metrics.spearman", stage.name, rho))

    def correlations(self) -> dict[str, Correlation]:
        out = {}
        for stage, rhos in self.rhos.items():
            c = pooled(rhos, self.n)
            if c is not None:
                out[stage] = c
        return out

    def idle(self) -> list[str]:
        """The stages that predict nothing worth tracking."""
        return [s for s, c in self.correlations().items() if c.low <= USEFUL]

    def total_rows(self) -> list[Row]:
        out = []
        for stage, c in self.correlations().items():
            out += [Row(ALL, "metrics.spearman", stage, c.rho),
                    Row(ALL, "metrics.spearman_low", stage, c.low),
                    Row(ALL, "metrics.spearman_high", stage, c.high)]
        return out
