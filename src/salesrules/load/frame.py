"""One reader per file format: a CSV (UTF-8, BOM or GB18030) or an XLSX sheet, as text.

Either becomes a polars frame of text cells.

The frame holds every row of the file as read, blank ones included, so that
a row's position gives its line number when, and only when, a problem needs
one: :meth:`RawTable.lines`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from pathlib import Path

import attrs
import numpy as np
import polars as pl

from .tables import bytes_digest, detect_encoding

_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"
_BREAK = r"\r\n|\r|\n"
_WORKBOOK = (".xlsx", ".xlsm", ".xls")
_LEADING = re.compile(rb"[\r\n \t]*")


class FileProblem(Exception):
    """The file as a whole cannot be read; ``line`` is set when one line is to blame."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@attrs.define
class RawTable:
    """A file's cells as text: column ``i`` of ``cells`` is the file's column ``i``."""

    #: Every row, the header and blank rows included, in file order.
    cells: pl.DataFrame
    #: The header row's position in ``cells``.
    header_at: int
    encoding: str
    #: Whether a cell spanning lines moves later rows down (CSV) or not (a sheet).
    spans_lines: bool = True
    #: Lines before the first row of ``cells`` (blank lines above a CSV's header).
    offset: int = 0
    #: Whether the CSV text has a quote at all: a cell spans lines only inside quotes.
    quoted: bool = True
    #: A CSV file's digest, of the bytes read (a workbook's is not taken: empty).
    digest: str = ""

    @property
    def header(self) -> list[str]:
        return ["" if h is None else str(h) for h in self.cells.row(self.header_at)]

    def lines(self, rows: pl.Series) -> list[int]:
        """The line each given row ends on (rows are positions in ``cells``)."""
        return self.line_map().lines(rows)

    def line_map(self) -> LineMap:
        """What :meth:`lines` needs, without the cells: the line breaks inside cells, summed
        row by row (none for a sheet, whose rows are lines)."""
        if not (self.spans_lines and self.quoted):
            return LineMap(self.offset, None)
        breaks = self.cells.select(pl.sum_horizontal(
            pl.col(c).str.count_matches(_BREAK).fill_null(0) for c in self.cells.columns)
            .cum_sum()).to_series()
        return LineMap(self.offset, breaks if breaks.len() and breaks[-1] else None)


@attrs.frozen
class LineMap:
    """Row positions to line numbers: the row, the lines above the first row (``offset``)
    and the line breaks inside the cells of the rows up to it (``breaks``, row by row;
    ``None`` when no cell holds one)."""

    offset: int
    breaks: pl.Series | None

    def lines(self, rows: pl.Series) -> list[int]:
        if self.breaks is None:
            return (rows + 1 + self.offset).to_list()
        return (rows + 1 + self.offset + self.breaks.gather(rows)).to_list()


def read_raw(path: Path, encoding: str, sheet: str, delimiter: str = "") -> RawTable:
    """Read a CSV or XLSX file; raises :class:`FileProblem` saying what is wrong with it.
    A CSV file's ``delimiter`` (``tab`` for a tab) is sniffed from its header when empty."""
    with path.open("rb") as f:
        head = f.read(8)
    workbook = path.suffix.lower() in _WORKBOOK
    if head.startswith(_OLE):
        raise FileProblem("is a legacy Excel (.xls) workbook, which is not read: "
                          "save it as .xlsx or CSV")
    if head.startswith(_ZIP):
        return _sheet(path, sheet)
    if workbook:
        raise FileProblem("is named as a workbook but is not one (it looks like "
                          f"{'text, such as CSV' if _is_text(path) else 'binary data'}): "
                          "rename it to .csv or save it as .xlsx")
    return _csv(path, encoding, "\t" if delimiter == "tab" else delimiter)


def _is_text(path: Path) -> bool:
    with path.open("rb") as f:
        return b"\x00" not in f.read(4096)


def blank_rows(cells: pl.DataFrame) -> pl.Series:
    """Whether each row is blank (every cell empty or spaces); checked fully only where
    the first cell is blank, since a row with a first cell is not."""
    first = cells.to_series(0)
    maybe = first.is_null() | first.str.contains(r"^\s*$")
    if not maybe.any():
        return maybe
    blank = cells.filter(maybe).select(pl.all_horizontal(
        pl.col(c).str.strip_chars().fill_null("") == "" for c in cells.columns)).to_series()
    out = pl.Series([False] * len(first))
    out.scatter(maybe.arg_true(), blank)
    return out


def _first_row(cells: pl.DataFrame) -> int:
    nonblank = (~blank_rows(cells.head(1000))).arg_true()
    if not len(nonblank):
        if cells.height > 1000:
            return 1000 + _first_row(cells.slice(1000))
        raise FileProblem("the file is empty (no header row)")
    return int(nonblank[0])


def _sheet(path: Path, sheet: str) -> RawTable:
    import fastexcel

    try:
        book = fastexcel.read_excel(path)
    except fastexcel.FastExcelError as exc:
        kind = ("a zip archive that is not an XLSX workbook" if _is_zip(path)
                else "a damaged or truncated XLSX workbook")
        raise FileProblem(f"is {kind} ({str(exc).splitlines()[0]})") from None
    if sheet and sheet not in book.sheet_names:
        raise FileProblem(f"no sheet named {sheet!r} (sheets: {', '.join(book.sheet_names)})")
    try:
        cells = book.load_sheet(sheet or 0, header_row=None, skip_rows=0,
                                dtypes="string").to_polars()
    except fastexcel.FastExcelError as exc:
        raise FileProblem(f"is a damaged XLSX workbook ({str(exc).splitlines()[0]})") from None
    if not cells.width:
        raise FileProblem("the file is empty (no header row)")
    cells = cells.rename({c: f"column_{i}" for i, c in enumerate(cells.columns)})
    return RawTable(cells, _first_row(cells), "xlsx", spans_lines=False)


def _is_zip(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return "xl/workbook.xml" not in z.namelist()
    except zipfile.BadZipFile:
        return False


@attrs.frozen
class _Decoded:
    """A file's text, and the encoding it was read with."""

    text: str
    encoding: str


def _decode(raw: bytes, setting: str) -> _Decoded:
    """The file's text, decoded once, and the encoding it was read with."""
    enc = detect_encoding(raw[:1 << 20]) if setting in ("", "auto") else setting
    if enc == "utf-8" and raw.startswith(codecs.BOM_UTF8):
        enc = "utf-8-sig"
    try:
        return _Decoded(raw.decode(enc), enc)
    except UnicodeDecodeError as exc:
        other = "gb18030" if enc.startswith("utf") else "utf-8"
        line = raw.count(b"\n", 0, exc.start) + 1
        raise FileProblem(f"cannot be read as {enc} ({exc.reason} at byte {exc.start}); "
                          f"set encoding = \"{other}\" for this file in rules.toml",
                          line) from None
    except LookupError:
        raise FileProblem(f"unknown encoding {enc!r}") from None


def sniff_delimiter(first_line: str) -> str:
    """Comma, semicolon or tab: whichever the header line has most of outside quotes."""
    outside = "".join(first_line.split('"')[::2])
    counts = {d: outside.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _bad_quote_line(data: bytes, delimiter: str) -> int | None:
    """The line where the first row with a broken quote starts, as Python's strict CSV
    reader finds it (polars does not say where)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8", "replace"), newline=""),
                        delimiter=delimiter, strict=True)
    start = 1
    try:
        for _ in reader:
            start = reader.line_num + 1
    except csv.Error:
        return start
    return None


@attrs.frozen
class _CsvText:
    """A CSV file's bytes (``raw``) and the text polars is given: UTF-8 with LF or CRLF line
    ends, from ``skip`` on (blank lines above the header are left out)."""

    raw: bytes
    data: bytes
    encoding: str
    delimiter: str
    skip: int


def _csv_text(path: Path, encoding: str, delimiter: str) -> _CsvText:
    raw = path.read_bytes()
    enc = detect_encoding(raw[:1 << 20]) if encoding in ("", "auto") else encoding
    if enc == "utf-8" and raw.startswith(codecs.BOM_UTF8):
        enc = "utf-8-sig"
    if enc in ("utf-8", "utf-8-sig") and b"\n" in raw:
        data = raw.removeprefix(codecs.BOM_UTF8)  # polars reads (and checks) UTF-8 as it is
    else:  # decoded once, and given to polars as UTF-8 with LF line ends
        decoded = _decode(raw, enc)
        text, enc = decoded.text, decoded.encoding
        data = text.lstrip("\ufeff").encode("utf-8")
    if _lone_cr(data):  # old Mac line ends, maybe mixed in
        data = re.sub(rb"\r\n?", b"\n", data)
    leading = _LEADING.match(data)  # blank lines and spaces, without a copy of the text
    start = leading.end() if leading else 0
    if start == len(data):
        raise FileProblem("the file is empty (no header row)")
    # blank lines before the header are left out (polars takes its width from the first line)
    skip = data.rfind(b"\n", 0, start) + 1
    end = data.find(b"\n", skip)
    delimiter = delimiter or sniff_delimiter(data[skip:end if end >= 0 else None]
                                             .decode("utf-8", "replace"))
    return _CsvText(raw, data, enc, delimiter, skip)


def _lone_cr(data: bytes, step: int = 1 << 22) -> bool:
    """Whether a carriage return is not followed by a line feed, found a few MiB at a time
    (faster than a regular expression where every line ends in one)."""
    if b"\r" not in data:
        return False
    a = np.frombuffer(data, dtype=np.uint8)
    for start in range(0, len(a), step):
        after = np.flatnonzero(a[start:start + step] == 13) + (start + 1)
        if len(after) and (after[-1] == len(a) or (a[after] != 10).any()):
            return True
    return False


def _csv(path: Path, encoding: str, delimiter: str = "") -> RawTable:
    text = _csv_text(path, encoding, delimiter)
    data, skip, delimiter = text.data, text.skip, text.delimiter
    try:
        cells = pl.read_csv(data[skip:] if skip else data, has_header=False, infer_schema=False,
                            separator=delimiter, truncate_ragged_lines=True)
    except pl.exceptions.PolarsError as exc:
        if isinstance(exc, pl.exceptions.ComputeError) and "utf-8" in str(exc):
            _decode(text.raw, text.encoding)  # says where
        line = _bad_quote_line(data[skip:], delimiter)
        said = re.sub(r" as dtype `str` at column 'column_\d+' \(column (number \d+)\)",
                      r" in column \1", str(exc).splitlines()[0])
        raise FileProblem(f"not a readable CSV file: {said}"
                          + ("" if line is None else "; a quoted cell there is not closed, or "
                             "has text after its closing quote"),
                          None if line is None else line + data.count(b"\n", 0, skip)) from None
    return RawTable(cells, _first_row(cells), text.encoding, offset=data.count(b"\n", 0, skip),
                    quoted=b'"' in data, digest=bytes_digest(text.raw))


@attrs.frozen
class ScannedCsv:
    """A CSV file to be read as a query: its header, and the rows below it (``rows``: text
    column ``column_i`` for the file's column ``i``, blank rows included)."""

    header: list[str]
    rows: pl.LazyFrame
    encoding: str
    #: The file's digest, of the bytes read.
    digest: str


def scan_csv(path: Path, encoding: str, delimiter: str = "") -> ScannedCsv | None:
    """A CSV file as a query over its rows, read as :func:`read_raw` reads it, for a source
    that sums the rows without keeping them. ``None`` where :func:`read_raw` is to read it:
    a workbook, a file it has a problem to report with, one whose first line with a cell is
    blank, or one with a quote in it (polars reads a quote left open as the end of the file
    when it reads a file in parts, without a word). Text polars cannot read (not UTF-8)
    raises a polars error when the query runs."""
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith((_ZIP, _OLE)) or path.suffix.lower() in _WORKBOOK:
        return None
    try:
        text = _csv_text(path, encoding, "\t" if delimiter == "tab" else delimiter)
    except FileProblem:
        return None
    if b'"' in text.data:
        return None
    data = text.data[text.skip:] if text.skip else text.data
    try:
        top = pl.read_csv(data, has_header=False, infer_schema=False, n_rows=1,
                          separator=text.delimiter, truncate_ragged_lines=True)
    except pl.exceptions.PolarsError:
        return None
    if not top.height or blank_rows(top)[0]:
        return None
    rows = pl.scan_csv(data, has_header=False, schema=dict.fromkeys(top.columns, pl.String),
                       separator=text.delimiter, truncate_ragged_lines=True).slice(1)
    return ScannedCsv(["" if h is None else h for h in top.row(0)], rows, text.encoding,
                      bytes_digest(text.raw))
