"""One estimate of rates per run, shared by the goals and every check."""

from __future__ import annotations

import json

import pytest
from check_runs import staged
from conftest import invoke, make_export


def _plan(folder):
    got = staged(folder)
    ctx = got.context
    return got.plan, ctx.dataset, ctx.goals, ctx


def test_a_reps_rate_in_the_checks_is_the_rate_their_targets_were_set_with(tmp_path):
    make_export(tmp_path, reps=14, days=180, leads=5, seed=5)
    plan, ds, goals, ctx = _plan(tmp_path)
    assert ctx.estimate is goals.estimate  # one object per run
    est = ctx.rate_estimate()
    assert est.from_history
    pooled = goals.estimate.pooled(180)
    assert pooled is goals.estimate.pooled(180)
    assert plan.funnel.component._teams == {}  # the funnel model did not pool on its own
    compared = 0
    for rep_id, rates in goals.rates.items():
        for stage in ("connects", "conversations", "intents"):
            got = est.reps[rep_id][stage].mean
            assert got == pytest.approx(rates[stage].value, rel=1e-9), (rep_id, stage)
            compared += 1
    assert compared >= 30
    for team, rates in est.teams.items():
        for stage, rate in rates.items():
            assert rate.mean == pooled.team_means[team][stage]
            assert rate.strength == pooled.strength[stage]


@pytest.mark.slow
@pytest.mark.parametrize(("days", "source"), [(180, "history before the period"),
                                              (56, "the period so far, against the team")])
def test_run_json_says_which_window_each_check_used(tmp_path, days, source):
    make_export(tmp_path, reps=20, days=days, leads=5, seed=11)
    res = invoke("run", "--rules", str(tmp_path / "rules.toml"), "-q", "--dry-run")
    assert res.exit_code == 0, res.output
    rates = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))["rates"]
    used = {u["by"]: u for u in rates["used"]}
    effort = used["effort-without-results"]
    assert effort["rates_from"] == source and effort["lookback_days"] == 180
    # the goals' funnel model measured on the same window
    assert used["funnel personal"]["window"] == effort["window"]
    truth = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    assert {(r["rep_id"], r["date"]) for r in rates["rows_left_out"]} == {
        tuple(r) for r in truth["bad_rows"]}
    assert all(r["where"].startswith("activity.csv:") for r in rates["rows_left_out"])
