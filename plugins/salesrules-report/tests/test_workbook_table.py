"""The workbook's tables written as XML at once (``TableSheet``) give the very bytes
xlsxwriter writes cell by cell; and the page's JSON escaping."""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import zipfile

import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from salesrules_report import _JSON_ESCAPES, safe_json
from salesrules_report import workbook as wbmod

CELLS = st.one_of(
    st.none(), st.just(""), st.text(max_size=12), st.sampled_from(["=1+1", " x ", "a&<b>\"c'"]),
    st.integers(min_value=-(10 ** 20), max_value=10 ** 20), st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([0.1, 1e-7, -0.0, 2.5e15]))


def book(header: list[str], rows: list[list[object]], table: bool) -> bytes:
    """Two sheets of the same rows (the second with formats), as the workbook writes them:
    cell by cell (``table=False``, the path a charted sheet takes) or as a table."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    wb.set_properties({"created": dt.datetime(2026, 3, 2)})
    fmt = wbmod.formats(wb)
    for name, fmts in (("plain", None), ("formatted", {0: fmt["pct"], 2: fmt["money"]})):
        wbmod._sheet(wb, name, header, rows, fmt["bold"], fmts, charted=not table)
    wb.close()
    return buf.getvalue()


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(width=st.integers(1, 5), data=st.data())
def test_a_table_is_written_as_xlsxwriter_writes_its_cells(width, data):
    header = data.draw(st.lists(st.text(max_size=8), min_size=width,
                                max_size=width))
    rows = data.draw(st.lists(st.lists(CELLS, min_size=width, max_size=width), max_size=40))
    assert book(header, rows, table=True) == book(header, rows, table=False)


def test_long_text_is_cut_where_xlsxwriter_cuts_it():
    rows = [["x" * 40_000, "é" * 17_000, "ok"], [None, "\U0001f600" * 17_000, 3]]
    assert book(["a", "b", "c"], rows, table=True) == book(["a", "b", "c"], rows, table=False)


def test_each_block_of_16_rows_spans_its_own_columns():
    rows = [[None, i, None] if 15 <= i <= 30 else [i, None, "z"] for i in range(32)]
    data = book(["a", "b", "c"], rows, table=True)
    assert data == book(["a", "b", "c"], rows, table=False)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert '<row r="2" spans="1:3">' in sheet and '<row r="17" spans="2:2">' in sheet
    assert '<row r="33" spans="1:3">' in sheet and '<dimension ref="A1:C33"/>' in sheet


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_figure_that_is_not_a_number_is_refused_as_xlsxwriter_refuses_it(bad):
    for table in (True, False):
        with pytest.raises(TypeError, match="NAN/INF"):
            book(["a"], [[bad]], table)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.recursive(st.one_of(st.none(), st.integers(), st.text(alphabet=st.sampled_from(
    "ab<>&\u2028\u2029\"\\/é\n")), st.floats(allow_nan=False)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=4), max_leaves=12))
def test_page_json_escapes_every_markup_character(obj):
    text = safe_json(obj)
    raw = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    assert text == raw.translate(str.maketrans(_JSON_ESCAPES))
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == obj
