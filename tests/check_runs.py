"""Helpers for the check tests: an export taken through the progress stage, as checks see it."""

from __future__ import annotations

from pathlib import Path

import attrs

from salesrules.checks import CheckContext
from salesrules.config import load_config
from salesrules.goals import set_goals
from salesrules.load import data_dir, load_dataset
from salesrules.progress import track
from salesrules.run import Plan, plan_run


@attrs.frozen
class Staged:
    """The export's plan, and the check context of its goals and progress (``dataset``,
    ``goals``, ``progress``, ``as_of``: the activity's last day)."""

    plan: Plan
    context: CheckContext


def staged(folder: Path) -> Staged:
    """Load the export in ``folder`` (its rules.toml), set goals and track progress as of the
    activity's last day, as a run does before its checks."""
    cfg = load_config(folder / "rules.toml")
    plan = plan_run(cfg)
    ds = load_dataset(cfg, plan.sources, data_dir(cfg, None))
    day = ds.activity.last_day()
    goals = set_goals(cfg, ds, plan.split, plan.funnel, day)
    return Staged(plan, CheckContext(ds, goals, tuple(track(goals, ds, day)), day))
