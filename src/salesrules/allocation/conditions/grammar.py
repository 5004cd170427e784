"""The condition language's grammar, written for lark, and the reading of its parse tree
into the typed tree of :mod:`.tree` (imported on the first non-empty condition)."""

from __future__ import annotations

import datetime as dt
import functools
import math
import re

import attrs
import lark

from .tree import (
    FUNCTIONS,
    MAX_DEPTH,
    Arith,
    BoolOp,
    Call,
    Compare,
    ConditionError,
    Field,
    InList,
    Literal,
    Minus,
    Node,
    Not,
    Parsed,
    TextTest,
    shown,
)

GRAMMAR = r"""
?start: disj
?disj: conj | conj (_OR conj)+ -> or_
?conj: neg | neg (_AND neg)+ -> and_
?neg: _NOT neg -> not_
    | test
?test: sum
     | sum COMPARE sum -> compare
     | sum _IN list -> in_
     | sum _NOT _IN list -> not_in
     | sum TEXT_TEST sum -> text_test
?sum: product | sum ADD product -> arith
?product: unary | product MUL unary -> arith
?unary: atom | "-" unary -> minus
?atom: NUMBER -> number
     | STRING -> string
     | _TRUE -> true
     | _FALSE -> false
     | NAME -> field
     | QUOTED_NAME -> field
     | NAME "(" [disj ("," disj)*] ")" -> call
     | "(" disj ")"
list: "[" [sum ("," sum)* [","]] "]"

_OR: "or"i
_AND: "and"i
_NOT: "not"i
_IN: "in"i
_TRUE: "true"i
_FALSE: "false"i
COMPARE: "==" | "!=" | "<=" | ">=" | "<" | ">"
TEXT_TEST: "startswith"i | "endswith"i | "contains"i
ADD: "+" | "-"
MUL: "*" | "/"
NUMBER: /(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/
STRING: /'(?:[^'\\]|\\.)*'/ | /"(?:[^"\\]|\\.)*"/
NAME: /[^\W\d]\w*/
QUOTED_NAME: /`[^`]+`/
%ignore /\s+/
"""


@functools.cache
def _parser() -> lark.Lark:
    return lark.Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)


class _Refused(Exception):
    def __init__(self, error: ConditionError) -> None:
        super().__init__(str(error))
        self.error = error


_HINTS = [
    (re.compile(r"=(?!=)"), "'=' alone is not a comparison", "did you mean '=='?"),
    (re.compile(r"<>"), "'<>' is not an operator", "did you mean '!='?"),
    (re.compile(r"&&?"), "'&' is not an operator", "write 'and'"),
    (re.compile(r"\|\|?"), "'|' is not an operator", "write 'or'"),
    (re.compile(r"!(?!=)"), "'!' is not an operator", "write 'not'"),
    (re.compile(r"\*\*"), "'**' (power) is not supported", "conditions compare values; "
                                                          "there are no powers"),
    (re.compile(r"['\"]"), "a quote is not closed", "end the text with the quote it starts "
                                                     "with"),
    (re.compile(r"\."), "'.' (attribute or method) is not supported",
     "use startswith, endswith, contains, lower(...), upper(...) or len(...)"),
]


def _syntax_error(full: str, exc: lark.exceptions.UnexpectedInput) -> ConditionError:
    text = shown(full)
    token = getattr(exc, "token", None)
    pos = getattr(exc, "pos_in_stream", None)
    if pos is None:
        pos = getattr(token, "start_pos", None)
    if (pos is None or isinstance(exc, lark.exceptions.UnexpectedEOF) or pos >= len(full)
            or getattr(token, "type", "") == "$END"):
        return ConditionError(len(full) + 1, f"invalid condition {text!r}: it ends too early",
                              "a comparison needs a value on each side, and each '(' "
                              "its ')'")
    for pattern, message, hint in _HINTS:
        hit = pattern.match(full, pos) or (pos and pattern.match(full, pos - 1, pos + 1))
        if hit and hit.end() > pos:
            return ConditionError(hit.start() + 1, f"invalid condition {text!r}: {message}",
                                  hint)
    got = shown(str(token) if token is not None and str(token) else full[pos])
    return ConditionError(pos + 1, f"invalid condition {text!r}: unexpected {got!r}")


def parse_text(text: str) -> Parsed:
    """The tree of ``text``, stripped, not empty and not too long (:func:`.tree.parse`), or
    what is wrong with it."""
    try:
        raw = _parser().parse(text)
    except lark.exceptions.UnexpectedInput as exc:
        return Parsed(None, _syntax_error(text, exc))
    try:
        _check_depth(raw)
        return Parsed(_build(raw, text), None)
    except _Refused as exc:
        return Parsed(None, exc.error)


def _check_depth(raw: lark.Tree | lark.Token) -> None:
    """Refuse trees nested deeper than :data:`MAX_DEPTH`, walking them without recursion."""
    stack = [(raw, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            if isinstance(node, lark.Token):
                start = node.start_pos or 0
            else:
                start = getattr(node.meta, "start_pos", 0)
            raise _Refused(ConditionError(start + 1, f"the condition is nested more than "
                                                     f"{MAX_DEPTH} levels deep",
                                          "split it into simpler rules"))
        if isinstance(node, lark.Tree):
            stack.extend((c, depth + 1) for c in node.children)


@attrs.frozen
class _Span:
    """Where an item of the text starts and ends (0-based, end exclusive)."""

    start: int
    end: int


def _span(item: lark.Tree | lark.Token) -> _Span:
    if isinstance(item, lark.Token):
        return _Span(item.start_pos or 0, item.end_pos or 0)
    return _Span(item.meta.start_pos, item.meta.end_pos)


def _token(item: lark.Tree | lark.Token) -> lark.Token:
    """A leaf the grammar guarantees is a token (a number's or a string's)."""
    if not isinstance(item, lark.Token):
        raise AssertionError(f"expected a token, got {item!r}")
    return item


def _string(token: lark.Token) -> str:
    return re.sub(r"\\(.)", r"\1", str(token)[1:-1], flags=re.S)


def _number(token: lark.Token) -> float:
    value = float(str(token))
    if not math.isfinite(value):
        raise _Refused(ConditionError((token.start_pos or 0) + 1, f"the number {str(token)[:20]!r} "
                                                           "is too large"))
    return value


def _build(item: lark.Tree | lark.Token, text: str) -> Node:
    """The typed node of a lark tree (recursion is bounded by :func:`_check_depth`)."""
    span = _span(item)
    start, end = span.start, span.end
    if isinstance(item, lark.Token):
        raise AssertionError(f"unexpected token {item!r}")
    kind, kids = item.data, item.children
    if kind == "number":
        return Literal(start, end, _number(_token(kids[0])), "number")
    if kind == "string":
        return Literal(start, end, _string(_token(kids[0])), "text")
    if kind in ("true", "false"):
        return Literal(start, end, kind == "true", "bool")
    if kind == "field":
        name = str(kids[0])
        return Field(start, end, name[1:-1] if name.startswith("`") else name)
    if kind == "call":
        return _call(item, text)
    if kind == "minus":
        inner = _build(kids[0], text)
        if isinstance(inner, Literal) and inner.type == "number":
            return Literal(start, end, -inner.value, "number")  # type: ignore[operator]
        return Minus(start, end, inner)
    if kind == "not_":
        return Not(start, end, _build(kids[0], text))
    if kind in ("or_", "and_"):
        return BoolOp(start, end, kind[:-1], tuple(_build(k, text) for k in kids))
    if kind in ("compare", "text_test", "arith"):
        left, op, right = kids
        cls = {"compare": Compare, "text_test": TextTest, "arith": Arith}[kind]
        return cls(start, end, str(op).lower(), _build(left, text), _build(right, text))
    if kind in ("in_", "not_in"):
        return InList(start, end, _build(kids[0], text), _options(kids[1], text),
                      kind == "not_in")
    raise AssertionError(f"unexpected rule {kind!r}")


def _options(lst: lark.Tree, text: str) -> tuple[Literal, ...]:
    out = []
    for k in lst.children:
        node = _build(k, text)
        if not isinstance(node, Literal):
            raise _Refused(ConditionError(
                node.start + 1,
                f"{shown(text[node.start:node.end])!r} in a list is not a literal value",
                "a list holds only quoted text, numbers, dates or true/false"))
        out.append(node)
    if not out:
        raise _Refused(ConditionError(lst.meta.start_pos + 1, "the list is empty",
                                      "list at least one value"))
    return tuple(out)


def _call(item: lark.Tree, text: str) -> Node:
    span = _span(item)
    start, end = span.start, span.end
    name, *args = item.children
    fname = str(name).lower()
    if fname == "date":
        if len(args) != 1 or not isinstance(args[0], lark.Tree) or args[0].data != "string":
            raise _Refused(ConditionError(start + 1, "date(...) takes one quoted date",
                                          "write date('2026-11-01')"))
        raw = _string(_token(args[0].children[0]))
        try:
            return Literal(start, end, dt.date.fromisoformat(raw), "date")
        except ValueError:
            raise _Refused(ConditionError(args[0].meta.start_pos + 1,
                                          f"{raw!r} is not a date",
                                          "write the date as YYYY-MM-DD, e.g. "
                                          "date('2026-11-01')")) from None
    if fname not in FUNCTIONS:
        raise _Refused(ConditionError(start + 1, f"unknown function {str(name)!r}",
                                      f"the functions are date, {', '.join(FUNCTIONS)}; "
                                      "string tests are written 'field startswith ...'"))
    if len(args) != 1:
        raise _Refused(ConditionError(start + 1, f"{fname}(...) takes one value, "
                                                 f"got {len(args)}"))
    return Call(start, end, fname, _build(args[0], text))
