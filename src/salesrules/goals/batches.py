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


@attrs.frozen
class FunnelBatch:
    """A team's reps and history, for a :class:`FunnelModel` to estimate rates from."""

    team: str
    reps: tuple[Rep, ...]
    funnel: Funnel
    history: ActivityTable
    as_of: dt.date
    period: Period
