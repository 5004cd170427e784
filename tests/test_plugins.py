"""The plugin contract: every hook tested and documented, plugins found, listed, used, or refused clearly."""

from __future__ import annotations

import inspect
import json
import os
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from conftest import ROOT, cli, edit_rules, install_package, invoke, read_csv
from salesrules import hookspecs
from salesrules.docs import hook_names, hooks_markdown
from salesrules.run import RunOptions, run

# ---------------------------------------------------------------- contract tests


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_has_a_test(hook):
    assert callable(globals().get(f"test_hook_{hook}")), f"write test_hook_{hook}"


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_is_documented(hook):
    fn = getattr(hookspecs, hook)
    doc = inspect.getdoc(fn) or ""
    for arg in inspect.signature(fn).parameters:
        assert f":param {arg}:" in doc, f"{hook} does not document {arg}"
    assert "Batch:" in doc and "Example::" in doc
    assert f"## `{hook}`" in (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")


def test_generated_docs_are_in_sync():
    from salesrules.docs import DOCS

    for rel, make in DOCS.items():
        assert (ROOT / rel).read_text(encoding="utf-8") == make(), (
            f"{rel} is stale: run python -m salesrules.docs")
    assert hooks_markdown()  # the hook reference is one of them


def test_every_public_name_is_documented_with_signature_and_example():
    """docs/api.md: each name's summary, its signature in a code block, and an example that compiles."""
    import ast
    import textwrap

    from salesrules import api

    assert len(api.__all__) <= 30, "the public API is kept to 30 names"
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for name in api.__all__:
        row = next((ln for ln in text.splitlines() if ln.startswith(f"| [`{name}`]")), "")
        assert row and not row.endswith("|  |"), f"{name} has no summary in docs/api.md"
        section = text.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        signature = section.split("```python\n", 1)[1].split("\n```", 1)[0]
        assert name in signature, f"{name}: no signature in docs/api.md"
        example = textwrap.dedent(api.EXAMPLES[name])
        assert example.strip() and example.strip() in section, f"{name}: no example"
        ast.parse(example)  # every example is valid Python


BUILTIN_STRATEGIES = ("salesrules.goals.even", "salesrules.goals.team_rates",
                      "salesrules.goals.personal", "salesrules.checks.behind_pace",
                      "salesrules.checks.goal_raise", "salesrules.checks.effort",
                      "salesrules.checks.vanity", "salesrules.checks.streak",
                      "salesrules.checks.execution", "salesrules.allocation.balanced",
                      "salesrules.allocation.weighted")


@pytest.mark.parametrize("module", BUILTIN_STRATEGIES)
def test_builtin_strategies_import_only_what_a_plugin_can(module):
    """A built-in strategy is written like a third-party one: salesrules.api and hookspecs only.

    A strategy that is a package may import its own modules (a helper that lives inside it).
    """
    import ast
    import importlib

    from salesrules.plugins import DEFAULT_PLUGINS

    assert module in DEFAULT_PLUGINS
    mod = importlib.import_module(module)
    files = [Path(mod.__file__)]
    if files[0].name == "__init__.py":
        files = sorted(files[0].parent.glob("*.py"))
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                where = "." * node.level + (node.module or "")
                own = node.level == 1 and len(files) > 1  # a module of the strategy's package
                assert own or node.level == 0, f"{file.name} of {module} imports from {where}"
                assert not (where.startswith("salesrules") and where not in (
                    "salesrules.api", "salesrules.hookspecs")), f"{module} imports from {where}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("salesrules"), f"{module}: {alias.name}"


# ---------------------------------------------------------------- one test per hook

COUNTING_PLUGIN = '''
from collections import Counter
from salesrules.api import (Check, Finding, FunnelModel, Policy, Rate, Source, TimeSplit,
                            hookimpl, parse_date)

calls = Counter()


class ExtraActivity(Source):
    """Adds 1 dial per listed rep-day, to prove a custom reader feeds the loop."""
    name = "extra-dials"
    def read(self, file, into):
        calls["source.read"] += 1
        for line, (rep_id, day), _ in file.rows(["rep_id", "date"]):
            into.add_stage(rep_id, parse_date(day), "dials", 1000)


class EveryoneToFirst(Policy):
    """Every lead to the first eligible rep, uncapped."""
    name = "to-first"
    def allocate(self, batch):
        calls["policy.allocate"] += 1
        for lead in batch.leads:
            slot = next((s for s in batch.reps if not s.full), None)
            if slot is None:
                batch.skip(lead, "nobody has room")
            else:
                batch.assign(lead, slot, "first in the list")


class LastMonthOnly(TimeSplit):
    """Everything in the last month."""
    name = "last-month"
    def month_weights(self, batch):
        calls["split.month_weights"] += 1
        return [0.0] * (len(batch.months) - 1) + [1.0]


class Halves(FunnelModel):
    """Every stage is half the one above it."""
    name = "halves"
    def rates(self, batch):
        calls["funnel.rates"] += 1
        r = {s.name: Rate(0.5, "half") for s in batch.funnel.stages[1:]}
        return {rep.id: r for rep in batch.reps}


class CountReps(Check):
    """One info finding per team."""
    name = "count-reps"
    def run(self, ctx):
        calls["check.run"] += 1
        teams = Counter(rep.team for rep, _ in ctx.by_rep())
        for team, n in sorted(teams.items()):
            yield Finding(team, "team", self.name, "info", f"{team} has {n} reps with targets")


@hookimpl
def register_sources(register):
    register(ExtraActivity)

@hookimpl
def register_policies(register):
    register(EveryoneToFirst)

@hookimpl
def register_splits(register):
    register(LastMonthOnly)

@hookimpl
def register_funnels(register):
    register(Halves)

@hookimpl
def register_checks(register):
    register(CountReps)

@hookimpl
def write_outputs(result, out_dir):
    calls["write_outputs"] += 1
    (out_dir / "teams.txt").write_text("\\n".join(sorted(result.dataset.teams())))

@hookimpl
def run_finished(result, out_dir):
    calls["run_finished"] += 1
    calls["files_seen"] = len(list(out_dir.glob("*.csv")))
'''


@pytest.fixture
def counted(export):
    (export / "counting.py").write_text(COUNTING_PLUGIN)
    (export / "extra.csv").write_text("rep_id,date\nR0002,2026-10-21\n")

    def cfg(d):
        d["plugins"] = {"modules": ["counting.py"]}
        d["data"]["extra"] = {"file": "extra.csv", "source": "extra-dials"}
        d["goals"].update(split="last-month", funnel="halves")
        d["checks"]["count-reps"] = {}
        d["allocation"]["rules"] = [
            {"name": "A", "when": "grade == 'A'", "policy": "to-first"},
            {"name": "rest", "policy": "to-first"}]

    edit_rules(export / "rules.toml", cfg)
    result = run(RunOptions(rules=export / "rules.toml"))
    calls = sys.modules["salesrules_local_counting"].calls
    return export, result, calls


def test_hooks_are_called_once_per_batch_never_per_lead(counted):
    export, result, calls = counted
    teams = len({r.team for r in result.dataset.reps.values() if r.active})
    assert len(result.dataset.leads) == 80
    assert calls["source.read"] == 1           # once per file
    assert calls["policy.allocate"] == 2       # once per rule
    assert calls["split.month_weights"] == teams  # once per team
    assert calls["funnel.rates"] == teams
    assert calls["check.run"] == 1             # once per run
    assert calls["write_outputs"] == 1 and calls["run_finished"] == 1


def test_hook_register_sources(counted):
    export, result, _ = counted
    day = [d for d in result.dataset.activity.days("R0002") if str(d) == "2026-10-21"]
    assert result.dataset.activity.days("R0002")[day[0]][0] >= 1000
    assert any(i["source"] == "extra-dials" for i in
               json.loads((export / "out" / "run.json").read_text())["inputs"])


def test_hook_register_policies(counted):
    export, result, _ = counted
    rows = read_csv(export / "out" / "assignments.csv")
    assert rows and {r["policy"] for r in rows} == {"to-first"}
    assert rows[0]["reason"].endswith("to-first: first in the list")


def test_hook_register_splits(counted):
    export, result, _ = counted
    months = [r for r in read_csv(export / "out" / "targets.csv") if r["grain"] == "month"
              and r["stage"] == "revenue"]
    assert months and all(float(r["target"]) == 0 for r in months
                          if r["period_start"] != "2026-12-01")


def test_hook_register_funnels(counted):
    export, result, _ = counted
    plans = result.goals.plans
    rep = next(r for r, s in plans if s == "revenue")
    rev, pipe = plans[(rep, "revenue")].total, plans[(rep, "pipeline")].total
    assert pipe == 2 * rev
    assert "half" in plans[(rep, "pipeline")].trace


def test_hook_register_checks(counted):
    export, result, _ = counted
    mine = [f for f in result.findings if f.check == "count-reps"]
    assert mine and all(f.subject_kind == "team" for f in mine)


def test_hook_write_outputs(counted):
    export, result, _ = counted
    assert (export / "out" / "teams.txt").read_text().splitlines() == sorted(
        result.dataset.teams())
    files = [o["file"] for o in json.loads((export / "out" / "run.json").read_text())["outputs"]]
    assert "teams.txt" in files


def test_hook_run_finished(counted):
    export, result, calls = counted
    assert calls["files_seen"] == 5  # the outputs were in place when it ran


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


def test_a_broken_plugin_warns_with_its_distribution_and_does_not_crash(site):
    p = cli("plugins", env=env_with(site))
    assert p.returncode == 0
    assert ("warning: plugin salesrules_broken (from distribution salesrules-broken): failed to "
            "import 'salesrules_broken': ModuleNotFoundError") in p.stderr
    assert "round-robin" in p.stdout


def test_strict_mode_fails_on_a_broken_plugin(site):
    p = cli("plugins", "--strict", env=env_with(site))
    assert p.returncode == 2
    assert "salesrules-broken" in p.stderr and "Traceback" not in p.stderr


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
    edit_rules(export / "rules.toml", lambda d: d.update(plugins={"modules": ["typo.py", "gone.py"]}))
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
    assert (export / "out" / "old.txt").read_text() == str(sum(manifest["counts"]["findings"].values()))
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
