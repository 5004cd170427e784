"""One reader for every file: rows and their lines as csv.reader sees them, delimiters and line
ends, every date format, and files that are not what they say."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import make_export
from hypothesis import given, settings
from hypothesis import strategies as st

from salesrules.load.tables import (
    CellError,
    parse_date,
    parse_datetime,
    parse_number,
)


def input_file(path, columns=None, sheet=""):
    from salesrules.errors import Problems
    from salesrules.load.dataset import InputFile

    return InputFile(path.stem, path, path.name, columns or {}, "auto", sheet, None, Problems())


def read_with(source, path, columns=None):
    """Run one source over one file: what it built, and the problems it reported."""
    from salesrules.load.dataset import DatasetBuilder
    from salesrules.model import Funnel, Stage

    file = input_file(path, columns)
    into = DatasetBuilder(Funnel((Stage("dials"), Stage("revenue", unit="amount"))),
                          file.problems)
    source(None).read(file, into)
    file.finish()
    return into, [str(p) for p in file.problems.items], file


cell = st.text(alphabet=" ab,;\"\n=1-", max_size=4)


@pytest.mark.slow
@settings(deadline=None)
@given(rows=st.lists(st.lists(cell, min_size=0, max_size=5), max_size=12),
       end=st.sampled_from(["\n", "\r\n", "\r"]), bom=st.booleans(),
       delimiter=st.sampled_from([",", ";", "\t"]))
def test_rows_and_their_lines_are_those_csv_reader_sees(tmp_path_factory, rows, end, bom,
                                                         delimiter):
    """Blank rows, cells spanning lines, short and long rows, any line end: same cells and lines."""
    import csv
    import io

    if end == "\r":  # a file with CR line ends has no other line break inside its cells
        rows = [[c.replace("\n", "") for c in r] for r in rows]
    # cells past the header's width are dropped unread: line breaks in them are not counted
    rows = [r[:3] + [c.replace("\n", "") for c in r[3:]] for r in rows]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=end, delimiter=delimiter)
    w.writerow(["id", "note", "x"])
    w.writerows(rows)
    path = tmp_path_factory.mktemp("rows") / "t.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + buf.getvalue().encode())
    want = []
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        next(reader)
        for row in reader:  # cells beyond the header's width are not read
            row = (row + ["", "", ""])[:3]
            if any(c.strip() for c in row):
                want.append((reader.line_num, row[:2], {"x": row[2].strip()}))
    file = input_file(path)
    assert list(file.rows(["id"], ["note"], keep_extra=True)) == want
    assert file.rows_read == len(want) and not file.problems.items


def test_bad_cells_are_reported_in_line_order_with_the_lines_a_reader_counts(tmp_path):
    from salesrules.load.sources import LeadsSource

    path = tmp_path / "leads.csv"
    path.write_text('id,created_at,note,value\r\n'
                    'L1,2026-03-05,"two\r\nlines",12\r\n'
                    '\r\n'
                    'L2,yesterday,,lots\r\n'
                    ',2026-03-05,,\r\n'
                    'L3,2026-03-06 09:00,,"(1,250.50)"\r\n', encoding="utf-8")
    into, problems, file = read_with(LeadsSource, path)
    assert problems == [
        "leads.csv:5: column 'created_at': expected a date and time (e.g. 2026-03-05 14:30), "
        "got 'yesterday'",
        "leads.csv:5: column 'value': expected a number, got 'lots'",
        "leads.csv:6: column 'id': a lead needs an id"]
    assert [(x.id, x.value, x.fields) for x in into.leads] == [
        ("L1", 12.0, {"note": "two\r\nlines"}), ("L3", -1250.5, {"note": ""})]
    assert into.where_read()["L3"] == "leads.csv:7"
    assert file.rows_read == 4


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_semicolons_tabs_and_any_line_end_read_alike(tmp_path, end, delimiter):
    from salesrules.load.sources import ActivitySource

    rows = [["date", "rep_id", "dials", "revenue"], ["2026-03-05", "R1", "3", "12.5"],
            ["5.3.2026", "R1", "2", ""], ["2026/03/06", "R2", "1", "1,000"]]
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator=end).writerows(rows)
    path = tmp_path / "activity.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    into, problems, _ = read_with(ActivitySource, path)
    assert not problems
    assert {r: dict(into.activity.days(r)) for r in into.activity.rep_ids} == {
        "R1": {dt.date(2026, 3, 5): [5.0, 12.5]},
        "R2": {dt.date(2026, 3, 6): [1.0, 1000.0]}}


@settings(deadline=None)
@given(when=st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2099, 12, 31)),
       fmt=st.sampled_from(["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%m/%d/%Y",
                            "%d.%m.%Y", "%d-%b-%Y", "%d %b %Y", "%b %d, %Y"]),
       time=st.sampled_from(["", " %H:%M", " %H:%M:%S", "T%H:%M", "T%H:%M:%S",
                             " %H:%M:%S.%f"]))
@pytest.mark.slow
def test_every_documented_date_format_reads_back(when, fmt, time):
    import polars as pl

    from salesrules.load.tables import datetime_column

    text = when.strftime(fmt + time)
    kept = {"": dict(hour=0, minute=0, second=0, microsecond=0),
            " %H:%M": dict(second=0, microsecond=0), "T%H:%M": dict(second=0, microsecond=0),
            " %H:%M:%S.%f": {}}.get(time, dict(microsecond=0))
    assert parse_datetime(text) == when.replace(**kept)
    assert datetime_column(pl.Series([text, "", " nope "])).to_list() == [
        when.replace(**kept), None, None]


def test_iso_offsets_keep_the_wall_time_and_excel_dates_read():
    assert parse_datetime(" 2026-03-05T08:00:00+08:00 ") == dt.datetime(2026, 3, 5, 8)
    assert parse_datetime("2026-03-05 14:30Z") == dt.datetime(2026, 3, 5, 14, 30)
    assert parse_date("2026-03-05 00:00:00") == dt.date(2026, 3, 5)
    with pytest.raises(CellError, match="expected a date, got an empty cell"):
        parse_date(" ")
    with pytest.raises(CellError, match="got 'March 5'"):
        parse_date("March 5")


@pytest.mark.parametrize("name,content,says", [
    ("leads.xlsx", b"id,created_at\nL1,2026-03-05\n", "is named as a workbook but is not one"),
    ("leads.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "legacy Excel (.xls)"),
    ("leads.xlsx", None, "a zip archive that is not an XLSX workbook"),
    ("leads.xlsx", "truncated", "damaged or truncated XLSX workbook"),
    ("leads.xlsx", "sheet", "no sheet named 'Leads' (sheets: export)"),
])
@pytest.mark.slow
def test_files_that_are_not_what_they_say_are_named(tmp_path, name, content, says):
    import zipfile


    path = tmp_path / name
    if content is None:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("readme.txt", "hello")
    elif isinstance(content, str):
        make_export(tmp_path / "x", reps=3, leads=5, days=5, format="xlsx")
        book = (tmp_path / "x" / "leads.xlsx").read_bytes()
        path.write_bytes(book[:len(book) // 2] if content == "truncated" else book)
    else:
        path.write_bytes(content)
    file = input_file(path, sheet="Leads" if content == "sheet" else "")
    assert file.frame(["id"]) is None
    (problem,) = [str(p) for p in file.problems.items]
    assert problem.startswith(f"{name}: ") and says in problem


def test_a_lead_twice_in_one_file_names_both_lines(tmp_path):
    from salesrules.load.sources import LeadsSource

    path = tmp_path / "leads.csv"
    path.write_text("id,created_at\nL1,2026-03-05\n\nL2,2026-03-05\nL1,2026-03-06\n")
    into, problems, _ = read_with(LeadsSource, path)
    assert [x.id for x in into.leads] == ["L1", "L2"]
    assert [str(p) for p in into.problems.items] == [
        "leads.csv:5: lead id 'L1' appears twice (first at leads.csv:2)"]


@pytest.mark.slow
@settings(deadline=None, max_examples=300)
@given(st.lists(st.one_of(
    st.text(alphabet="0123456789-/. :TZ+年月日MarDecJ,", max_size=22),
    st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2099, 1, 1)).map(str),
    st.text(alphabet="0123456789.,-+()%$¥元 _eE", max_size=12)), min_size=1, max_size=20))
def test_one_value_reads_as_its_column_reads_it(cells):
    """The parse_* functions for plugins give what the sources' column readers give."""
    import polars as pl

    from salesrules.load.tables import datetime_column, number_column

    def one(parse, value):
        try:
            return parse(value)
        except CellError:
            return None

    column = pl.Series(cells, dtype=pl.String)
    assert datetime_column(column).to_list() == [one(parse_datetime, c) for c in cells]
    assert number_column(column).to_list() == [one(parse_number, c) for c in cells]


def test_a_compact_date_takes_eight_digits_on_both_readers():
    """Found by hypothesis: Python's %Y reads 000111 as 0001-01-01; the column reader does not."""
    import polars as pl

    from salesrules.load.tables import CellError, datetime_column, parse_datetime

    assert datetime_column(pl.Series(["000111"])).to_list() == [None]
    with pytest.raises(CellError):
        parse_datetime("000111")
    assert parse_datetime("20260305") == dt.datetime(2026, 3, 5)


def test_a_delimiter_set_in_the_data_table_reads_what_sniffing_cannot(export):
    """``[data.NAME].delimiter`` reads a pipe-separated file (sniffing knows comma, semicolon
    and tab); a delimiter it does not know is refused with its key path."""
    import csv

    from conftest import edit_rules, invoke

    path = export / "leads.csv"
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter="|").writerows(rows)
    res = invoke("validate", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 2 and "leads.csv" in res.output and "missing column" in res.output
    edit_rules(export / "rules.toml", lambda d: d["data"]["leads"].update(delimiter="|"))
    res = invoke("validate", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 0, res.output
    assert f"leads {len(rows) - 1:,} rows" in res.output
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter="\t").writerows(rows)
    edit_rules(export / "rules.toml", lambda d: d["data"]["leads"].update(delimiter="tab"))
    assert invoke("validate", "--rules", str(export / "rules.toml")).exit_code == 0
    edit_rules(export / "rules.toml", lambda d: d["data"]["leads"].update(delimiter="::"))
    res = invoke("validate", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 2
    assert "data.leads.delimiter: expected one of ',', ';', 'tab' or '|'" in res.output


@pytest.mark.parametrize("cell", ["0000-01-01", "0000年1月1日", "1.1.0000", "1 011", "00-01-01"])
def test_a_date_without_a_four_digit_year_is_a_bad_cell_not_a_crash(cell):
    """Year 0 has no calendar date (reading it into Python raised ValueError, which ended a
    run with exit 1 in the allocation stage); the column reader and parse_datetime agree."""
    import polars as pl

    from salesrules.load.tables import datetime_column

    assert datetime_column(pl.Series([cell, "2026-11-25"])).to_list() == [
        None, dt.datetime(2026, 11, 25)]
    with pytest.raises(CellError):
        parse_datetime(cell)


@pytest.mark.slow
def test_a_year_zero_lead_date_exits_2_naming_the_cell(tmp_path):
    from conftest import cli, set_cell

    rules = make_export(tmp_path)
    set_cell(tmp_path / "leads.csv", 4, 1, "0000-01-01")  # created_at of the third lead
    p = cli("run", "--rules", str(rules), "--out", str(tmp_path / "out"))
    assert p.returncode == 2, p.stderr
    assert "leads.csv:4: column 'created_at'" in p.stderr and "'0000-01-01'" in p.stderr
