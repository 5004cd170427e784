"""Routing conditions in a safe expression language (simpleeval), never Python ``eval``."""

from __future__ import annotations

import ast
from operator import attrgetter
from typing import Any

import simpleeval

from ..model import Lead

#: Names every condition can use besides the lead's own columns.
LEAD_NAMES = ("id", "value", "priority", "owner", "created_at")

FUNCTIONS = {
    "lower": lambda s: str(s).lower(),
    "upper": lambda s: str(s).upper(),
    "num": lambda s: float(str(s).replace(",", "")) if str(s).strip() else 0.0,
    "len": len,
}


class Condition:
    """A compiled ``when`` expression, evaluated once per distinct combination of the fields it uses."""

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        self._evaluator = simpleeval.EvalWithCompoundTypes(functions=FUNCTIONS)
        self.tree = self._evaluator.parse(self.text) if self.text else None
        self.names = sorted({n.id for n in ast.walk(self.tree)
                             if isinstance(n, ast.Name)} - set(FUNCTIONS)) if self.tree else []
        self._cache: dict[tuple[Any, ...], bool] = {}
        getters = [_owner if n == "owner" else attrgetter(n) if n in LEAD_NAMES else _field(n)
                   for n in self.names]
        if len(getters) == 1:
            self._key = getters[0]
        else:
            self._key = lambda lead: tuple([g(lead) for g in getters])

    def matches(self, lead: Lead) -> bool:
        if self.tree is None:
            return True
        key = self._key(lead)
        hit = self._cache.get(key)
        if hit is None:
            values = (key,) if len(self.names) == 1 else key
            self._evaluator.names = dict(zip(self.names, values))
            hit = bool(self._evaluator.eval(self.text, previously_parsed=self.tree))
            if len(self._cache) < 100_000:
                self._cache[key] = hit
        return hit


def _owner(lead: Lead) -> str:
    """A lead without an owner has ``owner == ''`` in conditions."""
    return lead.owner or ""


def _field(name: str):
    def get(lead: Lead) -> Any:
        return lead.fields.get(name)

    return get


def compile_condition(text: str) -> tuple[Condition | None, str | None]:
    """The condition, or ``None`` and what is wrong with it."""
    try:
        return Condition(text), None
    except SyntaxError as exc:
        return None, f"invalid expression {text!r}: {exc.msg}"
    except simpleeval.InvalidExpression as exc:
        return None, f"invalid expression {text!r}: {exc}"
