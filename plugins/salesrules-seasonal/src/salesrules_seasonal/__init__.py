"""Peak and off-season splits (旺季/淡季): months weighted by config, or estimated from history.

Each month's weight is its working days (as with ``even``) times a
multiplier. With ``months`` each named month gets its multiplier (others
1.0). With ``estimate = true`` the multiplier is the month's share of past
results: the team's result per rep-working-day in that calendar month,
shrunk toward the overall rate when that month's history is thin. The kernel
then splits the period total by these weights exactly, so the total is
always kept.
"""

from __future__ import annotations

import attrs

from salesrules.api import Funnel, SplitBatch, TimeSplit, hookimpl

__version__ = "0.1.0"
SALESRULES_CONTRACT = "2.0"


@attrs.define
class SeasonalParams:
    """Params of ``seasonal``: either ``months`` multipliers or ``estimate = true``."""

    #: Month number -> multiplier, e.g. ``{ "11" = 1.3, "12" = 1.3, "2" = 0.7 }``.
    months: dict[str, float] = attrs.Factory(dict)
    #: Estimate the weights from the team's history instead of ``months``.
    estimate: bool = False
    #: Stage whose history is used; empty means the result stage.
    stage: str = ""
    #: How strongly a thin month is pulled toward the overall rate, in rep-working-days.
    prior_days: float = attrs.field(default=20.0, validator=attrs.validators.ge(0))

    def __attrs_post_init__(self) -> None:
        for key, mult in self.months.items():
            if not key.isdigit() or not 1 <= int(key) <= 12:
                raise ValueError(f"months: {key!r} is not a month number 1-12")
            if mult <= 0:
                raise ValueError(f"months: the multiplier of month {key} must be above 0")
        if self.months and self.estimate:
            raise ValueError("give either months or estimate = true, not both")


class Seasonal(TimeSplit):
    """Peak and off-season months (旺季 ×1.3, 淡季 ×0.7) times
    their working days, given or estimated from history."""

    name = "seasonal"
    Params = SeasonalParams

    def validate(self, funnel: Funnel) -> list[tuple[str, str]]:
        s = self.params.stage
        return [("stage", f"unknown stage {s!r}")] if s and s not in funnel.names else []

    def month_weights(self, batch: SplitBatch) -> list[float]:
        if not self.params.estimate:
            days = batch.month_working_days or (1,) * len(batch.months)
            return [self.params.months.get(str(m.start.month), 1.0) * d
                    for m, d in zip(batch.months, days)]
        return self.estimate(batch)

    def estimate(self, batch: SplitBatch) -> list[float]:
        """Each month's weight: its shrunk result rate per rep-day times its working days."""
        idx = batch.funnel.index(self.params.stage or batch.funnel.result.name)
        value = [0.0] * 13
        rep_days = [0] * 13
        for rep in batch.reps:
            for day, row in batch.history.days(rep.id).items():
                if day <= batch.as_of and day < batch.period.start:
                    value[day.month] += row[idx]
                    rep_days[day.month] += 1
        total_days = sum(rep_days)
        days = batch.month_working_days or tuple(1 for _ in batch.months)
        if not total_days or not sum(value):
            return [float(d) for d in days]  # no history: flat per working day
        overall = sum(value) / total_days
        k = self.params.prior_days
        weights = []
        for m, d in zip(batch.months, days):
            n = rep_days[m.start.month]
            rate = (value[m.start.month] + k * overall) / (n + k) if n + k else overall
            weights.append(rate / overall * d)
        return weights


@hookimpl
def register_splits(register):
    register(Seasonal)
