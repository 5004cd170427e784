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


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/hooks.md")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(hooks_markdown(), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
