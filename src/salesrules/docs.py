"""Generated reference docs: hooks from hookspecs.py,
the API from api.py, rules.toml from the schema."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import attrs

from . import HOOK_CONTRACT, hookspecs
from .apidocs import api_markdown


def hook_names() -> list[str]:
    return [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
            if hasattr(fn, "salesrules_spec")]


def _order() -> list[str]:
    src = inspect.getsource(hookspecs)
    return sorted(hook_names(), key=lambda n: src.index(f"def {n}("))


def hooks_markdown() -> str:
    out = [
        "# Hook reference",
        "",
        "<!-- Generated from src/salesrules/hookspecs.py by `python -m salesrules.docs`;"
        " a test keeps it in sync. -->",
        "",
        f"Hook contract version **{HOOK_CONTRACT}**. A plugin module implements hooks with "
        "`@hookimpl` from `salesrules.api` and is found through the `salesrules` entry-point "
        "group, or named in `[plugins] modules` in rules.toml. Every hook is called once per "
        "batch (per run or per file), never per lead or per row.",
        "",
    ]
    for name in _order():
        fn = getattr(hookspecs, name)
        sig = str(inspect.signature(fn)).replace("'", "")
        out += [f"## `{name}`", "", "```python", f"def {name}{sig}", "```", "",
                inspect.cleandoc(fn.__doc__ or ""), ""]
    return "\n".join(out).rstrip() + "\n"


def _toml(value: Any) -> str:
    """A default as it would be written in rules.toml."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{k} = {_toml(v)}" for k, v in value.items() if v is not None)
        return "{ " + inner + " }" if inner else "{}"
    return repr(value)


_TYPE_WORDS = {str: "string", int: "whole number", float: "number", bool: "true or false",
               dt.date: "date"}


def _type_words(tp: Any) -> str:
    """A field's type in the words of the config reference."""
    from .config import Use

    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Literal:
        return " or ".join(json.dumps(a, ensure_ascii=False) for a in args)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_type_words(a) for a in args if a is not type(None))
    if origin is list:
        return f"list of {_type_words(args[0])}s"
    if tp is Use:
        return "name or table"
    if origin is dict or attrs.has(tp):
        return "table"
    return _TYPE_WORDS.get(tp, getattr(tp, "__name__", str(tp)))


def _default(field: Any) -> str:
    from .config import Use, converter

    default = field.default
    if default is attrs.NOTHING:
        return "*required*"
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        default = default.factory()  # type: ignore[union-attr]
    if default is None or attrs.has(type(default)) and not isinstance(default, Use):
        return ""
    if isinstance(default, Use) and not default.params:
        return f"`{_toml(default.name)}`"
    if isinstance(default, dict) and default and all(isinstance(v, Use) for v in default.values()):
        return ""  # [checks.NAME]: said in words
    return f"`{_toml(converter.unstructure(default))}`"


def _schema_tables(cls: type, path: str) -> Iterator[tuple[str, type]]:
    """Each table of rules.toml below ``cls`` as (header, class), in the schema's order."""
    from .config import DataConfig, DataFile, Use, schema

    def in_schema(tp: Any) -> bool:
        return attrs.has(tp) and tp.__module__ == schema.__name__ and tp is not Use

    hints = typing.get_type_hints(cls)
    for f in attrs.fields(cls):
        tp, key = hints[f.name], f"{path}.{f.name}".lstrip(".")
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        if cls is DataConfig and f.name == "tables":
            yield "[data.NAME]", DataFile
        elif in_schema(tp):
            yield f"[{key}]", tp
            yield from _schema_tables(tp, key)
        elif inner and in_schema(inner[0]):
            header = f"[[{key}]]" if typing.get_origin(tp) is list else f"[{key}]"
            yield header, inner[0]
            yield from _schema_tables(inner[0], key)


def _table_rows(cls: type) -> list[str]:
    from .config import RUNTIME_FIELDS, DataConfig, RulesConfig
    from .config.comments import field_comments

    hints, comments = typing.get_type_hints(cls), field_comments(cls)
    rows = ["| Key | Type | Default | Meaning |", "|---|---|---|---|"]
    for f in attrs.fields(cls):
        if (cls is RulesConfig and f.name in RUNTIME_FIELDS) or (
                cls is DataConfig and f.name == "tables"):
            continue
        default = _default(f)
        rows.append(f"| `{f.name}` | {_type_words(hints[f.name])} | {default} | "
                    f"{comments.get(f.name, '')} |")
    return rows


def config_markdown() -> str:
    """The rules.toml reference: every table and key, with its type, default and meaning."""
    from .config import RulesConfig
    from .config.comments import field_comments

    out = [
        "# `rules.toml` reference",
        "",
        ("<!-- Generated from src/salesrules/config/schema.py by `python -m salesrules.docs`;"
         " a test keeps it in sync. -->"),
        "",
        ("Every key is optional unless its default says *required*. An unknown key, or a value "
         "of the wrong type, is an error naming its key path (`allocation.rules[1].params.share: "
         "expected a number, got 'half'`); every such error is reported at once. A component's "
         "`params` are listed, with their meaning, by `salesrules plugins`."),
        "",
    ]
    checks = field_comments(RulesConfig)["checks"]
    for header, cls in _schema_tables(RulesConfig, ""):
        doc = (inspect.getdoc(cls) or "").replace("``", "`")
        out += [f"## `{header}`", "", doc, ""]
        out += [*_table_rows(cls), ""]
        if header == "[allocation.recycle]":
            out += ["## `[checks.NAME]`", "", checks, ""]
    return "\n".join(out).rstrip() + "\n"


DOCS = {"docs/hooks.md": hooks_markdown, "docs/api.md": api_markdown,
        "docs/config.md": config_markdown}


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
    for rel, make in DOCS.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(make(), encoding="utf-8")
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
