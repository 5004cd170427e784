"""As-of dates before the activity begins are not replayed, and the summary and
``backtest.json`` say so (the rules would have had nothing but default rates to go on)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from backtest_export import make_history
from conftest import invoke

from salesrules.backtest import BacktestOptions, backtest
from salesrules.config import load_config
from salesrules.load import data_dir, load_dataset
from salesrules.run import plan_run


@pytest.mark.slow
def test_dates_before_the_activity_are_named_not_scored(tmp_path):
    rules = make_history(tmp_path / "export", reps=8, quarters=1, leads=10)
    cfg = load_config(rules)
    first = load_dataset(cfg, plan_run(cfg).sources, data_dir(cfg, None)).activity.first_day()
    assert first is not None
    start = first - dt.timedelta(days=14)
    before = [start, start + dt.timedelta(days=7)]
    result = backtest(BacktestOptions(rules, start, first + dt.timedelta(days=20), "week"))
    assert result.skipped == before
    assert result.dates == [start + dt.timedelta(days=7 * k) for k in (2, 3, 4)]
    scored = {r.date for r in result.rows}
    assert not scored & {d.isoformat() for d in before}
    res = invoke("backtest", "--rules", str(rules), "--from", start.isoformat(), "--to",
                 (first + dt.timedelta(days=20)).isoformat(), "--out", str(tmp_path / "out"))
    assert res.exit_code == 0, res.output
    said = f"2 date(s) before the activity begins ({first}) were not replayed: {before[0]}"
    assert said in res.output
    summary = json.loads((tmp_path / "out" / "backtest.json").read_text(encoding="utf-8"))
    assert summary["before_activity"] == {
        "first_day": first.isoformat(), "dates_not_replayed": [d.isoformat() for d in before]}
    assert any(said in s for s in summary["summary"])
