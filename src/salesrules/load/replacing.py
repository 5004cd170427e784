"""Stage values that replace what the activity sheets say (a call log's dials and connects),
held as columns until the export is built."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np
import polars as pl

from ..activity import day_number, day_numbers

_SCHEMA = {"rep": pl.String, "day": pl.Int64, "value": pl.Float64}


class Replacements:
    """Rep-day values of single stages, the last one given for a rep-day and stage winning."""

    def __init__(self) -> None:
        self._parts: list[tuple[int, pl.DataFrame]] = []
        self._loose: list[tuple[str, dt.date, int, float]] = []

    def __bool__(self) -> bool:
        return bool(self._parts or self._loose)

    def add(self, items: Iterable[tuple[str, dt.date, int, float]]) -> None:
        """Add ``(rep_id, day, stage index, value)`` items."""
        self._loose.extend(items)

    def add_columns(self, stage: int, rep_ids: pl.Series | Sequence[str], days: np.ndarray,
                    values: np.ndarray) -> None:
        """Add values of one stage as columns (``days``: days since 1970-01-01)."""
        self._flush()
        self._parts.append((stage, pl.DataFrame(
            {"rep": rep_ids, "day": days, "value": values}, schema=_SCHEMA)))

    def _flush(self) -> None:
        if not self._loose:
            return
        loose, self._loose = self._loose, []
        for i in sorted({i for _, _, i, _ in loose}):
            mine = [x for x in loose if x[2] == i]
            self._parts.append((i, pl.DataFrame(
                {"rep": [r for r, _, _, _ in mine], "day": day_numbers(d for _, d, _, _ in mine),
                 "value": [float(v) for _, _, _, v in mine]}, schema=_SCHEMA)))

    def by_stage(self) -> dict[int, pl.DataFrame]:
        """Per stage index, one row per rep-day (``rep``, ``day``, ``value``): the last given."""
        self._flush()
        out: dict[int, pl.DataFrame] = {}
        for i in sorted({i for i, _ in self._parts}):
            frames = [f for j, f in self._parts if j == i]
            out[i] = (frames[0] if len(frames) == 1 else pl.concat(frames)).unique(
                ["rep", "day"], keep="last", maintain_order=True)
        return out

    @staticmethod
    def at(stages: dict[int, pl.DataFrame],
           keys: Iterable[tuple[str, dt.date]]) -> dict[tuple[str, int, int], float]:
        """The values of the given rep-days, as ``{(rep_id, day number, stage index): value}``."""
        keys = set(keys)
        if not keys or not stages:
            return {}
        want = pl.DataFrame({"rep": [r for r, _ in keys], "day": [day_number(d) for _, d in keys]},
                            schema={"rep": pl.String, "day": pl.Int64})
        out: dict[tuple[str, int, int], float] = {}
        for i, frame in stages.items():
            hit = frame.join(want, on=["rep", "day"], how="semi")
            out.update(((r, d, i), v) for r, d, v in hit.iter_rows())
        return out
