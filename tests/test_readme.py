"""The README and docs/ are part of the product: their examples run, their links resolve."""

from __future__ import annotations

import re
import shlex
import shutil
import tomllib
from pathlib import Path

import attrs
import pytest
import tomli_w
from conftest import ROOT, edit_rules, invoke, read_csv

from salesrules import config
from salesrules.errors import Problems
from salesrules.goals import push_back
from salesrules.goals.batches import Rate
from salesrules.model import Funnel, Stage

#: Pages written by hand; docs/config.md, hooks.md and api.md are generated (and tested elsewhere).
GENERATED = {"config.md", "hooks.md", "api.md"}
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
         *sorted((ROOT / "plugins").glob("*/README.md"))]
WRITTEN = [p for p in PAGES if p.name not in GENERATED or p.parent.name != "docs"]


def text(page: str) -> str:
    return (ROOT / page).read_text(encoding="utf-8")


def block(marker: str, page: str = "README.md") -> str:
    """The fenced block right after ``<!-- marker -->`` in ``page``."""
    m = re.search(rf"<!-- {re.escape(marker)} -->\n```\w+\n(.*?)```", text(page), re.S)
    assert m, f"no block {marker!r} in {page}"
    return m.group(1)


def test_the_two_commands_are_given():
    readme = text("README.md")
    assert "make run" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_readme_is_at_most_10_kb():
    size = len((ROOT / "README.md").read_bytes())
    assert size <= 10 * 1024, f"README.md is {size:,} bytes; move reference text into docs/"


def test_every_runtime_dependency_is_listed_with_its_reason():
    """The README's dependency table names exactly what the kernel and plugins/* depend on."""
    wanted = set()
    for pyproject in [ROOT / "pyproject.toml", *(ROOT / "plugins").glob("*/pyproject.toml")]:
        for dep in tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]:
            name = re.match(r"[A-Za-z0-9_.-]+", dep).group(0).lower().replace("_", "-")
            if not name.startswith("salesrules"):
                wanted.add(name)
    readme = text("README.md")
    table = readme[readme.index("| Package | Why |"):]
    table = table[:table.index("\n\n")]
    listed = {name.strip() for row in table.splitlines()[2:]
              for name in row.split("|")[1].split(",")}
    assert listed == wanted, (
        f"README lists {sorted(listed - wanted)}, misses {sorted(wanted - listed)}")
    assert all(row.split("|")[2].strip() for row in table.splitlines()[2:]), "a row without a why"


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    body = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {_slug(h) for h in re.findall(r"^#+ (.+)$", body, re.M)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_to_a_file(page):
    body = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    links = re.findall(r"\]\(([^)\s]+)\)", body)
    for link in links:
        if re.match(r"[a-z]+:", link):
            continue  # https://, mailto:
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        assert target.exists(), f"{page.relative_to(ROOT)}: link {link!r} points to nothing"
        if anchor and target.suffix == ".md":
            assert anchor in _anchors(target), (
                f"{page.relative_to(ROOT)}: link {link!r}: no such heading in {target.name}")


@pytest.mark.slow
def test_the_quickstart_runs(tmp_path, monkeypatch):
    """Every `salesrules` line of the Quickstart, in order, from a folder holding the repo's
    rules.toml."""
    shutil.copy(ROOT / "rules.toml", tmp_path / "rules.toml")
    monkeypatch.chdir(tmp_path)
    commands = [shlex.split(line, comments=True)
                for line in block("example: quickstart").splitlines()
                if line.startswith("salesrules ")]
    assert [c[1] for c in commands] == [
        "sample", "validate", "run", "plugins", "history", "compare"]
    for command in commands:
        res = invoke(*command[1:])
        assert res.exit_code == 0, f"{shlex.join(command)}:\n{res.output}"
    run = (tmp_path / "mydata" / "out" / "run.json").read_text(encoding="utf-8")
    assert '"as_of": "2026-11-25"' in run  # --as-of 2026/11/25 read like the export's dates


@pytest.mark.slow
def test_write_your_own_policy_example_runs(export):
    (export / "dialect.py").write_text(block("example: dialect.py"), encoding="utf-8")
    extra = tomllib.loads(block("example: rules"))
    edit_rules(export / "rules.toml", lambda d: (
        d.update(plugins=extra["plugins"]),
        d["allocation"].update(rules=extra["allocation"]["rules"])))
    res = invoke("run", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 0, res.output
    rows = read_csv(export / "out" / "assignments.csv")
    assert rows and {r["policy"] for r in rows} == {"dialect"}
    speakers = extra["allocation"]["rules"][0]["params"]["speakers"]
    leads = {lead["lead_id"]: lead for lead in read_csv(export / "leads.csv")}
    for r in rows:
        region = leads[r["lead_id"]]["region"]
        assert region in speakers[r["rep_id"]]
        assert f"rule 'by dialect' → dialect: speaks the {region} dialect" in r["reason"]
    unassigned = read_csv(export / "out" / "unassigned.csv")
    assert any("no rep with room speaks the North dialect" in u["reason"] for u in unassigned)


def test_funnel_math_example_matches_the_code():
    funnel = Funnel((Stage("dials"), Stage("connects"), Stage("conversations"),
                     Stage("intents"), Stage("pipeline", unit="amount"),
                     Stage("revenue", unit="amount")))
    rates = {"connects": Rate(0.4), "conversations": Rate(0.5), "intents": Rate(0.25),
             "pipeline": Rate(3000), "revenue": Rate(1 / 3)}
    values = push_back(funnel, {"revenue": 30000}, rates).values
    words = " ".join(text("docs/goals.md").split())
    for stage, figure in [("pipeline", "90,000"), ("intents", "30"), ("conversations", "120"),
                          ("connects", "240"), ("dials", "600")]:
        assert round(values[stage]) == int(figure.replace(",", ""))
        assert f"= {figure};" in words or f"= {figure}." in words, stage


def test_every_rules_toml_table_is_explained():
    rules = text("docs/rules.md")
    for a in attrs.fields(config.RulesConfig):
        if a.name in config.RUNTIME_FIELDS or a.name.startswith("_"):
            continue
        assert f"[{a.name}" in rules, f"[{a.name}] is not explained in docs/rules.md"
    for a in attrs.fields(Stage):
        assert f"`{a.name}`" in rules, f"funnel stage key {a.name!r} not in docs/rules.md"


def _toml_blocks() -> list:
    found = []
    for page in WRITTEN:
        for i, m in enumerate(re.finditer(r"```toml\n(.*?)```", page.read_text(encoding="utf-8"),
                                          re.S)):
            where = f"{page.relative_to(ROOT)}[{i}]"
            found.append(pytest.param(where, m.group(1), id=where))
    return found


@pytest.mark.parametrize("where, snippet", _toml_blocks())
def test_every_toml_example_is_valid(where, snippet):
    data = tomllib.loads(snippet)
    if "project" in data:  # a pyproject.toml fragment (the entry point)
        assert "salesrules" in data["project"]["entry-points"], where
        return
    problems = Problems()
    cfg = config.parse_config(snippet, where, problems=problems)
    assert cfg is not None, [str(p) for p in problems.all()]
    assert not problems, f"{where}: {[str(p) for p in problems.all()]}"


def test_the_custom_check_example_runs(export):
    (export / "check.py").write_text(block("example: check.py", "docs/checks.md"), encoding="utf-8")
    assert len(block("example: check.py", "docs/checks.md").strip().splitlines()) <= 30
    extra = tomllib.loads(block("example: check-rules", "docs/checks.md"))
    extra["checks"]["no-dials"]["below"] = 10**9  # so that every rep is flagged
    edit_rules(export / "rules.toml", lambda d: (
        d.update(plugins=extra["plugins"]), d["checks"].update(extra["checks"])))
    res = invoke("run", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 0, res.output
    rows = [f for f in read_csv(export / "out" / "findings.csv") if f["check"] == "no-dials"]
    assert rows and all(r["message"].endswith("calls this period.") for r in rows)


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["salesforce", "hubspot", "generic"])
def test_the_deal_preset_examples_run(preset, tmp_path):
    (tmp_path / "deals.csv").write_text(block(f"deals: {preset}", "docs/deals.md"),
                                        encoding="utf-8")
    rules = tomllib.loads(block("deals: rules", "docs/deals.md"))
    first = {"salesforce": "Prospecting", "hubspot": "Appointment Scheduled",
             "generic": "New"}[preset]
    rules["data"]["deals"]["params"].update(
        preset=preset, leads_when=f"owner == '' and stage == '{first}'")
    (tmp_path / "rules.toml").write_text(tomli_w.dumps(rules), encoding="utf-8")
    res = invoke("run", "--rules", str(tmp_path / "rules.toml"), "--as-of", "2026-11-25")
    assert res.exit_code == 0, res.output
    assert "2 rep(s) were made from the deal owners" in res.output
    (assigned,) = read_csv(tmp_path / "out" / "assignments.csv")  # the one unowned deal
    assert assigned["rep_id"] in ("Ann Lee", "Bo Chen")
    targets = read_csv(tmp_path / "out" / "targets.csv")
    assert {t["stage"] for t in targets} == {"intents", "pipeline", "revenue"}
