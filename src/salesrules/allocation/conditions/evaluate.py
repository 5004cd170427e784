"""Evaluating a condition tree: on one lead in Python, or on a leads frame as a polars expression.

Both follow SQL's three-valued logic: an empty number or date is null, a
comparison with null is null, ``and``/``or`` are Kleene's, and a lead
matches only when the whole condition is true. Arithmetic that divides by
zero or overflows gives null.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from typing import Any

import polars as pl

from ...load.tables import CellError, parse_date, parse_number
from ...model import Lead
from .tree import (
    Arith,
    BoolOp,
    Call,
    Compare,
    Field,
    InList,
    Literal,
    Minus,
    Node,
    Not,
    TextTest,
)

_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge}
_TEXT = {"startswith": str.startswith, "endswith": str.endswith,
         "contains": lambda a, b: b in a}
_CALLS = {"lower": str.lower, "upper": str.upper, "len": lambda s: float(len(s))}
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul}
_DTYPES = {"text": pl.String, "number": pl.Float64, "date": pl.Date, "bool": pl.Boolean}
_TRUE = {"true", "yes", "1", "y", "是"}
_FALSE = {"false", "no", "0", "n", "否"}


def convert(raw: Any, kind: str) -> Any:
    """A lead field's cell as a value of ``kind``; an empty or unreadable cell is ``None``
    (text: ``''``)."""
    if kind == "text":
        return "" if raw is None else str(raw)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        if kind == "number":
            return parse_number(raw)
        if kind == "date":
            return parse_date(raw)
    except CellError:
        return None
    word = str(raw).strip().lower()
    return True if word in _TRUE else False if word in _FALSE else None


def field_value(lead: Lead, name: str, kind: str) -> Any:
    """The value a condition sees for field ``name`` of ``lead``."""
    if name == "id":
        return lead.id
    if name == "owner":
        return lead.owner or ""
    if name == "created_at":
        return lead.created_at.date()
    if name in ("priority", "value"):
        return float(getattr(lead, name))
    return convert(lead.fields.get(name), kind)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def evaluate(node: Node, values: Mapping[str, Any]) -> Any:
    """The value of ``node`` given each field's value (``None`` is null)."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Field):
        return values[node.name]
    if isinstance(node, BoolOp):
        return _kleene(node, values)
    if isinstance(node, Not):
        x = evaluate(node.operand, values)
        return None if x is None else not x
    if isinstance(node, InList):
        x = evaluate(node.item, values)
        if x is None:
            return None
        return (x in [o.value for o in node.options]) != node.negated
    if isinstance(node, Minus):
        x = evaluate(node.operand, values)
        return None if x is None else -x
    if isinstance(node, Call):
        x = evaluate(node.arg, values)
        return None if not isinstance(x, str) else _CALLS[node.name](x)
    a, b = evaluate(node.left, values), evaluate(node.right, values)  # type: ignore[attr-defined]
    if a is None or b is None:
        return None
    try:
        if isinstance(node, Compare):
            return _COMPARE[node.op](a, b)
        if isinstance(node, TextTest):
            return _TEXT[node.op](a, b) if isinstance(a, str) and isinstance(b, str) else None
        if isinstance(node, Arith):
            if node.op != "/":
                return _finite(_ARITH[node.op](a, b))
            if not b:
                return None
            # polars divides by a constant as a product with its reciprocal: so do we, so
            # that both paths give the same bits (and equal comparisons agree)
            return _finite(a * (1.0 / b) if isinstance(node.right, Literal) else a / b)
    except TypeError:
        return None  # only where the condition was not checked against the data's types
    raise AssertionError(f"unexpected node {node!r}")


def _kleene(node: BoolOp, values: Mapping[str, Any]) -> bool | None:
    stop = node.op == "or"  # the value that decides: True for or, False for and
    unknown = False
    for k in node.operands:
        x = evaluate(k, values)
        if x is None:
            unknown = True
        elif bool(x) == stop:
            return stop
    return None if unknown else not stop


# ---------------------------------------------------------------- polars


def to_expr(node: Node, types: Mapping[str, str]) -> pl.Expr:
    """The polars expression of a checked tree, over a frame made by :func:`lead_frame`."""
    if isinstance(node, Literal):
        return pl.lit(node.value, dtype=_DTYPES[node.type])
    if isinstance(node, Field):
        col = pl.col(node.name)
        return col.cast(pl.Date) if node.name == "created_at" else col
    if isinstance(node, BoolOp):
        parts = [to_expr(k, types) for k in node.operands]
        out = parts[0]
        for p in parts[1:]:
            out = (out | p) if node.op == "or" else (out & p)
        return out
    if isinstance(node, Not):
        return ~to_expr(node.operand, types)
    if isinstance(node, InList):
        item = to_expr(node.item, types)
        dtype = _DTYPES[node.options[0].type]
        hit = item.is_in(pl.Series([o.value for o in node.options], dtype=dtype).implode())
        hit = pl.when(item.is_null()).then(pl.lit(None, dtype=pl.Boolean)).otherwise(hit)
        return ~hit if node.negated else hit
    if isinstance(node, Minus):
        return -to_expr(node.operand, types)
    if isinstance(node, Call):
        arg = to_expr(node.arg, types)
        return {"lower": arg.str.to_lowercase(), "upper": arg.str.to_uppercase(),
                "len": arg.str.len_chars().cast(pl.Float64)}[node.name]
    a, b = to_expr(node.left, types), to_expr(node.right, types)  # type: ignore[attr-defined]
    if isinstance(node, Compare):
        return _COMPARE[node.op](a, b)
    if isinstance(node, TextTest):
        if node.op == "contains":
            return a.str.contains(b, literal=True)
        return a.str.starts_with(b) if node.op == "startswith" else a.str.ends_with(b)
    if isinstance(node, Arith):
        out = a / pl.when(b != 0).then(b) if node.op == "/" else _ARITH[node.op](a, b)
        return pl.when(out.is_finite()).then(out)
    raise AssertionError(f"unexpected node {node!r}")


def lead_frame(leads: list[Lead], types: Mapping[str, str]) -> pl.DataFrame:
    """One row per lead, one column per field in ``types`` (and ``id``), each as conditions
    see it."""
    types = {"id": "text", **types}
    return pl.DataFrame({name: pl.Series(name, [field_value(lead, name, kind) for lead in leads],
                                         dtype=_DTYPES[kind]) for name, kind in types.items()})


def condition_frame(leads: pl.DataFrame, types: Mapping[str, str]) -> pl.DataFrame:
    """:func:`lead_frame` from a leads frame (``salesrules.leads``): each field as conditions
    see it, every distinct cell converted once."""
    out = {}
    for name, kind in {"id": "text", **types}.items():
        if name in ("id", "owner"):
            out[name] = leads[name].fill_null("")
        elif name == "created_at":
            out[name] = leads[name].cast(pl.Date)
        elif name in ("priority", "value"):
            out[name] = leads[name].cast(pl.Float64)
        elif name not in leads.columns:
            out[name] = pl.Series(name, [convert(None, kind)] * leads.height,
                                  dtype=_DTYPES[kind])
        elif kind == "text":
            out[name] = leads[name].fill_null("")
        else:
            cells = leads[name]
            lookup = {v: convert(v, kind) for v in cells.unique().to_list()}
            out[name] = cells.replace_strict(lookup, default=None, return_dtype=_DTYPES[kind])
    return pl.DataFrame(out)
