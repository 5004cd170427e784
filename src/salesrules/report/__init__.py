"""The built-in report plugin: ``report.html`` (self-contained, offline) and ``workbook.xlsx``.

It is produced through the ``write_outputs`` lifecycle hook like any plugin's
output, so a company can switch it off (``[plugins] disable``) and ship its own.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..hookspecs import hookimpl
from ..run import RunResult
from . import data as report_data
from .labels import LABELS, headline


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


def _rate(x: float | None, unit: str, upper_unit: str) -> str:
    if x is None:
        return "–"
    return f"{x:,.0f}" if unit == "amount" and upper_unit == "count" else f"{x:.1%}"


def _safe_json(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def render_html(result: RunResult, d: dict | None = None) -> str:
    """The report page, with the plotly.js bundle and the data inline: no network needed."""
    import jinja2
    from markupsafe import Markup
    from plotly.offline import get_plotlyjs

    lang = result.config.output.language
    words = LABELS[lang]
    d = d if d is not None else report_data.build(result)
    env = jinja2.Environment(loader=jinja2.PackageLoader("salesrules", "report/templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["repname"] = lambda r: d["reps"].get(r, {}).get("name", r)
    stage = d["result_stage"]
    stage_label = d["labels"].get(stage) if lang == "zh" and d["labels"].get(stage) else stage
    headlines = []
    for t in d["overview"]["teams"]:
        meet = round((t["execution"] or 0) * t["reps"])
        headlines.append(headline(lang, t, d["period"]["grain"], stage_label, meet))
    plotly_js = get_plotlyjs().replace("</script", "<\\/script")
    return env.get_template("report.html.j2").render(
        lang=lang, L=words, data=d, headlines=headlines,
        checks=sorted({f["check"] for f in d["findings"]}),
        pct=_pct, num=_num, rate=_rate, version=result.version,
        plotly_js=Markup(plotly_js), data_json=Markup(_safe_json(d)),
        labels_json=Markup(_safe_json(words)))


@hookimpl(trylast=True)
def write_outputs(result: RunResult, out_dir: Path) -> None:
    out = result.config.output
    if not (out.report or out.workbook):
        return
    d = report_data.build(result)  # once, for both
    if out.workbook:
        from .workbook import write_workbook

        write_workbook(result, out_dir / "workbook.xlsx", d)
    if out.report:
        (out_dir / "report.html").write_text(render_html(result, d), encoding="utf-8")
