"""The fairness figure covers the reps who could receive leads, today and over the window."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import invoke

from salesrules.allocation import allocate
from salesrules.config import parse_config
from salesrules.load import Dataset
from salesrules.model import ActivityTable, Lead, Rep
from salesrules.run import plan_run

AS_OF = dt.date(2026, 11, 25)
LEADS = [Lead(f"L{i}", dt.datetime(2026, 11, 24), None, 0, 100.0 * (i % 4 + 1), {})
         for i in range(24)]
SALES = [Rep(f"R{i}", f"Rep {i}", "East", "P1", True, None) for i in range(4)]
TOML = '[allocation]\nself_sourced_teams = ["Partners"]\n'


def figure(reps):
    cfg = parse_config(TOML)
    plan = plan_run(cfg, entry_points=False)
    ds = Dataset(cfg.funnel_model, {r.id: r for r in reps}, LEADS,
                 ActivityTable(cfg.funnel_model.names))
    return allocate(cfg, plan.routes, ds, AS_OF, 0).fairness()


def test_a_self_sourced_team_does_not_move_the_gini():
    partners = [Rep(f"P{i}", f"Partner {i}", "Partners", "P1", True, None) for i in range(5)]
    assert figure(SALES) == figure(SALES + partners)
    assert figure(SALES)["gini_count"] == 0.0


def test_an_inactive_rep_does_not_move_the_gini():
    gone = Rep("R9", "Rep 9", "East", "P1", False, None)
    assert figure(SALES) == figure(SALES + [gone])


@pytest.mark.slow
def test_run_json_shows_today_and_the_window(export):
    res = invoke("run", "--rules", str(export / "rules.toml"), "--as-of", "2026-11-24")
    assert res.exit_code == 0, res.output
    invoke("run", "--rules", str(export / "rules.toml"), "--as-of", "2026-11-25")
    f = json.loads((export / "out" / "run.json").read_text())["fairness"]
    assert set(f) == {"gini_count", "gini_value", "gini_count_window", "gini_value_window"}
    assert all(0 <= v <= 1 for v in f.values())
