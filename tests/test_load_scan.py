"""A file read as a query (InputFile.scan) gives the rows its frame gives, and a call log counted
from that query gives what counting its rows one by one gives."""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from test_load_reader import input_file

from salesrules.load.calls import CallsSource, _day_key, duration_column

FIELDS = ["rep_id", "start", "duration", "outcome"]
KEYS = ["rep_id", "_key", "outcome"]


def read_calls(path):
    """Run the calls source over one file: what it built, its problems, and the file."""
    from salesrules.load.dataset import DatasetBuilder
    from salesrules.model import Funnel, Stage

    file = input_file(path)
    into = DatasetBuilder(Funnel((Stage("dials"), Stage("connects"))), file.problems)
    CallsSource(None).read(file, into)
    file.finish()
    return into, [str(p) for p in file.problems.items], file


def _write(path, header, rows, end="\n", delimiter=",", encoding="utf-8", lead=""):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=end, delimiter=delimiter)
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes((lead + buf.getvalue()).encode(encoding))


@pytest.mark.slow
@settings(deadline=None)
@given(rows=st.lists(st.lists(st.text(alphabet=" ab,;\"\n接=1", max_size=4), max_size=5),
                     max_size=12),
       end=st.sampled_from(["\n", "\r\n", "\r"]), lead=st.sampled_from(["", "\n", " \r\n\n"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
       delimiter=st.sampled_from([",", ";", "\t"]))
def test_a_scanned_file_gives_the_rows_of_its_frame(tmp_path_factory, rows, end, lead,
                                                    encoding, delimiter):
    """Short and long rows, blank rows, any line end and encoding: the same cells in the same
    order, but for rows of spaces (which the frame leaves out); a file with a quote in it
    is not scanned."""
    if end == "\r":
        rows = [[c.replace("\n", "") for c in r] for r in rows]
    path = tmp_path_factory.mktemp("scan") / "t.csv"
    _write(path, ["id", "note", "x"], rows, end, delimiter, encoding, lead)
    fields = (["id"], ["note", "x", "absent"])
    scanned = input_file(path).scan(*fields)
    framed = input_file(path).frame(*fields)
    assert framed is not None
    if b'"' in path.read_bytes():
        assert scanned is None
        return
    assert scanned is not None
    got = scanned.collect(engine="streaming")
    cells = ("id", "note", "x")  # without quotes, a cell reads "" only where it is empty
    assert not got.filter(pl.all_horizontal(pl.col(c) == "" for c in cells)).height
    spaces = pl.all_horizontal(pl.col(c).str.strip_chars() == "" for c in cells)
    assert_frame_equal(got.filter(~spaces), framed.drop("row"))


def test_a_file_whose_first_line_with_a_cell_is_blank_is_not_scanned(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(",,\nid,note\nL1,a\n", encoding="utf-8")
    assert input_file(path).scan(["id"]) is None
    assert input_file(path).frame(["id"])["id"].to_list() == ["L1"]


def _straight(frame: pl.DataFrame, p) -> pl.DataFrame:
    """The calls counted the straightforward way: every row's duration worked out, then grouped."""
    secs = pl.col("_secs")
    long, short = secs >= p.min_seconds, secs < p.short_seconds
    return frame.with_columns(_key=_day_key(pl.col("start")),
                              _secs=duration_column(frame["duration"])).group_by(KEYS).agg(
        n=pl.len(), bad=secs.is_null().sum(), long=long.sum(), short=short.sum(),
        long_short=(long & short).sum(), talk=secs.sum(), talk_long=secs.filter(long).sum())


def _same(got: pl.DataFrame, want: pl.DataFrame, counts: list[str]) -> None:
    """The counts that ``connect_by`` needs (``counts``) are those of the straight count."""
    def tidy(f):
        return f.select(*KEYS, pl.col(counts).cast(pl.Int64)).sort(KEYS)

    assert_frame_equal(tidy(got), tidy(want))


call = st.tuples(st.sampled_from(["R1", " R1", "R2"]),
                 st.sampled_from(["2026-03-05 09:00", "2026-03-05T10:00", "2026-03-06", "x"]),
                 st.sampled_from(["73", "12", " 12 ", "1:05", "0:00:30", "73s", "5秒", "", "x",
                                  "-5", "1.5", "0"]),
                 st.sampled_from(["connected", "busy", ""]))


@pytest.mark.slow
@settings(deadline=None, max_examples=60)
@given(calls=st.lists(call, min_size=1, max_size=30), min_seconds=st.sampled_from([0, 10, 60]),
       connect_by=st.sampled_from(["outcome", "duration"]))
def test_calls_counted_from_a_scan_are_those_counted_row_by_row(tmp_path_factory, calls,
                                                                min_seconds, connect_by):
    """Whole seconds summed as they are, other durations worked out once per distinct text:
    the counts of working out every row's duration first."""
    path = tmp_path_factory.mktemp("calls") / "calls.csv"
    _write(path, FIELDS, calls)
    source = CallsSource(CallsSource.Params(min_seconds=min_seconds, connect_by=connect_by))
    counts = ["n", "bad"] + (["short", "talk"] if connect_by == "outcome"
                             else ["long", "long_short", "talk_long"])
    rows = input_file(path).scan(FIELDS)
    assert rows is not None
    framed = input_file(path).frame(FIELDS)
    assert framed is not None
    want = _straight(framed, source.params)
    _same(source._group(rows, KEYS, "streaming"), want, counts)
    _same(source._group(framed.lazy(), KEYS), want, counts)


@pytest.mark.parametrize("quoted", [False, True])
def test_a_call_log_with_blank_rows_and_rows_of_spaces_reads_as_without_them(tmp_path, quoted):
    """A row of spaces is left out, as the frame leaves it out (the scan has it, blank)."""
    rows = ["rep_id,start,duration,outcome", "R1,2026-03-05 09:00,73,connected", "",
            ",,,", "  , ,,", "R1,2026-03-05 10:00,1:05,busy", "R2,2026-03-06,12,connected"]
    if quoted:
        rows[1] = 'R1,"2026-03-05 09:00",73,connected'
    path = tmp_path / "calls.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    into, problems, file = read_calls(path)
    assert problems == [] and file.rows_read == 3
    assert {r: {str(d): v for d, v in days.items()} for r, days in into.calls.by_rep.items()} \
        == {"R1": {"2026-03-05": [2, 1, 0, 73]}, "R2": {"2026-03-06": [1, 1, 1, 12]}}


def test_bad_calls_are_blamed_on_their_lines_after_a_scan(tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text("rep_id,start,duration,outcome\r\n"
                    "R1,2026-03-05 09:00,73,connected\r\n"
                    "\r\n"
                    "R1,soon,12,connected\r\n"
                    "R2,2026-03-06,ages,busy\r\n", encoding="utf-8")
    into, problems, file = read_calls(path)
    assert problems == [
        "calls.csv:4: column 'start': expected a start time (e.g. 2026-03-05 14:30), "
        "got 'soon'",
        "calls.csv:5: column 'duration': expected a duration in seconds or mm:ss, got 'ages'"]
    assert file.rows_read == 3 and list(into.calls.by_rep) == ["R1"]


def test_a_call_log_that_is_not_utf8_past_its_start_is_said_as_before(tmp_path):
    path = tmp_path / "calls.csv"
    body = b"rep_id,start,duration,outcome\n" + b"R1,2026-03-05 09:00,73,connected\n" * 60000
    path.write_bytes(body + b"R1,2026-03-05 09:00,73,\xff\xfe\n")
    _, problems, _ = read_calls(path)
    assert len(problems) == 1 and problems[0].startswith("calls.csv:60002: ")
    assert "cannot be read as utf-8" in problems[0]


@pytest.mark.parametrize("quoted", [False, True])
def test_the_digest_is_of_the_bytes_read_and_equals_the_files(tmp_path, quoted):
    """A call log scanned (no quote) or read whole (a quote): its digest, taken from the bytes
    read instead of reading the file again, is the file's sha256."""
    from salesrules.load.inputfile import file_record
    from salesrules.load.tables import file_digest

    path = tmp_path / "calls.csv"
    _write(path, FIELDS, [["r,1" if quoted else "r1", "2026-11-20 09:00", "65", "answered"],
                          ["r2", "2026-11-20 10:00", "3", "busy"]])
    _, problems, file = read_calls(path)
    assert problems == [] and file.digest == file_digest(path)
    record = file_record("calls", file, "calls", tmp_path)
    assert record.digest == file_digest(path) and record.rows == 2
    path.write_text("rep_id\n")  # changed after it was read: the digest is of what was read
    assert file_record("calls", file, "calls", tmp_path).digest == record.digest


def test_a_file_the_source_never_read_is_digested_from_disk(tmp_path):
    from salesrules.load.inputfile import file_record
    from salesrules.load.tables import file_digest

    path = tmp_path / "calls.csv"
    _write(path, FIELDS, [["r1", "2026-11-20 09:00", "65", "ok"]])
    file = input_file(path)
    assert file.digest == ""
    assert file_record("calls", file, "calls", tmp_path).digest == file_digest(path)


@given(parts=st.lists(st.sampled_from([b"a", b"\r", b"\n", b"\r\n", b","]), max_size=40),
       step=st.sampled_from([1, 2, 3, 5, 1 << 22]))
def test_a_lone_carriage_return_is_found_in_any_stretch(parts, step):
    """Old Mac line ends (a carriage return without a line feed after it), looked for a
    stretch of bytes at a time: found where the regular expression finds one."""
    import re

    from salesrules.load.frame import _lone_cr

    data = b"".join(parts)
    assert _lone_cr(data, step) == bool(re.search(rb"\r(?!\n)", data))
