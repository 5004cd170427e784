"""Routing conditions: a small language of its own (docs/conditions.md), parsed by a lark
grammar into a typed tree, checked against the leads' column types, and evaluated on one
lead or compiled to a polars expression over a leads frame."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import polars as pl

from ...model import Lead
from .evaluate import condition_frame, evaluate, field_value, lead_frame, to_expr
from .tree import MAX_DEPTH, MAX_LENGTH, ConditionError, Field, Node, parse, walk
from .types import LEAD_TYPES, column_type, field_types, implied_types, validate_condition

__all__ = ["LEAD_NAMES", "LEAD_TYPES", "MAX_DEPTH", "MAX_LENGTH", "Compiled", "Condition",
           "ConditionError", "column_type", "compile_condition", "condition_frame", "field_types",
           "lead_frame", "match_frame", "match_leads", "parse", "validate_condition"]

#: Names every condition can use besides the lead's own columns.
LEAD_NAMES = tuple(LEAD_TYPES)


class Condition:
    """A parsed ``when`` condition, with the type of each field it names.

    Without ``types``, the lead's own fields have their types and every other
    field takes the type of the value the condition compares it with (text if
    none); :meth:`typed` binds it to the types read from the data.
    """

    def __init__(self, text: str, types: Mapping[str, str] | None = None) -> None:
        self.text = text.strip()
        parsed = parse(self.text)
        if parsed.error is not None:
            raise ValueError(str(parsed.error))
        tree = parsed.tree
        self.tree: Node | None = tree
        self.names = sorted({n.name for n in walk(tree) if isinstance(n, Field)}) if tree else []
        self.types = {**implied_types(tree), **LEAD_TYPES, **(types or {})}
        self._kinds = [self.types.get(n, "text") for n in self.names]
        self._cache: dict[tuple[Any, ...], bool] = {}

    def __repr__(self) -> str:
        return f"Condition({self.text!r})"

    def typed(self, types: Mapping[str, str]) -> Condition:
        """This condition, evaluating its fields as ``types`` says."""
        return Condition(self.text, {n: types[n] for n in self.names if n in types})

    def errors(self, types: Mapping[str, str]) -> list[ConditionError]:
        """What is wrong with this condition on leads whose fields have ``types``."""
        return validate_condition(self.tree, types, self.text)

    def matches(self, lead: Lead) -> bool:
        """Whether ``lead`` meets the condition (a null result does not)."""
        if self.tree is None:
            return True
        key = tuple([field_value(lead, n, k) for n, k in zip(self.names, self._kinds)])
        hit = self._cache.get(key)
        if hit is None:
            hit = evaluate(self.tree, dict(zip(self.names, key))) is True
            if len(self._cache) < 100_000:
                self._cache[key] = hit
        return hit

    def expr(self) -> pl.Expr:
        """The condition as a boolean polars expression over a :func:`lead_frame` (null where
        a value it needs is empty). Only for a condition without :meth:`errors`."""
        if self.tree is None:
            return pl.lit(True)
        return to_expr(self.tree, self.types)


@attrs.frozen
class Compiled:
    """A ``when`` text compiled: its condition, or what is wrong with it."""

    #: The parsed condition, or None when the text is not a condition.
    condition: Condition | None
    #: What is wrong with the text, or None when it parsed.
    error: str | None = None


def compile_condition(text: str) -> Compiled:
    """The condition, or ``None`` and what is wrong with it."""
    try:
        return Compiled(Condition(text))
    except ValueError as exc:
        return Compiled(None, str(exc))


def match_frame(conditions: Sequence[Condition], frame: pl.DataFrame) -> pl.Series:
    """For each row of ``frame``, the index of the first condition it meets, or null."""
    if not conditions:
        return pl.Series("rule", [None] * frame.height, dtype=pl.Int64)
    firsts = [pl.when(c.expr().fill_null(False)).then(pl.lit(i, dtype=pl.Int64))
              for i, c in enumerate(conditions)]
    out = frame.select(pl.coalesce(firsts).alias("rule")).to_series()
    # a condition polars folds to a constant (``1 in [1]``, ``value / 0 > 1``) gives one row
    return out.new_from_index(0, frame.height) if out.len() != frame.height else out


def match_leads(conditions: Sequence[Condition], leads: Sequence[Lead]) -> pl.Series:
    """:func:`match_frame` on ``leads`` (a ``LeadList``'s frame, or Lead objects), with the
    fields the conditions use."""
    types = {n: c.types[n] for c in conditions for n in c.names}
    frame = getattr(leads, "frame", None)
    if frame is not None:
        return match_frame(conditions, condition_frame(frame, types))
    return match_frame(conditions, lead_frame(list(leads), types))
