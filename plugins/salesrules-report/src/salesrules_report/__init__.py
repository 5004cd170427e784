"""The report plugin: ``report.html`` (one offline page, charts drawn as SVG) and ``workbook.xlsx``.

It is produced through the ``write_outputs`` lifecycle hook like any plugin's
output, so a company can switch it off (``[plugins] disable =
["salesrules.report"]``) and ship its own. It imports only the public API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from salesrules.api import RunResult, hookimpl

from . import data as report_data
from .labels import LABELS, headline

#: Characters a string embedded in the page's JSON never carries raw: no ``<``
#: can open a tag or a comment, whatever a rep name, team name or lead holds.
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                 "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


def _rate(x: float | None, unit: str, upper_unit: str) -> str:
    if x is None:
        return "–"
    return f"{x:,.2f}" if unit == "amount" and upper_unit == "count" else f"{x:.1%}"


def safe_json(obj: object) -> str:
    """JSON to embed in a ``<script>``: ``<``, ``>`` and ``&`` appear only as ``\\u`` escapes."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    # one replace per character (no escape holds another's character): a pass over the
    # page's data each, far quicker than str.translate's lookup per character
    for raw, escape in _JSON_ESCAPES.items():
        text = text.replace(raw, escape)
    return text


def render_html(result: RunResult, d: dict[str, Any] | None = None) -> str:
    """The report page, with its chart script and data inline: no network needed."""
    import jinja2
    from markupsafe import Markup

    lang = result.config.output.language
    words = LABELS[lang]
    d = d if d is not None else report_data.build(result)
    loader = jinja2.PackageLoader("salesrules_report", "templates")
    env = jinja2.Environment(loader=loader,
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["repname"] = lambda r: d["reps"].get(r, {}).get("name", r)
    env.filters["stage"] = lambda s: (d["labels"].get(s) or s) if lang == "zh" else s
    stage = d["result_stage"]
    stage_label = d["labels"].get(stage) if lang == "zh" and d["labels"].get(stage) else stage
    headlines = [headline(lang, t, d["period"]["grain"], stage_label,
                          round((t["execution"] or 0) * t["reps"]))
                 for t in d["overview"]["teams"]]
    charts_js, _, _ = loader.get_source(env, "charts.js")
    return env.get_template("report.html.j2").render(
        lang=lang, L=words, data=d, headlines=headlines,
        checks=sorted({f["check"] for f in d["findings"]}),
        pct=_pct, num=_num, rate=_rate, version=result.version,
        charts_js=Markup(charts_js), data_json=Markup(safe_json(d)),
        labels_json=Markup(safe_json(words)))


@hookimpl(trylast=True)
def write_outputs(result: RunResult, out_dir: Path) -> None:
    """Write ``report.html`` and ``workbook.xlsx`` as ``[output]`` asks, from one data build."""
    out = result.config.output
    if not (out.report or out.workbook):
        return
    d = report_data.build(result)  # once, for both
    if out.workbook:
        from .workbook import write_workbook

        write_workbook(result, out_dir / "workbook.xlsx", d)
    if out.report:
        (out_dir / "report.html").write_text(render_html(result, d), encoding="utf-8")
