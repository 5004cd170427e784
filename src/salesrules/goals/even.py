"""The built-in ``even`` time split: every month of the period carries the same weight."""

from __future__ import annotations

from salesrules.api import SplitBatch, TimeSplit, hookimpl


class Even(TimeSplit):
    """Equal months: a 90,000 quarter is 30,000 a month; weeks and days follow working days."""

    name = "even"

    def month_weights(self, batch: SplitBatch) -> list[float]:
        return [1.0] * len(batch.months)


@hookimpl(trylast=True)
def register_splits(register):
    register(Even)
