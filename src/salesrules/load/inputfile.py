"""An input file as a source reads it: its mapped columns as a frame, and its problems by line."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import polars as pl

from ..errors import Problems
from .frame import FileProblem, LineMap, RawTable, blank_rows, read_raw, scan_csv
from .tables import file_digest, quoted_header


@attrs.frozen
class InputRecord:
    """One input file as the manifest records it."""

    name: str
    path: str
    digest: str
    rows: int
    encoding: str
    source: str


class InputFile:
    """The file a source reads, with its settings; passed to :meth:`Source.read`.

    A source asks for :meth:`frame` (its columns as text, read once), finds
    bad cells with frame filters and reports them with :meth:`report`; one that
    only sums the rows may ask for :meth:`scan` first.
    """

    def __init__(self, name: str, path: Path, display: str, columns: dict[str, str],
                 encoding: str, sheet: str, params: Any, problems: Problems,
                 delimiter: str = "") -> None:
        self.name = name
        self.path = path
        self.display = display
        self.params = params
        #: Our field name -> the file's header, from ``[data.NAME].columns``.
        self.columns = dict(columns)
        self.encoding_setting = encoding or "auto"
        self.sheet = sheet
        #: A CSV file's delimiter as set (``tab`` for a tab); empty: sniffed.
        self.delimiter = delimiter
        self.problems = problems
        #: What the file was read as: an encoding, or ``xlsx``.
        self.encoding = ""
        #: Data rows read (blank rows are not counted).
        self.rows_read = 0
        #: The digest of the bytes read, once a CSV file is read (empty until then, and for
        #: a workbook): the manifest's digest without reading the file again.
        self.digest = ""
        #: After :meth:`frame`: whether each asked-for field has a column.
        self.found: dict[str, bool] = {}
        self._raw: RawTable | None = None
        #: Once the source is done (:meth:`finish`), the line numbers without the cells.
        self._lines: LineMap | None = None
        self._pending: list[tuple[int, int, str | None, str]] = []

    def _table(self) -> RawTable | None:
        if self._raw is None:
            try:
                self._raw = read_raw(self.path, self.encoding_setting, self.sheet,
                                     self.delimiter)
            except FileProblem as exc:
                where = self.display if exc.line is None else f"{self.display}:{exc.line}"
                self.problems.add(where, str(exc))
                return None
            self.encoding, self.digest = self._raw.encoding, self._raw.digest
        return self._raw

    def frame(self, required: Sequence[str], optional: Sequence[str] = (),
              keep_extra: bool = False) -> pl.DataFrame | None:
        """The file's data rows: one text column per field, then the extra columns, then ``row``.

        A cell is as the file has it (not stripped; an empty cell is ``""``);
        an optional field the file lacks is a column of nulls. Extra columns
        (with ``keep_extra``) are the unmapped ones, stripped, under their
        header or the field rules.toml maps to them. ``row`` identifies the
        row for :meth:`report`. ``None`` when the file cannot be read or lacks
        a required column (the problem is reported).
        """
        raw = self._table()
        if raw is None:
            return None
        return _mapped(self, raw, list(required), list(optional), keep_extra)

    def scan(self, required: Sequence[str], optional: Sequence[str] = ()) -> pl.LazyFrame | None:
        """The rows :meth:`frame` gives, without ``row``, as a polars query over the file.

        For a source that sums the rows without keeping them (a call log): the file's
        cells are never held as one frame. The source adds the rows it sums to
        ``rows_read``. A row of empty cells is left out, but one whose cells hold only
        spaces is not (:meth:`frame` leaves it out): a source that finds a blank cell it
        needs reads :meth:`frame` to blame the rows. ``None`` for a workbook, a file with
        a quote or a problem in it, or one without a required column: :meth:`frame` then
        reads it (and reports what is wrong). Text that is not UTF-8 raises a polars error
        when the query runs: :meth:`frame` then says where it is.
        """
        if self._raw is not None:
            return None
        table = scan_csv(self.path, self.encoding_setting, self.delimiter)
        if table is None:
            return None
        self.digest = table.digest
        fields = [*required, *optional]
        positions = _positions(self, table.header, fields)
        if any(positions[f] is None for f in required):
            return None
        self.encoding = table.encoding
        names = [f"column_{i}" for i in range(len(table.header))]
        empty = pl.all_horizontal(pl.col(c).is_null() for c in names)
        return table.rows.filter(~empty).select(_columns(positions, names))

    def rows(self, required: Sequence[str], optional: Sequence[str] = (),
             keep_extra: bool = False) -> Iterator[tuple[int, list[Any], dict[str, str]]]:
        """The rows of :meth:`frame` as ``(line, values, extra)``, for simple sources."""
        frame = self.frame(required, optional, keep_extra)
        if frame is None or not frame.height:
            return
        fields = [*required, *optional]
        assert self._raw is not None  # frame() read it
        lines = self._raw.lines(frame["row"])
        extra = [c for c in frame.columns[len(fields):-1]]
        for line, row in zip(lines, frame.iter_rows()):
            yield line, list(row[:len(fields)]), dict(zip(extra, row[len(fields):-1]))

    def error(self, line: int, column: str | None, message: str) -> None:
        """Report a bad cell as ``file:line: column 'x': message``."""
        shown = self.columns.get(column, column) if column else None
        self.problems.add(f"{self.display}:{line}" + (f": column {shown!r}" if shown else ""),
                          message)

    def report(self, frame: pl.DataFrame, bad: pl.Expr, column: str | None,
               message: Callable[[Any], str], cell: str | None = None) -> None:
        """Report each row of ``frame`` where ``bad`` holds as a problem in ``column``.

        The message is ``message(value)`` of the row's ``cell`` column (by
        default ``column`` itself). Problems are added in line order once the
        source is done, so that the line numbers are worked out only here.
        """
        of = cell or column
        hits = frame.lazy().filter(bad).select("row", *([of] if of else [])).collect()
        if not hits.height:
            return
        cells = hits[of].to_list() if of else [None] * hits.height
        order = len(self._pending)
        self._pending.extend((row, order, column, message(_quoted(value)))
                             for row, value in zip(hits["row"].to_list(), cells))

    def lines(self, rows: pl.Series) -> list[int]:
        """The line numbers of the given ``row`` values (for errors)."""
        if self._raw is not None:
            return self._raw.lines(rows)
        return self._lines.lines(rows) if self._lines is not None else [0] * len(rows)

    def finish(self) -> None:
        """Add the reported problems, in line order (called once the source is done), and
        let the file's cells go, keeping only what line numbers need: the next file is read
        without this one's text in memory."""
        if self._pending:
            self._pending.sort(key=lambda p: (p[0], p[1]))
            rows = pl.Series([p[0] for p in self._pending], dtype=pl.UInt32)
            for line, (_, _, column, message) in zip(self.lines(rows), self._pending):
                self.error(line, column, message)
            self._pending = []
        if self._raw is not None:
            self._lines, self._raw = self._raw.line_map(), None


def _positions(file: InputFile, header: list[str], fields: list[str]) -> dict[str, int | None]:
    """Where each field is in ``header`` (``None`` where it is not); sets ``file.found``."""
    index = {h.strip().lstrip("\ufeff").lower(): i for i, h in enumerate(header)}
    positions: dict[str, int | None] = {}
    for f in fields:
        positions[f] = index.get(file.columns.get(f, f).strip().lower())
        file.found[f] = positions[f] is not None
    return positions


def _columns(positions: dict[str, int | None], names: list[str]) -> list[pl.Expr]:
    """Each field's column as text, "" where the file has no cell, nulls where no column."""
    return [pl.col(names[p]).fill_null("").alias(f) if p is not None
            else pl.lit(None, dtype=pl.String).alias(f) for f, p in positions.items()]


def _mapped(file: InputFile, raw: RawTable, required: list[str], optional: list[str],
            keep_extra: bool) -> pl.DataFrame | None:
    header = raw.header
    positions = _positions(file, header, [*required, *optional])
    missing = [(f, file.columns.get(f, f)) for f in required if positions[f] is None]
    if missing:
        have = quoted_header(header)
        line = raw.lines(pl.Series([raw.header_at], dtype=pl.UInt32))[0]
        for f, wanted in missing:
            how = f"mapped from {f!r} in rules.toml" if wanted != f else (
                f"set data.{file.name}.columns.{f} to map it")
            file.problems.add(f"{file.display}:{line}",
                              f"missing column {wanted!r} ({how}); the header has: {have}")
        return None
    names = raw.cells.columns
    cols = _columns(positions, names)
    if keep_extra:
        used = {p for p in positions.values() if p is not None}
        field_of = {h.strip().lower(): f for f, h in file.columns.items()}
        taken = {*positions, "row"}
        for i, h in enumerate(header):
            name = field_of.get(h.strip().lower(), h.strip())
            if i not in used and h.strip() and name not in taken:
                taken.add(name)
                cols.append(pl.col(names[i]).str.strip_chars().fill_null("").alias(name))
    cells = raw.cells.with_row_index("row").slice(raw.header_at + 1)
    blank = blank_rows(cells.drop("row"))
    out = cells.select(*cols, "row")
    if blank.any():
        out = out.filter(~blank)
    file.rows_read += out.height
    return out


def file_record(name: str, file: InputFile, source: str, base: Path,
                digest: str | None = None) -> InputRecord:
    try:
        shown = str(file.path.relative_to(base))
    except ValueError:
        shown = str(file.path)
    return InputRecord(name, shown, digest or file.digest or file_digest(file.path),
                       file.rows_read, file.encoding, source)


def _quoted(cell: Any) -> Any:
    """A bad cell as an error message may quote it: at most 60 characters of it."""
    if isinstance(cell, str) and len(cell) > 60:
        return cell[:60] + "…"
    return cell
