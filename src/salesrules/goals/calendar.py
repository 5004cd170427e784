"""Working days: the weekday mask, public holidays
and make-up workdays (调休), and the run's period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from ..errors import UserError
from ..model import Period
from ..warning_words import warning

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: The years a run can be as of: its period, look-backs and history stay within the calendar.
YEARS = (1900, 9998)


@attrs.frozen
class WorkCalendar:
    """Which days are working days for a team."""

    weekdays: frozenset[int] = frozenset(range(5))
    holidays: frozenset[dt.date] = frozenset()
    #: Weekend days that are working days (调休).
    workdays: frozenset[dt.date] = frozenset()

    @classmethod
    def from_names(cls, weekdays: Iterable[str], holidays: Iterable[dt.date] = (),
                   workdays: Iterable[dt.date] = ()) -> WorkCalendar:
        return cls(frozenset(WEEKDAY_NAMES.index(d) for d in weekdays),
                   frozenset(holidays), frozenset(workdays))

    def is_working(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() in self.weekdays and day not in self.holidays

    def working_days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        out, d = [], start
        while d <= end:
            if self.is_working(d):
                out.append(d)
            d += dt.timedelta(days=1)
        return out


def build_calendar(weekdays: Iterable[str], country: str = "", subdiv: str = "",
                   holidays: Iterable[dt.date] = (), workdays: Iterable[dt.date] = (),
                   years: Iterable[int] = (), warnings: list[str] | None = None) -> WorkCalendar:
    """A calendar from a weekday mask, a country's public holidays and make-up workdays
    (from the ``holidays`` library), and days listed in config.

    A country whose holidays move every year by decree (China's 调休 schedule)
    has a year's schedule only once it is published; for a later year a
    warning goes to ``warnings``.
    """
    hol, work = set(holidays), set(workdays)
    if country:
        import holidays as holidays_lib

        years = sorted(set(years))
        lib = holidays_lib.country_holidays(country, subdiv=subdiv or None, years=years)
        hol.update(lib.keys())
        work.update(d for d in getattr(lib, "weekend_workdays", ()) if d.year in years)
        if warnings is not None:
            warnings.extend(_unpublished(holidays_lib, country, subdiv, years))
    return WorkCalendar.from_names(weekdays, hol, work - set(holidays))


def _unpublished(holidays_lib, country: str, subdiv: str, years: list[int]) -> list[str]:
    """Warnings for the years after the last one whose decreed schedule the library has."""
    if not years:
        return []
    past = range(min(years) - 5, max(years) + 1)
    lib = holidays_lib.country_holidays(country, subdiv=subdiv or None, years=past)
    special = getattr(lib, "special_public_holidays", None) or {}
    if not getattr(lib, "weekend_workdays", None) or not special:
        return []  # holidays by fixed rules only: every year is known
    last = max(special)
    version = getattr(holidays_lib, "__version__", "?")
    return [warning("unpublished", version=version, country=country, year=year, last=last)
            for year in years if year > last]


def quarter_of(day: dt.date, fiscal_year_start: int = 1) -> Period:
    """The quarter containing ``day``; quarters start in ``fiscal_year_start``'s month and
    every third month after it."""
    months = day.year * 12 + day.month - 1  # months since year 0
    first = months - (months - (fiscal_year_start - 1)) % 3
    start = dt.date(first // 12, first % 12 + 1, 1)
    last = first + 2
    return Period("quarter", start, _month_end(dt.date(last // 12, last % 12 + 1, 1)))


def month_of(day: dt.date) -> Period:
    start = day.replace(day=1)
    return Period("month", start, _month_end(start))


def _month_end(first: dt.date) -> dt.date:
    nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def period_of(day: dt.date, grain: str, fiscal_year_start: int = 1) -> Period:
    """The quarter (fiscal, if the year starts in another month) or month that contains ``day``;
    a day outside :data:`YEARS` is bad input (its period or look-back runs off the calendar)."""
    if not YEARS[0] <= day.year <= YEARS[1]:
        raise UserError(f"the run is as of {day}, outside the years {YEARS[0]} to {YEARS[1]} "
                        "that runs can be for: set run.as_of or --as-of, or fix the dates of "
                        "the activity file (a run is as of its last day)")
    return quarter_of(day, fiscal_year_start) if grain == "quarter" else month_of(day)


def months_in(period: Period) -> list[Period]:
    out, d = [], period.start
    while d <= period.end:
        m = month_of(d)
        out.append(m)
        d = m.end + dt.timedelta(days=1)
    return out


def weeks_in(month: Period) -> list[Period]:
    """ISO weeks (Monday to Sunday) clipped to the month, so weeks sum to their month."""
    out, d = [], month.start
    while d <= month.end:
        end = min(d + dt.timedelta(days=6 - d.weekday()), month.end)
        out.append(Period("week", d, end))
        d = end + dt.timedelta(days=1)
    return out
