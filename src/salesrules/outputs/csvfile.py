"""The one CSV writer: files that open cleanly in Excel
(UTF-8 with BOM, CRLF), no cell read as a formula."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl

#: A cell starting with one of these is run as a formula by Excel (CSV injection).
RISKY = ("=", "+", "-", "@", "\t", "\r")
#: Rows made into a frame and written at a time.
SLICE_ROWS = 50_000
_RISKY_PATTERN = "^[" + "".join("\\" + c if c == "-" else c for c in RISKY) + "]"


def neutralise(text: str) -> str:
    """Prefix a quote to text that Excel would run as a formula (CSV injection)."""
    if text and text[0] in RISKY:
        return "'" + text
    return text


def write_csv(path: Path, header: Sequence[str],
              columns: Sequence[Sequence[str] | pl.Series], safe: Sequence[int] = ()) -> None:
    """Write text columns (lists or polars string series) as one CSV: a BOM, the header,
    then the rows, CRLF line ends.

    Every cell is neutralised against formula injection except in the columns
    listed in ``safe`` (numbers and dates the caller formatted itself). Cells are
    quoted only where they must be, as Python's csv module quotes them.
    """
    write_csv_parts(path, header, [columns], safe)


def write_csv_parts(path: Path, header: Sequence[str],
                    parts: Iterable[Sequence[Sequence[str] | pl.Series]],
                    safe: Sequence[int] = ()) -> int:
    """:func:`write_csv` of the rows of ``parts`` (each a set of columns), one after another;
    returns the number of rows written.

    A part is made into a frame a slice of ``SLICE_ROWS`` rows at a time, and written, so
    that a large file's cells and text are never held whole; a caller that makes its
    columns part by part (targets.csv) holds one part's columns at a time.
    """
    names = [f"c{i}" for i in range(len(header))]
    safe_names = {names[i] for i in safe}
    # an empty cell is written bare (polars would quote an empty string to tell it from null);
    # a safe column is not searched for a formula at all
    cells = [(pl.when(pl.col(n) != "").then(pl.col(n)) if n in safe_names else
              pl.when(pl.col(n) == "").then(None).when(pl.col(n).str.contains(_RISKY_PATTERN))
              .then("'" + pl.col(n)).otherwise(pl.col(n))).alias(n) for n in names]
    head = pl.DataFrame({n: [h] for n, h in zip(names, header)})
    schema = {n: pl.String for n in names}
    written = 0
    with path.open("wb") as f:
        f.write("\ufeff".encode())
        head.write_csv(f, include_header=False, line_terminator="\r\n", quote_style="necessary")
        for columns in parts:
            rows = len(columns[0]) if columns else 0
            written += rows
            for at in range(0, rows, SLICE_ROWS):
                piece = pl.DataFrame({n: c[at:at + SLICE_ROWS] for n, c in zip(names, columns)},
                                     schema=schema)
                piece.select(cells).write_csv(f, include_header=False, line_terminator="\r\n",
                                              quote_style="necessary")
    return written


def number(x: float, unit: str) -> str:
    """A stage value as it is shown: counts as whole
    numbers where they are whole, amounts with cents."""
    if unit == "amount":
        return f"{x:.2f}"
    return str(int(x)) if x == int(x) else f"{x:.2f}"
