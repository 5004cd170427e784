"""The as-of date against the activity: a date outside it is said out loud, and a morning run
(no activity on the as-of day yet) expects work up to the previous working day."""

from __future__ import annotations

import datetime as dt

from ..model import ActivityTable, Period
from ..warning_words import grain, warning
from .calendar import WorkCalendar

#: How far back a previous working day is looked for (a long holiday is shorter).
SEARCH_DAYS = 60


def expected_through(as_of: dt.date, activity: ActivityTable, calendar: WorkCalendar,
                     period: Period, warnings: list[str]) -> dt.date | None:
    """The last day work is expected up to, when it is not ``as_of``; says why in ``warnings``.

    When no rep has activity on ``as_of``, it is a working day and the activity
    reaches the previous working day, the export was taken before that day's
    work (a morning run): work is expected up to the previous working day, and
    the day itself is still ahead. An as-of date
    before the activity begins, after a working day with no activity past its
    end, or in a period with work expected but no activity yet, is warned
    about: the progress of every rep would read as nothing done.
    """
    span = activity.span()
    first, last = span.first, span.last
    if first is None or last is None:
        return None
    if as_of < first:
        warnings.append(warning("asof-before", as_of=as_of, first=first, last=last))
        return None
    through = None
    if calendar.is_working(as_of) and not len(activity.rows(as_of, as_of)):
        previous = _previous_working(as_of, calendar)
        if last >= previous:  # the export reaches the day before: taken before today's work
            through = previous
    upto = through or as_of
    if last < upto and calendar.working_days(last + dt.timedelta(days=1), upto):
        warnings.append(warning("asof-after", as_of=as_of, first=first, last=last, upto=upto))
    if (calendar.working_days(period.start, upto)
            and not len(activity.rows(period.start, as_of))):
        warnings.append(warning("period-idle", grain=grain(period.grain), start=period.start,
                                end=period.end, as_of=as_of, first=first, last=last))
    if through is not None:
        warnings.append(warning("morning", as_of=as_of, through=through))
    return through


def _previous_working(day: dt.date, calendar: WorkCalendar) -> dt.date:
    """The last working day before ``day`` (the day before, if none is found)."""
    for k in range(1, SEARCH_DAYS + 1):
        d = day - dt.timedelta(days=k)
        if calendar.is_working(d):
            return d
    return day - dt.timedelta(days=1)
