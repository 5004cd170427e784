"""docs/tutorial.md, step by step: scaffold, edit, test, enable, see the reasons."""

from __future__ import annotations

import os
import re
import tomllib

import pytest
from conftest import ROOT, cli, edit_rules, install_package, invoke, read_csv, run_package_tests

from salesrules.testing import make_export

TUTORIAL = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")


def block(marker: str) -> str:
    m = re.search(rf"<!-- tutorial: {re.escape(marker)} -->\n```\w+\n(.*?)```", TUTORIAL, re.S)
    assert m, marker
    return m.group(1)


@pytest.mark.slow
def test_the_tutorial_works_as_written(tmp_path):
    # 1. scaffold
    assert invoke("new-plugin", "acme-dialect", "--kind", "allocation", "--dir",
                  str(tmp_path)).exit_code == 0
    pkg = tmp_path / "acme-dialect"
    # 2. edit, 3. test
    (pkg / "src" / "acme_dialect" / "__init__.py").write_text(
        block("src/acme_dialect/__init__.py"), encoding="utf-8")
    (pkg / "tests" / "test_acme_dialect.py").write_text(
        block("tests/test_acme_dialect.py"), encoding="utf-8")
    site = tmp_path / "site"
    install_package(pkg, site)
    env = dict(os.environ, PYTHONPATH=str(site))
    tests = run_package_tests(pkg, site)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    # 4. enable
    export = tmp_path / "export"
    make_export(export, reps=24)
    rules = tomllib.loads(block("rules"))["allocation"]["rules"]
    edit_rules(export / "rules.toml", lambda d: d["allocation"].update(rules=rules))
    assert cli("validate", "--rules", str(export / "rules.toml"), env=env).returncode == 0
    bad = export / "bad.toml"
    bad.write_text((export / "rules.toml").read_text())
    edit_rules(bad, lambda d: d["allocation"]["rules"][0].update(
        params={"speakerz": rules[0]["params"]["speakers"]}))
    p = cli("validate", "--rules", str(bad), env=env)
    assert ("allocation.rules[0].params.speakerz: unknown key (known keys: speakers)"
            in p.stderr)
    # 5. see its reasons
    p = cli("run", "--rules", str(export / "rules.toml"), env=env)
    assert p.returncode == 0, p.stderr
    rows = read_csv(export / "out" / "assignments.csv")
    south = [r for r in rows if r["rule"] == "South by dialect"]
    speakers = set(rules[0]["params"]["speakers"]["South"])
    assert south and all(r["rep_id"] in speakers for r in south)
    assert all(re.fullmatch(r"rule 'South by dialect' → dialect: speaks the South dialect; "
                            r"\d+ lead\(s\) so far, the fewest of \d; \d+ of cap \d+ today",
                            r["reason"]) for r in south), south[0]["reason"]
