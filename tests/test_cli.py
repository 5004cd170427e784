"""The command line as a user meets it: exit codes, messages without tracebacks, each command."""

from __future__ import annotations

import json
import re
import tomllib

import pytest
from conftest import cli, edit_rules, invoke, read_csv, set_cell


@pytest.mark.slow
def test_bad_config_exits_2_with_key_paths_and_no_traceback(export):
    edit_rules(export / "rules.toml",
               lambda d: d["goals"].update(period="year", levels={"P1": {"revenue": "lots"}}))
    p = cli("run", "--rules", str(export / "rules.toml"))
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert "goals.period: expected one of 'quarter', 'month', got 'year'" in p.stderr
    assert "goals.levels.P1.revenue: expected a number, got 'lots'" in p.stderr
    assert not (export / "out").exists()


@pytest.mark.slow
def test_bad_data_exits_2_naming_file_line_and_column(export):
    set_cell(export / "leads.csv", 6, 4, "lots")  # the value column
    p = cli("run", "--rules", str(export / "rules.toml"))
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert "leads.csv:6: column 'value': expected a number, got 'lots'" in p.stderr
    assert not (export / "out").exists()


@pytest.mark.slow
def test_missing_rules_file_exits_2(tmp_path):
    p = cli("run", "--rules", str(tmp_path / "nope.toml"))
    assert p.returncode == 2
    assert "no such file" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.slow
def test_a_bad_as_of_is_a_usage_error_naming_the_option(export):
    p = cli("run", "--rules", str(export / "rules.toml"), "--as-of", "26/13/2026")
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert ("Invalid value for '--as-of': expected a date such as 2026-11-25, 2026/11/25, "
            "11/25/2026 or 2026年11月25日, got '26/13/2026'") in p.stderr
    assert not (export / "out").exists()
    res = invoke("compare", str(export / "rules.toml"), str(export / "rules.toml"),
                 "--as-of", "yesterday")
    assert res.exit_code == 2 and "Invalid value for '--as-of'" in res.output


@pytest.mark.slow
@pytest.mark.parametrize("text", ["11/24/2026", "2026年11月24日", "24.11.2026"])
def test_as_of_accepts_the_date_formats_the_data_accepts(export, text):
    res = invoke("run", "--rules", str(export / "rules.toml"), "--as-of", text, "--dry-run")
    assert res.exit_code == 0, res.output
    assert "salesrules run as of 2026-11-24 " in res.output
    assert json.loads((export / "out" / "run.json").read_text())["as_of"] == "2026-11-24"


@pytest.mark.slow
def test_a_plugin_that_raises_mid_run_is_named_and_exits_1(export):
    (export / "bad_policy.py").write_text(
        "from salesrules.api import hookimpl, Policy\n"
        "class Broken(Policy):\n"
        "    '''Always fails.'''\n"
        "    name = 'broken'\n"
        "    def allocate(self, batch):\n"
        "        raise KeyError('oops')\n"
        "@hookimpl\n"
        "def register_policies(register):\n"
        "    register(Broken)\n")
    edit_rules(export / "rules.toml", lambda d: (
        d.update(plugins={"modules": ["bad_policy.py"]}),
        d["allocation"].update(rules=[{"name": "all", "policy": "broken"}])))
    p = cli("run", "--rules", str(export / "rules.toml"))
    assert p.returncode == 1
    assert "plugin 'local:bad_policy.py' failed in policy 'broken': KeyError: 'oops'" in p.stderr
    assert "Traceback" not in p.stderr
    assert not (export / "out").exists()


def test_validate_checks_everything_and_writes_nothing(export):
    before = sorted(p.name for p in export.iterdir())
    res = invoke("validate", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 0, res.output
    assert "valid" in res.output and "leads 80 rows" in res.output
    assert sorted(p.name for p in export.iterdir()) == before


def test_validate_reports_config_and_data_problems(export):
    edit_rules(export / "rules.toml",
               lambda d: d["checks"].update({"behind-pace": {"warn_gap": "x"}}))
    res = invoke("validate", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 2
    assert "checks.behind-pace.warn_gap: expected a number, got 'x'" in res.output


def test_dry_run_writes_outputs_and_says_so(export):
    res = invoke("run", "--rules", str(export / "rules.toml"), "--dry-run")
    assert res.exit_code == 0
    assert "[dry run]" in res.output
    m = json.loads((export / "out" / "run.json").read_text())
    assert m["dry_run"] is True


@pytest.mark.slow
def test_quiet_prints_nothing(export):
    p = cli("run", "--rules", str(export / "rules.toml"), "-q")
    assert p.returncode == 0
    assert p.stdout == ""


def test_plugins_lists_components_with_params_and_json(export):
    res = invoke("plugins")
    assert res.exit_code == 0
    assert "policy  balanced" in res.output and "by: " in res.output
    assert "Balance the number of leads (`count`) or their total value (`value`)." in res.output
    # a plugin with no strategy to name (the report, an output plugin) shows its hooks
    assert "salesrules.report 0.1.0 (salesrules-report)\n  hooks   write_outputs" in res.output
    data = json.loads(invoke("plugins", "--json").output)
    comps = {(c["kind"], c["name"]): c for p in data["plugins"] for c in p["components"]}
    assert comps[("check", "behind-pace")]["params"][0] == {
        "name": "warn_gap", "type": "float", "default": 0.165,
        "doc": "Points behind expected-to-date (0.165 = 16.5%) from which a rep is flagged "
               "as warn."}
    assert data["hook_contract"] == "2.0"


def test_init_writes_a_starter_that_validates_against_a_sample(tmp_path):
    res = invoke("init", str(tmp_path / "rules.toml"))
    assert res.exit_code == 0
    assert invoke("init", str(tmp_path / "rules.toml")).exit_code == 2  # no silent overwrite
    res = invoke("sample", str(tmp_path / "data"), "--reps", "5", "--leads", "10", "--days", "20")
    assert res.exit_code == 0
    # the starter expects rep_id / lead_id headers, which the sample writes
    res = invoke("validate", "--rules", str(tmp_path / "rules.toml"))
    assert res.exit_code == 0, res.output


@pytest.mark.slow
def test_sample_chinese_gb18030_runs_end_to_end(tmp_path):
    res = invoke("sample", str(tmp_path / "zh"), "--chinese", "--reps", "9", "--leads", "25",
                 "--days", "40")
    assert res.exit_code == 0
    res = invoke("run", "--rules", str(tmp_path / "zh" / "rules.toml"))
    assert res.exit_code == 0, res.output
    rows = read_csv(tmp_path / "zh" / "out" / "progress.csv")
    assert any(r["team"] == "华东" for r in rows)


@pytest.mark.slow
def test_sample_xlsx_runs_end_to_end(tmp_path):
    res = invoke("sample", str(tmp_path / "x"), "--format", "xlsx", "--reps", "6",
                 "--leads", "15", "--days", "30")
    assert res.exit_code == 0
    res = invoke("run", "--rules", str(tmp_path / "x" / "rules.toml"))
    assert res.exit_code == 0, res.output
    assert len(read_csv(tmp_path / "x" / "out" / "assignments.csv")) + len(
        read_csv(tmp_path / "x" / "out" / "unassigned.csv")) > 0


@pytest.mark.slow
@pytest.mark.parametrize("quarters", [[], ["--quarters", "1"]])
def test_a_chinese_xlsx_sample_runs_and_names_its_outcome_columns(tmp_path, quarters):
    """The rules are made from the workbook's own header (it was read as GB18030 text)."""
    res = invoke("sample", str(tmp_path / "x"), "--chinese", "--format", "xlsx", "--reps", "6",
                 "--leads", "15", "--days", "30", *quarters)
    assert res.exit_code == 0, res.output
    rules = tomllib.loads((tmp_path / "x" / "rules.toml").read_text(encoding="utf-8"))
    assert ("outcome" in rules["data"]["leads"]["columns"]) == bool(quarters)
    res = invoke("run", "--rules", str(tmp_path / "x" / "rules.toml"))
    assert res.exit_code == 0, res.output


def test_sample_is_deterministic(tmp_path):
    for d in ("a", "b"):
        invoke("sample", str(tmp_path / d), "--reps", "5", "--leads", "10", "--days", "15")
    for name in ("reps.csv", "leads.csv", "activity.csv", "truth.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_validate_reports_config_and_data_problems_together(export):
    edit_rules(export / "rules.toml",
               lambda d: d["checks"].update({"behind-pace": {"warn_gap": "x"}}))
    set_cell(export / "leads.csv", 3, 4, "lots")
    res = invoke("validate", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 2
    assert "checks.behind-pace.warn_gap: expected a number, got 'x'" in res.output
    assert "leads.csv:3: column 'value': expected a number, got 'lots'" in res.output


def test_validate_counts_in_singular_and_plural(export):
    (export / "leave.csv").write_text("rep_id,start,end\nR0005,2026-11-16,2026-11-25\n",
                                      encoding="utf-8")
    res = invoke("validate", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 0, res.output
    assert "leave 1 row," in res.output and "leads 80 rows" in res.output
    assert " components;" in res.output
    assert not re.search(r"\b1 (rows|components)\b", res.output)
    assert not re.search(r"\b([02-9]|\d\d+) (row|component)\b", res.output)


def _columns(line: str) -> list[tuple[int, int]]:
    """Each cell of a printed table line as (start, end) in terminal cells."""
    from rich.cells import cell_len

    return [(cell_len(line[:m.start()]), cell_len(line[:m.end()]))
            for m in re.finditer(r"\S+(?: \S+)*", line)]


def test_compare_table_keeps_columns_apart_with_long_names(export):
    long_team = "Enterprise Accounts North-East Region"
    reps = (export / "reps.csv").read_text(encoding="utf-8-sig").splitlines()
    header = reps[0].split(",")
    team = header.index("team")
    for i in range(1, len(reps)):
        cells = reps[i].split(",")
        cells[team] = long_team if i % 2 else "华东大区重点客户销售一部"
        reps[i] = ",".join(cells)
    (export / "reps.csv").write_text("\n".join(reps) + "\n", encoding="utf-8")
    other = export / "a-much-longer-name-for-the-other-rules-file.toml"
    other.write_text((export / "rules.toml").read_text(encoding="utf-8"), encoding="utf-8")
    res = invoke("compare", str(export / "rules.toml"), str(other))
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("rep "))
    head, rows = lines[at], lines[at + 1:]
    assert re.split(r"\s{2,}", head) == ["rep", "team", "A leads", "A value", "B leads",
                                         "B value", "conv."]
    assert len(rows) == 13 and any(long_team in r for r in rows)
    head_cols = _columns(head)
    for row in rows:
        cols = _columns(row)
        assert len(cols) == 7, row
        assert [c[0] for c in cols[:2]] == [c[0] for c in head_cols[:2]]  # text: left-aligned
        assert [c[1] for c in cols[2:]] == [c[1] for c in head_cols[2:]]  # numbers: right
    legend = next(i for i, line in enumerate(lines) if line.startswith("Gini: 0 = shared"))
    assert "1 = all to one rep" in lines[legend] and "window = " in lines[legend + 1]
    figures = lines[lines.index("") + 1: legend]
    assert [re.split(r"\s{2,}", f.strip())[0] for f in figures][1:] == [
        "assigned", "unassigned", "lead value", "Gini of counts, today", "Gini of value, today",
        "Gini of counts, window", "Gini of value, window", "expected conversions"]


@pytest.mark.slow
def test_summary_numbers_have_thousands_separators(tmp_path):
    from conftest import make_export

    rules = make_export(tmp_path, leads=1500)
    res = invoke("run", "--rules", str(rules))
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())  # the summary wraps at the console's width
    summary = text[text.index(" reps "):text.index(" outputs ")]
    shown = re.search(r" leads (\d{1,3}(?:,\d{3})+) to allocate: .* "
                      r"(\d{1,3}(?:,\d{3})+) unassigned;", summary)
    assert shown is not None, summary
    assert not re.search(r"\d{4}", summary.split(" report ")[0])
    counts = json.loads((tmp_path / "out" / "run.json").read_text())["counts"]
    assert shown.groups() == (f"{counts['leads_to_allocate']:,}", f"{counts['unassigned']:,}")
    assert counts["unassigned"] >= 1000  # the files keep plain numbers


@pytest.mark.slow
def test_quiet_still_reports_a_plugin_that_failed_to_import(export, tmp_path):
    import os

    site = tmp_path / "site"
    info = site / "acme_broken-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[salesrules]\nacme_broken = acme_broken\n")
    (site / "acme_broken.py").write_text("import no_such_module_here\n")
    env = dict(os.environ, PYTHONPATH=str(site))
    env.pop("SALESRULES_STRICT", None)
    p = cli("run", "--rules", str(export / "rules.toml"), "-q", env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""
    assert ("warning: plugin acme_broken (from distribution acme-broken): failed to import "
            "'acme_broken': ModuleNotFoundError: No module named 'no_such_module_here'"
            ) in p.stderr
    assert cli("run", "--rules", str(export / "rules.toml"), "-q", "--strict",
               env=env).returncode == 2


@pytest.mark.slow
@pytest.mark.parametrize("own", [None, "narenas:4"])
def test_the_command_line_sets_polars_allocator_before_polars_is_imported(own):
    """Importing the command line, then polars, leaves polars with our jemalloc options after
    its own, unless the user set their own."""
    import os
    import subprocess
    import sys

    from salesrules.cli.allocator import JEMALLOC

    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    if own is not None:
        env["_RJEM_MALLOC_CONF"] = own
    p = subprocess.run([sys.executable, "-c", "import os, salesrules.cli, polars; "
                        "print(os.environ['_RJEM_MALLOC_CONF'])"],
                       capture_output=True, text=True, env=env, timeout=60, check=True)
    assert p.stdout.strip().endswith("," + (own or JEMALLOC))


def _threads_after(code: str, **env_changes: str | None) -> int:
    """The number of threads a fresh Python has after running ``code``."""
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    p = subprocess.run([sys.executable, "-c", code + "; import os; "
                        "print(len(os.listdir('/proc/self/task')))"],
                       capture_output=True, text=True, env=env, timeout=60, check=True)
    return int(p.stdout)


@pytest.mark.slow
@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self/task"), reason="Linux only")
def test_the_command_line_starts_no_openblas_threads_unless_asked():
    """numpy's OpenBLAS starts a spinning thread per core when imported; the command line
    asks it for one (salesrules does no matrix work), but keeps a value the user set."""
    import os

    bare = _threads_after("import numpy", OPENBLAS_NUM_THREADS=None)
    one = _threads_after("import numpy", OPENBLAS_NUM_THREADS="1")
    ours = _threads_after("import salesrules.cli, numpy", OPENBLAS_NUM_THREADS=None)
    assert ours == one
    if (os.cpu_count() or 1) > 1:
        assert bare > one
        assert _threads_after("import salesrules.cli, numpy", OPENBLAS_NUM_THREADS="2") > one
