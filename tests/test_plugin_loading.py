"""Loading plugins: installed packages, local modules, broken plugins, contract versions and
deprecated hooks: found, listed, used, or refused clearly."""

from __future__ import annotations

import json
import os
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from conftest import cli, edit_rules, install_package, invoke, read_csv

# ---------------------------------------------------------------- installed plugins


def make_package(root: Path, dist: str, module: str, body: str, version: str = "0.3.1",
                 ep_name: str | None = None) -> Path:
    pkg = root / dist
    (pkg / "src" / module).mkdir(parents=True)
    (pkg / "src" / module / "__init__.py").write_text(textwrap.dedent(body))
    (pkg / "pyproject.toml").write_text(textwrap.dedent(f"""
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"

        [project]
        name = "{dist}"
        version = "{version}"
        dependencies = ["salesrules"]

        [project.entry-points.salesrules]
        {ep_name or module} = "{module}"

        [tool.hatch.build.targets.wheel]
        packages = ["src/{module}"]
    """))
    return pkg


pip_install = install_package


ROUND_ROBIN = '''
from salesrules.api import Policy, hookimpl
import attrs

@attrs.define
class RoundRobinParams:
    #: Index of the rep the first lead goes to.
    start: int = 0

class RoundRobin(Policy):
    """Plain round-robin over the eligible reps, ignoring load."""
    name = "round-robin"
    Params = RoundRobinParams

    def allocate(self, batch):
        reps = [s for s in batch.reps]
        i = self.params.start
        for lead in batch.leads:
            for _ in range(len(reps)):
                slot = reps[i % len(reps)]
                i += 1
                if not slot.full:
                    batch.assign(lead, slot, f"next in turn (#{i})")
                    break
            else:
                batch.skip(lead, "everyone is full")

@hookimpl
def register_policies(register):
    register(RoundRobin)
'''


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A folder with throwaway plugin packages really installed by pip."""
    root = tmp_path_factory.mktemp("plugins")
    target = root / "site"
    pip_install(make_package(root, "salesrules-roundrobin", "salesrules_roundrobin", ROUND_ROBIN),
                target)
    pip_install(make_package(root, "salesrules-broken", "salesrules_broken",
                             "import no_such_module_anywhere\n", version="0.0.1"), target)
    pip_install(make_package(root, "acme-dup", "acme_dup", '''
        from salesrules.api import hookimpl
        from salesrules_roundrobin import RoundRobin

        class Again(RoundRobin):
            """The same name again."""

        @hookimpl
        def register_policies(register):
            register(Again)
    ''', version="1.2.0"), target)
    pip_install(make_package(root, "acme-typo", "acme_typo", '''
        from salesrules.api import hookimpl

        @hookimpl
        def register_polices(register):
            pass
    '''), target)
    pip_install(make_package(root, "acme-extra", "acme_extra", '''
        from salesrules.api import hookimpl

        @hookimpl
        def register_checks(register, team):
            pass
    '''), target)
    pip_install(make_package(root, "acme-default", "acme_default", '''
        from salesrules.api import hookimpl

        @hookimpl
        def run_finished(result, out_dir, verbose=False):
            pass
    '''), target)
    return target


def env_with(site: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(site)
    env.pop("SALESRULES_STRICT", None)
    return env


@pytest.mark.slow
def test_installed_plugin_is_found_listed_and_used(site, export):
    env = env_with(site)
    p = cli("plugins", "--json", env=env)
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    rr = next(x for x in data["plugins"] if x["distribution"] == "salesrules-roundrobin")
    assert rr["version"] == "0.3.1"
    assert rr["components"][0]["name"] == "round-robin"
    assert rr["components"][0]["params"] == [{
        "name": "start", "type": "int", "default": 0,
        "doc": "Index of the rep the first lead goes to."}]

    edit_rules(export / "rules.toml", lambda d: d["allocation"].update(
        rules=[{"name": "all", "policy": "round-robin", "params": {"start": 1}}]))
    p = cli("run", "--rules", str(export / "rules.toml"), env=env)
    # the duplicate from acme-dup makes round-robin ambiguous: refused, naming both plugins
    assert p.returncode == 2
    assert ("allocation.rules[0].policy: allocation policy 'round-robin' is registered by two "
            "plugins, 'salesrules_roundrobin' and 'acme_dup'") in p.stderr


@pytest.mark.slow
def test_installed_plugin_runs_when_unambiguous(site, export, tmp_path):
    # same packages without the duplicate
    only = tmp_path / "only"
    only.mkdir()
    for d in site.iterdir():
        if not d.name.startswith(("acme", "salesrules_broken", "salesrules_broken-")):
            os.symlink(d, only / d.name)
    edit_rules(export / "rules.toml", lambda d: d["allocation"].update(
        rules=[{"name": "all", "policy": "round-robin", "params": {"start": 1}}]))
    p = cli("run", "--rules", str(export / "rules.toml"), env=env_with(only))
    assert p.returncode == 0, p.stderr
    rows = read_csv(export / "out" / "assignments.csv")
    assert {r["policy"] for r in rows} == {"round-robin"}
    assert rows[0]["reason"] == "rule 'all' → round-robin: next in turn (#2)"
    m = json.loads((export / "out" / "run.json").read_text())
    assert {"name": "salesrules_roundrobin", "distribution": "salesrules-roundrobin",
            "version": "0.3.1", "builtin": False} in m["plugins"]


@pytest.mark.slow
def test_a_broken_plugin_warns_with_its_distribution_and_does_not_crash(site):
    p = cli("plugins", env=env_with(site))
    assert p.returncode == 0
    assert ("warning: plugin salesrules_broken (from distribution salesrules-broken): failed to "
            "import 'salesrules_broken': ModuleNotFoundError") in p.stderr
    assert "round-robin" in p.stdout


@pytest.mark.slow
def test_strict_mode_fails_on_a_broken_plugin(site):
    p = cli("plugins", "--strict", env=env_with(site))
    assert p.returncode == 2
    assert "salesrules-broken" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.slow
def test_plugins_check_reports_each_problem(site):
    p = cli("plugins", "--check", env=env_with(site))
    assert p.returncode == 1
    err = p.stderr
    # an import error, with the distribution
    assert ("problem: plugin salesrules_broken (from distribution salesrules-broken): failed to "
            "import 'salesrules_broken': ModuleNotFoundError: No module named "
            "'no_such_module_anywhere'") in err
    # a duplicate name, naming both plugins
    assert ("policy 'round-robin' is already registered by plugin 'salesrules_roundrobin'; "
            "the one from 'acme_dup' was refused") in err
    # a misspelled hook, with the likely intended one
    assert ("plugin acme_typo (from distribution acme-typo): hook 'register_polices' is not a "
            "salesrules hook, so it would never be called; did you mean 'register_policies'?"
            ) in err
    # an extra argument (pluggy's own validation)
    assert "plugin acme_extra (from distribution acme-extra): " in err
    assert "register_checks" in err and "'team'" in err
    # an argument with a default, which pluggy would silently never pass
    assert ("plugin acme_default (from distribution acme-default): hook 'run_finished' "
            "argument 'verbose' has a default, so it is never passed") in err
    assert "problem(s) in" in err


def test_local_module_named_in_rules_is_loaded(export):
    (export / "mine.py").write_text(textwrap.dedent('''
        from salesrules.api import Check, Finding, hookimpl

        class Hello(Check):
            """Says hello to each team."""
            name = "hello"
            def run(self, ctx):
                yield Finding("East", "team", "hello", "info", "hello East")

        @hookimpl
        def register_checks(register):
            register(Hello)
    '''))
    edit_rules(export / "rules.toml", lambda d: (d.update(plugins={"modules": ["mine.py"]}),
                                                 d["checks"].update(hello={})))
    res = invoke("run", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 0, res.output
    assert any(f["check"] == "hello" for f in read_csv(export / "out" / "findings.csv"))


def test_local_module_that_fails_to_import_is_a_config_error(export):
    (export / "typo.py").write_text("import nothing_here\n")
    edit_rules(export / "rules.toml",
               lambda d: d.update(plugins={"modules": ["typo.py", "gone.py"]}))
    res = invoke("run", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 2
    assert "plugins.modules[0]: cannot import" in res.output
    assert "ModuleNotFoundError" in res.output
    assert "plugins.modules[1]: no such file" in res.output


def test_a_plugin_for_a_newer_contract_is_refused(export):
    (export / "future.py").write_text("SALESRULES_CONTRACT = '3.0'\n")
    edit_rules(export / "rules.toml", lambda d: d.update(plugins={"modules": ["future.py"]}))
    res = invoke("run", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 0
    assert "was written for hook contract 3.0" in res.output


def test_a_contract_1_plugin_that_returns_a_job_still_writes_its_file_with_a_note(export):
    """Contract 2.0 took ``Job`` out of the API; a 1.x output plugin still works, and is told."""
    (export / "old.py").write_text(textwrap.dedent('''
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from salesrules.api import Job, hookimpl
        SALESRULES_CONTRACT = "1.0"

        @hookimpl
        def write_outputs(result, out_dir):
            return Job(lambda: (out_dir / "old.txt").write_text(str(len(result.findings))),
                       size=10**9)
    '''))
    edit_rules(export / "rules.toml", lambda d: d.update(plugins={"modules": ["old.py"]}))
    res = invoke("run", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 0, res.output
    manifest = json.loads((export / "out" / "run.json").read_text())
    findings = sum(manifest["counts"]["findings"].values())
    assert (export / "out" / "old.txt").read_text() == str(findings)
    assert any("written for hook contract 1.0" in w for w in manifest["warnings"])


def test_job_is_no_longer_public_api():
    import salesrules.api as api

    assert "Job" not in api.__all__
    with pytest.warns(DeprecationWarning, match="Job is deprecated"):
        assert api.Job(lambda: 7).wait() == 7


def test_a_wrong_hook_argument_is_caught_at_load(export):
    (export / "wrongarg.py").write_text(textwrap.dedent('''
        from salesrules.api import hookimpl

        @hookimpl
        def register_policies(register, extra):
            pass
    '''))
    edit_rules(export / "rules.toml", lambda d: d.update(plugins={"modules": ["wrongarg.py"]}))
    res = invoke("run", "--rules", str(export / "rules.toml"))
    assert "hook 'register_policies'" in res.output and "extra" in res.output
    assert Counter(res.output.split()).get("warning:", 0) >= 1


def test_a_deprecated_hook_warns_but_keeps_working(monkeypatch, tmp_path):
    from salesrules import hookspecs as specs
    from salesrules.plugins import load_local_module, load_registry

    @specs.hookspec(warn_on_impl=DeprecationWarning("register_old is deprecated; use "
                                                    "register_policies"))
    def register_old(register):
        """An old hook kept for a while."""

    monkeypatch.setattr(specs, "register_old", register_old, raising=False)
    mod = tmp_path / "oldstyle.py"
    mod.write_text("from salesrules.api import hookimpl\n"
                   "@hookimpl\n"
                   "def register_old(register):\n"
                   "    pass\n")
    reg = load_registry([("oldstyle", load_local_module(mod))], entry_points=False)
    assert [str(d) for d in reg.deprecations] == [
        "plugin oldstyle: deprecated: register_old is deprecated; use register_policies"]
    assert reg.plugin("oldstyle") is not None  # still loaded
