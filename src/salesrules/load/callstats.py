"""A call log's daily figures per rep, held as columns (an activity table of four figures)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl

from ..activity import ActivityRows, ActivityTable, day_number


class CallStats:
    """A call log's figures per rep and day: calls, connected calls, short connected calls,
    connected seconds (in that order, as ``by_rep[rep_id][day]``)."""

    FIELDS = ("dials", "connects", "short", "talk_seconds")

    def __init__(self, short_seconds: int) -> None:
        #: Connected calls shorter than this many seconds count as short.
        self.short_seconds = short_seconds
        self._table = ActivityTable(self.FIELDS)
        # once read, ``by_rep`` is what counts: a caller may change it
        self._by_rep: dict[str, dict[dt.date, list[int]]] | None = None
        # every rep's totals over a window, worked out once (checks ask rep by rep)
        self._windows: dict[tuple[dt.date, dt.date], dict[str, list[int]]] = {}

    @property
    def by_rep(self) -> dict[str, dict[dt.date, list[int]]]:
        """The figures as ``by_rep[rep_id][day]``, reps and days in order (made when first
        asked for; a change to it counts from then on)."""
        if self._by_rep is None:
            table = self._table
            self._by_rep = {rep: {day: [int(v) for v in row] for day, row in
                                  table.days(rep).items()} for rep in table.rep_ids}
        return self._by_rep

    def add_columns(self, rep_ids: Sequence[str] | pl.Series, days: np.ndarray,
                    values: np.ndarray) -> None:
        """Add figures per rep-day, summed with those there: a rep id, a day (days since
        1970-01-01, or as :meth:`ActivityTable.add_columns` takes days) and a row of the four
        figures each."""
        self._windows = {}
        if self._by_rep is None:
            self._table.add_columns(rep_ids, days, values)
            return
        table = ActivityTable(self.FIELDS)
        table.add_columns(rep_ids, days, values)
        for rep in table.rep_ids:
            into = self._by_rep.setdefault(rep, {})
            for day, row in table.days(rep).items():
                have = into.setdefault(day, [0, 0, 0, 0])
                for i, v in enumerate(row):
                    have[i] += int(v)

    def rows(self) -> ActivityRows:
        """Every rep-day's figures, as arrays (sorted by rep, then day)."""
        if self._by_rep is None:
            return self._table.rows()
        table = ActivityTable(self.FIELDS)
        items = [(rep, day, row) for rep, days in self._by_rep.items()
                 for day, row in days.items()]
        table.add_columns([r for r, _, _ in items], [d for _, d, _ in items],
                          np.array([row for _, _, row in items], dtype=np.float64)
                          .reshape(-1, len(self.FIELDS)))
        return table.rows()

    def totals(self, rep_id: str, start: dt.date, end: dt.date) -> list[int]:
        """The four figures summed over ``[start, end]`` (both inclusive)."""
        if self._by_rep is None:
            if (start, end) not in self._windows:
                self._windows[(start, end)] = {rep: [int(v) for v in row] for rep, row in
                                               self._table.window_totals(start, end).items()}
            return list(self._windows[(start, end)].get(rep_id, [0, 0, 0, 0]))
        out = [0, 0, 0, 0]
        for day, row in self._by_rep.get(rep_id, {}).items():
            if start <= day <= end:
                for i in range(4):
                    out[i] += row[i]
        return out

    def until(self, day: dt.date) -> CallStats:
        """The figures of the days up to ``day`` (inclusive)."""
        out = CallStats(self.short_seconds)
        rows = self.rows()
        keep = rows.day <= day_number(day)
        out.add_columns(np.array(rows.reps, dtype=object)[rows.rep[keep]].tolist(),
                        rows.day[keep], rows.values[keep])
        return out
