"""The backtest on a Chinese export (``salesrules sample --chinese --quarters N``): how past
leads ended is measured, and hidden from the replayed days; the summary speaks Chinese."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from backtest_export import make_history
from test_chinese import english_words

from salesrules.backtest import BacktestOptions, backtest
from salesrules.backtest.cut import cut_dataset
from salesrules.backtest.outcomes import LOST, WON
from salesrules.backtest.summary import sentences
from salesrules.config import load_config
from salesrules.load import data_dir, load_dataset
from salesrules.run import plan_run

DAY = dt.date(2026, 8, 12)


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("zh")
    make_history(folder, reps=10, quarters=2, leads=20, chinese=True)
    return folder


@pytest.fixture(scope="module")
def result(export):
    return backtest(BacktestOptions(export / "rules.toml", dt.date(2026, 7, 1),
                                    dt.date(2026, 9, 30), "month"))


@pytest.mark.slow
def test_outcomes_are_measured_and_never_visible_on_a_replayed_day(export, result):
    assert result.allocation.available
    assert sum(n for (kind, _), (n, _, _) in result.allocation.by.items() if kind == "route")
    cfg = load_config(export / "rules.toml")
    dataset = load_dataset(cfg, plan_run(cfg).sources, data_dir(cfg, None))
    frame = dataset.leads.frame
    ended = {str(v) for c in frame.columns for v in frame[c].to_list()} & (WON | LOST)
    assert ended  # the export does say how past leads ended ...
    known = cut_dataset(dataset, DAY).leads.frame
    for column in known.columns:  # ... and no column of a replayed day's leads says it
        assert not {str(v) for v in known[column].to_list()} & (WON | LOST), column
    assert set(known["amount"].to_list()) == {""}


@pytest.mark.slow
def test_the_summary_names_checks_stages_and_rates_in_chinese(result):
    said = sentences(result, "zh")
    text = "\n".join(said)
    assert "费率" not in text and "转化率" in text
    assert not english_words(text), text


@pytest.mark.slow
def test_the_page_titles_its_charts_in_chinese(result, tmp_path):
    """backtest.html on a Chinese export: headings, chart titles and legends name stages by
    their labels and checks by their shown names (the totals table keeps backtest.csv's
    measure names, a contract, and is left out here)."""
    import re

    from salesrules.backtest.output import write_html

    page = tmp_path / "backtest.html"
    write_html(result, page, "rules.toml")
    text = page.read_text(encoding="utf-8").split("</head>")[1].split("<table>")[0]
    words = re.sub(r"<[^>]+>|&[a-z]+;|rules\.toml|sha256:[0-9a-f]+|\d+", " ", text)
    assert "转化率误差" in text and "精确率与召回率" in text
    assert not english_words(words), english_words(words)
