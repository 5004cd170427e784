"""What goal strategies receive: one batch per team."""

from __future__ import annotations

import datetime as dt

import attrs

from ..model import ActivityTable, Funnel, Period, Rep


@attrs.frozen
class Rate:
    """The ratio of a stage to the one above it, and how it was estimated, in words."""

    value: float
    trace: str = ""


@attrs.frozen
class SplitBatch:
    """A team's period, its months, and its history, for a :class:`TimeSplit`."""

    team: str
    reps: tuple[Rep, ...]
    period: Period
    months: tuple[Period, ...]
    funnel: Funnel
    history: ActivityTable
    as_of: dt.date
    #: Working days of the team's calendar in each of ``months``.
    month_working_days: tuple[int, ...] = ()
    #: Lines for the run's warnings (``run.json``, the terminal) that the split adds,
    #: e.g. months it could not learn from the history.
    notes: list[str] = attrs.Factory(list)


@attrs.frozen
class FunnelBatch:
    """A team's reps and history, for a :class:`FunnelModel` to estimate rates from."""

    team: str
    reps: tuple[Rep, ...]
    funnel: Funnel
    history: ActivityTable
    as_of: dt.date
    period: Period
    #: Every active rep of every team, for models that pool across teams.
    everyone: tuple[Rep, ...] = ()

    def history_window(self, lookback_days: int) -> tuple[dt.date, dt.date]:
        """The days rates are measured on: ``lookback_days`` up to the day before the period.

        A period's targets are set from what came before it, so they do not move
        as the period goes well or badly. An export with no history before the
        period uses the period so far instead.
        """
        end = self.period.start - dt.timedelta(days=1)
        first = self.history.first_day()
        if first is None or first > end:
            end = self.as_of
        return end - dt.timedelta(days=lookback_days - 1), end
