"""The plugin contract: every hook documented and tested and called once per batch, and the
built-in strategies using only the public API."""

from __future__ import annotations

import inspect
import json
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT, edit_rules, read_csv

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
    """docs/api.md: each name's summary, its signature in a code block, and an example that
    compiles."""
    import ast

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


@pytest.mark.slow
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


@pytest.mark.slow
def test_hook_register_sources(counted):
    export, result, _ = counted
    day = [d for d in result.dataset.activity.days("R0002") if str(d) == "2026-10-21"]
    assert result.dataset.activity.days("R0002")[day[0]][0] >= 1000
    assert any(i["source"] == "extra-dials" for i in
               json.loads((export / "out" / "run.json").read_text())["inputs"])


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_hook_write_outputs(counted):
    export, result, _ = counted
    assert (export / "out" / "teams.txt").read_text().splitlines() == sorted(
        result.dataset.teams())
    files = [o["file"] for o in json.loads((export / "out" / "run.json").read_text())["outputs"]]
    assert "teams.txt" in files


def test_hook_run_finished(counted):
    export, result, calls = counted
    assert calls["files_seen"] == 5  # the outputs were in place when it ran
