"""``backtest.html`` opens offline in headless Chromium, as the report does, and draws charts."""

from __future__ import annotations

import pytest
from backtest_export import make_history
from conftest import invoke

from salesrules.testing import needs_chromium, open_offline


@pytest.mark.slow
@needs_chromium
def test_backtest_page_renders_offline_in_headless_chromium(tmp_path):
    make_history(tmp_path / "export", reps=16, quarters=2)
    res = invoke("backtest", "--rules", str(tmp_path / "export" / "rules.toml"),
                 "--from", "2026-01-07", "--to", "2026-06-30", "--out", str(tmp_path / "out"))
    assert res.exit_code == 0, res.output
    page_file = tmp_path / "out" / "backtest.html"
    with open_offline(page_file) as opened:
        page = opened.page
        lines = page.eval_on_selector_all("svg polyline", "els => els.map(e => "
                                          "e.getBoundingClientRect().width)")
        dots = page.eval_on_selector_all("svg circle", "els => els.map(e => "
                                         "e.getBoundingClientRect().width)")
        bars = page.eval_on_selector_all("svg rect", "els => els.length")
        said = page.eval_on_selector_all("li", "els => els.map(e => e.textContent)")
        page.screenshot(path=str(tmp_path / "backtest.png"), full_page=True)
    assert not opened.errors
    assert opened.requests == [page_file.resolve().as_uri()]  # nothing fetched from elsewhere
    assert len(lines) >= 5 and all(w > 100 for w in lines)  # every line spans the dates
    assert all(w > 4 for w in dots)  # a value on one date only is a visible dot
    assert bars >= 5
    assert any("personal model" in s for s in said)
    assert (tmp_path / "backtest.png").stat().st_size > 30_000
