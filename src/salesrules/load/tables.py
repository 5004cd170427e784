"""Reading CSV and XLSX exports: encodings, header mapping, and cell parsing with located errors."""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import hashlib
import re
from operator import itemgetter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import Problems

SNIFF_BYTES = 1 << 20

# ---------------------------------------------------------------- encodings


def detect_encoding(head: bytes) -> str:
    """Pick ``utf-8-sig``, ``utf-8`` or ``gb18030`` from the first bytes of a file.

    A BOM means UTF-8 with BOM. Bytes that decode as UTF-8 mean UTF-8 (ASCII
    is both). Anything else is taken as GB18030, which is what Chinese Excel
    and WPS write when they save "CSV" without a BOM.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # a multi-byte character cut off at the end of the sample is still UTF-8
        if exc.start >= len(head) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
        return "gb18030"


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


# ---------------------------------------------------------------- cell parsing


class CellError(ValueError):
    """A cell that cannot be read as the type its column needs."""


_DATE_FORMATS = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日",
    "%m/%d/%Y", "%d.%m.%Y", "%d-%b-%Y", "%d %b %Y", "%b %d, %Y",
)
_TIME_SUFFIXES = ("", " %H:%M", " %H:%M:%S", "T%H:%M", "T%H:%M:%S", " %H:%M:%S.%f",
                  "T%H:%M:%S.%f")
_date_cache: dict[str, dt.date] = {}


def parse_date(value: Any) -> dt.date:
    """A date from an export cell: ISO, slashes, dots, ``2026年3月5日``, US ``3/5/2026``, or Excel's own."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    hit = _date_cache.get(text)
    if hit is not None:
        return hit
    if not text:
        raise CellError("expected a date, got an empty cell")
    try:
        day = parse_datetime(text).date()
    except CellError:
        raise CellError(f"expected a date (e.g. 2026-03-05), got {text!r}") from None
    if len(_date_cache) < 100_000:
        _date_cache[text] = day
    return day


def parse_datetime(value: Any) -> dt.datetime:
    """A timestamp from an export cell; a bare date means midnight."""
    if isinstance(value, str):
        try:
            out = dt.datetime.fromisoformat(value)
            return out if out.tzinfo is None else out.replace(tzinfo=None)
        except ValueError:
            pass
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    text = str(value).strip()
    if not text:
        raise CellError("expected a date and time, got an empty cell")
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        pass
    for date_fmt in _DATE_FORMATS:
        for suffix in _TIME_SUFFIXES:
            try:
                return dt.datetime.strptime(text, date_fmt + suffix)
            except ValueError:
                continue
    raise CellError(f"expected a date and time (e.g. 2026-03-05 14:30), got {text!r}")


_NUMBER_JUNK = re.compile(r"[,\s_'¥￥$€£]|^(CNY|RMB|USD|EUR)|(CNY|RMB|USD|EUR|元)$")


def parse_number(value: Any) -> float:
    """A number, allowing thousands separators, currency signs and ``(1,234)`` negatives."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value)
    try:
        out = float(text)
        if out - out == 0:  # refuses nan and inf
            return out
        raise CellError(f"expected a number, got {text!r}")
    except ValueError:
        pass
    t = text.strip()
    if not t:
        raise CellError("expected a number, got an empty cell")
    neg = t.startswith("(") and t.endswith(")")
    if neg:
        t = t[1:-1]
    cleaned = _NUMBER_JUNK.sub("", t)
    percent = cleaned.endswith("%")
    if percent:
        cleaned = cleaned[:-1]
    try:
        out = float(cleaned)
    except ValueError:
        raise CellError(f"expected a number, got {text!r}") from None
    if out != out or out in (float("inf"), float("-inf")):
        raise CellError(f"expected a number, got {text!r}")
    out = out / 100 if percent else out
    return -out if neg else out


def parse_int(value: Any) -> int:
    """A whole number, with the same separators and signs as :func:`parse_number`."""
    n = parse_number(value)
    if n != int(n):
        raise CellError(f"expected a whole number, got {value!r}")
    return int(n)


_TRUE = {"1", "true", "yes", "y", "t", "active", "是", "在职", "有效", "x"}
_FALSE = {"0", "false", "no", "n", "f", "inactive", "否", "离职", "无效", ""}


def parse_bool(value: Any) -> bool:
    """Yes or no: true/false, yes/no, 1/0, 是/否, 在职/离职, active/inactive."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(f"expected yes or no (true/false, 1/0, 是/否), got {value!r}")


# ---------------------------------------------------------------- tables


def quoted_header(cells: Sequence[Any]) -> str:
    """A header row as an error message may quote it: cut at 120 characters, and only if it is text.

    The rules may name any file as data (``/proc/self/environ``, say); an error
    about it must not print what the file holds beyond a short header.
    """
    text = ", ".join(str(c) for c in cells)
    if not all(c.isprintable() for c in text):
        return "(not a text header; not shown)"
    return text if len(text) <= 120 else text[:120] + " …"


def _clean(cell: Any) -> str:
    """A cell as text without surrounding spaces (XLSX numbers and dates become text)."""
    return cell.strip() if cell.__class__ is str else str(cell).strip()


class TableReader:
    """Rows of one CSV or XLSX file, with columns found through a header mapping.

    ``columns`` maps our field names to the file's headers; a field not in it
    is looked for under its own name. Headers match ignoring case and
    surrounding spaces. Problems are added to ``problems`` as
    ``file:line: column 'x': ...``.
    """

    def __init__(self, path: Path, display: str, columns: dict[str, str],
                 encoding: str, sheet: str, problems: Problems) -> None:
        self.path = path
        self.display = display
        self.columns = columns
        self.encoding_setting = encoding or "auto"
        self.encoding = ""
        self.sheet = sheet
        self.problems = problems
        self.rows_read = 0
        #: After the header is read: whether each asked-for field was found.
        self.found: dict[str, bool] = {}

    # -- errors

    def error(self, line: int, column: str | None, message: str) -> None:
        where = f"{self.display}:{line}" + (f": column {column!r}" if column else "")
        self.problems.add(where, message)

    # -- raw rows

    @contextlib.contextmanager
    def _open(self) -> Iterator[tuple[Iterator[Sequence[Any]], Callable[[], int]]]:
        """The file's rows, and a function giving the line the last row came from."""
        if self.path.suffix.lower() in (".xlsx", ".xlsm"):
            with self._xlsx() as rows:
                yield rows
            return
        with self.path.open("rb") as fb:
            head = fb.read(SNIFF_BYTES)
        enc = self.encoding_setting
        if enc == "auto":
            enc = detect_encoding(head)
        elif enc == "utf-8" and head.startswith(codecs.BOM_UTF8):
            enc = "utf-8-sig"
        self.encoding = enc
        try:
            with self.path.open("r", encoding=enc, newline="") as f:
                reader = csv.reader(f)
                yield reader, lambda: reader.line_num
        except UnicodeDecodeError as exc:
            other = "gb18030" if enc.startswith("utf") else "utf-8"
            self.problems.add(
                self.display,
                f"cannot be read as {enc} ({exc.reason} at byte {exc.start} of a block); "
                f"set encoding = \"{other}\" for this file in rules.toml")
        except csv.Error as exc:
            self.problems.add(self.display, f"not a readable CSV file: {exc}")

    @contextlib.contextmanager
    def _xlsx(self) -> Iterator[tuple[Iterator[Sequence[Any]], Callable[[], int]]]:
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException

        self.encoding = "xlsx"
        try:
            wb = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except (InvalidFileException, OSError, KeyError, ValueError) as exc:
            self.problems.add(self.display, f"not a readable XLSX workbook: {exc}")
            yield iter(()), lambda: 0
            return
        try:
            if self.sheet and self.sheet not in wb.sheetnames:
                self.problems.add(self.display, f"no sheet named {self.sheet!r} "
                                  f"(sheets: {', '.join(wb.sheetnames)})")
                yield iter(()), lambda: 0
                return
            ws = wb[self.sheet] if self.sheet else wb.worksheets[0]
            line = [0]

            def rows() -> Iterator[list[Any]]:
                for row in ws.iter_rows(values_only=True):
                    line[0] += 1
                    yield ["" if v is None else v for v in row]

            yield rows(), lambda: line[0]
        finally:
            wb.close()

    # -- mapped rows

    def rows(self, required: Sequence[str], optional: Sequence[str] = (),
             keep_extra: bool = False) -> Iterator[tuple[int, list[Any], dict[str, str]]]:
        """Yield ``(line, values, extra)`` per data row.

        ``values`` holds the cells of ``required`` then ``optional`` fields, in
        that order, as text (or native values from XLSX); a missing optional
        column gives ``None``. ``extra`` holds unmapped columns by header when
        ``keep_extra`` is set. Blank rows are skipped.
        """
        with self._open() as (raw, line_of):
            yield from self._mapped(raw, line_of, required, optional, keep_extra)

    def _mapped(self, raw: Iterator[Sequence[Any]], line_of: Callable[[], int],
                required: Sequence[str], optional: Sequence[str],
                keep_extra: bool) -> Iterator[tuple[int, Any, dict[str, str]]]:
        header = None
        for row in raw:
            if any(str(c).strip() for c in row):
                header = row
                break
        if header is None:
            self.problems.add(self.display, "the file is empty (no header row)")
            return
        hline = line_of()
        index = {str(h).strip().lstrip("\ufeff").lower(): i for i, h in enumerate(header)}
        fields = list(required) + list(optional)
        positions: list[int | None] = []
        missing = []
        for f in fields:
            wanted = self.columns.get(f, f)
            pos = index.get(wanted.strip().lower())
            if pos is None and f in required:
                missing.append((f, wanted))
            positions.append(pos)
            self.found[f] = pos is not None
        if missing:
            have = quoted_header(header)
            for f, wanted in missing:
                how = f"mapped from {f!r} in rules.toml" if wanted != f else (
                    f"set data.<table>.columns.{f} to map it")
                self.problems.add(f"{self.display}:{hline}",
                                  f"missing column {wanted!r} ({how}); the header has: {have}")
            return
        used = {p for p in positions if p is not None}
        # unmapped columns keep our field name when rules.toml maps one to them
        field_of = {h.strip().lower(): f for f, h in self.columns.items()}
        extra_cols = [(i, field_of.get(str(h).strip().lower(), str(h).strip()))
                      for i, h in enumerate(header)
                      if i not in used and str(h).strip()] if keep_extra else []
        width = len(header)
        if all(p is not None for p in positions) and len(positions) > 1:
            pick = itemgetter(*positions)  # C-speed selection when every column is there
        else:
            def pick(row: Sequence[Any]) -> list[Any]:
                return [row[p] if p is not None else None for p in positions]
        extra_idx = [i for i, _ in extra_cols]
        extra_names = [n for _, n in extra_cols]
        if len(extra_idx) > 1:
            pick_extra = itemgetter(*extra_idx)
        else:
            def pick_extra(row: Sequence[Any]) -> list[Any]:
                return [row[i] for i in extra_idx]
        for row in raw:
            if len(row) < width:
                if not any(str(c).strip() for c in row):
                    continue
                row = list(row) + [""] * (width - len(row))
            self.rows_read += 1
            if extra_idx:
                extra = dict(zip(extra_names, map(_clean, pick_extra(row))))
            else:
                extra = {}
            yield line_of(), pick(row), extra
