"""Leads held as columns: one polars frame from reading to writing, Lead objects only when read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

import polars as pl

from .model import Lead

#: The columns every leads frame has, in order; any further columns are the export's
#: own fields, as text ("" when empty).
SCHEMA: dict[str, pl.DataType] = {"id": pl.String(), "created_at": pl.Datetime("us"),
                                  "owner": pl.String(), "priority": pl.Int64(),
                                  "value": pl.Float64()}
_CHUNK = 2048


def frame_of(leads: Iterable[Lead]) -> pl.DataFrame:
    """A leads frame from Lead objects (for sources and tests that build leads one by one)."""
    leads = list(leads)
    fields: dict[str, None] = {}
    for lead in leads:
        fields.update(dict.fromkeys(lead.fields))
    columns = {"id": [x.id for x in leads], "created_at": [x.created_at for x in leads],
               "owner": [x.owner or None for x in leads],
               "priority": [x.priority for x in leads], "value": [float(x.value) for x in leads]}
    for f in fields:
        if f not in columns:
            columns[f] = [str(x.fields.get(f, "")) for x in leads]
    return conform(pl.DataFrame(columns, schema={**SCHEMA, **{f: pl.String for f in fields
                                                             if f not in SCHEMA}}))


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the leads columns first, in their types, and every other column as text."""
    extra = [c for c in frame.columns if c not in SCHEMA]
    return frame.select(
        *(pl.col(c).cast(t) for c, t in SCHEMA.items()),
        *(pl.col(c).cast(pl.String).fill_null("") for c in extra))


class LeadList(Sequence[Lead]):
    """Leads in a fixed order, held as a frame; each becomes a :class:`Lead` only when read.

    Reading ``leads[i]`` (or iterating) builds the Lead objects of that stretch
    once and keeps them, so the same index gives the same object. ``frame``
    and ``ids`` read the columns without building any object: what a
    vectorised policy or the kernel uses.
    """

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame
        self._len = frame.height
        self._fields = tuple(c for c in frame.columns if c not in SCHEMA)
        self._chunks: dict[int, list[Lead]] = {}
        self._ids: list[str] | None = None

    @classmethod
    def of(cls, leads: Iterable[Lead] | LeadList | pl.DataFrame) -> LeadList:
        """A LeadList of Lead objects, a frame, or another LeadList (returned as it is)."""
        if isinstance(leads, LeadList):
            return leads
        if isinstance(leads, pl.DataFrame):
            return cls(conform(leads))
        leads = list(leads)
        out = cls(frame_of(leads))
        for start in range(0, len(leads), _CHUNK):  # the given objects stay the ones read
            out._chunks[start // _CHUNK] = leads[start:start + _CHUNK]
        return out

    @property
    def frame(self) -> pl.DataFrame:
        """The leads as columns: ``id``, ``created_at``,
        ``owner``, ``priority``, ``value``, fields."""
        return self._frame

    @property
    def fields(self) -> tuple[str, ...]:
        """The names of the export's own lead columns (``source``, ``region``, ...)."""
        return self._fields

    @property
    def ids(self) -> list[str]:
        """Every lead's id, in order."""
        if self._ids is None:
            self._ids = self._frame["id"].to_list()
        return self._ids

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, i: int) -> Lead: ...

    @overload
    def __getitem__(self, i: slice) -> list[Lead]: ...

    def __getitem__(self, i: int | slice) -> Lead | list[Lead]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._len))]
        n = self._len
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("lead index out of range")
        return self._chunk(i // _CHUNK)[i % _CHUNK]

    def __iter__(self) -> Iterator[Lead]:
        for c in range((self._len + _CHUNK - 1) // _CHUNK):
            yield from self._chunk(c)

    def _chunk(self, c: int) -> list[Lead]:
        got = self._chunks.get(c)
        if got is None:
            got = self._chunks[c] = _build(self._frame.slice(c * _CHUNK, _CHUNK), self._fields)
        return got

    def value_of(self, ids: Iterable[str]) -> dict[str, float]:
        """The value of each lead in ``ids``, by id."""
        wanted = pl.Series("id", list(ids), dtype=pl.String)
        found = self._frame.filter(pl.col("id").is_in(wanted.implode())).select("id", "value")
        return dict(zip(found["id"].to_list(), found["value"].to_list()))


def _build(frame: pl.DataFrame, fields: Sequence[str]) -> list[Lead]:
    created: list[dt.datetime] = frame["created_at"].to_list()
    columns = [frame[f].to_list() for f in fields]
    extras = ([dict(zip(fields, row)) for row in zip(*columns)] if fields
              else [{} for _ in range(frame.height)])
    return list(map(Lead, frame["id"].to_list(), created, frame["owner"].to_list(),
                    frame["priority"].to_list(), frame["value"].to_list(), extras))
