"""Structuring errors in rules.toml terms.

cattrs' ``transform_error``, with its paths rewritten to rules.toml key paths.
"""

from __future__ import annotations

import ast
import json
import re
import typing
from typing import Any, Literal

import attrs
import cattrs
from cattrs.errors import ForbiddenExtraKeysError

from ..errors import Problems
from .convert import Expected, converter, describe
from .schema import RUNTIME_FIELDS

_KEY = re.compile(r"[A-Za-z0-9_-]+")
_STEP = re.compile(r"""\.([^.\[]+)|\[(\d+|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\]""")


def format_path(parts: list[str | int]) -> str:
    """A dotted key as TOML spells it.

    ``["goals", "levels", "高级"]`` -> ``goals.levels."高级"``.
    """
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            key = p if _KEY.fullmatch(p) else json.dumps(p, ensure_ascii=False)
            out += ("." if out else "") + key
    return out


def path_parts(cattrs_path: str) -> list[str | int]:
    """cattrs' ``$.allocation.rules[1].params['share']`` -> ``["allocation", "rules", 1, ...]``."""
    return [m.group(1) if m.group(1) is not None else ast.literal_eval(m.group(2))
            for m in _STEP.finditer(cattrs_path.removeprefix("$"))]


def _lookup(data: Any, parts: list[str | int]) -> Any:
    for p in parts:
        try:
            data = data[p]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    names = {float: "a number", int: "a whole number", str: "a string", bool: "true or false"}
    if tp in names:
        return names[tp]
    if attrs.has(tp) or typing.get_origin(tp) is dict:
        return "a table"
    if typing.get_origin(tp) is list:
        return "a list"
    return getattr(tp, "__name__", str(tp))


_MUST = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' (must .*?)(?:: (.*))?$", re.DOTALL)


def _problems(exc: BaseException, tp: Any, value: Any) -> list[tuple[list[str | int], str]]:
    """What one leaf error says, as (key path below where it happened, message)."""
    if isinstance(exc, ForbiddenExtraKeysError):
        known = sorted(a.name for a in attrs.fields(exc.cl)
                       if exc.cl.__name__ != "RulesConfig" or a.name not in RUNTIME_FIELDS)
        hint = f" (known keys: {', '.join(known)})" if known else ""
        return [([key], f"unknown key{hint}") for key in sorted(exc.extra_fields)]
    if isinstance(exc, KeyError):
        return [([], "required key is missing")]
    if isinstance(exc, Expected):
        return [([], str(exc))]
    if isinstance(exc, (ValueError, TypeError)) and str(exc):
        # attrs validators and __attrs_post_init__ checks: keep their words, and point
        # at the field when the message names one ("'x' must be >= 1: 0")
        m = _MUST.match(str(exc))
        if m:
            got = f", got {m.group(3)}" if m.group(3) is not None else ""
            return [([m.group(1)], f"{m.group(2)}{got}")]
        return [([], str(exc))]
    expected = _type_name(tp) if tp is not None else "another value"
    return [([], f"expected {expected}, got {describe(value)}")]


def add_problems(exc: BaseException, data: Any, prefix: list[str | int], problems: Problems,
                 tp: Any = None) -> None:
    """Add one problem per leaf of a cattrs error, named by its rules.toml key path.

    ``data`` is what was structured, and ``prefix`` the key path it sits at.
    """
    leaves: list[tuple[BaseException, Any]] = []

    def remember(leaf: BaseException, leaf_tp: Any) -> str:
        leaves.append((leaf, leaf_tp))
        return str(len(leaves) - 1)

    for line in cattrs.transform_error(exc, "$", remember):
        token, _, where = line.partition(" @ ")
        leaf, leaf_tp = leaves[int(token)]
        parts = path_parts(where)
        if not parts and leaf_tp is None:
            leaf_tp = tp
        for below, message in _problems(leaf, leaf_tp, _lookup(data, parts)):
            problems.add(format_path([*prefix, *parts, *below]), message)


def structure(data: Any, cls: Any, path: list[str | int], problems: Problems) -> Any:
    """Structure ``data`` into ``cls``; on failure add key-path-named problems and return None."""
    try:
        return converter.structure(data, cls)
    except Exception as exc:  # noqa: BLE001 - a plugin's Params may raise anything
        add_problems(exc, data, path, problems, cls)
        return None
