"""Chinese end to end: ``salesrules sample --chinese`` sets ``output.language = "zh"``, and
everything a manager reads of its run is Chinese; the CSVs' columns and causes stay English."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import string
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


#: Names a manager types, not sentences: options (``--as-of``), config keys and tables
#: (``params.stages``, ``[data.reps]``, ``rules.toml``) and the values they take.
NAMES_TO_TYPE = re.compile(r"--[a-z][a-z-]*|\[?[a-z_]+(?:\.[a-z_*]+)+\]?|= true|\bcolumns\b")


def assert_chinese_warnings(texts: list[str], what: str) -> None:
    assert_chinese([NAMES_TO_TYPE.sub("", t) for t in texts], what)


@pytest.fixture(scope="module")
def zh_warned_run(tmp_path_factory) -> tuple[Path, str]:
    """A Chinese sample run that warns: activity and leave of a rep id not in the reps file,
    and an as-of date after the export ends."""
    folder = tmp_path_factory.mktemp("zh-warned") / "export"
    runner = CliRunner()
    res = runner.invoke(main, ["sample", str(folder), "--chinese", "--reps", "12",
                               "--leads", "30", "--days", "100"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    last = max(line.split(",")[0] for line in (folder / "activity.csv").read_text(
        encoding="gbk").splitlines()[1:])
    with (folder / "activity.csv").open("a", encoding="gbk") as f:
        f.write(f"{last},R9999,3,1,0,0,0,0\n")
    with (folder / "leave.csv").open("a", encoding="gbk") as f:
        f.write(f"R9999,{last},{last}\n")
    as_of = (dt.date.fromisoformat(last.replace("/", "-")) + dt.timedelta(days=10)).isoformat()
    res = runner.invoke(main, ["run", "--rules", str(folder / "rules.toml"), "--as-of", as_of],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return folder / "out", res.output


@pytest.mark.slow
def test_warnings_speak_chinese_in_the_terminal_run_json_and_report(zh_warned_run):
    out, terminal = zh_warned_run
    assert "warning:" not in terminal
    said = [line.removeprefix("提示：").strip() for line in terminal.splitlines()
            if line.startswith("提示：")]
    assert len(said) == 3, terminal  # unknown activity, unknown leave, the as-of date
    assert_chinese_warnings(said, "a warning in the terminal")
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["warnings"] == said  # run.json's warnings are in the run's language too
    html = (out / "report.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script id="report-data" type="application/json">(.*?)'
                                r"</script>", html, re.S).group(1))
    assert data["warnings"] == said
    assert any("R9999" in w for w in said) and any("--as-of" in w for w in said)


def test_every_warning_has_chinese_words():
    """Each warning of the kernel's catalogue and the seasonal plugin's, filled in, is said
    in Chinese (the names a manager types aside), and in English as written."""
    from salesrules_seasonal import Seasonal

    from salesrules.warning_words import WARNINGS
    from salesrules.words import say, speaking

    for catalogue in (WARNINGS, Seasonal.words):
        for key, entry in catalogue.items():
            assert "zh" in entry, key
            fields = {name: 1 for text in entry.values()
                      for _, name, _, _ in string.Formatter().parse(text) if name}
            with speaking("zh"):
                zh = say(key, catalogue, **fields)
            en = say(key, catalogue, **fields)
            assert en == entry["en"].format(**fields)
            if english_words(NAMES_TO_TYPE.sub("", en)):  # not a separator or a bare field
                assert_chinese_warnings([zh], f"warning {key!r}")
