"""A worksheet whose table is written as XML in one go: the same bytes xlsxwriter writes for
the same cells, without its per-cell bookkeeping (a cell object per value, kept until the
workbook closes, then written tag by tag), which made most of ``workbook.xlsx``'s cost.

Only for a workbook held in memory (its strings shared), and a sheet whose cells are all in
the table: a chart reads its data from xlsxwriter's own cells, so a sheet with charts keeps
the plain path. ``tests/test_workbook_table.py`` checks both give byte-identical workbooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

#: A string up to this long cannot pass Excel's 32,767 UTF-16 unit limit (xlsxwriter's test).
SHORT = 32767 // 2

INF = float("inf")

#: No column or row yet.
NONE = 1 << 30


def _style(fmt: Any) -> str:
    return f' s="{fmt._get_xf_index()}"' if fmt else ""


class TableSheet(Worksheet):
    """A worksheet filled by :meth:`write_table` (``wb.add_worksheet(name, TableSheet)``)."""

    def __init__(self) -> None:
        super().__init__()
        self._table_xml: list[str] = []

    def write_table(self, header: Sequence[str], header_format: Any,
                    rows: Sequence[Sequence[Any]], formats: dict[int, Any]) -> None:
        """The header in the first row, then ``rows``: a str is written as text, None or ""
        leaves the cell empty, anything else is a number; ``formats`` by column."""
        if self.constant_memory or self._table_xml or len(rows) >= self.xls_rowmax:
            raise ValueError("write_table: one table per sheet, in a workbook held in memory, "
                             "within a sheet's rows")
        width = max(len(header), max(map(len, rows), default=0))
        names = [xl_col_to_name(c) for c in range(width)]
        head = [_style(header_format)] * width
        body = [_style(formats.get(c)) for c in range(width)]
        block: list[tuple[int, str]] = []  # rows of 16 share one "spans" attribute
        bounds = [NONE, -1]  # the block's first and last column with a cell
        used = [NONE, -1, NONE, -1]  # the table's first and last column, first and last row
        for r, row in enumerate(chain([header], rows)):
            if r % 16 == 0 and block:
                self._end_block(block, bounds, used)
            cells = self._cells(r, row, head if r == 0 else body, names, bounds)
            if cells:
                block.append((r, cells))
        self._end_block(block, bounds, used)
        if used[3] >= 0:
            self._check_dimensions(used[2], used[0])
            self._check_dimensions(used[3], used[1])

    def _end_block(self, block: list[tuple[int, str]], bounds: list[int],
                   used: list[int]) -> None:
        if block:
            lo, hi = bounds
            spans = f'spans="{lo + 1}:{hi + 1}"'
            self._table_xml.append("".join(f'<row r="{r + 1}" {spans}>{cells}</row>'
                                           for r, cells in block))
            used[:] = min(used[0], lo), max(used[1], hi), min(used[2], block[0][0]), block[-1][0]
        block.clear()
        bounds[:] = NONE, -1

    def _cells(self, r: int, row: Sequence[Any], styles: list[str], names: list[str],
               bounds: list[int]) -> str:
        """One row's ``<c>`` elements, as ``_write_cell`` writes them; widens ``bounds``."""
        index = self.str_table._get_shared_string_index
        n = r + 1
        out = []
        first = last = -1
        for c, v in enumerate(row):
            t = v.__class__
            if t is str:
                if not v:
                    continue
                i = index(v) if len(v) <= SHORT else self._stored(r, c, v, True)
                out.append(f'<c r="{names[c]}{n}"{styles[c]} t="s"><v>{i}</v></c>')
            elif t is float and -INF < v < INF or t is int:
                out.append(f'<c r="{names[c]}{n}"{styles[c]}><v>{v:.16G}</v></c>')
            elif v is None or v == "":
                continue
            elif isinstance(v, str):  # a str subclass
                out.append(f'<c r="{names[c]}{n}"{styles[c]} t="s">'
                           f'<v>{self._stored(r, c, v, True)}</v></c>')
            else:  # another kind of number; NaN or infinity raise as xlsxwriter does
                out.append(f'<c r="{names[c]}{n}"{styles[c]}>'
                           f'<v>{self._stored(r, c, v, False):.16G}</v></c>')
            if first < 0:
                first = c
            last = c
        if first >= 0:
            bounds[0], bounds[1] = min(bounds[0], first), max(bounds[1], last)
        return "".join(out)

    def _stored(self, r: int, c: int, v: Any, text: bool) -> Any:
        """What xlsxwriter itself keeps for a rare value (a string that may need truncating,
        a number that is not a plain int or float; NaN raises as it does there)."""
        (self._write_string if text else self._write_number)(r, c, v)
        cell = self.table[r].pop(c)
        return cell.string if text else cell.number

    def _write_sheet_data(self) -> None:
        if not self._table_xml:
            super()._write_sheet_data()
            return
        if any(self.table.values()):
            raise ValueError("write_table: a sheet's cells are all in its table")
        self._xml_start_tag("sheetData")
        self.fh.writelines(self._table_xml)  # no joined copy of the whole sheet
        self._table_xml = []  # written once: the rows go as soon as they are on disk
        self._xml_end_tag("sheetData")
