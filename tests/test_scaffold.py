"""new-plugin: a generated package installs, passes its own tests, and is used by a run."""

from __future__ import annotations

import json
import os
import time

import pytest
from conftest import cli, edit_rules, install_package, invoke, run_package_tests

from salesrules.testing import make_export

SWITCH_ON = {
    "allocation": lambda d, c: d["allocation"].update(rules=[{"name": "all", "policy": c}]),
    "goals": lambda d, c: d["goals"].update(split=c),
    "check": lambda d, c: d["checks"].update({c: {}}),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["allocation", "goals", "check"])
def test_scaffold_install_test_and_run(kind, tmp_path):
    started = time.perf_counter()
    name = f"acme-{kind}"
    res = invoke("new-plugin", name, "--kind", kind, "--dir", str(tmp_path))
    assert res.exit_code == 0, res.output
    pkg = tmp_path / name
    assert (pkg / "pyproject.toml").read_text().count("[project.entry-points.salesrules]") == 1
    site = tmp_path / "site"
    install_package(pkg, site)
    env = dict(os.environ, PYTHONPATH=str(site))
    tests = run_package_tests(pkg, site)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert " passed" in tests.stdout
    elapsed = time.perf_counter() - started
    print(f"\n{kind}: scaffold → install → passing test in {elapsed:.1f}s")

    export = tmp_path / "export"
    make_export(export)
    component = name
    edit_rules(export / "rules.toml", lambda d: SWITCH_ON[kind](d, component))
    p = cli("run", "--rules", str(export / "rules.toml"), env=env)
    assert p.returncode == 0, p.stderr
    m = json.loads((export / "out" / "run.json").read_text())
    used = {(c["name"], c["plugin"]) for c in m["components"]}
    assert (component, name.replace("-", "_")) in used
    assert {"name": name.replace("-", "_"), "distribution": name, "version": "0.1.0",
            "builtin": False} in m["plugins"]


def test_new_plugin_refuses_bad_names_and_existing_folders(tmp_path):
    res = invoke("new-plugin", "Bad Name", "--kind", "check", "--dir", str(tmp_path))
    assert res.exit_code == 2 and "use lower-case letters" in res.output
    assert invoke("new-plugin", "ok", "--kind", "check", "--dir", str(tmp_path)).exit_code == 0
    res = invoke("new-plugin", "ok", "--kind", "check", "--dir", str(tmp_path))
    assert res.exit_code == 2 and "already exists" in res.output
