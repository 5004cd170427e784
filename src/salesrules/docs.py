"""Generated reference docs: the hook reference in docs/hooks.md comes from hookspecs.py."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from . import HOOK_CONTRACT, hookspecs


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


def api_markdown() -> str:
    """The public API (``salesrules.api``): every name plugins may import, with its summary."""
    from . import api

    out = [
        "# Public API: `salesrules.api`",
        "",
        "<!-- Generated from src/salesrules/api.py by `python -m salesrules.docs`;"
        " a test keeps it in sync. -->",
        "",
        inspect.cleandoc(api.__doc__ or ""),
        "",
        f"Hook contract **{HOOK_CONTRACT}**. A plugin module may declare "
        "`SALESRULES_CONTRACT = \"1.0\"`; salesrules refuses a plugin written for a newer "
        "contract, with a message, instead of failing mid-run.",
        "",
        "| Name | What it is |",
        "|---|---|",
    ]
    for name in sorted(api.__all__, key=str.lower):
        obj = getattr(api, name)
        doc = inspect.getdoc(obj) if (inspect.isclass(obj) or inspect.isfunction(obj)) else ""
        if name == "hookimpl":
            doc = "The marker for hook implementations: `@hookimpl def register_policies(register): ...`"
        elif name == "HOOK_CONTRACT":
            doc = "The hook contract version of this salesrules."
        elif name == "__version__":
            doc = "The version of salesrules."
        first = (doc or "").strip().splitlines()[0] if doc else ""
        out.append(f"| `{name}` | {first} |")
    return "\n".join(out) + "\n"


DOCS = {"docs/hooks.md": hooks_markdown, "docs/api.md": api_markdown}


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
    for rel, make in DOCS.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(make(), encoding="utf-8")
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
