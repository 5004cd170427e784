"""Chinese end to end: ``salesrules sample --chinese`` sets ``output.language = "zh"``, and
everything a manager reads of its run is Chinese; the CSVs' columns and causes stay English."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from salesrules.cli import main

#: Latin words allowed in a Chinese sentence: names of things, not English sentences.
ALLOWED = {"ARPU", "UTC", "CRM"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def english_words(text: str) -> list[str]:
    """Latin words of two letters or more (ids such as R0010 or L000297 have one); a place in
    an input file (``activity.csv:1230``) is a name, not a sentence."""
    text = re.sub(r"[\w.-]+\.(?:csv|xlsx|txt):\d+", "", text)
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in ALLOWED]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def zh_run(tmp_path_factory) -> tuple[Path, str]:
    """One run of a Chinese sample, as a user makes it: the output folder and the terminal."""
    folder = tmp_path_factory.mktemp("zh") / "export"
    runner = CliRunner()
    res = runner.invoke(main, ["sample", str(folder), "--chinese", "--reps", "20",
                               "--leads", "60", "--days", "120"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert 'language = "zh"' in (folder / "rules.toml").read_text(encoding="utf-8")
    res = runner.invoke(main, ["run", "--rules", str(folder / "rules.toml")],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return folder / "out", res.output


def assert_chinese(texts: list[str], what: str) -> None:
    assert texts, f"no {what} to judge"
    for text in texts:
        assert CJK.search(text), f"{what} has no Chinese: {text!r}"
        assert not english_words(text), f"{what} has English words: {text!r}"


@pytest.mark.slow
def test_findings_speak_chinese_with_the_contract_kept(zh_run):
    out, _ = zh_run
    rows = read_csv(out / "findings.csv")
    assert list(rows[0])[-2:] == ["cause", "stage"]  # the columns stay English
    assert {r["cause"] for r in rows} <= {"activity", "conversion", "data", "other"}
    assert_chinese([r["message"] for r in rows], "a finding's message")
    assert_chinese([r["action"] for r in rows], "a finding's action")
    # the exact figure stays in the evidence; the message says it in words
    for r in rows:
        ev = json.loads(r["evidence"])
        if "probability" in ev and r["check"] in ("effort-without-results", "zero-streak"):
            assert "e-" not in r["message"] and "偶然" in r["message"]


@pytest.mark.slow
def test_reasons_and_traces_speak_chinese(zh_run):
    out, _ = zh_run
    assert_chinese([r["reason"] for r in read_csv(out / "assignments.csv")], "a reason")
    assert_chinese([r["reason"] for r in read_csv(out / "unassigned.csv")], "a reason")
    traces = [r["trace"] for r in read_csv(out / "targets.csv") if r["trace"]]
    assert_chinese(traces, "a trace")
    # what shrinkage did, in words
    assert any(re.search(r"你自己的历史占 \d+%，团队的占 \d+%", t) for t in traces)


@pytest.mark.slow
def test_summary_and_report_speak_chinese(zh_run):
    out, terminal = zh_run
    lines = [line for line in terminal.splitlines()[1:] if line.strip()]
    table = [line for line in lines if not re.search(r"/|\.csv|\.json|\.xlsx", line)]
    assert_chinese(table, "a summary line")
    html = (out / "report.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script id="report-data" type="application/json">(.*?)'
                                r"</script>", html, re.S).group(1))
    assert_chinese(list(data["check_names"].values()), "a check name")
    rule = data["allocation"]["rules"][0]
    assert_chinese([rule["name"], rule["when"], rule["policy"]], "a routing rule")
    assert rule["policy"] == "雨露均沾"
    for f in data["findings"]:
        assert_chinese([f["message"], f["action"]], "a report finding")
        # evidence is a labelled table of words and figures, not JSON
        assert f["evidence"] and all(len(row) == 2 for row in f["evidence"])
        assert_chinese([label for label, _ in f["evidence"]], "an evidence label")
        assert not any("{" in value for _, value in f["evidence"])
