"""Progress: each rep's actual against expected-to-date and target, per funnel stage."""

from __future__ import annotations

import datetime as dt

from ..goals import GoalPlan
from ..load import Dataset
from ..model import ProgressRow


def track(plan: GoalPlan, dataset: Dataset, as_of: dt.date) -> list[ProgressRow]:
    """One row per rep and stage that has a target, in the order of the plans."""
    funnel = dataset.funnel
    scale = {s.name: s.scale for s in funnel.stages}
    index = {s.name: i for i, s in enumerate(funnel.stages)}
    start = plan.period.start
    rows: list[ProgressRow] = []
    actual_cache: dict[str, list[float]] = {}
    for (rep_id, stage), p in plan.plans.items():
        actual = actual_cache.get(rep_id)
        if actual is None:
            actual = actual_cache[rep_id] = dataset.activity.totals(rep_id, start, as_of)
        s = scale[stage]
        rows.append(ProgressRow(rep_id, p.team, stage, actual[index[stage]],
                                p.expected_to(as_of) / s, p.total / s))
    return rows
