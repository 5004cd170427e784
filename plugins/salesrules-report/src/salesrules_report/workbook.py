"""``workbook.xlsx``: one sheet per output, headers frozen, columns sized, charts on the summary."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from salesrules.api import RunResult

from . import data as report_data
from .fastsheet import TableSheet
from .labels import COLUMNS_ZH, LABELS, PERIOD_WORDS, SHEETS_ZH

#: Above this many cells the workbook is written row by row (xlsxwriter's constant_memory).
MAX_IN_MEMORY = 1_000_000


def _widths(header: list[str], rows: list[list[Any]], cap: int = 60) -> list[int]:
    widths = [len(str(h)) + 2 for h in header]
    for row in rows[:500]:  # a sample is enough to size columns
        for i, v in enumerate(row):
            text = str(v) if v is not None else ""
            n = len(text)
            if not text.isascii():  # wide characters take two columns
                n += sum(1 for ch in text if ord(ch) > 0x2E80)
            widths[i] = max(widths[i], min(n + 2, cap))
    return widths


def _sheet(wb: Any, name: str, header: list[str], rows: list[list[Any]], bold: Any,
           fmts: dict[int, Any] | None = None, lang: str = "en", charted: bool = False) -> Any:
    """A sheet of ``rows`` under a bold, frozen header; ``charted``: a chart reads its cells."""
    zh = lang == "zh"
    title = SHEETS_ZH.get(name, name) if zh else name
    header = [COLUMNS_ZH.get(h, h) for h in header] if zh else header
    # an empty header cell is a blank formatted cell to write_row, which TableSheet doesn't make
    if charted or wb.constant_memory or not all(header):
        ws = wb.add_worksheet(title)
        _write_cells(ws, header, rows, bold, fmts or {})
    else:  # the same cells, written as XML at once
        ws = wb.add_worksheet(title, TableSheet)
        ws.write_table(header, bold, rows, fmts or {})
    ws.freeze_panes(1, 0)
    for i, w in enumerate(_widths(header, rows)):
        ws.set_column(i, i, w)
    if rows:
        ws.autofilter(0, 0, len(rows), len(header) - 1)
    return ws


def _write_cells(ws: Any, header: list[str], rows: list[list[Any]], bold: Any,
                 fmts: dict[int, Any]) -> None:
    """The cells one by one: the way :class:`TableSheet` must match."""
    ws.write_row(0, 0, header, bold)
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            fmt = fmts.get(c)
            if v is None or v == "":
                continue
            if isinstance(v, str):
                # write text as text: a cell starting with "=" must not become a formula
                ws.write_string(r, c, v, fmt) if fmt else ws.write_string(r, c, v)
            else:
                ws.write_number(r, c, v, fmt) if fmt else ws.write_number(r, c, v)


def formats(wb: Any) -> dict[str, Any]:
    """The workbook's formats, numbered in the order the summary's cells use them: fixed
    before any sheet is written (a :class:`TableSheet` looks them up as it is filled)."""
    fmt = {"bold": wb.add_format({"bold": True, "bg_color": "#F3F4F6", "border": 1}),
           "money": wb.add_format({"num_format": "#,##0.00"}),
           "pct": wb.add_format({"num_format": "0.0%"})}
    for f in fmt.values():
        f._get_xf_index()
    return fmt


def cell_count(result: RunResult, d: dict[str, Any]) -> int:
    """About how many cells the workbook will hold: what makes it slow to write."""
    return (7 * len(result.allocation.assignments) + 7 * len(result.dataset.funnel.names)
            * len(d["reps"]) + 12 * (len(result.progress) + len(result.team_progress))
            + 6 * len(result.findings))


def _round2(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _summary(wb: Any, words: dict[str, str], d: dict[str, Any], fmt: dict[str, Any]) -> int:
    """The teams' sheet, with attainment and pace as columns and the findings as a pie."""
    bold, pct, money = fmt["bold"], fmt["pct"], fmt["money"]
    header = [words[k] for k in ("team", "reps", "target", "actual", "attainment", "pace",
                                 "projected", "process_pace", "execution")]
    rows = [[t["team"], t["reps"], t["target"], t["actual"], t["attainment"], t["pace"],
             t["projected"], t["process_pace"], t["execution"]] for t in d["overview"]["teams"]]
    ws = _sheet(wb, "summary", header, rows, bold,
                {2: money, 3: money, 4: pct, 5: pct, 6: money, 7: pct, 8: pct}, d["lang"],
                charted=True)
    name = ws.get_name()
    n = len(rows)
    if not n:
        return n
    chart = wb.add_chart({"type": "column"})
    for col, label in ((4, words["attainment"]), (5, words["pace"])):
        chart.add_series({"name": label, "categories": [name, 1, 0, n, 0],
                          "values": [name, 1, col, n, col]})
    chart.set_title({"name": f"{words['attainment']} / {words['pace']}"})
    chart.set_y_axis({"num_format": "0%"})
    ws.insert_chart(n + 3, 0, chart, {"x_scale": 1.4, "y_scale": 1.2})
    sev = list(d["severity_counts"].items())
    base = n + 3
    ws.write_row(base, 11, [words["severity"], words["findings"]], bold)
    for i, (s, c) in enumerate(sev, start=1):
        ws.write_string(base + i, 11, words[s])
        ws.write_number(base + i, 12, c)
    pie = wb.add_chart({"type": "pie"})
    pie.add_series({"name": words["findings"],
                    "categories": [name, base + 1, 11, base + len(sev), 11],
                    "values": [name, base + 1, 12, base + len(sev), 12]})
    pie.set_title({"name": words["findings"]})
    ws.insert_chart(base + len(sev) + 2, 11, pie)
    return n


def _targets(wb: Any, words: dict[str, str], d: dict[str, Any], bold: Any) -> int:
    zh = d["lang"] == "zh"
    shown = {s: (d["labels"].get(s) or s) if zh else s for s in d["stages"]}
    rows = [[rep_id, r["name"], r["team"], shown[s], r["today"][s], r["week"][s],
             r["target"].get(s)]
            for rep_id, r in d["reps"].items() for s in d["stages"] if s in r["today"]]
    grain = PERIOD_WORDS[d["lang"]].get(d["period"]["grain"], d["period"]["grain"])
    _sheet(wb, "targets", ["rep_id", "name", "team", "stage",
                           f"{words['today']} {d['as_of']}",
                           f"{words['this_week']} {d['week'][0]}..{d['week'][1]}",
                           f"{words['target']} ({grain})"], rows, bold, lang=d["lang"])
    return len(rows)


def _assignments(wb: Any, result: RunResult, bold: Any, lang: str) -> int:
    """The assignments sheet: assignments.csv's rows with each rep's name beside the id."""
    reps = result.dataset.reps
    rows = [[x.lead_id, x.rep_id, reps[x.rep_id].name if x.rep_id in reps else "", x.team,
             x.policy, x.rule, x.reason] for x in result.allocation.assignments]
    _sheet(wb, "assignments", ["lead_id", "rep_id", "rep_name", "team", "policy", "rule",
                               "reason"], rows, bold, lang=lang)
    return len(rows)


def _tables(wb: Any, result: RunResult, bold: Any, pct: Any, lang: str) -> dict[str, int]:
    """The progress and findings sheets: the CSVs' rows, figures rounded to cents."""
    counts: dict[str, int] = {}
    shown = {st.name: (st.label or st.name) if lang == "zh" else st.name
             for st in result.dataset.funnel.stages}
    rows = [[p.rep_id, p.team, shown.get(p.stage, p.stage), p.actual, p.expected_to_date,
             p.target, p.attainment, p.pace, _round2(p.projected),
             _round2(p.required_per_day), p.remaining_days, p.subject_kind]
            for p in [*result.progress, *result.team_progress]]
    _sheet(wb, "progress", ["rep_id", "team", "stage", "actual", "expected_to_date", "target",
                            "attainment", "pace", "projected", "required_per_day",
                            "remaining_days", "subject_kind"], rows, bold, {6: pct, 7: pct},
           lang)
    counts["progress"] = len(rows)
    zh = lang == "zh"
    names = report_data.check_names(result) if zh else {}
    words = LABELS[lang]
    rows = [[f.subject, f.subject_kind, names.get(f.check, f.check),
             words[f.severity] if zh else f.severity, f.message, f.action]
            for f in result.findings]
    _sheet(wb, "findings", ["subject", "subject_kind", "check", "severity", "message",
                            "action"], rows, bold, lang=lang)
    counts["findings"] = len(rows)
    return counts


def write_workbook(result: RunResult, path: Path, d: dict[str, Any] | None = None
                   ) -> dict[str, int]:
    """Write the workbook; returns each sheet's data row count."""
    import xlsxwriter

    words = LABELS[result.config.output.language]
    d = d if d is not None else report_data.build(result)
    # a workbook held in memory writes its tables as XML at once (TableSheet: three times
    # quicker than cell by cell); a huge one streams its rows, so that memory stays bounded
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": cell_count(result, d) > MAX_IN_MEMORY,
                                         "strings_to_formulas": False,
                                         "strings_to_urls": False})
    # a fixed creation time (the as-of date) keeps the same run's workbook byte-identical
    created = dt.datetime.combine(result.as_of, dt.time())
    wb.set_properties({"title": words["title"], "comments": f"salesrules {result.version}",
                       "created": created})
    fmt = formats(wb)
    counts = {"summary": _summary(wb, words, d, fmt)}
    lang = result.config.output.language
    counts["assignments"] = _assignments(wb, result, fmt["bold"], lang)
    counts["targets"] = _targets(wb, words, d, fmt["bold"])
    counts.update(_tables(wb, result, fmt["bold"], fmt["pct"], lang))
    wb.close()
    return counts

