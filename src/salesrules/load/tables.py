"""Reading export cells: dates, numbers and yes/no, a whole column at a time with polars.

Each ``*_column`` function takes a column of text cells and gives a typed
column with a null wherever a cell is blank or cannot be read; the caller
finds those with a frame filter and reports them. The ``parse_*`` functions
read one value by the same formats and rules, for plugins (a test holds the
two to the same answers).
"""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

SNIFF_BYTES = 1 << 20

# ---------------------------------------------------------------- files


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


def bytes_digest(raw: bytes) -> str:
    """:func:`file_digest` of a file's bytes already read."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def file_digest(path: Path) -> str:
    """A file's ``sha256:`` digest, read a block at a time (an input or an output file:
    neither is held whole)."""
    with path.open("rb") as f:
        return "sha256:" + hashlib.file_digest(f, "sha256").hexdigest()


class CellError(ValueError):
    """A cell that cannot be read as the type its column needs."""


# ---------------------------------------------------------------- dates

#: The date layouts an export may use, tried in this order; each may carry a time.
DATE_FORMATS = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日",
    "%m/%d/%Y", "%d.%m.%Y", "%d-%b-%Y", "%d %b %Y", "%b %d, %Y",
)
TIME_SUFFIXES = ("", " %H:%M", " %H:%M:%S", "T%H:%M", "T%H:%M:%S", " %H:%M:%S%.f",
                 "T%H:%M:%S%.f")
_FORMATS = tuple(d + t for d in DATE_FORMATS for t in TIME_SUFFIXES)
#: The first year a date may have: four digits, as every format's ``%Y`` is written.
MIN_YEAR = 1000
# an ISO 8601 offset after a time ("Z", "+08:00"): the wall time is kept, the offset dropped
_OFFSET = r"^(.*\d:\d{2}(?::\d{2}(?:\.\d+)?)?)(?:Z|[+-]\d{2}(?::?\d{2})?)$"


def _blank(text: pl.Series) -> pl.Series:
    return (text.str.strip_chars() == "").fill_null(True)


def datetime_column(cells: pl.Series) -> pl.Series:
    """Timestamps from text cells in any of :data:`DATE_FORMATS` (a bare date means midnight).

    Each format is tried, as one vectorised pass, only on the cells no
    earlier format read; blank or unreadable cells give null.
    """
    text = cells.cast(pl.String).str.strip_chars()
    if len(text) > 1000:  # an export repeats its dates: read each distinct one once
        keys = text.unique()
        if len(keys) * 4 < len(text):
            parsed = datetime_column(keys)
            return text.replace_strict(keys, parsed, return_dtype=pl.Datetime("us")).alias(
                cells.name)
    if text.str.contains(_OFFSET).any():
        text = text.str.replace(_OFFSET, "${1}")
    out = pl.Series(cells.name, [None] * len(text), dtype=pl.Datetime("us"))
    todo = (~_blank(text)).arg_true()
    if len(todo):  # commonly every cell has the first one's format: try that on all first
        first = _guess(text[int(todo[0])])
        got = _strptime(text, first) if first else None
        if got is not None and got.null_count() == 0:
            return got.alias(cells.name)
        if got is not None:
            hit = got.gather(todo).is_not_null()
            out.scatter(todo.filter(hit), got.gather(todo).filter(hit))
            todo = todo.filter(~hit)
    for fmt in _FORMATS:
        if not len(todo):
            break
        got = _strptime(text.gather(todo), fmt)
        hit = got.is_not_null()
        out.scatter(todo.filter(hit), got.filter(hit))
        todo = todo.filter(~hit)
    return out


def _strptime(text: pl.Series, fmt: str) -> pl.Series:
    """``text`` read with ``fmt``; a cell it does not read, or whose year has fewer than four
    digits (``0000-01-01``, ``1 011``: no date an export holds), is null."""
    got = text.str.strptime(pl.Datetime("us"), fmt, strict=False, exact=True)
    return pl.select(pl.when(got.dt.year() >= MIN_YEAR).then(got)).to_series().alias(text.name)


def _guess(text: str) -> str | None:
    """The first format that reads this one cell."""
    one = pl.Series([text])
    return next((f for f in _FORMATS if _strptime(one, f).is_not_null().item()), None)


def date_column(cells: pl.Series) -> pl.Series:
    """Dates from text cells, as :func:`datetime_column` reads them (a time is dropped)."""
    return datetime_column(cells).dt.date()


def datetime_message(cell: Any, what: str = "a date and time (e.g. 2026-03-05 14:30)") -> str:
    """The problem with a cell :func:`datetime_column` could not read."""
    text = "" if cell is None else str(cell).strip()
    return f"expected {what}, got {text!r}" if text else (
        f"expected {what.split(' (')[0]}, got an empty cell")


def date_message(cell: Any) -> str:
    """The problem with a cell :func:`date_column` could not read."""
    return datetime_message(cell, "a date (e.g. 2026-03-05)")


# ---------------------------------------------------------------- numbers

_NUMBER_JUNK = r"[,\s_'¥￥$€£]|^(?:CNY|RMB|USD|EUR)|(?:CNY|RMB|USD|EUR|元)$"


def number_column(cells: pl.Series, blank: float | None = None) -> pl.Series:
    """Numbers from text cells, allowing thousands separators, currency signs, ``12%`` and
    ``(1,234)`` negatives; ``blank`` for an empty cell; null for an unreadable, NaN or
    infinite one."""
    raw = cells.cast(pl.String)
    out = raw.cast(pl.Float64, strict=False)  # plain numbers, read without a copy of the text
    todo = out.is_null().arg_true()
    if len(todo):
        t = raw.gather(todo).str.strip_chars().str.normalize("NFKC")
        empty = _blank(t)
        neg = t.str.starts_with("(") & t.str.ends_with(")")
        t = pl.select(pl.when(neg).then(t.str.slice(1, t.str.len_chars() - 2))
                      .otherwise(t)).to_series().str.replace_all(_NUMBER_JUNK, "")
        # 12% is read as 12e-2, so that it is the number nearest to 0.12 (not 12 / 100)
        percent = t.str.ends_with("%")
        t = pl.select(pl.when(percent).then(t.str.strip_suffix("%") + "e-2")
                      .otherwise(t)).to_series()
        got = t.cast(pl.Float64, strict=False)
        got = pl.select(pl.when(empty).then(blank).when(neg).then(-got)
                        .otherwise(got)).to_series()
        out.scatter(todo, got)
    return pl.select(pl.when(out.is_finite()).then(out)).to_series().alias(cells.name)


def number_message(cell: Any) -> str:
    text = "" if cell is None else str(cell)
    return f"expected a number, got {text!r}" if text.strip() else (
        "expected a number, got an empty cell")


def int_column(cells: pl.Series) -> pl.Series:
    """Whole numbers, read as :func:`number_column` reads numbers; null if not whole."""
    text = cells.cast(pl.String).str.strip_chars()
    out = text.cast(pl.Int64, strict=False)
    if out.null_count() == 0:
        return out.alias(cells.name)
    num = number_column(cells)
    whole = pl.select(pl.when(num == num.floor()).then(num)).to_series()
    return pl.select(pl.coalesce(out, whole.cast(pl.Int64, strict=False))).to_series() \
        .alias(cells.name)


def int_message(cell: Any) -> str:
    if _py_number(str(cell)) is None:
        return number_message(cell)
    return f"expected a whole number, got {cell!r}"


_TRUE = ("1", "true", "yes", "y", "t", "active", "是", "在职", "有效", "x")
_FALSE = ("0", "false", "no", "n", "f", "inactive", "否", "离职", "无效", "")


def bool_column(cells: pl.Series) -> pl.Series:
    """Yes or no: true/false, yes/no, 1/0, 是/否, 在职/离职, active/inactive; null otherwise."""
    text = cells.cast(pl.String).str.strip_chars().str.to_lowercase().fill_null("")
    return text.replace_strict(list(_TRUE) + list(_FALSE),
                               [True] * len(_TRUE) + [False] * len(_FALSE),
                               default=None, return_dtype=pl.Boolean).alias(cells.name)


def bool_message(cell: Any) -> str:
    return f"expected yes or no (true/false, 1/0, 是/否), got {cell!r}"


# ---------------------------------------------------------------- one cell
# The same formats and rules for a single value, in plain Python: plugins call
# these per value, and polars must not be used in a forked process.

_PY_FORMATS = tuple(f.replace("%.f", ".%f") for f in _FORMATS)
_PY_OFFSET = re.compile(_OFFSET)
_PY_JUNK = re.compile(_NUMBER_JUNK)


@functools.lru_cache(maxsize=1 << 16)  # an export repeats its dates
def _py_datetime(text: str) -> dt.datetime | None:
    text = text.strip()
    if len(text) == 10 and text[4] == "-" == text[7] and text[:4].isdigit():
        try:  # the common case, fast; the same answer as the first format's
            got = dt.datetime.fromisoformat(text)
            return got if got.year >= MIN_YEAR else None
        except ValueError:
            pass
    text = _PY_OFFSET.sub(r"\1", text)
    for fmt in _PY_FORMATS:
        if fmt.startswith("%Y%m%d") and not (len(text) >= 8 and text[:8].isdigit()):
            continue  # compact dates take 8 digits, as the column reader reads them (not 000111)
        try:
            got = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        if got.year >= MIN_YEAR:
            return got
    return None


def _py_number(text: str) -> float | None:
    t = unicodedata.normalize("NFKC", text.strip())
    try:
        out = float(t)
    except ValueError:
        neg = t.startswith("(") and t.endswith(")")
        t = _PY_JUNK.sub("", t[1:-1] if neg else t)
        try:
            out = float(t[:-1] + "e-2" if t.endswith("%") else t)
        except ValueError:
            return None
        out = -out if neg else out
    return out if out - out == 0 else None


def parse_datetime(value: Any) -> dt.datetime:
    """A timestamp from an export cell; a bare date means midnight."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    got = _py_datetime(str(value))
    if got is None:
        raise CellError(datetime_message(value))
    return got


def parse_date(value: Any) -> dt.date:
    """A date from an export cell.

    ISO, slashes, dots, ``2026年3月5日``, US ``3/5/2026``, or Excel's own.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    got = _py_datetime(str(value))
    if got is None:
        raise CellError(date_message(value))
    return got.date()


def parse_number(value: Any) -> float:
    """A number, allowing thousands separators, currency signs and ``(1,234)`` negatives."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value - value != 0:
            raise CellError(number_message(value))
        return float(value)
    got = _py_number(str(value))
    if got is None:
        raise CellError(number_message(value))
    return got


def parse_int(value: Any) -> int:
    """A whole number, with the same separators and signs as :func:`parse_number`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    n = parse_number(value)
    if n != int(n):
        raise CellError(f"expected a whole number, got {value!r}")
    return int(n)


def parse_bool(value: Any) -> bool:
    """Yes or no: true/false, yes/no, 1/0, 是/否, 在职/离职, active/inactive."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise CellError(bool_message(value))


def quoted_header(cells: Sequence[Any]) -> str:
    """A header row as an error message may quote it: cut at 120 characters, and only if it is text.

    The rules may name any file as data (``/proc/self/environ``, say); an error
    about it must not print what the file holds beyond a short header.
    """
    text = ", ".join(str(c) for c in cells)
    if not all(c.isprintable() for c in text):
        return "(not a text header; not shown)"
    return text if len(text) <= 120 else text[:120] + " …"
