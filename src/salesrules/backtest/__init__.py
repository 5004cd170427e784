"""Backtest: replay a rule set on past days, using only what was known each day, and score
its decisions against what happened after (docs/backtest.md).

The export is loaded once; each as-of date replays the kernel's own stages
(goals, progress, checks, allocation) on the export as it stood that day
(:func:`~salesrules.backtest.cut.cut_dataset`), then five measures compare
them with the rest of the export: goals, early warnings, metrics worth
watching, raises and allocation.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import attrs

from ..config import RulesConfig, load_config
from ..errors import UserError
from ..goals.calendar import period_of
from ..load import Dataset, data_dir, load_dataset
from ..run import Plan, plan_run
from .cut import cut_dataset
from .goals_fit import GoalsFit, estimates
from .metrics import Metrics
from .outcomes import CAVEAT, Allocation
from .raises import Raises
from .replay import Day, Replayer, as_of_dates
from .rows import Row
from .warnings import Warnings, result_stage

__all__ = ["BacktestOptions", "BacktestResult", "backtest", "cut_dataset", "measure"]


@attrs.define
class BacktestOptions:
    """What ``salesrules backtest`` was asked to do."""

    rules: Path
    start: dt.date
    end: dt.date
    every: str = "week"
    against: Path | None = None
    data: Path | None = None
    seed: int | None = None


@attrs.define
class BacktestResult:
    """Every figure of a backtest, and what it was run on."""

    config: RulesConfig
    dataset: Dataset
    dates: list[dt.date]
    rows: list[Row]
    goals: GoalsFit
    warnings: Warnings
    metrics: Metrics
    raises: Raises
    allocation: Allocation
    against: str = ""
    timings: dict[str, float] = attrs.Factory(dict)
    #: The plan replayed (its checks name themselves in the summary's language).
    plan: Plan | None = None
    #: The dates asked for that fall before the activity begins: not replayed (the rules
    #: would have had nothing to go on), and said so in the summary.
    skipped: list[dt.date] = attrs.Factory(list)

    @property
    def caveat(self) -> str:
        return CAVEAT if self.against and self.allocation.expected else ""


class _Estimates:
    """Each model's estimates, computed once per period where they cannot change within it."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.cache: dict[dt.date, dict] = {}

    def __call__(self, day: Day) -> dict:
        g = self.plan.config.goals
        period = period_of(day.as_of, g.period, g.fiscal_year_start)
        first = day.known.activity.first_day()
        if first is None or first >= period.start:  # no history before: a window to as-of
            return estimates(self.plan, day.known, day.as_of)
        got = self.cache.get(period.start)
        if got is None:
            got = self.cache[period.start] = estimates(self.plan, day.known, day.as_of)
        return got


def measure(plan: Plan, dataset: Dataset, dates: list[dt.date], seed: int,
            other: Plan | None = None,
            on_day: Callable[[dt.date], None] | None = None) -> BacktestResult:
    """Replay ``plan`` on each date of ``dates`` over the loaded ``dataset`` and measure it."""
    replay = Replayer(plan, dataset, seed)
    second = Replayer(other, dataset, seed, checks=False) if other is not None else None
    fit, warn, metrics = GoalsFit(dataset), Warnings(dataset), Metrics(dataset)
    raises, alloc = Raises(dataset), Allocation(dataset)
    rates = _Estimates(plan)
    checks = [b.name for b in plan.checks]
    for day in replay.days(dates, on_day):
        fit.add(day.as_of, rates(day))
        warn.add(day, checks)
        metrics.add(day, result_stage(day))
        raises.add(day)
        alloc.add(day, second.day(day.as_of) if second is not None else None)
    rows = [*fit.rows, *warn.rows, *metrics.rows, *raises.rows, *alloc.rows,
            *fit.total_rows(), *warn.total_rows(), *metrics.total_rows(), *raises.total_rows(),
            *alloc.total_rows()]
    return BacktestResult(plan.config, dataset, dates, rows, fit, warn, metrics, raises, alloc,
                          str(other.config.source) if other is not None else "", plan=plan)


def backtest(opts: BacktestOptions,
             on_day: Callable[[dt.date], None] | None = None) -> BacktestResult:
    """Load the export once, replay the rules on every date, and measure them."""
    t0 = time.perf_counter()
    cfg = load_config(opts.rules)
    plan = plan_run(cfg)
    other = plan_run(load_config(opts.against)) if opts.against is not None else None
    dataset = load_dataset(cfg, plan.sources, data_dir(cfg, opts.data))
    t1 = time.perf_counter()
    dates = as_of_dates(opts.start, opts.end, opts.every)
    span = dataset.activity.span()
    first, last = span.first, span.last
    if first is None or last is None:
        raise UserError("the export has no activity to replay")
    if opts.start > last or opts.end < first:
        raise UserError(f"--from {opts.start} --to {opts.end} is outside the export's activity "
                        f"({first} to {last})")
    seed = opts.seed if opts.seed is not None else cfg.run.seed
    result = measure(plan, dataset, [d for d in dates if d >= first], seed, other, on_day)
    result.skipped = [d for d in dates if d < first]
    result.timings = {"load": t1 - t0, "replay": time.perf_counter() - t1}
    return result
