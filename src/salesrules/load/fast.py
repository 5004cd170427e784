"""Columnar reading with polars, for the big files (leads, call logs): the same results as row by row, much faster.

A source asks for a lazy frame of its mapped columns, all as text. When the
file is not something polars reads exactly as the row reader would (XLSX, a
non-UTF-8 encoding, a missing column) the answer is ``None`` and the source
reads row by row instead; so does a source that finds a cell it cannot parse,
so that every bad cell is still reported with its line and column.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from .tables import SNIFF_BYTES, detect_encoding

if TYPE_CHECKING:
    import polars as pl

    from .dataset import InputFile


def _encoding(file: InputFile, head: bytes) -> str:
    """The file's encoding as declared, or as detected from its first bytes; a BOM means utf-8-sig."""
    enc = file.reader.encoding_setting
    found = detect_encoding(head) if enc == "auto" else enc
    return "utf-8-sig" if found == "utf-8" and head.startswith(codecs.BOM_UTF8) else found


def _header(text: str) -> list[str]:
    """The cells of the first line of CSV text."""
    text = text.lstrip("\ufeff")
    end = text.find("\n")
    return next(csv.reader([text[:end] if end >= 0 else text]), [])


def _wanted(file: InputFile, field: str) -> str:
    """The header a field is looked for under: its mapping in rules.toml, or its own name."""
    return file.reader.columns.get(field, field).strip().lower()


def header_names(file: InputFile, fields: Sequence[str]) -> dict[str, str] | None:
    """Field -> the exact header in the file, or ``None`` if one is missing or the file is not UTF-8 CSV."""
    path = file.path
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return None
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    found = _encoding(file, head)
    if found not in ("utf-8", "utf-8-sig"):
        return None
    by_lower = {h.strip().lower(): h for h in _header(head.decode("utf-8", errors="ignore"))}
    out = {}
    for f in fields:
        if _wanted(file, f) not in by_lower:
            return None
        out[f] = by_lower[_wanted(file, f)]
    file.reader.encoding = found
    return out


def scan(file: InputFile, fields: Sequence[str]) -> pl.LazyFrame | None:
    """A lazy frame with one text column per field (named by the field), or ``None``."""
    try:
        import polars as pl
    except ImportError:  # pragma: no cover - polars is a dependency
        return None
    names = header_names(file, fields)
    if names is None:
        return None
    frame = pl.scan_csv(file.path, infer_schema=False, encoding="utf8")
    return frame.select([pl.col(names[f]).alias(f) for f in fields])


@attrs.define
class TextTable:
    """A whole file's mapped columns as lists of stripped text ("" for an empty cell)."""

    #: Field -> its column, for the fields the file has (numbers where asked for).
    columns: dict[str, list]
    #: The unmapped columns kept as extra fields: (name, column), in file order.
    extra: list[tuple[str, list[str]]]
    #: The file's line of the first data row; row ``i`` is on line ``first_line + i``.
    first_line: int
    height: int
    encoding: str
    #: Whether each asked-for field has a column.
    found: dict[str, bool]

    def record(self, file: InputFile) -> None:
        """Note on ``file`` what was read, as row reading would; call once the table is used."""
        file.reader.encoding = self.encoding
        file.reader.found.update(self.found)
        file.reader.rows_read += self.height


def read_text(file: InputFile, required: Sequence[str], optional: Sequence[str] = (),
              keep_extra: bool = False,
              numbers: Mapping[str, int | float] | None = None) -> TextTable | None:
    """The file's columns, read by polars in one go; ``None`` to read it row by row instead.

    Gives up (``None``) wherever the row reader's answer could differ or it
    would report a problem: XLSX, an encoding that does not decode, a missing
    required column, a duplicate header, a blank line or a cell spanning
    lines (line numbers would shift), a row wider than the header.

    ``numbers`` names fields read as numbers instead of text, each with the
    value of an empty cell (an ``int`` or a ``float``, which also says how
    the field is read). A cell polars cannot read as a plain finite number
    gives up too, so that row reading parses or reports it.
    """
    try:
        import polars as pl
    except ImportError:  # pragma: no cover - polars is a dependency
        return None
    path = file.path
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return None
    raw = path.read_bytes()
    found = _encoding(file, raw[:SNIFF_BYTES])
    try:
        text = raw.decode(found).lstrip("\ufeff")
    except (UnicodeDecodeError, LookupError):
        return None
    header = _header(text)
    keys = [h.strip().lower() for h in header]
    if not any(keys) or len(set(keys)) != len(keys):
        return None
    index = {k: i for i, k in enumerate(keys)}
    positions: dict[str, int] = {}
    for f in [*required, *optional]:
        pos = index.get(_wanted(file, f))
        if pos is None and f in required:
            return None
        if pos is not None:
            positions[f] = pos
    extra: list[tuple[int, str]] = []
    if keep_extra:
        field_of = {h.strip().lower(): f for f, h in file.reader.columns.items()}
        used = set(positions.values())
        extra = [(i, field_of.get(k, header[i].strip())) for i, k in enumerate(keys)
                 if i not in used and k]
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    # polars reads UTF-8 only, without a BOM
    data = raw if found == "utf-8" else text.encode("utf-8")
    try:
        frame = pl.read_csv(data, infer_schema=False, has_header=False, skip_rows=1)
    except pl.exceptions.PolarsError:
        return None
    if frame.height != lines - 1 or frame.width > len(header):
        return None  # a blank line, or a cell spanning lines: row reading keeps line numbers
    names = frame.columns

    def column(i: int) -> list[str]:
        if i >= len(names):  # every row is short of this column: blank, as row reading pads
            return [""] * frame.height
        return frame[names[i]].str.strip_chars().fill_null("").to_list()

    typed = dict(numbers or {})
    columns: dict[str, list] = {}
    for f, i in positions.items():
        if f not in typed:
            columns[f] = column(i)
            continue
        blank = typed[f]
        if i >= len(names):
            columns[f] = [blank] * frame.height
            continue
        text = frame[names[i]].str.strip_chars()
        read = text.cast(pl.Float64 if isinstance(blank, float) else pl.Int64, strict=False)
        bad = (text != "") & read.is_null()
        if isinstance(blank, float):
            bad = bad | read.is_nan() | read.is_infinite()
        if bad.any():
            return None  # not a plain number somewhere
        columns[f] = read.fill_null(blank).to_list()

    return TextTable(columns,
                     [(n, column(i)) for i, n in extra], 2, frame.height, found,
                     {f: f in positions for f in [*required, *optional]})
