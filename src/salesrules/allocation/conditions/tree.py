"""The condition language's tree: the typed nodes a condition parses into, and its errors.

:func:`parse` turns a text into a tree; the grammar that reads it (and the lark
library behind it) lives in :mod:`.grammar`, imported on the first non-empty condition,
so that a run whose rules have no ``when`` never imports lark.
"""

from __future__ import annotations

import datetime as dt

import attrs

#: Longest condition accepted, in characters.
MAX_LENGTH = 4000
#: Deepest nesting accepted (parentheses, ``not``, minus signs, function calls).
MAX_DEPTH = 50
#: Functions a condition can call: name -> (argument type, result type).
FUNCTIONS = {"lower": ("text", "text"), "upper": ("text", "text"), "len": ("text", "number")}


# ---------------------------------------------------------------- the tree


@attrs.frozen
class Node:
    #: Where the node starts and ends in the condition text (0-based, end exclusive).
    start: int
    end: int


@attrs.frozen
class Field(Node):
    name: str


@attrs.frozen
class Literal(Node):
    value: str | float | bool | dt.date
    type: str  # "text", "number", "date" or "bool"


@attrs.frozen
class Compare(Node):
    op: str  # == != < <= > >=
    left: Node
    right: Node


@attrs.frozen
class InList(Node):
    item: Node
    options: tuple[Literal, ...]
    negated: bool


@attrs.frozen
class TextTest(Node):
    op: str  # startswith, endswith, contains
    left: Node
    right: Node


@attrs.frozen
class Not(Node):
    operand: Node


@attrs.frozen
class BoolOp(Node):
    op: str  # and, or
    operands: tuple[Node, ...]


@attrs.frozen
class Arith(Node):
    op: str  # + - * /
    left: Node
    right: Node


@attrs.frozen
class Minus(Node):
    operand: Node


@attrs.frozen
class Call(Node):
    name: str
    arg: Node


def children(node: Node) -> tuple[Node, ...]:
    """The nodes directly under ``node``."""
    if isinstance(node, (Compare, TextTest, Arith)):
        return (node.left, node.right)
    if isinstance(node, InList):
        return (node.item, *node.options)
    if isinstance(node, (Not, Minus)):
        return (node.operand,)
    if isinstance(node, BoolOp):
        return node.operands
    if isinstance(node, Call):
        return (node.arg,)
    return ()


def walk(node: Node):
    """Every node of the tree, parents before children (no recursion)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))


# ---------------------------------------------------------------- errors


@attrs.frozen
class ConditionError:
    """What is wrong with a condition, where (1-based column), and how to fix it."""

    column: int
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"column {self.column}: {self.message}" + (f"; {self.hint}" if self.hint else "")


def shown(text: str, most: int = 60) -> str:
    """``text``, cut short for a message."""
    return text if len(text) <= most else text[:most - 3] + "..."


# ---------------------------------------------------------------- parsing


@attrs.frozen
class Parsed:
    """A condition's tree (``None`` when empty or wrong), or what is wrong with it."""

    tree: Node | None
    error: ConditionError | None



def parse(text: str) -> Parsed:
    """The tree of ``text`` (``None`` for an empty condition), or what is wrong with it."""
    text = text.strip()
    if not text:
        return Parsed(None, None)
    if len(text) > MAX_LENGTH:
        return Parsed(None, ConditionError(
            1, f"the condition is {len(text)} characters long; at most {MAX_LENGTH} are allowed"))
    from .grammar import parse_text

    return parse_text(text)
