"""A rep's own days in the period: the working days
after their hire date and off leave, with their ramp."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs

from ..errors import DataError, Problem
from ..model import Period, Rep
from .trace_words import trace


@attrs.frozen
class OwnDays:
    """The working days a rep works in the period, and how much of the team's period they cover.

    ``weights`` are the rep's month weights for the split: per month, the
    team's weight per working day times the rep's own days there (times their
    ramp). ``factor`` is the share of a full period's target the rep is asked
    for: 1.0 for a rep who works every day at full ramp.
    """

    days: frozenset[dt.date]
    #: How many working days the period has for everyone.
    of: int
    #: The rep's month weights (the team's per-day weight × own days × ramp).
    weights: tuple[float, ...]
    #: The share of the period target the rep is asked for (hire date, ramp and,
    #: with ``leave = "prorate"``, leave).
    factor: float = 1.0
    #: The hire date, when the reps file gives one.
    hired: dt.date | None = None
    #: What lowered the target, in words ("" for a full period).
    note: str = ""

    @property
    def share(self) -> float:
        """The share of the period's working days the rep works (1.0 without working days)."""
        return len(self.days) / self.of if self.of else 1.0


def hire_date(rep: Rep, where: str) -> dt.date | None:
    """The ``hired`` column as a date, or None when empty; a bad date is a data error."""
    from ..api import parse_date  # the public reader of export dates

    text = str(rep.fields.get("hired", "") or "").strip()
    if not text:
        return None
    try:
        return parse_date(text)
    except ValueError as exc:
        raise DataError([Problem(f"{where}: rep {rep.id!r}: column 'hired'", str(exc))]) from None


def ramp_factor(day: dt.date, hired: dt.date | None, ramp: Sequence[float]) -> float:
    """The share of the full daily target asked on ``day``: ``ramp[i]`` in the i-th calendar
    month of the rep's employment, 1.0 after.

    Ramp months are whole calendar months, so that a month's days share its target
    equally: the month of the hire date is the first, unless the rep was hired after
    the 15th, when that month's tail and the next month are the first together.
    """
    if hired is None or not ramp:
        return 1.0
    months = (day.year - hired.year) * 12 + day.month - hired.month - (hired.day > 15)
    return ramp[max(months, 0)] if months < len(ramp) else 1.0


@attrs.frozen
class TeamDays:
    """The period's working days and a team's month weight per working day."""

    working: tuple[dt.date, ...]
    #: Index of each working day's month.
    month_of: dict[dt.date, int]
    #: Per month: the team's month weight over its working days there (0 without any).
    per_day: tuple[float, ...]
    #: The team's month weights as the split gave them (0 for a month without working days).
    weights: tuple[float, ...] = ()

    @classmethod
    def of(cls, working: Sequence[dt.date], months: Sequence[Period],
           team_weights: Sequence[float]) -> TeamDays:
        days = tuple(sorted(working))
        month_of = {d: next(i for i, p in enumerate(months) if p.start <= d <= p.end)
                    for d in days}
        count = [0] * len(months)
        for m in month_of.values():
            count[m] += 1
        return cls(days, month_of, tuple(w / n if n else 0.0 for w, n in zip(team_weights, count)),
                   tuple(float(w) if n else 0.0 for w, n in zip(team_weights, count)))

    def weigh(self, days: Sequence[dt.date], hired: dt.date | None = None,
              ramp: Sequence[float] = ()) -> list[float]:
        """Month weights of ``days``: each day carries its month's weight per day (× ramp)."""
        out = [0.0] * len(self.per_day)
        for d in days:
            m = self.month_of[d]
            out[m] += self.per_day[m] * ramp_factor(d, hired, ramp)
        return out


def own_days(team: TeamDays, leave: Sequence[tuple[dt.date, dt.date]], ramp: Sequence[float],
             prorate_leave: bool, hired: dt.date | None) -> OwnDays:
    """The rep's own days, month weights and target share.

    A month's weight per working day is the team's month weight over the
    team's working days there, so every working day of the team carries the
    same share of the period under the default split: leave and a late hire
    date take away exactly their days, and the daily target stays the same.
    """
    working = team.working
    after = [d for d in working if hired is None or d >= hired]
    off = {d for d in after if any(a <= d <= b for a, b in leave)}
    mine = [d for d in after if d not in off]
    full = sum(team.weigh(working))
    if len(mine) == len(working) and all(ramp_factor(d, hired, ramp) == 1.0 for d in working):
        # every working day at full ramp: the split's own weights, exactly
        return OwnDays(frozenset(mine), len(working), team.weights, 1.0, hired,
                       _note(len(working), len(after), len(off), hired, ramp, prorate_leave))
    weights = team.weigh(mine, hired, ramp)
    counted = sum(weights) if prorate_leave else sum(team.weigh(after, hired, ramp))
    factor = counted / full if full else 1.0
    return OwnDays(frozenset(mine), len(working), tuple(weights), factor, hired,
                   _note(len(working), len(after), len(off), hired, ramp, prorate_leave))


def _note(of: int, after: int, off: int, hired: dt.date | None, ramp: Sequence[float],
          prorate_leave: bool) -> str:
    parts = []
    if hired is not None and after < of:
        parts.append(trace("hired", hired=hired, after=after, of=of))
    if hired is not None and ramp:
        parts.append(trace("ramp", ramp=trace("list-sep").join(f"{r:.0%}" for r in ramp)))
    if off:
        parts.append(trace("leave", off=off, left=after - off, of=of,
                           kept="" if prorate_leave else trace("kept")))
    return trace("sep").join(parts)
