"""The backtest summary in words a sales-ops lead reads without a statistics course: flags
counted as what they are (a rep on a date), small shares never rounded to none, no Greek
letters, a verdict on every stage, and the allocation's won share said out of what."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import attrs
import pytest
from backtest_export import make_history
from test_chinese import english_words

from salesrules.backtest import BacktestOptions, backtest
from salesrules.backtest.metrics import Metrics
from salesrules.backtest.summary import _route, _share, _warning, sentences
from salesrules.backtest.warnings import Tally


@pytest.mark.parametrize(("k", "n", "shown"), [
    (1, 212, "0.5%"), (211, 212, "99.5%"), (0, 5, "0%"), (5, 5, "100%"), (1, 3, "33%"),
    (1, 100_000, "under 0.01%"), (99_999, 100_000, "over 99.99%"), (1, 0, "n/a")])
def test_a_share_never_reads_as_none_or_all_when_it_is_neither(k, n, shown):
    assert _share(k, n) == shown


def test_a_check_that_caught_one_miss_does_not_read_as_catching_none():
    t = Tally(flagged=2, hits=1, missed=212, leads=[48.0])
    text = _warning("zero-streak", "rep", t, zh=False)
    assert "zero-streak raised 2 flags (a rep on a date)" in text
    assert "1 of them (50%) was on a rep who then missed" in text
    assert "caught 1 of the 212 misses (0.5%, recall" in text
    assert " 0%" not in text and "time(s)" not in text
    assert "a median 48 days before" in text
    team = _warning("team-execution", "team", Tally(1, 0, 0), zh=False)
    assert "raised 1 flag (a team on a date)" in team and "no miss to catch" in team
    zh = _warning("连续零产出", "rep", t, zh=True)
    assert "2 个标记" in zh and "212 个未完成" in zh and "0.5%" in zh
    assert not english_words(zh), zh


def test_the_won_share_says_what_it_is_out_of():
    some = _route("all leads", 2300, [455.0, 318.0, 1000.0], zh=False)
    assert some == ("Allocation: route 'all leads' gave out 2,300 leads; 455 have since closed "
                    "(won or lost), and 70% of those were won (14% of all it gave out), for "
                    "1,000 in revenue.")
    assert "none has closed" in _route("all leads", 12, [0.0, 0.0, 0.0], zh=False)
    zh = _route("全部线索", 2300, [455.0, 318.0, 1000.0], zh=True)
    assert "2,300 条线索" in zh and "455 条已有结果" in zh and "14%" in zh
    assert not english_words(zh), zh


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    folder: Path = tmp_path_factory.mktemp("words")
    make_history(folder)
    return backtest(BacktestOptions(folder / "rules.toml", dt.date(2026, 1, 7),
                                    dt.date(2026, 6, 30), "month"))


def _with_idle_dials(result):
    """The same result, but with dials predicting nothing (every date's correlation 0)."""
    m = Metrics(result.dataset)
    m.rhos, m.n, m.result = ({**result.metrics.rhos, "dials": [0.0]}, result.metrics.n,
                             result.metrics.result)
    return attrs.evolve(result, metrics=m)


@pytest.mark.slow
def test_metrics_are_said_without_greek_and_with_a_verdict(result):
    said = "\n".join(sentences(result, "en"))
    assert "ρ" not in said and not re.search(r"\d\.\.\d", said)
    assert "rank correlation" in said and "likely between" in said
    assert not result.metrics.idle()  # on the sample every stage predicts results ...
    assert "None of them looks like a vanity metric: keep tracking all." in said
    idle = "\n".join(sentences(_with_idle_dials(result), "en"))  # ... until one does not
    assert result.metrics.correlations()["dials"].low > 0
    assert "A week of dials (rank correlation 0.00" in idle
    assert "predicts nothing reliable: a candidate to stop tracking" in idle
    assert "keep tracking all" not in idle
    zh = "\n".join(sentences(_with_idle_dials(result), "zh"))
    assert "剔除虚假繁荣指标" in zh and "秩相关" in zh and "ρ" not in zh


@pytest.mark.slow
def test_raises_and_allocation_are_said_plainly(result):
    said = sentences(result, "en")
    assert any("reach the raised target it proposed" in s for s in said)
    assert not any("rung" in s for s in said)
    given = result.allocation.given[("route", "all leads")]
    closed = result.allocation.by[("route", "all leads")][0]
    assert given >= closed > 0
    line = next(s for s in said if s.startswith("Allocation: route 'all leads'"))
    assert f"gave out {given:,} leads" in line
    assert any("建议提高后的目标" in s for s in sentences(result, "zh"))
