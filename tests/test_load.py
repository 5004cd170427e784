"""Reading exports: CSV and XLSX, UTF-8 / BOM / GB18030, dates and numbers, located errors."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import edit_rules, make_export
from hypothesis import given
from hypothesis import strategies as st

from salesrules.config import load_config
from salesrules.errors import DataError
from salesrules.load import data_dir, load_dataset
from salesrules.load.tables import (
    CellError,
    detect_encoding,
    parse_date,
    parse_datetime,
    parse_number,
)
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


@pytest.mark.slow
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
    assert detect_encoding("id,姓名\n".encode()) == "utf-8"
    assert detect_encoding("id,姓名\n".encode("gb18030")) == "gb18030"
    # a UTF-8 character cut at the end of the sample is still UTF-8
    assert detect_encoding("名字".encode()[:-1]) == "utf-8"


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


def test_an_unmapped_missing_column_names_the_tables_own_key(export):
    text = (export / "leave.csv").read_text(encoding="utf-8").replace("end", "until", 1)
    (export / "leave.csv").write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as err:
        load(export / "rules.toml")
    (msg,) = [str(p) for p in err.value.problems]
    assert "missing column 'end' (set data.leave.columns.end to map it)" in msg
