"""The command line as a user meets it: exit codes, messages without tracebacks, each command."""

from __future__ import annotations

import json

from conftest import cli, edit_rules, invoke, read_csv, set_cell


def test_bad_config_exits_2_with_key_paths_and_no_traceback(export):
    edit_rules(export / "rules.toml", lambda d: d["goals"].update(period="year", levels={"P1": {"revenue": "lots"}}))
    p = cli("run", "--rules", str(export / "rules.toml"))
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert "goals.period: expected one of 'quarter', 'month', got 'year'" in p.stderr
    assert "goals.levels.P1.revenue: expected a number, got 'lots'" in p.stderr
    assert not (export / "out").exists()


def test_bad_data_exits_2_naming_file_line_and_column(export):
    set_cell(export / "leads.csv", 6, 4, "lots")  # the value column
    p = cli("run", "--rules", str(export / "rules.toml"))
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert "leads.csv:6: column 'value': expected a number, got 'lots'" in p.stderr
    assert not (export / "out").exists()


def test_missing_rules_file_exits_2(tmp_path):
    p = cli("run", "--rules", str(tmp_path / "nope.toml"))
    assert p.returncode == 2
    assert "no such file" in p.stderr and "Traceback" not in p.stderr


def test_a_bad_as_of_is_a_usage_error(export):
    p = cli("run", "--rules", str(export / "rules.toml"), "--as-of", "26/11/2026")
    assert p.returncode == 2
    assert "expected YYYY-MM-DD" in p.stderr


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
    edit_rules(export / "rules.toml", lambda d: d["checks"].update({"behind-pace": {"warn_gap": "x"}}))
    res = invoke("validate", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 2
    assert "checks.behind-pace.warn_gap: expected a number, got 'x'" in res.output


def test_dry_run_writes_outputs_and_says_so(export):
    res = invoke("run", "--rules", str(export / "rules.toml"), "--dry-run")
    assert res.exit_code == 0
    assert "[dry run]" in res.output
    m = json.loads((export / "out" / "run.json").read_text())
    assert m["dry_run"] is True


def test_quiet_prints_nothing(export):
    p = cli("run", "--rules", str(export / "rules.toml"), "-q")
    assert p.returncode == 0
    assert p.stdout == ""


def test_plugins_lists_components_with_params_and_json(export):
    res = invoke("plugins")
    assert res.exit_code == 0
    assert "policy  balanced" in res.output and "by: " in res.output
    assert "Balance the number of leads (`count`) or their total value (`value`)." in res.output
    data = json.loads(invoke("plugins", "--json").output)
    comps = {(c["kind"], c["name"]): c for p in data["plugins"] for c in p["components"]}
    assert comps[("check", "behind-pace")]["params"][0] == {
        "name": "warn_gap", "type": "float", "default": 0.165,
        "doc": "Points behind expected-to-date (0.165 = 16.5%) from which a rep is flagged as warn."}
    assert data["hook_contract"] == "1.0"


def test_init_writes_a_starter_that_validates_against_a_sample(tmp_path):
    res = invoke("init", str(tmp_path / "rules.toml"))
    assert res.exit_code == 0
    assert invoke("init", str(tmp_path / "rules.toml")).exit_code == 2  # no silent overwrite
    res = invoke("sample", str(tmp_path / "data"), "--reps", "5", "--leads", "10", "--days", "20")
    assert res.exit_code == 0
    # the starter expects rep_id / lead_id headers, which the sample writes
    res = invoke("validate", "--rules", str(tmp_path / "rules.toml"))
    assert res.exit_code == 0, res.output


def test_sample_chinese_gb18030_runs_end_to_end(tmp_path):
    res = invoke("sample", str(tmp_path / "zh"), "--chinese", "--reps", "9", "--leads", "25",
                 "--days", "40")
    assert res.exit_code == 0
    res = invoke("run", "--rules", str(tmp_path / "zh" / "rules.toml"))
    assert res.exit_code == 0, res.output
    rows = read_csv(tmp_path / "zh" / "out" / "progress.csv")
    assert any(r["team"] == "华东" for r in rows)


def test_sample_xlsx_runs_end_to_end(tmp_path):
    res = invoke("sample", str(tmp_path / "x"), "--format", "xlsx", "--reps", "6",
                 "--leads", "15", "--days", "30")
    assert res.exit_code == 0
    res = invoke("run", "--rules", str(tmp_path / "x" / "rules.toml"))
    assert res.exit_code == 0, res.output
    assert len(read_csv(tmp_path / "x" / "out" / "assignments.csv")) + len(
        read_csv(tmp_path / "x" / "out" / "unassigned.csv")) > 0


def test_sample_is_deterministic(tmp_path):
    for d in ("a", "b"):
        invoke("sample", str(tmp_path / d), "--reps", "5", "--leads", "10", "--days", "15")
    for name in ("reps.csv", "leads.csv", "activity.csv", "truth.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_validate_reports_config_and_data_problems_together(export):
    edit_rules(export / "rules.toml", lambda d: d["checks"].update({"behind-pace": {"warn_gap": "x"}}))
    set_cell(export / "leads.csv", 3, 4, "lots")
    res = invoke("validate", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 2
    assert "checks.behind-pace.warn_gap: expected a number, got 'x'" in res.output
    assert "leads.csv:3: column 'value': expected a number, got 'lots'" in res.output
