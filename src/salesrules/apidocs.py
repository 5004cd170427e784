"""docs/api.md, generated: each public name's signature, attributes and example, from the code."""

from __future__ import annotations

import inspect
import re
import textwrap
from typing import Any

import attrs

from . import HOOK_CONTRACT

#: Names whose docs cannot come from a docstring (a constant, a pluggy marker).
_PLAIN = {
    "HOOK_CONTRACT": "The hook contract this salesrules provides (a `MAJOR.MINOR` string). "
                     "A plugin module may declare `SALESRULES_CONTRACT`: a plugin written for a "
                     "newer contract is refused with a message; one written for contract 1.x "
                     "loads with a deprecation note.",
    "hookimpl": "The marker for hook implementations (pluggy's `HookimplMarker(\"salesrules\")`). "
                "Accepts `trylast=True`, `tryfirst=True` and pluggy's other options. The hooks "
                "are listed in [hooks.md](hooks.md).",
}


def _doc(obj: Any) -> str:
    return (inspect.getdoc(obj) or "").replace("``", "`").replace(":class:", "").replace(
        ":meth:", "").replace(":func:", "").replace("~salesrules.api.", "")


def _signature(name: str, obj: Any) -> str:
    if name == "HOOK_CONTRACT":
        return f'HOOK_CONTRACT = "{HOOK_CONTRACT}"'
    if name == "hookimpl":
        return "@hookimpl  or  @hookimpl(trylast=True)"
    kind = "class" if inspect.isclass(obj) else "def"
    sig = _sig(obj)
    if kind == "class":
        return f"class {name}{sig.replace(' -> None', '')}"
    return f"def {name}{sig}"


def _sig(obj: Any) -> str:
    """A signature as written in the source: annotations as text, defaults as their repr."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)"
    parts = []
    for p in sig.parameters.values():
        stars = "*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD else ""
        text = stars + p.name
        if p.annotation is not p.empty:
            text += f": {_type_text(p.annotation)}"
        if p.default is not p.empty:
            shown = "..." if p.default is attrs.NOTHING or isinstance(
                p.default, attrs.Factory) else repr(p.default)  # type: ignore[arg-type]
            text += f" = {shown}"
        parts.append(text)
    out = f"({', '.join(parts)})"
    if sig.return_annotation is not sig.empty and sig.return_annotation not in ("None", None):
        out += f" -> {_type_text(sig.return_annotation)}"
    return out


def _type_text(tp: Any) -> str:
    return tp if isinstance(tp, str) else getattr(tp, "__name__", str(tp))


def _first_line(text: str) -> str:
    return text.strip().split("\n\n")[0].replace("\n", " ") if text else ""


def _attributes(obj: Any) -> list[tuple[str, str]]:
    """``(name, meaning)`` for each public field, property and method a class defines."""
    if not inspect.isclass(obj):
        return []
    from .config.comments import field_comments

    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    comments: dict[str, str] = {}
    for klass in reversed(obj.__mro__[:-1]):
        comments.update(field_comments(klass))
    if attrs.has(obj):
        for f in attrs.fields(obj):
            if f.name.startswith("_"):
                continue
            tp = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
            out.append((f"`{f.name}: {tp}`", comments.get(f.name, "")))
            seen.add(f.name)
    for member, value in inspect.getmembers(obj):
        if member.startswith("_") or member in seen:
            continue
        if isinstance(value, property):
            out.append((f"`{member}` (property)", _first_line(_doc(value))))
        elif inspect.isfunction(value) or inspect.ismethod(value):
            sig = _sig(value).replace("(self, ", "(").replace("(self)", "()")
            out.append((f"`{member}{sig}`", _first_line(_doc(value))))
        elif member in comments:
            out.append((f"`{member}`", comments[member]))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _example(name: str, examples: dict[str, str]) -> str:
    return textwrap.dedent(examples.get(name, "")).strip("\n")


def api_markdown() -> str:
    """The public API (``salesrules.api``): each
    name's signature, meaning, attributes and example."""
    from . import api

    out = [
        "# Public API: `salesrules.api`",
        "",
        "<!-- Generated from src/salesrules/api.py by `python -m salesrules.docs`;"
        " a test keeps it in sync. -->",
        "",
        _doc(api),
        "",
        f"Hook contract **{HOOK_CONTRACT}**.",
        "",
        "| Name | What it is |",
        "|---|---|",
    ]
    for name in api.__all__:
        obj = getattr(api, name)
        anchor = re.sub(r"[^a-z0-9_-]", "", name.lower())
        out.append(f"| [`{name}`](#{anchor}) | {_first_line(_PLAIN.get(name) or _doc(obj))} |")
    out.append("")
    for name in api.__all__:
        obj = getattr(api, name)
        out += [f"## {name}", "", "```python", _signature(name, obj), "```", "",
                _PLAIN.get(name) or _doc(obj), ""]
        rows = _attributes(obj)
        if rows:
            out += ["| Attribute | Meaning |", "|---|---|"]
            out += [f"| {_cell(a)} | {_cell(m)} |" for a, m in rows]
            out.append("")
        out += ["Example:", "", "```python", _example(name, api.EXAMPLES), "```", ""]
    return "\n".join(out).rstrip() + "\n"
