"""Trust boundaries (docs/security.md): a guarded --out, local plugin modules, errors that reveal
nothing."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import edit_rules, invoke


def run(export: Path, *extra: str):
    return invoke("run", "-q", "--rules", str(export / "rules.toml"), *extra)


# ---------------------------------------------------------------- --out


@pytest.mark.slow
def test_out_with_files_salesrules_did_not_write_is_refused_unless_forced(export, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "notes.txt").write_text("mine")
    (shared / "targets.csv").write_text("someone else's targets")
    res = run(export, "--out", str(shared))
    assert res.exit_code == 2
    assert "holds files salesrules did not write (notes.txt, targets.csv)" in res.output
    assert "--force" in res.output
    assert sorted(p.name for p in shared.iterdir()) == ["notes.txt", "targets.csv"]
    res = run(export, "--out", str(shared), "--force")
    assert res.exit_code == 0, res.output
    assert (shared / "notes.txt").read_text() == "mine"  # left alone
    assert (shared / "current" / "assignments.csv").is_file()
    assert run(export, "--out", str(shared), "--force").exit_code == 0  # and again


def test_the_data_folder_is_refused_even_when_forced(export, tmp_path):
    data = tmp_path / "crm"
    data.mkdir()
    for name in ("reps.csv", "leads.csv", "activity.csv", "leave.csv", "calls.csv"):
        (export / name).rename(data / name)
    edit_rules(export / "rules.toml", lambda d: d["data"].update(dir=str(data)))
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    for force in ((), ("--force",)):
        res = run(export, "--out", str(data), *force)
        assert res.exit_code == 2, res.output
        assert f"--out {data} is the folder of the input reps.csv" in res.output
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before


@pytest.mark.parametrize("where", ["/", "~", "rules"])
def test_root_home_and_the_rules_folder_are_always_refused(export, where):
    out = {"/": Path("/"), "~": Path.home(), "rules": export}[where]
    res = run(export, "--out", str(out), "--force")
    assert res.exit_code == 2, res.output
    assert "outputs need a folder of their own" in res.output
    assert "Traceback" not in res.output and "PermissionError" not in res.output


def test_a_first_run_that_fails_leaves_no_output_folder(export, tmp_path):
    (export / "boom.py").write_text(textwrap.dedent('''
        from salesrules.api import hookimpl

        @hookimpl
        def write_outputs(result, out_dir):
            raise RuntimeError("boom")
    '''))
    edit_rules(export / "rules.toml", lambda d: d.update(plugins={"modules": ["boom.py"]}))
    assert run(export, "--out", str(tmp_path / "new")).exit_code == 1
    assert not (tmp_path / "new").exists()


# ---------------------------------------------------------------- local plugin modules

PLUGIN = '''
from salesrules.api import hookimpl

@hookimpl
def write_outputs(result, out_dir):
    (out_dir / "hello.txt").write_text("hi")
'''


def test_a_plugin_module_outside_the_rules_folder_needs_allow_outside(export, tmp_path):
    (tmp_path / "elsewhere.py").write_text(PLUGIN)
    edit_rules(export / "rules.toml",
               lambda d: d.update(plugins={"modules": ["../elsewhere.py"]}))
    for command in ("run", "validate"):
        res = invoke(command, "--rules", str(export / "rules.toml"))
        assert res.exit_code == 2, res.output
        assert "plugins.modules[0]" in res.output
        assert "outside the rules file's folder" in res.output
        assert "plugins.allow_outside = true" in res.output
    assert not (export / "out").exists()
    edit_rules(export / "rules.toml", lambda d: d["plugins"].update(allow_outside=True))
    res = run(export)
    assert res.exit_code == 0, res.output
    assert (export / "out" / "hello.txt").read_text() == "hi"


def test_a_plugin_module_in_a_subfolder_of_the_rules_folder_is_allowed(export):
    (export / "plugins").mkdir()
    (export / "plugins" / "mine.py").write_text(PLUGIN)
    edit_rules(export / "rules.toml", lambda d: d.update(plugins={"modules": ["plugins/mine.py"]}))
    assert run(export).exit_code == 0
    assert (export / "out" / "hello.txt").read_text() == "hi"


# ---------------------------------------------------------------- messages


def test_an_error_about_a_binary_file_quotes_none_of_it(export, tmp_path):
    secret = tmp_path / "environ"  # what /proc/self/environ looks like: NUL-separated, one line
    secret.write_bytes(b"API_TOKEN=hunter2\x00HOME=/root\x00PATH=/usr/bin\x00")
    edit_rules(export / "rules.toml", lambda d: d["data"]["reps"].update(file=str(secret)))
    res = run(export)
    assert res.exit_code == 2
    assert "missing column" in res.output and "not a text header; not shown" in res.output
    assert "hunter2" not in res.output and "API_TOKEN" not in res.output


def test_an_error_quotes_the_header_line_only_cut_at_120_characters(export):
    header = ",".join(f"column_{i:03d}" for i in range(40))
    (export / "reps.csv").write_text(header + "\nsecret-row-content,2\n", encoding="utf-8")
    res = run(export)
    assert res.exit_code == 2
    quoted = res.output.split("the header has: ", 1)[1].splitlines()[0]
    assert quoted == ", ".join(f"column_{i:03d}" for i in range(40))[:120] + " …"
    assert "secret-row-content" not in res.output


def test_a_bad_cell_is_quoted_at_most_60_characters(export):
    """An error quotes a bad cell only as far as it needs: a long one is cut."""
    path = export / "leads.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    head = lines[0].split(",")
    cells = lines[1].split(",")
    cells[head.index("value")] = "x" * 5000
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = invoke("run", "--rules", str(export / "rules.toml"), "-q")
    assert res.exit_code == 2
    assert "leads.csv:2: column 'value': expected a number, got '" + "x" * 60 + "…'" in res.output
    assert "x" * 61 not in res.output
