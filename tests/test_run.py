"""The whole run: every output written, invariants kept, byte-identical reruns, atomic outputs."""

from __future__ import annotations

import csv
import io
import json
import os
import textwrap

import pytest
from conftest import ROOT, edit_rules, invoke, read_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesrules.outputs import BUILTIN_FILES
from salesrules.outputs.csvfile import neutralise, write_csv

CONTRACT_COLUMNS = {
    "assignments.csv": ["lead_id", "rep_id", "team", "policy", "rule", "reason"],
    "unassigned.csv": ["lead_id", "reason"],
    "targets.csv": ["rep_id", "team", "stage", "grain", "period_start", "period_end", "target"],
    "progress.csv": ["rep_id", "team", "stage", "actual", "expected_to_date", "target",
                     "attainment"],
    "findings.csv": ["subject", "subject_kind", "check", "severity", "message"],
}


def run_ok(export, *extra):
    res = invoke("run", "--rules", str(export / "rules.toml"), *extra)
    assert res.exit_code == 0, res.output
    return res


@pytest.mark.slow
def test_run_writes_every_output_with_the_contract_columns(export):
    res = run_ok(export)
    out = export / "out"
    for name in BUILTIN_FILES:
        assert (out / name).is_file(), name
    for name, cols in CONTRACT_COLUMNS.items():
        raw = (out / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), f"{name} has no BOM for Excel"
        header = raw[3:].split(b"\r\n", 1)[0].decode().split(",")
        assert header[: len(cols)] == cols
    assert "leads" in res.output and "findings" in res.output
    assert not [p for p in (out / "runs").iterdir() if p.name.startswith(".partial-")]


@pytest.mark.slow
def test_findings_are_well_formed_and_name_the_behind_rep(export):
    run_ok(export)
    truth = json.loads((export / "truth.json").read_text())
    findings = read_csv(export / "out" / "findings.csv")
    assert findings
    for f in findings:
        assert f["subject_kind"] in ("rep", "team")
        assert f["severity"] in ("info", "warn", "critical")
        assert f["message"] and f["action"]
        json.loads(f["evidence"])
    behind = {f["subject"]: f["cause"] for f in findings if f["check"] == "behind-pace"}
    assert behind[truth["planted"]["behind"]] == "activity"
    # busy but fruitless: behind on results for lack of conversion, not of activity
    assert behind.get(truth["planted"]["effort_no_results"], "conversion") == "conversion"
    effort = {f["subject"] for f in findings if f["check"] == "effort-without-results"}
    assert truth["planted"]["effort_no_results"] in effort


@pytest.mark.slow
def test_manifest_records_inputs_plugins_components_and_counts(export):
    run_ok(export)
    m = json.loads((export / "out" / "run.json").read_text(encoding="utf-8"))
    assert m["as_of"] == "2026-11-25"
    assert m["period"] == {"grain": "quarter", "start": "2026-10-01", "end": "2026-12-31"}
    assert m["config"]["digest"].startswith("sha256:")
    assert [i["name"] for i in m["inputs"]] == ["reps", "leads", "activity", "leave", "calls"]
    assert m["inputs"][1]["rows"] == 80
    assert all(i["digest"].startswith("sha256:") for i in m["inputs"])
    assert {p["name"] for p in m["plugins"]} >= {"salesrules.allocation.balanced"}
    assert all(p["version"] for p in m["plugins"])
    kinds = {(c["kind"], c["name"]) for c in m["components"]}
    assert {("split", "even"), ("funnel", "personal"), ("check", "behind-pace"),
            ("policy", "balanced"), ("source", "reps")} <= kinds
    funnel = next(c for c in m["components"] if c["kind"] == "funnel")
    assert funnel["params"] == {"lookback_days": 180}
    c = m["counts"]
    assert c["leads"] == c["leads_kept_with_owner"] + c["leads_to_allocate"]
    assert c["leads_to_allocate"] == c["assigned"] + c["unassigned"]
    assert c["assigned"] == len(read_csv(export / "out" / "assignments.csv"))
    outputs = {o["file"]: o for o in m["outputs"]}
    assert outputs["targets.csv"]["rows"] == len(read_csv(export / "out" / "targets.csv"))


@pytest.mark.slow
def test_same_inputs_config_and_seed_give_byte_identical_outputs(export, tmp_path):
    run_ok(export, "--out", str(tmp_path / "a"), "--seed", "5")
    run_ok(export, "--out", str(tmp_path / "b"), "--seed", "5")
    # out/current is the run's folder (out/<file> links into it)
    names = sorted(p.name for p in (tmp_path / "a" / "current").iterdir())
    assert {"report.html", "workbook.xlsx", *BUILTIN_FILES} <= set(names)
    for name in names:
        a = (tmp_path / "a" / "current" / name).read_bytes()
        b = (tmp_path / "b" / "current" / name).read_bytes()
        if name == "run.json":  # timings may differ, nothing else
            ja, jb = json.loads(a), json.loads(b)
            ja.pop("timings_s"), jb.pop("timings_s")
            assert ja == jb
        else:
            assert a == b, name


@pytest.mark.slow
def test_a_failed_run_leaves_previous_outputs_untouched(export):
    run_ok(export)
    out = export / "out"

    def seen():  # every name in out/, and the bytes a reader of each file gets
        return {p.name: p.read_bytes() if p.is_file() else os.readlink(p) if p.is_symlink()
                else sorted(x.name for x in p.iterdir()) for p in out.iterdir()}

    before = seen()
    plugin = export / "exploding.py"
    plugin.write_text(textwrap.dedent("""
        from salesrules.api import hookimpl

        @hookimpl
        def write_outputs(result, out_dir):
            (out_dir / "half.csv").write_text("partial")
            raise RuntimeError("disk on fire")
    """))
    edit_rules(export / "rules.toml", lambda d: d.update(plugins={"modules": ["exploding.py"]}))
    res = invoke("run", "--rules", str(export / "rules.toml"), "--as-of", "2026-11-20")
    assert res.exit_code == 1
    assert ("plugin 'local:exploding.py' failed in hook write_outputs(): "
            "RuntimeError: disk on fire") in res.output
    assert seen() == before


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(st.text(st.one_of(st.sampled_from('=+-@\t\r\n",\' '),
                                                st.characters(codec="utf-8"))),
                              min_size=3, max_size=3), max_size=8))
@pytest.mark.slow
def test_the_csv_writer_writes_the_csv_modules_bytes_with_risky_cells_neutralised(tmp_path, rows):
    """One writer for every CSV: the bytes Python's csv module would write for the same cells."""
    header = ["lead_id", "rep_id", "reason"]
    write_csv(tmp_path / "a.csv", header, [[r[i] for r in rows] for i in range(3)], safe=[1])
    expected = io.StringIO()
    expected.write("\ufeff")
    w = csv.writer(expected, lineterminator="\r\n")
    w.writerow(header)
    w.writerows([neutralise(r[0]), r[1], neutralise(r[2])] for r in rows)
    assert (tmp_path / "a.csv").read_bytes() == expected.getvalue().encode("utf-8")


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(st.text(st.sampled_from('=+-@\t\r\n",\' ab')), min_size=2,
                              max_size=2), max_size=12),
       cuts=st.lists(st.integers(0, 12), max_size=3))
@pytest.mark.slow
def test_the_csv_writer_writes_the_same_bytes_in_slices_and_parts(tmp_path, monkeypatch, rows,
                                                                 cuts):
    """Rows written a slice at a time, from columns given in parts, give the file written
    whole: the same bytes, and the row count."""
    from salesrules.outputs import csvfile

    header = ["lead_id", "reason"]
    columns = [[r[i] for r in rows] for i in range(2)]
    write_csv(tmp_path / "whole.csv", header, columns)
    monkeypatch.setattr(csvfile, "SLICE_ROWS", 3)
    bounds = [0, *sorted(min(c, len(rows)) for c in cuts), len(rows)]
    parts = [[c[a:b] for c in columns] for a, b in zip(bounds, bounds[1:])]
    assert csvfile.write_csv_parts(tmp_path / "parts.csv", header, parts) == len(rows)
    assert (tmp_path / "parts.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_cells_that_excel_would_run_are_neutralised():
    assert neutralise("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    for risky in ("+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(risky).startswith("'")
    assert neutralise("plain") == "plain"


@pytest.mark.slow
def test_formula_in_an_export_cell_is_neutralised_in_the_outputs(export):
    text = (export / "reps.csv").read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    cells = lines[1].split(",")
    cells[1] = "=cmd|' /C calc'!A0"
    lines[1] = ",".join(cells)
    (export / "reps.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    edit_rules(export / "rules.toml", lambda d: d["checks"]["behind-pace"].update(warn_gap=0.001))
    run_ok(export)
    raw = (export / "out" / "findings.csv").read_text(encoding="utf-8-sig")
    assert "=cmd" in raw
    assert not any(line.startswith("=") for line in raw.splitlines())
    msgs = [f["message"] for f in read_csv(export / "out" / "findings.csv")
            if f["subject"] == cells[0]]
    assert msgs and msgs[0].startswith("'=cmd")


def test_the_repo_example_runs_with_the_default_rules(tmp_path):
    res = invoke("run", "--rules", str(ROOT / "rules.toml"), "--out", str(tmp_path / "o"),
                 "--dry-run")
    assert res.exit_code == 0, res.output
    rows = read_csv(tmp_path / "o" / "assignments.csv")
    assert {r["rule"] for r in rows} == {"A-grade", "everything else"}
    a_grade = [r for r in rows if r["rule"] == "A-grade"]
    assert a_grade and all(r["policy"] == "ranking-priority" and " tier ×" in r["reason"]
                           for r in a_grade)
    rest = [r for r in rows if r["rule"] == "everything else"]
    assert rest and all("in lead value" in r["reason"] for r in rest)


@pytest.mark.slow
def test_as_of_changes_the_period(export, tmp_path):
    run_ok(export, "--as-of", "2026-09-30", "--out", str(tmp_path / "o"))
    m = json.loads((tmp_path / "o" / "run.json").read_text())
    assert m["period"]["start"] == "2026-07-01"


def test_the_deprecated_parallel_switch_is_ignored_with_a_warning(export):
    """``output.parallel`` (contract 1.x's second process) still loads, and the run says it is
    ignored."""
    edit_rules(export / "rules.toml", lambda d: d["output"].update(parallel=False))
    res = invoke("run", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 0, res.output
    manifest = json.loads((export / "out" / "run.json").read_text())
    assert any("output.parallel is deprecated and ignored" in w for w in manifest["warnings"])
