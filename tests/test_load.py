"""Reading exports: CSV and XLSX, UTF-8 / BOM / GB18030, dates and numbers, located errors."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from conftest import edit_rules, make_export
from salesrules.config import load_config
from salesrules.errors import DataError
from salesrules.load import data_dir, load_dataset
from salesrules.load.tables import CellError, detect_encoding, parse_date, parse_datetime, parse_number
from salesrules.run import plan_run


def load(rules):
    cfg = load_config(rules)
    plan = plan_run(cfg)
    return load_dataset(cfg, plan.sources, data_dir(cfg, None))


def test_generated_export_loads(export):
    ds = load(export / "rules.toml")
    assert len(ds.reps) == 14
    assert len(ds.leads) == 80
    assert len(ds.activity) > 14 * 40
    assert [i.name for i in ds.inputs] == ["reps", "leads", "activity", "leave", "calls"]
    assert sum(len(v) for v in ds.leave.values()) == 1
    assert ds.inputs[0].encoding == "utf-8-sig"  # the reps sheet is saved with a BOM
    assert ds.inputs[1].encoding == "utf-8"
    assert all(i.digest.startswith("sha256:") for i in ds.inputs)
    assert ds.inputs[1].rows == 80


def test_chinese_headers_in_gb18030_are_mapped(tmp_path):
    rules = make_export(tmp_path, chinese=True, reps=8, leads=30, days=30)
    raw = (tmp_path / "reps.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    ds = load(rules)
    assert all(i.encoding == "gb18030" for i in ds.inputs)
    rep = next(iter(ds.reps.values()))
    assert rep.team in ("华东", "华南")
    assert any(ord(c) > 0x4E00 for c in rep.name)
    lead = ds.leads[0]
    # mapped extra columns keep our field names, so rules can use them
    assert set(lead.fields) >= {"source", "region", "grade"}
    assert lead.value > 0  # "1,234.56" with thousands separators


def test_xlsx_export_loads_the_same_as_csv(tmp_path):
    csv_dir, xlsx_dir = tmp_path / "csv", tmp_path / "xlsx"
    make_export(csv_dir, reps=6, leads=20, days=20)
    rules = make_export(xlsx_dir, reps=6, leads=20, days=20, format="xlsx")
    assert (xlsx_dir / "activity.xlsx").exists()
    a, b = load(csv_dir / "rules.toml"), load(rules)
    assert list(a.reps) == list(b.reps)
    assert [(x.id, x.created_at, x.value) for x in a.leads] == [
        (x.id, x.created_at, x.value) for x in b.leads]
    assert list(a.activity) == list(b.activity)


def test_encoding_detection():
    assert detect_encoding(b"\xef\xbb\xbfid,name\n") == "utf-8-sig"
    assert detect_encoding("id,姓名\n".encode("utf-8")) == "utf-8"
    assert detect_encoding("id,姓名\n".encode("gb18030")) == "gb18030"
    # a UTF-8 character cut at the end of the sample is still UTF-8
    assert detect_encoding("名字".encode("utf-8")[:-1]) == "utf-8"


@pytest.mark.parametrize("text", ["2026-03-05", "2026/03/05", "2026/3/5", "2026.03.05",
                                  "2026年3月5日", "03/05/2026", "05.03.2026", "20260305",
                                  "2026-03-05 14:30", "2026-03-05T14:30:00", "5 Mar 2026"])
def test_common_date_formats(text):
    assert parse_date(text) == dt.date(2026, 3, 5)


def test_datetime_keeps_time():
    assert parse_datetime("2026/03/05 14:30") == dt.datetime(2026, 3, 5, 14, 30)


@pytest.mark.parametrize("text,value", [("1,234.50", 1234.5), ("¥12,000", 12000.0),
                                         ("$ 3,000.00", 3000.0), ("(1,000)", -1000.0),
                                         ("12%", 0.12), ("1 234", 1234.0), ("45元", 45.0)])
def test_numbers_with_separators_and_currency(text, value):
    assert parse_number(text) == pytest.approx(value)


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(lambda x: round(x, 2)))
def test_thousands_separated_numbers_round_trip(x):
    assert parse_number(f"{x:,.2f}") == pytest.approx(x)


@pytest.mark.parametrize("text", ["abc", "1.2.3", "", "nan"])
def test_bad_numbers_are_refused(text):
    with pytest.raises(CellError):
        parse_number(text)


def test_bad_cells_name_file_line_and_column_all_at_once(export):
    lines = (export / "activity.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(lines[3].split(",")[2], "many", 1)  # dials
    cells = lines[7].split(",")
    cells[0] = "yesterday"
    lines[7] = ",".join(cells)
    (export / "activity.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load(export / "rules.toml")
    msgs = [str(p) for p in err.value.problems]
    assert msgs == [
        "activity.csv:4: column 'dials': expected a number, got 'many'",
        "activity.csv:8: column 'date': expected a date (e.g. 2026-03-05), got 'yesterday'",
    ]


def test_errors_stop_at_the_limit_and_say_how_many_more(export):
    edit_rules(export / "rules.toml", lambda d: d["data"].update(max_errors=3))
    lines = (export / "activity.csv").read_text(encoding="utf-8").splitlines()
    for i in range(1, 11):
        lines[i] = "not-a-date" + lines[i][lines[i].index(","):]
    (export / "activity.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load(export / "rules.toml")
    msgs = [str(p) for p in err.value.problems]
    assert len(msgs) == 4
    assert msgs[-1] == "... and 7 more problem(s) not shown"


def test_missing_column_names_the_mapping(export):
    edit_rules(export / "rules.toml",
               lambda d: d["data"]["reps"]["columns"].update(team="团队"))
    with pytest.raises(DataError) as err:
        load(export / "rules.toml")
    (msg,) = [str(p) for p in err.value.problems]
    assert msg.startswith("reps.csv:1: missing column '团队' (mapped from 'team' in rules.toml)")
    assert "the header has: rep_id, name, team" in msg


def test_missing_file_names_the_config_key(export):
    (export / "leads.csv").unlink()
    with pytest.raises(DataError) as err:
        load(export / "rules.toml")
    assert str(err.value.problems[0]).startswith("data.leads.file: no such file:")


def test_declared_encoding_that_does_not_fit_says_which_to_use(export):
    text = (export / "leads.csv").read_text(encoding="utf-8")
    (export / "leads.csv").write_bytes(text.replace("web", "官网").encode("gb18030"))
    edit_rules(export / "rules.toml", lambda d: d["data"]["leads"].update(encoding="utf-8"))
    with pytest.raises(DataError) as err:
        load(export / "rules.toml")
    msg = str(err.value.problems[0])
    first = next(i for i, line in enumerate(text.splitlines(), start=1) if "web" in line)
    assert msg.startswith(f"leads.csv:{first}: cannot be read as utf-8")
    assert 'encoding = "gb18030"' in msg


def test_duplicate_ids_are_errors_with_both_lines(export):
    with (export / "reps.csv").open("a", encoding="utf-8") as f:
        f.write("R0001,Dup,East,P1,yes,5,2024-01-01\n")
    with pytest.raises(DataError) as err:
        load(export / "rules.toml")
    assert str(err.value.problems[0]) == (
        "reps.csv:16: rep id 'R0001' appears twice (first at reps.csv:2)")


def test_a_lead_in_two_leads_files_is_an_error_naming_both_lines(export):
    lines = (export / "leads.csv").read_text(encoding="utf-8").splitlines()
    (export / "more_leads.csv").write_text("\n".join([lines[0], lines[5], lines[1]]) + "\n",
                                           encoding="utf-8")
    edit_rules(export / "rules.toml", lambda d: d["data"].update(more={
        **d["data"]["leads"], "file": "more_leads.csv", "source": "leads"}))
    with pytest.raises(DataError) as err:
        load(export / "rules.toml")
    first, second = lines[5].split(",")[0], lines[1].split(",")[0]
    assert [str(p) for p in err.value.problems] == [
        f"more_leads.csv:2: lead id {first!r} appears twice (first at leads.csv:6)",
        f"more_leads.csv:3: lead id {second!r} appears twice (first at leads.csv:2)"]


def test_activity_of_unknown_reps_is_a_warning(export):
    with (export / "activity.csv").open("a", encoding="utf-8") as f:
        f.write("2026-11-20,R9999,10,3,1,0,0,0\n")
    ds = load(export / "rules.toml")
    assert any("R9999" in w for w in ds.warnings)
    assert "R9999" not in ds.activity.rep_ids


def test_activity_rows_are_aggregated_per_rep_day(export):
    day = dt.date(2026, 10, 21)  # before the call log's window
    before = list(load(export / "rules.toml").activity.days("R0001")[day])
    with (export / "activity.csv").open("a", encoding="utf-8") as f:
        f.write("2026-10-21,R0001,10,4,0,0,0,\"1,500.50\"\n")
    after = load(export / "rules.toml").activity.days("R0001")[day]
    assert after[0] == before[0] + 10
    assert after[1] == before[1] + 4
    assert after[5] == pytest.approx(before[5] + 1500.5)


# ---------------------------------------------------------------- one reader, every file


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
def test_files_that_are_not_what_they_say_are_named(tmp_path, name, content, says):
    import zipfile

    from salesrules.load.sources import LeadsSource

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


def test_an_unmapped_missing_column_names_the_tables_own_key(export):
    text = (export / "leave.csv").read_text(encoding="utf-8").replace("end", "until", 1)
    (export / "leave.csv").write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as err:
        load(export / "rules.toml")
    (msg,) = [str(p) for p in err.value.problems]
    assert "missing column 'end' (set data.leave.columns.end to map it)" in msg


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
