"""The README is part of the product: its example runs, its reference covers every key."""

from __future__ import annotations

import re

import attrs

from conftest import ROOT, edit_rules, invoke, read_csv
from salesrules import config
from salesrules.goals import push_back
from salesrules.goals.batches import Rate
from salesrules.model import Funnel, Stage

README = (ROOT / "README.md").read_text(encoding="utf-8")


def block(marker: str) -> str:
    m = re.search(rf"<!-- example: {re.escape(marker)} -->\n```\w+\n(.*?)```", README, re.S)
    assert m, f"no example block {marker!r} in README.md"
    return m.group(1)


def test_the_two_commands_are_given():
    assert "make run" in README and "make test" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_write_your_own_policy_example_runs(export):
    (export / "dialect.py").write_text(block("dialect.py"), encoding="utf-8")
    import tomllib

    extra = tomllib.loads(block("rules"))
    edit_rules(export / "rules.toml", lambda d: (
        d.update(plugins=extra["plugins"]), d["allocation"].update(rules=extra["allocation"]["rules"])))
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
    text = " ".join(README.split())
    for stage, figure in [("pipeline", "90,000"), ("intents", "30"), ("conversations", "120"),
                          ("connects", "240"), ("dials", "600")]:
        assert round(values[stage]) == int(figure.replace(",", ""))
        assert f"= {figure};" in text or f"= {figure}." in text, stage


def test_every_config_key_is_in_the_reference():
    reference = README[README.index("## `rules.toml` reference"):README.index("## Built-in components")]
    classes = [config.DataConfig, config.DataFile, config.GoalsConfig, config.CalendarConfig,
               config.RuleConfig, config.AllocationConfig, config.OutputConfig, config.RunConfig,
               config.PluginsConfig, config.HistoryConfig, config.RecycleConfig,
               config.TierConfig]
    for cls in classes:
        for a in attrs.fields(cls):
            if a.name == "tables":
                continue
            assert f"`{a.name}`" in reference or f".{a.name}`" in reference, (
                f"{cls.__name__}.{a.name} is not in the README's rules.toml reference")
    for a in attrs.fields(Stage):
        assert f"`{a.name}`" in reference


def test_the_custom_check_example_runs(export):
    (export / "check.py").write_text(block("check.py"), encoding="utf-8")
    assert len(block("check.py").strip().splitlines()) <= 30
    edit_rules(export / "rules.toml", lambda d: (
        d.update(plugins={"modules": ["check.py"]}),
        d["checks"].update({"no-dials": {"below": 10**9}})))
    res = invoke("run", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 0, res.output
    rows = [f for f in read_csv(export / "out" / "findings.csv") if f["check"] == "no-dials"]
    assert rows and all(r["message"].endswith("calls this period.") for r in rows)


import pytest  # noqa: E402


@pytest.mark.parametrize("preset", ["salesforce", "hubspot", "generic"])
def test_the_deal_preset_examples_run(preset, tmp_path):
    import tomllib

    m = re.search(rf"<!-- deals: {preset} -->\n```csv\n(.*?)```", README, re.S)
    (tmp_path / "deals.csv").write_text(m.group(1), encoding="utf-8")
    rules = tomllib.loads(block_of("deals: rules"))
    first = {"salesforce": "Prospecting", "hubspot": "Appointment Scheduled",
             "generic": "New"}[preset]
    rules["data"]["deals"]["params"].update(
        preset=preset, leads_when=f"owner == '' and stage == '{first}'")
    import tomli_w

    (tmp_path / "rules.toml").write_text(tomli_w.dumps(rules), encoding="utf-8")
    res = invoke("run", "--rules", str(tmp_path / "rules.toml"), "--as-of", "2026-11-25")
    assert res.exit_code == 0, res.output
    assert "2 rep(s) were made from the deal owners" in res.output
    (assigned,) = read_csv(tmp_path / "out" / "assignments.csv")  # the one unowned deal
    assert assigned["rep_id"] in ("Ann Lee", "Bo Chen")
    targets = read_csv(tmp_path / "out" / "targets.csv")
    assert {t["stage"] for t in targets} == {"intents", "pipeline", "revenue"}


def block_of(marker: str) -> str:
    m = re.search(rf"<!-- {re.escape(marker)} -->\n```\w+\n(.*?)```", README, re.S)
    assert m, marker
    return m.group(1)
