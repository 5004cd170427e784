"""What goal strategies receive: one batch per team."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from ..load.deal_presets import ClosedDeals, ClosedWindow
from ..model import ActivityTable, Funnel, Period, Rep

if TYPE_CHECKING:
    from ..estimate import Estimate


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


def win_stage(funnel: Funnel, closed: ClosedDeals | None) -> int | None:
    """With a deals export, the index of the stage whose rate is won ÷ (won + lost) of the
    deals closed (the deals source decides it: :func:`~salesrules.load.deal_presets.won_stage`);
    ``None`` otherwise."""
    if closed is None or closed.stage is None or closed.stage not in funnel.names:
        return None
    return funnel.index(closed.stage)


@attrs.frozen
class HistoryWindow:
    """The days rates are measured on, both ends inclusive."""

    start: dt.date
    end: dt.date


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
    #: The run's one estimate of rates, shared with the checks
    #: (:class:`~salesrules.estimate.Estimate`): ``history`` is its activity, without the
    #: rows that contradict themselves. ``None`` for a batch made outside a run.
    estimate: Estimate | None = None
    #: With a deals export, each rep's closed deals by close date (read them with
    #: :meth:`closed_counts`); ``None`` otherwise.
    closed: ClosedDeals | None = None

    @property
    def closed_stage(self) -> int | None:
        """The stage whose rate is a win rate of closed deals, won ÷ (won + lost), open deals
        left out: with a deals export, the first count stage won deals reach and lost ones do
        not, as the deals source's stage map says (``wins``, by ``won_stage`` in
        ``salesrules.load.deal_presets``). ``None`` otherwise: every rate is lower ÷ upper."""
        return win_stage(self.funnel, self.closed)

    def closed_counts(self, rep_ids: Sequence[str], start: dt.date,
                      end: dt.date) -> ClosedWindow | None:
        """The deals each of ``rep_ids`` closed in ``[start, end]`` (won, and won plus lost),
        for the rate into :attr:`closed_stage`; ``None`` without a deals export."""
        return None if self.closed is None else self.closed.window(rep_ids, start, end)

    def history_window(self, lookback_days: int) -> HistoryWindow:
        """The days rates are measured on: ``lookback_days`` up to the day before the period.

        A period's targets are set from what came before it, so they do not move
        as the period goes well or badly. An export with no history before the
        period uses the period so far instead.
        """
        end = self.period.start - dt.timedelta(days=1)
        first = self.history.first_day()
        if first is None or first > end:
            end = self.as_of
        return HistoryWindow(end - dt.timedelta(days=lookback_days - 1), end)
