"""Types of condition values: what each lead field holds, and the checks a condition must pass."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

from ...load.tables import CellError, parse_date, parse_number
from ...model import Lead
from .tree import (
    FUNCTIONS,
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
    TextTest,
    shown,
    walk,
)

#: The lead's own fields and their types; every other column is typed from its values.
LEAD_TYPES = {"id": "text", "created_at": "date", "owner": "text", "priority": "number",
              "value": "number"}
TYPES = ("text", "number", "date", "bool")
_SAY = {"text": "text", "number": "a number", "date": "a date", "bool": "yes/no"}
_CODE = re.compile(r"\+?[\d\s-]+")


def _is_code(text: str) -> bool:
    """Phone numbers, zip codes, account numbers: digits with a leading zero, or 11 or more."""
    if not _CODE.fullmatch(text):
        return False
    digits = re.sub(r"\D", "", text)
    return len(digits) >= 11 or (digits.startswith("0") and len(digits) > 1)


def _parses(parse, text: str) -> bool:
    try:
        parse(text)
    except CellError:
        return False
    return True


def column_type(values: Iterable[str | None]) -> str:
    """``number`` if every non-empty value is a number (and none looks like a phone or code),
    else ``date`` if every one is a date, else ``text``. An empty column is text."""
    seen = {v.strip() for v in values if v is not None and v.strip()}
    if not seen:
        return "text"
    if not any(_is_code(v) for v in seen) and all(_parses(parse_number, v) for v in seen):
        return "number"
    if all(_parses(parse_date, v) for v in seen):
        return "date"
    return "text"


def field_types(leads: list[Lead], wanted: Iterable[str] | None = None) -> dict[str, str]:
    """The type of every field a condition can use on these leads: the lead's own, and the
    columns of the first lead. Only the ``wanted`` columns (default: all) are read to find
    their type; the others are listed as text."""
    wanted = None if wanted is None else set(wanted)
    out = {n: "text" if wanted is not None and n not in wanted
           else column_type(lead.fields.get(n) for lead in leads)
           for n in (leads[0].fields if leads else ()) if n not in LEAD_TYPES}
    return {**LEAD_TYPES, **out}


def implied_types(tree: Node | None) -> dict[str, str]:
    """Types the condition itself implies for the fields it names: the type of the value a
    field is compared with, number under arithmetic, else text."""
    out: dict[str, str] = {}
    for node in walk(tree) if tree is not None else ():
        if isinstance(node, Compare):
            for a, b in ((node.left, node.right), (node.right, node.left)):
                if isinstance(a, Field) and isinstance(b, Literal):
                    out.setdefault(a.name, b.type)
        elif isinstance(node, InList) and isinstance(node.item, Field):
            out.setdefault(node.item.name, node.options[0].type)
        elif isinstance(node, (Arith, Minus)):
            for k in (node.left, node.right) if isinstance(node, Arith) else (node.operand,):
                if isinstance(k, Field):
                    out.setdefault(k.name, "number")
    return out


def validate_condition(tree: Node | None, types: Mapping[str, str],
                       text: str) -> list[ConditionError]:
    """What is wrong with ``tree`` (parsed from ``text``) given the type of each field."""
    if tree is None:
        return []
    errors: list[ConditionError] = []
    kind = _Checker(types, text, errors).type_of(tree)
    if kind is not None and kind != "bool":
        snip = shown(text[tree.start:tree.end])
        errors.append(ConditionError(
            tree.start + 1, f"`{snip}` is {_SAY[kind]}, not a yes/no condition",
            f"compare it, e.g. `{snip} {_EXAMPLE[kind]}`"))
    return errors


_EXAMPLE = {"number": "> 0", "text": "== 'A'", "date": ">= date('2026-11-01')"}


class _Checker:
    def __init__(self, types: Mapping[str, str], text: str,
                 errors: list[ConditionError]) -> None:
        self.types, self.text, self.errors = types, text, errors

    def fail(self, node: Node, message: str, hint: str = "") -> None:
        self.errors.append(ConditionError(node.start + 1, message, hint))

    def snip(self, node: Node) -> str:
        return shown(self.text[node.start:node.end])

    def type_of(self, node: Node) -> str | None:
        """The node's type, or ``None`` once an error has been recorded for it."""
        if isinstance(node, Literal):
            return node.type
        if isinstance(node, Field):
            return self.field(node)
        if isinstance(node, (Not, BoolOp)):
            return self.logic(node)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, InList):
            return self.in_list(node)
        if isinstance(node, TextTest):
            return self.expect(node, [node.left, node.right], "text", node.op)
        if isinstance(node, Arith):
            return self.expect(node, [node.left, node.right], "number", node.op)
        if isinstance(node, Minus):
            return self.expect(node, [node.operand], "number", "-")
        if isinstance(node, Call):
            arg, result = FUNCTIONS[node.name]
            return result if self.expect(node, [node.arg], arg, node.name) else None
        raise AssertionError(f"unexpected node {node!r}")

    def field(self, node: Field) -> str | None:
        kind = self.types.get(node.name)
        if kind is None:
            known = sorted(self.types)
            close = difflib.get_close_matches(node.name, known, n=1)
            self.fail(node, f"unknown lead field {node.name!r}",
                      (f"did you mean {close[0]!r}? " if close else "")
                      + f"(fields: {', '.join(known)})")
        return kind

    def logic(self, node: Not | BoolOp) -> str | None:
        ok = True
        for k in (node.operand,) if isinstance(node, Not) else node.operands:
            kind = self.type_of(k)
            if kind is not None and kind != "bool":
                ok = False
                word = "not" if isinstance(node, Not) else node.op
                self.fail(k, f"`{self.snip(k)}` is {_SAY[kind]}, not a yes/no condition, "
                             f"so '{word}' cannot use it",
                          f"compare it, e.g. `{self.snip(k)} {_EXAMPLE.get(kind, '')}`")
            ok = ok and kind is not None
        return "bool" if ok else None

    def expect(self, node: Node, operands: list[Node], want: str, op: str) -> str | None:
        ok = True
        for k in operands:
            kind = self.type_of(k)
            if kind is not None and kind != want:
                self.fail(k, f"`{self.snip(node)}`: {op!r} needs {_SAY[want]}, but "
                             f"`{self.snip(k)}` is {_SAY[kind]}")
            ok = ok and kind == want
        if not ok:
            return None
        return "bool" if isinstance(node, TextTest) else want

    def compare(self, node: Compare) -> str | None:
        left, right = self.type_of(node.left), self.type_of(node.right)
        if left is None or right is None:
            return None
        if left != right:
            self.mismatch(node, node.left, left, node.right, right)
            return None
        if left == "bool" and node.op not in ("==", "!="):
            self.fail(node, f"`{self.snip(node)}`: yes/no values have no order",
                      "compare them with == or !=")
            return None
        return "bool"

    def in_list(self, node: InList) -> str | None:
        kind = self.type_of(node.item)
        if kind is None:
            return None
        ok = True
        for option in node.options:
            if option.type != kind:
                self.mismatch(node, node.item, kind, option, option.type)
                ok = False
        return "bool" if ok else None

    def mismatch(self, node: Node, a: Node, at: str, b: Node, bt: str) -> None:
        """A comparison of two types, with the fix when one side is a field and one a value."""
        if isinstance(b, Field) and isinstance(a, Literal):
            a, at, b, bt = b, bt, a, at
        what = f"`{self.snip(node)}` compares {_SAY[at]} with {_SAY[bt]}"
        name = self.snip(a)
        hint = ""
        if isinstance(b, Literal) and bt == "text":
            raw = str(b.value)
            if at == "number" and _parses(parse_number, raw):
                hint = f"{name} is a number; drop the quotes"
            elif at == "date" and _parses(parse_date, raw):
                hint = f"{name} is a date; write date('{parse_date(raw).isoformat()}')"
            else:
                hint = f"{name} is {_SAY[at]}; compare it with {_SAY[at]}"
        elif isinstance(b, Literal) and at == "text":
            shown = self.snip(b)
            hint = f"{name} is text; put the value in quotes: '{shown}'" if bt == "number" \
                else f"{name} is text; compare it with quoted text"
        elif isinstance(b, Literal):
            hint = f"{name} is {_SAY[at]}; compare it with {_SAY[at]}"
        self.fail(node, what, hint)
