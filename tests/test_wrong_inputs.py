"""Wrong inputs said out loud: an as-of date outside the activity, a morning run, and a call
log whose outcomes match none of ``connected_outcomes``."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import edit_rules, invoke, make_export, read_csv


def _run(folder, *args):
    return invoke("run", "--rules", str(folder / "rules.toml"), "--dry-run",
                  "--out", str(folder / "out"), *args)


def _said_everywhere(folder, res, words: str) -> dict:
    """The warning is in the terminal, run.json and the report; returns run.json."""
    assert res.exit_code == 0, res.output
    assert words in " ".join(res.output.split()), res.output
    manifest = json.loads((folder / "out" / "run.json").read_text(encoding="utf-8"))
    assert any(words in w for w in manifest["warnings"]), manifest["warnings"]
    assert words in (folder / "out" / "report.html").read_text(encoding="utf-8")
    return manifest


@pytest.fixture
def export(tmp_path):
    make_export(tmp_path, reps=10, days=70, leads=5, seed=4)  # activity to 2026-11-25
    return tmp_path


def test_an_as_of_date_before_the_activity_is_a_warning(export):
    _said_everywhere(export, _run(export, "--as-of", "2026-03-02"),
                     "the as-of date 2026-03-02 is before the activity begins")


def test_an_as_of_date_after_the_activity_is_a_warning(export):
    m = _said_everywhere(export, _run(export, "--as-of", "2026-12-04"),
                         "the as-of date 2026-12-04 is after the activity ends")
    # not a morning run: the export stops days before, so the as-of day itself is expected
    assert m["expected_through"] == "2026-12-04"
    assert not any("morning run" in w for w in m["warnings"]), m["warnings"]


def test_an_as_of_date_in_a_period_without_activity_is_a_warning(tmp_path):
    make_export(tmp_path, reps=10, days=40, leads=5, seed=4, end=dt.date(2026, 9, 25))
    _said_everywhere(tmp_path, _run(tmp_path, "--as-of", "2026-10-09"),
                     "the quarter 2026-10-01 .. 2026-12-31 has no activity up to the as-of "
                     "date 2026-10-09")


@pytest.mark.slow
def test_a_morning_run_expects_work_up_to_the_previous_working_day(export):
    evening = _run(export, "--as-of", "2026-11-25", "-q")
    assert evening.exit_code == 0, evening.output
    before = read_csv(export / "out" / "progress.csv")
    res = _run(export, "--as-of", "2026-11-26")  # a Thursday: the export ends on Wednesday
    m = _said_everywhere(export, res, "no activity on the as-of date 2026-11-26 yet (a morning "
                                      "run): work is expected up to the previous working day, "
                                      "2026-11-25")
    assert m["as_of"] == "2026-11-26" and m["expected_through"] == "2026-11-25"
    assert not any("after the activity ends" in w for w in m["warnings"])
    # nothing more is expected than the evening before, and the day is still ahead
    assert read_csv(export / "out" / "progress.csv") == before
    assert any(float(r["expected_to_date"]) > 0 for r in before)


@pytest.mark.slow
def test_a_call_log_without_a_connected_outcome_is_an_error_listing_the_outcomes(export):
    calls = export / "calls.csv"
    rows = calls.read_text(encoding="utf-8").splitlines()
    zh = [rows[0]] + [r.rsplit(",", 1)[0] + ("," + ("是" if r.endswith(",connected") else "否"))
                      for r in rows[1:]]
    calls.write_text("\n".join(zh) + "\n", encoding="utf-8")
    res = _run(export, "-q")
    assert res.exit_code == 2, res.output
    out = " ".join(res.output.split())
    assert "calls.csv: column 'outcome'" in out and "connected_outcomes" in out
    assert "'否' (" in out and "'是' (" in out and "Traceback" not in out

    edit_rules(export / "rules.toml", lambda d: d["data"]["calls"].update(
        params={"connected_outcomes": ["是"]}))
    res = _run(export, "-q")
    assert res.exit_code == 0, res.output
    done = read_csv(export / "out" / "progress.csv")
    assert sum(float(r["actual"]) for r in done if r["stage"] == "connects") > 0
