"""report.html in a real headless Chromium, the workbook read back, and the report as a replaceable plugin."""

from __future__ import annotations

import json
import re
import shutil
import zipfile

import pytest

from conftest import edit_rules, invoke, read_csv

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def run(export, *args):
    res = invoke("run", "--rules", str(export / "rules.toml"), "-q", *args)
    assert res.exit_code == 0, res.output
    return export / "out"


def embedded(html: str) -> dict:
    m = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', html, re.S)
    assert m
    return json.loads(m.group(1))


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install "
                                              "chromium); .ci/run installs it")
def test_report_renders_in_headless_chromium_offline(export, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    out = run(export)
    errors, requests = [], []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto((out / "report.html").resolve().as_uri(), wait_until="load")
        page.wait_for_selector("#chart-rep .main-svg")
        charts = page.eval_on_selector_all(
            ".js-plotly-plot", "els => els.map(e => [e.id, e.querySelectorAll('path, rect').length])")
        # a filter works: only critical findings left
        page.select_option("#f-sev", "critical")
        severities = page.eval_on_selector_all("#f-rows .pill", "els => els.map(e => e.className)")
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert errors == []
    assert [u for u in requests if not u.startswith("file://")] == []  # no network at all
    drawn = {cid: n for cid, n in charts}
    for cid in ("chart-overview", "chart-funnel", "chart-pace", "chart-allocation", "chart-rep"):
        assert drawn.get(cid, 0) > 5, (cid, drawn)
    assert severities and all("critical" in c for c in severities)
    assert shot.stat().st_size > 50_000


def test_report_is_self_contained_and_has_every_section(export):
    out = run(export)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?:', html)
    for anchor in ("overview", "funnel", "pace", "allocation", "findings", "rep", "success"):
        assert f'id="{anchor}"' in html
    data = embedded(html)
    findings = read_csv(out / "findings.csv")
    assert len(data["findings"]) == len(findings)
    assert data["allocation"]["assigned"] == len(read_csv(out / "assignments.csv"))
    assert set(data["benchmark"]) == {t["team"] for t in data["overview"]["teams"]}
    assert "@media print" in html
    # the report's execution rate is the one the team-execution check judges
    execution = {t["team"]: t["execution"] for t in data["overview"]["teams"]}
    for f in findings:
        if f["check"] == "team-execution":
            assert execution[f["subject"]] == pytest.approx(json.loads(f["evidence"])["share"],
                                                            abs=1e-4)
    headline = re.search(r'<p class="headline">(.*?)</p>', html).group(1)
    assert "of its quarter revenue target" in headline


def test_report_in_chinese(export):
    edit_rules(export / "rules.toml", lambda d: d["output"].update(language="zh"))
    html = (run(export) / "report.html").read_text(encoding="utf-8")
    assert "销售运营报告" in html and "季度业绩目标完成" in html


@pytest.mark.parametrize("streamed", [False, True], ids=["in-memory", "row-by-row"])
def test_workbook_sheets_match_the_csvs(export, monkeypatch, streamed):
    import openpyxl

    from salesrules.report import workbook

    if streamed:  # how a huge workbook is written
        monkeypatch.setattr(workbook, "MAX_IN_MEMORY", 0)
    out = run(export)
    wb = openpyxl.load_workbook(out / "workbook.xlsx", read_only=False)
    assert wb.sheetnames == ["summary", "assignments", "targets", "progress", "findings"]
    for sheet, csv_name in (("assignments", "assignments.csv"), ("progress", "progress.csv"),
                            ("findings", "findings.csv")):
        assert wb[sheet].max_row - 1 == len(read_csv(out / csv_name)), sheet
        assert wb[sheet].freeze_panes == "A2"
    targets = read_csv(out / "targets.csv")
    per_rep_stage = {(r["rep_id"], r["stage"]) for r in targets}
    assert wb["targets"].max_row - 1 == len(per_rep_stage)
    today = next(r for r in targets if r["grain"] == "day" and r["period_start"] == "2026-11-25")
    row = next(r for r in wb["targets"].iter_rows(min_row=2, values_only=True)
               if r[0] == today["rep_id"] and r[3] == today["stage"])
    assert row[4] == pytest.approx(float(today["target"]))
    assert wb["summary"].column_dimensions["A"].width > 5
    with zipfile.ZipFile(out / "workbook.xlsx") as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())  # native charts
        # streamed rows carry their text inline; a workbook held in memory shares it
        assert ("xl/sharedStrings.xml" in z.namelist()) is not streamed


def test_the_report_can_be_switched_off_and_replaced(export):
    (export / "chat.py").write_text(
        "import json\n"
        "from salesrules.api import hookimpl\n"
        "@hookimpl\n"
        "def write_outputs(result, out_dir):\n"
        "    msg = [f.message for f in result.findings if f.severity == 'critical']\n"
        "    (out_dir / 'chat.json').write_text(json.dumps({'text': msg}))\n")
    edit_rules(export / "rules.toml", lambda d: d.update(
        plugins={"modules": ["chat.py"], "disable": ["salesrules.report"]}))
    out = run(export)
    assert not (out / "report.html").exists() and not (out / "workbook.xlsx").exists()
    posted = json.loads((out / "chat.json").read_text())
    assert posted["text"] == [f["message"] for f in read_csv(out / "findings.csv")
                              if f["severity"] == "critical"]
    m = json.loads((out / "run.json").read_text())
    assert "salesrules.report" not in {p["name"] for p in m["plugins"]}
    assert "chat.json" in {o["file"] for o in m["outputs"]}


def test_terminal_summary(export):
    res = invoke("run", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 0
    for word in ("leads", "behind pace", "findings", "report", "report.html"):
        assert word in res.output
    assert invoke("run", "--rules", str(export / "rules.toml"), "-q").output == ""
