"""Progress: each rep's actual against expected-to-date and
target per funnel stage, with pace, projection and re-plan."""

from __future__ import annotations

import datetime as dt

from ..goals import GoalPlan
from ..load import Dataset
from ..model import ProgressRow


def track(plan: GoalPlan, dataset: Dataset, as_of: dt.date) -> list[ProgressRow]:
    """One row per rep and stage that has a target, in the order of the plans.

    Work is expected up to ``plan.expected_through`` when the plan has one (a
    morning run: up to the previous working day; the as-of day is still ahead).
    """
    funnel = dataset.funnel
    scale = {s.name: s.scale for s in funnel.stages}
    index = {s.name: i for i, s in enumerate(funnel.stages)}
    start = plan.period.start
    through = plan.expected_through or as_of
    rows: list[ProgressRow] = []
    actual_cache = dataset.activity.window_totals(start, as_of)  # every rep in one pass
    for (rep_id, stage), p in plan.plans.items():
        actual = actual_cache.get(rep_id)
        if actual is None:  # no activity in the period
            actual = actual_cache[rep_id] = [0.0] * len(funnel.stages)
        s = scale[stage]
        done = actual[index[stage]]
        expected = p.expected_to(through) / s
        target = p.total / s
        remaining = p.days_after(through)
        projected = done * target / expected if expected else done
        required = max(target - done, 0.0) / remaining if remaining else 0.0
        rows.append(ProgressRow(rep_id, p.team, stage, done, expected, target,
                                projected, required, remaining))
    return rows


def team_totals(rows: list[ProgressRow]) -> list[ProgressRow]:
    """Each team's figures per stage: the sums of its reps' rows."""
    sums: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        t = sums.setdefault((r.team, r.stage), [0.0] * 5)
        t[0] += r.actual
        t[1] += r.expected_to_date
        t[2] += r.target
        t[3] += r.projected
        t[4] += r.required_per_day
    return [ProgressRow("", team, stage, v[0], v[1], v[2], v[3], v[4],
                        remaining_days=0, subject_kind="team")
            for (team, stage), v in sorted(sums.items(), key=lambda kv: kv[0][0])]
