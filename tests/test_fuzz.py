"""No bad input exits 1: the fuzz corpus over a small export and its rules.toml.

Each case copies a small generated export, applies the mutations
:mod:`fuzzing` draws for it, then runs ``salesrules run`` in-process. Every
case must exit 0 or 2 without a traceback; an exit-2 problem about a cell
names its file and line; an exit-0 run accounts for every lead exactly once.

``SALESRULES_FUZZ_CASES`` sets the number of cases (300 by default; ``make
fuzz`` runs 1,200) and ``SALESRULES_FUZZ_SEED`` the seed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tomllib
from pathlib import Path

import pytest
import tomli_w
from conftest import invoke, make_export, read_csv
from fuzzing import mutate

CASES = int(os.environ.get("SALESRULES_FUZZ_CASES", "300"))
SEED = os.environ.get("SALESRULES_FUZZ_SEED", "15")


#: A problem about a cell or column must say where: ``file.csv:14`` (or ``.xlsx``).
LOCATION = re.compile(r"[\w.-]+\.(?:csv|xlsx|xls|txt|tsv):\d+")
#: A problem about a cell: it names a column (a missing column is about the header).
ABOUT_A_CELL = re.compile(r"column '|column number")
#: Problems about a whole column, no cell at fault: a missing column, and a call log none of
#: whose outcomes is a connected one (it lists the column's values with their counts).
ABOUT_A_COLUMN = ("missing column", "no call's outcome is one of")


def check_outcome(result, out: Path, what: list[str]) -> None:
    output = result.output + (result.stderr if result.stderr_bytes else "")
    assert result.exit_code in (0, 2), f"{what}: exit {result.exit_code}\n{output}"
    assert "Traceback" not in output, f"{what}\n{output}"
    if result.exit_code == 2:
        for line in result.stderr.splitlines():
            if ABOUT_A_CELL.search(line) and not any(c in line for c in ABOUT_A_COLUMN):
                assert LOCATION.search(line), f"{what}: no location in {line!r}"
        return
    counts = json.loads((out / "run.json").read_text(encoding="utf-8"))["counts"]
    assigned = [r["lead_id"] for r in read_csv(out / "assignments.csv")]
    unassigned = [r["lead_id"] for r in read_csv(out / "unassigned.csv")]
    ids = assigned + unassigned
    assert len(ids) == len(set(ids)), f"{what}: a lead is listed twice"
    assert (len(assigned), len(unassigned)) == (counts["assigned"], counts["unassigned"]), what
    assert (counts["assigned"] + counts["unassigned"] + counts["leads_kept_with_owner"]
            == counts["leads"]), f"{what}: {counts}"
    if not any("leads" in w or "data" in w for w in map(str, what)):  # the leads file as made
        read = [r["lead_id"] for r in read_csv(out.parent / "export" / "leads.csv")]
        assert counts["leads"] == len(read), what
        assert set(ids) <= set(read), what


@pytest.fixture(scope="module")
def fuzz_export(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz-export")
    rules = make_export(folder, reps=20, days=30, leads=200, call_days=2)
    data = tomllib.loads(rules.read_text(encoding="utf-8"))
    data["output"].update(report=False, workbook=False)
    data["history"] = {"enabled": False}
    rules.write_text(tomli_w.dumps(data), encoding="utf-8")
    (folder / "truth.json").unlink()
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("case", range(CASES))
def test_bad_input_exits_0_or_2(fuzz_export, tmp_path, case):
    folder = tmp_path / "export"
    shutil.copytree(fuzz_export, folder)
    what = mutate(folder, SEED, case)
    out = tmp_path / "out"
    result = invoke("run", "--rules", str(folder / "rules.toml"), "--out", str(out), "-q")
    check_outcome(result, out, [case, *what])


def test_the_unmutated_export_runs(fuzz_export, tmp_path):
    folder = tmp_path / "export"
    shutil.copytree(fuzz_export, folder)
    out = tmp_path / "out"
    result = invoke("run", "--rules", str(folder / "rules.toml"), "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    check_outcome(result, out, ["none"])


# ---- what the corpus found: each once more, by name -------------------------------------------

@pytest.mark.parametrize("edit, where, says", [
    ({"goals": {"levels": {"P1": {"revenue": float("inf")}}}}, "goals.levels.P1.revenue",
     "expected a finite number, got inf"),
    ({"goals": {"levels": {"P1": {"revenue": float("nan")}}}}, "goals.levels.P1.revenue",
     "expected a finite number, got nan"),
    ({"goals": {"levels": {"P1": {"revenue": 1e308}}}}, "goals.levels.P1.revenue",
     "a target above 1e+15 is not supported"),
    ({"goals": {"calendar": {"country": "US", "subdiv": "ZZ"}}}, "goals.calendar.subdiv",
     "US has no subdivision 'ZZ' in the holidays library (it has: AK, AL,"),
    ({"goals": {"calendar": {"subdiv": "CA"}}}, "goals.calendar.subdiv",
     "a subdivision needs goals.calendar.country"),
    ({"goals": {"calendar": {"weekdays": []}}}, "goals.calendar.weekdays",
     "at least one weekday must be a working day"),
])
def test_rules_values_that_crashed_are_config_errors(export, edit, where, says):
    def apply(data, patch=edit):
        for key, value in patch.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                apply(data[key], value)
            else:
                data[key] = value

    rules = export / "rules.toml"
    data = tomllib.loads(rules.read_text(encoding="utf-8"))
    apply(data)
    rules.write_text(tomli_w.dumps(data), encoding="utf-8")
    result = invoke("validate", "--rules", str(rules))
    assert result.exit_code == 2
    assert f"{where}: {says}" in result.output


def test_a_broken_quote_names_the_line_its_row_starts_on(export):
    path = export / "leads.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[6] = lines[6].replace(",", ',"', 1)  # line 7: a quote opened and never closed
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = invoke("run", "--rules", str(export / "rules.toml"), "-q")
    assert result.exit_code == 2
    assert "leads.csv:7: not a readable CSV file: " in result.output
    assert "a quoted cell there is not closed, or has text after its closing quote" in result.output


@pytest.mark.slow
@pytest.mark.parametrize("ends", [b"\r", b"\r\n", b"mixed"])
def test_every_line_end_style_reads_the_same_export(export, ends):
    run = invoke("run", "--rules", str(export / "rules.toml"), "-q", "--dry-run")
    assert run.exit_code == 0, run.output
    before = (export / "out" / "assignments.csv").read_bytes()
    for name in ("reps.csv", "leads.csv", "activity.csv"):
        path = export / name
        lines = path.read_bytes().splitlines()
        path.write_bytes(b"".join(line + (ends if ends != b"mixed" else (b"\n", b"\r")[i % 2])
                                  for i, line in enumerate(lines)))
    run = invoke("run", "--rules", str(export / "rules.toml"), "-q", "--dry-run")
    assert run.exit_code == 0, run.output
    assert (export / "out" / "assignments.csv").read_bytes() == before


def test_activity_only_in_year_one_is_bad_input_not_a_crash(export):
    """Every activity date 0001-01-01 (found by the corpus at 1,200 cases): the reps file's idle
    check skips it instead of overflowing; the run goes on with the as-of date the rules set."""
    path = export / "activity.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0]] + ["0001-01-01," + ln.split(",", 1)[1]
                                            for ln in lines[1:]]) + "\n", encoding="utf-8")
    result = invoke("run", "--rules", str(export / "rules.toml"), "-q")
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
