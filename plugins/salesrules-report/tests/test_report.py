"""report.html in a real headless Chromium, the workbook read back, and the report as a
replaceable plugin."""

from __future__ import annotations

import csv
import json
import re
import tomllib
import zipfile
from collections import Counter
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner

from salesrules.cli import main
from salesrules.testing import make_export, needs_chromium, open_offline

ROOT = Path(__file__).resolve().parents[3]
CHARTS = ("chart-overview", "chart-funnel", "chart-pace", "chart-allocation", "chart-rep")
SECTIONS = ("overview", "funnel", "pace", "allocation", "findings", "rep", "success")


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def run(export: Path, *args: str) -> Path:
    res = invoke("run", "--rules", str(export / "rules.toml"), "-q", *args)
    assert res.exit_code == 0, res.output
    return export / "out"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def edit_rules(rules: Path, fn) -> None:
    data = tomllib.loads(rules.read_text(encoding="utf-8"))
    fn(data)
    rules.write_text(tomli_w.dumps(data), encoding="utf-8")


def embedded(html: str) -> tuple[str, dict]:
    m = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', html, re.S)
    assert m
    return m.group(1), json.loads(m.group(1))


@pytest.fixture(scope="module")
def default_run(tmp_path_factory) -> Path:
    """One run of a small generated export with the default outputs: read, never changed."""
    folder = tmp_path_factory.mktemp("export")
    make_export(folder)
    return run(folder)


@pytest.fixture
def export(tmp_path) -> Path:
    make_export(tmp_path / "export")
    return tmp_path / "export"


#: An A4 page's width inside the report's print margins (12 mm each side), in CSS pixels.
A4_PRINTABLE_PX = round((210 - 2 * 12) / 25.4 * 96)
#: How the findings table sits in the page: its right edge, the page's width, and how many
#: of its cells have content wider than themselves.
FITS = """() => { const t = document.getElementById('f-table');
  const cells = [...t.querySelectorAll('th, td')];
  return {right: t.getBoundingClientRect().right, width: document.documentElement.clientWidth,
          overflowing: cells.filter(c => c.scrollWidth > c.clientWidth + 1).length,
          rows: t.querySelectorAll('#f-rows > tr').length}; }"""
#: Each finding row's evidence: the labelled table's row count, and whether raw JSON shows.
EVIDENCE = """rows => rows.map(r => [r.querySelectorAll('table.ev tr').length,
  /[{}]/.test(r.textContent)])"""


def assert_findings_fit(seen: dict) -> None:
    """The findings table fits a 1,280 px window and an A4 page, evidence as a small table."""
    for where, fit in seen["fit"].items():
        assert fit["rows"] > 0, where
        assert fit["right"] <= fit["width"] and fit["overflowing"] == 0, (where, fit)
    assert seen["evidence"] and all(n > 0 and not raw for n, raw in seen["evidence"])


def open_in_chromium(report: Path, shot: Path | None = None) -> dict:
    """Open the report offline in headless Chromium; what it drew, logged and requested."""
    with open_offline(report) as opened:
        page = opened.page
        seen: dict = {"errors": opened.errors, "requests": opened.requests}
        page.wait_for_selector("#chart-rep svg rect")
        seen["shapes"] = dict(page.eval_on_selector_all(".chart", "els => els.map(e => "
                              "[e.id, e.querySelectorAll("
                              "'svg rect, svg polyline, svg line').length])"))
        seen["rows"] = dict(page.eval_on_selector_all("section[id]", "els => els.map(e => "
                            "[e.id, e.querySelectorAll('tbody tr, .kpi, #rep-card h3').length])"))
        # the pace chart's date labels, first and last included, lie inside its drawing
        seen["clipped"] = page.eval_on_selector_all(
            "#chart-pace text.tick", """els => els.filter(t => {
            const b = t.getBoundingClientRect(), s = t.ownerSVGElement.getBoundingClientRect();
            return b.left < s.left || b.right > s.right || b.bottom > s.bottom; }).length""")
        seen["title"] = page.title()
        seen["injected"] = page.evaluate("document.querySelectorAll('img, iframe').length + "
                                         "document.scripts.length")
        seen["pwned"] = page.evaluate("window.__pwned === undefined ? 0 : 1")
        seen["fit"] = {"window": page.evaluate(FITS)}
        seen["evidence"] = page.eval_on_selector_all("#f-rows > tr", EVIDENCE)
        page.emulate_media(media="print")  # an A4 page: 210 mm less the report's 12 mm margins
        page.set_viewport_size({"width": A4_PRINTABLE_PX, "height": 1123})
        seen["fit"]["A4"] = page.evaluate(FITS)
        page.emulate_media(media="screen")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.select_option("#f-sev", "critical")  # a filter works: only critical findings left
        seen["severities"] = page.eval_on_selector_all("#f-rows .pill",
                                                       "els => els.map(e => e.className)")
        if shot is not None:
            page.screenshot(path=str(shot), full_page=True)
    return seen


def assert_every_section_drawn(seen: dict) -> None:
    assert seen["errors"] == []
    assert [u for u in seen["requests"] if not u.startswith("file://")] == []  # no network
    for cid in CHARTS:
        assert seen["shapes"].get(cid, 0) > 5, (cid, seen["shapes"])
    for sid in SECTIONS:
        if sid not in ("funnel", "pace"):  # those two are charts only
            assert seen["rows"].get(sid, 0) > 0, (sid, seen["rows"])
    assert seen["clipped"] == 0


@pytest.mark.slow
@needs_chromium
def test_report_renders_in_headless_chromium_offline(default_run, tmp_path):
    shot = tmp_path / "report.png"
    seen = open_in_chromium(default_run / "report.html", shot)
    assert_every_section_drawn(seen)
    assert_findings_fit(seen)
    assert seen["severities"] and all("critical" in c for c in seen["severities"])
    assert shot.stat().st_size > 50_000


HOSTILE = ("<!--<script>", "</script>", "<img src=x onerror=window.__pwned=1>", "]]>")


def make_hostile(export: Path) -> None:
    """Rep names, team names, lead fields and a rule that hold markup and script."""
    def rewrite(name: str, fn) -> None:
        path = export / name
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        for i, row in enumerate(rows[1:], start=1):
            fn(rows[0], row, i)
        with path.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(rows)

    def reps(header, row, i):
        row[header.index("name")] = f"{HOSTILE[i % 4]} rep {i}"
        row[header.index("team")] = f"{row[header.index('team')]} {HOSTILE[2]}{HOSTILE[0]}"

    def leads(header, row, i):
        for col in ("source", "region", "grade"):
            row[header.index(col)] = HOSTILE[(i + len(col)) % 4]
        row[header.index("email")] = f"{HOSTILE[i % 4]}{i}@example.com"  # still one per lead

    rewrite("reps.csv", reps)
    rewrite("leads.csv", leads)
    edit_rules(export / "rules.toml", lambda d: d["allocation"].update(rules=[
        {"name": "</script><!--", "when": "source == '</script>'", "policy": "balanced"},
        {"name": "]]> rest <img src=x onerror=window.__pwned=1>", "policy": "balanced"}]))


@pytest.mark.slow
@needs_chromium
def test_no_field_can_break_the_report(export):
    make_hostile(export)
    html = (run(export) / "report.html").read_text(encoding="utf-8")
    raw, data = embedded(html)
    assert "<" not in raw and ">" not in raw and "&" not in raw
    assert any(r["name"].startswith("<!--<script>") for r in data["reps"].values())
    assert all("<img src=x" in t["team"] for t in data["overview"]["teams"])
    assert html.count("<script") == 3  # the charts, the data and the page's own
    assert "<img" not in html and "<!--<" not in html  # attributes and text are escaped too
    seen = open_in_chromium(export / "out" / "report.html")
    assert_every_section_drawn(seen)
    assert seen["pwned"] == 0 and seen["injected"] == 3


@pytest.mark.slow
def test_report_is_self_contained_and_has_every_section(default_run):
    out = default_run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r'<(script|link|img)[^>]+(src|href)=', html)
    for anchor in SECTIONS:
        assert f'id="{anchor}"' in html
    _, data = embedded(html)
    findings = read_csv(out / "findings.csv")
    assert len(data["findings"]) == len(findings)
    assert data["allocation"]["assigned"] == len(read_csv(out / "assignments.csv"))
    assert set(data["benchmark"]) == {t["team"] for t in data["overview"]["teams"]}
    # the fairness figures are the kernel's, as run.json has them: today and the window
    fairness = json.loads((out / "run.json").read_text(encoding="utf-8"))["fairness"]
    assert set(fairness) == {"gini_count", "gini_value", "gini_count_window",
                             "gini_value_window"}
    assert {k: data["allocation"][k] for k in fairness} == fairness
    for k in fairness:  # each shown on the page
        assert f"<b>{fairness[k]}</b>" in html
    assert "@media print" in html
    # the report's execution rate is the one the team-execution check judges
    execution = {t["team"]: t["execution"] for t in data["overview"]["teams"]}
    for f in findings:
        if f["check"] == "team-execution":
            assert execution[f["subject"]] == pytest.approx(json.loads(f["evidence"])["share"],
                                                            abs=1e-4)
    headline = re.search(r'<p class="headline">(.*?)</p>', html).group(1)
    assert "of its quarter revenue target" in headline


@pytest.mark.slow
def test_on_a_deals_export_the_win_rate_is_of_closed_deals(tmp_path):
    """The funnel's win rate, per rep, for the benchmark and for the team, is won ÷ (won +
    lost) of the deals closed this period to date, as the goals and the ranking count it:
    open deals are pipeline, not losses (it was wins ÷ intents)."""
    folder = tmp_path / "deals"
    res = invoke("sample", str(folder), "--deals", "generic", "--reps", "14", "--days", "150",
                 "--leads", "25", "--seed", "4")
    assert res.exit_code == 0, res.output
    html = (run(folder) / "report.html").read_text(encoding="utf-8")
    _, data = embedded(html)
    assert data["closed_stage"] == "wins"
    start, as_of = data["period"]["start"], data["as_of"]
    won, closed, intents = Counter(), Counter(), Counter()
    for d in read_csv(folder / "deals.csv"):
        if start <= d["close_date"] <= as_of and d["stage"] in ("Won", "Lost"):
            closed[d["owner"]] += 1
            won[d["owner"]] += d["stage"] == "Won"
        if start <= d["created_at"][:10] <= as_of:
            intents[d["owner"]] += 1

    def rate(reps):
        n = sum(closed[r] for r in reps)
        return round(sum(won[r] for r in reps) / n, 4) if n else None

    differs = 0
    for rep_id, entry in data["reps"].items():
        assert entry["rates"]["wins"] == rate([rep_id]), rep_id
        differs += closed[rep_id] > 0 and won[rep_id] / closed[rep_id] != (
            won[rep_id] / intents[rep_id] if intents[rep_id] else None)
    assert differs  # the old figure, wins ÷ intents, would fail this test
    for team, b in data["benchmark"].items():
        assert b["rates"]["wins"] == b["habits"]["rates"]["wins"] == rate(b["top"]), team
        members = [r for r, e in data["reps"].items() if e["team"] == team]
        assert b["team_rates"]["wins"] == rate(members), team
    assert "won ÷ (won + lost) of the deals closed this period" in html


@pytest.mark.slow
def test_report_in_chinese(export):
    edit_rules(export / "rules.toml", lambda d: d["output"].update(language="zh"))
    html = (run(export) / "report.html").read_text(encoding="utf-8")
    assert "销售运营报告" in html and "季度业绩目标完成" in html
    _, data = embedded(html)
    assert data["check_names"]["behind-pace"] == "落后进度"
    assert any("外呼" in label for f in data["findings"] for label, _ in f["evidence"])


@pytest.mark.slow
@needs_chromium
def test_chinese_findings_fit_a_window_and_a_page(export):
    edit_rules(export / "rules.toml", lambda d: d["output"].update(language="zh"))
    seen = open_in_chromium(run(export) / "report.html")
    assert seen["errors"] == []
    assert_findings_fit(seen)


@pytest.mark.slow
def test_example_report_is_small_and_reruns_are_byte_identical(tmp_path):
    rules = ROOT / "rules.toml"
    if not (ROOT / "examples" / "acme" / "leads.csv").exists():
        pytest.skip("the example export is not in this checkout")
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        res = invoke("run", "--rules", str(rules), "--out", str(out), "-q")
        assert res.exit_code == 0, res.output
    size = (outs[0] / "report.html").stat().st_size
    assert 50_000 < size <= 1_000_000
    for name in ("report.html", "workbook.xlsx"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


@pytest.mark.slow
@pytest.mark.parametrize("streamed", [False, True], ids=["in-memory", "row-by-row"])
def test_workbook_sheets_match_the_csvs(export, monkeypatch, streamed):
    import openpyxl
    from salesrules_report import workbook

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


@pytest.mark.slow
def test_workbook_names_reps_and_rounds_progress_to_cents(export):
    import openpyxl

    out = run(export)
    wb = openpyxl.load_workbook(out / "workbook.xlsx", read_only=True)
    names = {r["rep_id"]: r["name"] for r in read_csv(export / "reps.csv")}
    sheet = list(wb["assignments"].iter_rows(values_only=True))
    assert sheet[0][:3] == ("lead_id", "rep_id", "rep_name")
    assert sheet[1:] and all(row[2] == names[row[1]] for row in sheet[1:])
    progress = list(wb["progress"].iter_rows(values_only=True))
    cols = [progress[0].index("projected"), progress[0].index("required_per_day")]
    figures = [row[c] for row in progress[1:] for c in cols if row[c] is not None]
    assert figures and all(round(v, 2) == v for v in figures)
    assert any(round(v) != v for v in figures)  # cents kept, not whole numbers


@pytest.mark.slow
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


@pytest.mark.slow
def test_the_report_is_an_installed_plugin_using_only_the_public_api(default_run):
    m = json.loads((default_run / "run.json").read_text())
    report = next(p for p in m["plugins"] if p["name"] == "salesrules.report")
    assert report["distribution"] == "salesrules-report" and report["builtin"] is False
    src = Path(__file__).resolve().parents[1] / "src" / "salesrules_report"
    imported = {m for f in src.glob("*.py")
                for m in re.findall(r"^\s*(?:from|import) (salesrules\S*)", f.read_text(), re.M)}
    assert imported <= {"salesrules.api", "salesrules.hookspecs"}, imported


@pytest.mark.slow
def test_terminal_summary(export):
    res = invoke("run", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 0
    for word in ("leads", "behind pace", "findings", "report", "report.html"):
        assert word in res.output
    assert invoke("run", "--rules", str(export / "rules.toml"), "-q").output == ""
