"""The ``#:`` comments that document attrs fields, read from the source as Sphinx reads them."""

from __future__ import annotations

import inspect
import re

_FIELD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*:")


def field_comments(cls: type) -> dict[str, str]:
    """Each field's ``#:`` comment (the ``#:`` lines right above it), joined into one line.

    Double backticks become single ones, so the text reads the same in Markdown and
    in a terminal. A class whose source cannot be found has none.
    """
    try:
        lines = inspect.getsource(cls).splitlines()
    except (OSError, TypeError):
        return {}
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("class "))
    body = [ln for ln in lines[start + 1:] if ln.strip()]
    indent = min((len(ln) - len(ln.lstrip()) for ln in body), default=0)
    out: dict[str, str] = {}
    pending: list[str] = []
    for line in body:
        text = line.strip()
        if text.startswith("#:"):
            pending.append(text[2:].strip())
            continue
        m = _FIELD.match(text)
        if m and pending and len(line) - len(line.lstrip()) == indent:
            out[m.group(1)] = " ".join(pending).replace("``", "`")
        pending = []
    return out
