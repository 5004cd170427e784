"""The export as it stood on a past day: what a backtest replays the rules on.

:func:`cut_dataset` builds a new :class:`~salesrules.load.Dataset` from a
loaded one, holding only what was known at the end of the as-of day:

- activity up to that day (a new, frozen table: the loaded one is read-only);
- leads created by then, each as it stood: a lead assigned later has no owner
  yet (its ``assigned_at`` and other later dates blanked), and the fields that
  say how it ended (:data:`OUTCOME_FIELDS`) are blank;
- call-log figures up to that day, leave that had begun by then, and the activity rows
  found contradicting themselves up to that day;
- each value data sources keep in ``extra`` that has an ``until(day)`` method,
  cut by it (a deal export's closed deals and its deals as leads are);
- the leads an ``extra`` value with a ``leads_on(day)`` method gives for the day,
  added as new leads (a deal export's deals created that day, nobody's yet:
  :mod:`salesrules.load.deal_leads`).

The reps file, goal overrides and other ``extra`` values are kept as read:
they carry no date to cut them by (docs/backtest.md says so).
"""

from __future__ import annotations

import datetime as dt

import attrs
import numpy as np
import polars as pl

from ..leads import conform
from ..load import Dataset
from ..load.dataset import CallStats
from ..load.tables import CellError, parse_date
from ..model import ActivityTable

#: Lead fields dated by the export: blank (owner too, for ``assigned_at``) when after the day.
DATED_FIELDS = ("assigned_at", "last_contact", "close_date", "closed_at")
#: Lead fields that say how the lead ended: never known on the day it is replayed.
OUTCOME_FIELDS = ("outcome", "amount", "stage", "status", "close_date", "closed_at")


def cut_activity(table: ActivityTable, as_of: dt.date) -> ActivityTable:
    """A new, frozen table with the rows of ``table`` dated up to ``as_of``."""
    rows = table.rows(end=as_of)
    out = ActivityTable(table.stages)
    if len(rows):
        names = np.array(rows.reps, dtype=object)[rows.rep].tolist()
        out.add_columns(names, rows.day, rows.values)
    out.freeze()
    return out


def _dates(values: list[str]) -> dict[str, dt.date | None]:
    """Each distinct text's date (``None`` when it is empty or not a date)."""
    out: dict[str, dt.date | None] = {}
    for v in set(values):
        try:
            out[v] = parse_date(v) if v.strip() else None
        except (CellError, ValueError):
            out[v] = None
    return out


def cut_leads(frame: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """The leads created by the end of ``as_of``, each as it stood then."""
    upto = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    frame = frame.filter(pl.col("created_at") < upto)
    later: dict[str, pl.Series] = {}
    for name in DATED_FIELDS:
        if name not in frame.columns or name in OUTCOME_FIELDS:
            continue
        values = frame[name].to_list()
        known = _dates(values)
        later[name] = pl.Series(name, [(d := known[v]) is not None and d > as_of
                                       for v in values], dtype=pl.Boolean)
    if "assigned_at" in later:
        frame = frame.with_columns(pl.when(later["assigned_at"]).then(None)
                                   .otherwise(pl.col("owner")).alias("owner"))
    for name, mask in later.items():
        frame = frame.with_columns(pl.when(mask).then(pl.lit("")).otherwise(pl.col(name))
                                   .alias(name))
    blank = [c for c in OUTCOME_FIELDS if c in frame.columns]
    if blank:
        frame = frame.with_columns(*(pl.lit("").alias(c) for c in blank))
    return frame


def cut_calls(calls: CallStats | None, as_of: dt.date) -> CallStats | None:
    return None if calls is None else calls.until(as_of)


def with_new_leads(dataset: Dataset, as_of: dt.date) -> pl.DataFrame:
    """The loaded leads and, after them, the leads each ``extra`` value with a ``leads_on(day)``
    method gives for the day (a deal export's deals created that day)."""
    frame = dataset.leads.frame
    new = [got for v in dataset.extra.values()
           if callable(getattr(v, "leads_on", None)) and (got := v.leads_on(as_of)).height]
    return conform(pl.concat([frame, *new], how="diagonal_relaxed")) if new else frame


def cut_dataset(dataset: Dataset, as_of: dt.date) -> Dataset:
    """The export as it stood at the end of ``as_of`` (see the module's text)."""
    leave = {rep_id: kept for rep_id, spans in dataset.leave.items()
             if (kept := [(a, b) for a, b in spans if a <= as_of])}
    extra = {k: v.until(as_of) if callable(getattr(v, "until", None)) else v
             for k, v in dataset.extra.items()}
    return attrs.evolve(
        dataset, leads=cut_leads(with_new_leads(dataset, as_of), as_of),
        activity=cut_activity(dataset.activity, as_of), warnings=list(dataset.warnings),
        leave=leave, calls=cut_calls(dataset.calls, as_of), extra=extra,
        contradicting=tuple(r for r in dataset.contradicting if r.day <= as_of))
