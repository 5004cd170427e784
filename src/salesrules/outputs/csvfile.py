"""CSV files that open cleanly in Excel: UTF-8 with BOM, and no cell read as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

_RISKY = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Prefix a quote to text that Excel would run as a formula (CSV injection)."""
    if text and text[0] in _RISKY:
        return "'" + text
    return text


def _line(cells: Sequence[object]) -> str:
    """One row as the csv module writes it in these files (CRLF line end)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)
    return buf.getvalue()


def csv_cell(text: str) -> str:
    """One cell as the csv module writes it within a row: quoted only where it must be."""
    # the files' own line end: it decides whether a lone \r is quoted
    return _line([text, ""])[:-3] if text else ""


def write_lines(path: Path, header: Sequence[str], lines: Iterable[str]) -> None:
    """Write rows already joined into lines (cells through :func:`csv_cell`), as :func:`write_csv` does."""
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("\ufeff" + _line(header))
        f.write("".join(lines))


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]],
              text_columns: Sequence[int] | None = None) -> None:
    """Write rows with a BOM and CRLF line ends, for Excel.

    Cells in ``text_columns`` (all ``str`` cells when not given) are
    neutralised against formula injection; the caller vouches for the rest
    (numbers and dates it formatted itself).
    """
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("\ufeff")
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(header)
        if text_columns is None:
            w.writerows([neutralise(c) if isinstance(c, str) else c for c in row] for row in rows)
        else:
            cols = list(text_columns)

            def clean(row: Sequence[object]) -> Sequence[object]:
                for i in cols:
                    c = row[i]
                    if c and c[0] in _RISKY:  # type: ignore[index]
                        row = list(row)  # copy only the rare row that needs it
                        row[i] = "'" + c  # type: ignore[operator]
                return row

            w.writerows(map(clean, rows))


def number(x: float, unit: str) -> str:
    """A stage value as it is shown: counts as whole numbers where they are whole, amounts with cents."""
    if unit == "amount":
        return f"{x:.2f}"
    return str(int(x)) if x == int(x) else f"{x:.2f}"


def write_text_columns(path: Path, header: Sequence[str], columns: Sequence[list[str]]) -> None:
    """:func:`write_csv` for a file of text columns, written by polars: the same bytes, faster.

    Every cell is neutralised. An empty cell is written bare, as the csv
    module writes it (polars would quote an empty string to tell it from a
    null). Do not call this in a forked writer process: polars' thread pool
    does not survive a fork.
    """
    import polars as pl

    risky = "^[" + "".join("\\" + c if c == "-" else c for c in _RISKY) + "]"
    frame = pl.DataFrame({f"c{i}": col for i, col in enumerate(columns)},
                         schema={f"c{i}": pl.String for i in range(len(columns))})
    frame = frame.select(
        pl.when(pl.col(name) == "").then(None)
        .when(pl.col(name).str.contains(risky)).then("'" + pl.col(name))
        .otherwise(pl.col(name)).alias(name)
        for name in frame.columns)
    with path.open("wb") as f:
        f.write(("\ufeff" + _line(header)).encode("utf-8"))
        frame.write_csv(f, include_header=False, line_terminator="\r\n",
                        quote_style="necessary")
