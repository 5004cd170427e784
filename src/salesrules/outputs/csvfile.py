"""CSV files that open cleanly in Excel: UTF-8 with BOM, and no cell read as a formula."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

_RISKY = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Prefix a quote to text that Excel would run as a formula (CSV injection)."""
    if text and text[0] in _RISKY:
        return "'" + text
    return text


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write rows; ``str`` cells are neutralised, numbers are written as they are. Returns the row count."""
    n = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(header)
        for row in rows:
            w.writerow([neutralise(c) if isinstance(c, str) else c for c in row])
            n += 1
    return n


def amount(x: float) -> str:
    return f"{x:.2f}"


def number(x: float, unit: str) -> str:
    """A stage value as it is shown: counts as whole numbers where they are whole, amounts with cents."""
    if unit == "amount":
        return f"{x:.2f}"
    return str(int(x)) if x == int(x) else f"{x:.2f}"
