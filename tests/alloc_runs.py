"""Helpers for the allocation tests: allocate given reps and leads under a rules.toml text."""

from __future__ import annotations

import datetime as dt

from salesrules.allocation import allocate
from salesrules.config import parse_config
from salesrules.load import Dataset
from salesrules.model import ActivityTable
from salesrules.run import plan_run

AS_OF = dt.date(2026, 11, 25)


def dataset(reps, leads, cfg):
    return Dataset(cfg.funnel_model, {r.id: r for r in reps}, leads,
                   ActivityTable(cfg.funnel_model.names))


def run_alloc(reps, leads, toml=""):
    cfg = parse_config(toml)
    plan = plan_run(cfg, entry_points=False)
    return allocate(cfg, plan.routes, dataset(reps, leads, cfg), AS_OF, 0)
