"""The built-in ``even`` time split: the same target every working day (or every month)."""

from __future__ import annotations

from typing import Literal

import attrs

from salesrules.api import SplitBatch, TimeSplit, hookimpl


@attrs.define
class EvenParams:
    #: ``working-day``: each month weighs its working days (holidays and 调休
    #: counted), so every working day carries the same target; ``month``: equal
    #: months, whatever their working days (what `even` meant at first).
    per: Literal["working-day", "month"] = "working-day"


class Even(TimeSplit):
    """The same target every working day: a month with
    18 working days gets 18/64 of a 64-day quarter."""

    name = "even"
    Params = EvenParams

    def month_weights(self, batch: SplitBatch) -> list[float]:
        if self.params.per == "month" or not batch.month_working_days:
            return [1.0] * len(batch.months)
        return [float(d) for d in batch.month_working_days]


@hookimpl(trylast=True)
def register_splits(register):
    register(Even)
