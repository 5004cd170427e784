"""The backtest's files: ``backtest.csv``, ``backtest.json`` and ``backtest.html`` (offline,
its charts drawn as inline SVG, no script)."""

from __future__ import annotations

import csv
import html
import json
import math
import os
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import RulesConfig
from ..errors import UserError
from ..load import data_dir
from ..outputs.folder import crash_point, protected_reason
from ..words import speaking, stage
from . import BacktestResult
from .rows import ALL
from .summary import MODEL_ZH, check_names, sentences

FILES = ("backtest.csv", "backtest.json", "backtest.html")
#: The prefix of a file being written: renamed over its final name once every file is written.
PARTIAL = ".partial-"
COLORS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")


def _num(v: float) -> str:
    return "" if math.isnan(v) else f"{v:.6g}"


def write_csv(result: BacktestResult, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "measure", "subject", "value"])
        for r in result.rows:
            w.writerow([r.date, r.measure, r.subject, _num(r.value)])


def summary_json(result: BacktestResult, rules: str, options: dict) -> dict:
    """``backtest.json``: what was replayed on what, and every summed-up figure."""
    ds = result.dataset
    totals: dict[str, dict[str, float]] = {}
    for r in result.rows:
        if r.date == ALL and not math.isnan(r.value):
            totals.setdefault(r.measure, {})[r.subject] = round(r.value, 6)
    return {
        "version": __version__,
        "config": {"path": rules, "digest": result.config.digest},
        "inputs": [{"name": i.name, "path": i.path, "source": i.source, "digest": i.digest,
                    "rows": i.rows, "encoding": i.encoding} for i in ds.inputs],
        **options,
        "dates": [d.isoformat() for d in result.dates],
        "before_activity": {"first_day": str(ds.activity.first_day()),
                            "dates_not_replayed": [d.isoformat() for d in result.skipped]},
        "summary": sentences(result, result.config.output.language),
        "goals": {m: round(e, 6) for m, e in result.goals.overall().items()},
        "periods_judged": {p: {"missed": sorted(o.reps), "teams_missed": sorted(o.teams),
                               "reps_judged": o.judged_reps}
                           for p, o in sorted(result.warnings.outcomes.items())},
        "metrics_not_predictive": result.metrics.idle(),
        "caveat": result.caveat,
        "totals": totals,
    }


def write_json(result: BacktestResult, path: Path, rules: str, options: dict) -> None:
    path.write_text(json.dumps(summary_json(result, rules, options), indent=2,
                               ensure_ascii=False) + "\n", encoding="utf-8")


# ------------------------------------------------------------------ SVG charts

W, H, PAD = 720, 260, 48


def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def line_chart(title: str, dates: list[str], series: dict[str, dict[str, float]],
               percent: bool = True) -> str:
    """Lines over the dates: ``series[name][date] = value``; gaps where a date has none."""
    values = [v for s in series.values() for v in s.values() if not math.isnan(v)]
    if not values or not dates:
        return ""
    hi = max(max(values), 1e-9) * 1.1
    x = _scale(0, max(len(dates) - 1, 1), PAD, W - PAD)
    y = _scale(0, hi, H - PAD, 16)
    parts = [f'<svg viewBox="0 0 {W} {H + 24 * len(series)}" role="img" '
             f'aria-label="{html.escape(title)}" xmlns="http://www.w3.org/2000/svg">']
    for k in range(5):
        v = hi * k / 4
        label = f"{v:.0%}" if percent else f"{v:.2g}"
        parts.append(f'<line x1="{PAD}" x2="{W - PAD}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                     f'stroke="#e5e7eb"/><text x="{PAD - 6}" y="{y(v) + 4:.1f}" '
                     f'font-size="11" text-anchor="end" fill="#6b7280">{label}</text>')
    for i in sorted({0, len(dates) // 2, len(dates) - 1}):
        parts.append(f'<text x="{x(i):.1f}" y="{H - PAD + 16}" font-size="11" '
                     f'text-anchor="middle" fill="#6b7280">{dates[i]}</text>')
    for n, (name, points) in enumerate(series.items()):
        color = COLORS[n % len(COLORS)]
        xy = [f"{x(i):.1f},{y(points[d]):.1f}" for i, d in enumerate(dates)
              if d in points and not math.isnan(points[d])]
        if len(xy) > 1:
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" '
                         f'points="{" ".join(xy)}"/>')
        elif xy:  # one date: a dot (a one-point line draws nothing)
            cx, cy = xy[0].split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="4" fill="{color}"/>')
        ly = H + 24 * n
        parts.append(f'<rect x="{PAD}" y="{ly - 9}" width="12" height="12" fill="{color}"/>'
                     f'<text x="{PAD + 18}" y="{ly + 1}" font-size="12">{html.escape(name)}'
                     f'</text>')
    return "".join(parts) + "</svg>"


def interval_chart(title: str, items: list[tuple[str, float, float, float]]) -> str:
    """One bar per item (name, value, low, high) from 0, with its interval as a whisker."""
    if not items:
        return ""
    height = 30 * len(items) + 40
    x = _scale(-1, 1, 160, W - 24)
    parts = [f'<svg viewBox="0 0 {W} {height}" role="img" aria-label="{html.escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg">',
             f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="8" y2="{height - 24}" stroke="#9ca3af"/>']
    for v in (-1, -0.5, 0.5, 1):
        parts.append(f'<text x="{x(v):.1f}" y="{height - 8}" font-size="11" '
                     f'text-anchor="middle" fill="#6b7280">{v:g}</text>')
    for k, (name, v, low, high) in enumerate(items):
        top = 12 + 30 * k
        left, right = sorted((x(0), x(v)))
        parts.append(f'<text x="150" y="{top + 14}" font-size="12" text-anchor="end">'
                     f'{html.escape(name)}</text>'
                     f'<rect x="{left:.1f}" y="{top}" width="{right - left:.1f}" height="18" '
                     f'fill="{COLORS[0]}" opacity="0.7"/>'
                     f'<line x1="{x(low):.1f}" x2="{x(high):.1f}" y1="{top + 9}" '
                     f'y2="{top + 9}" stroke="#111827" stroke-width="2"/>')
    return "".join(parts) + "</svg>"


def _series(result: BacktestResult, prefix: str, subject: str | None = None,
            strip: str = "") -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for r in result.rows:
        if r.date == ALL or not r.measure.startswith(prefix):
            continue
        if subject is not None and r.subject != subject:
            continue
        name = r.measure[len(strip):] if strip else r.measure
        out.setdefault(name, {})[r.date] = r.value
    return out


#: The page's words: English, and Chinese for ``output.language = "zh"``.
PAGE_WORDS: dict[str, dict[str, Any]] = {
    "en": {"title": "Backtest", "goals": "Goals: each model's rate error",
           "warnings": "Early warnings", "metrics": "Metrics worth watching", "totals": "Totals",
           "error": "rate error, {link}", "teams": "{check} (teams)",
           "pr": "{subject}: precision and recall", "rho": "rank correlation",
           "series": {}},
    "zh": {"title": "回测", "goals": "目标：各模型转化率误差", "warnings": "预警",
           "metrics": "值得追踪的过程指标", "totals": "汇总", "error": "转化率误差：{link}",
           "teams": "{check}（团队）", "pr": "{subject}：精确率与召回率", "rho": "秩相关",
           "series": {**MODEL_ZH, "precision": "精确率", "recall": "召回率"}},
}


def _link(link: str) -> str:
    """A funnel link (``dials>connects``) by its stages' names as the manager reads them."""
    return "→".join(stage(s) for s in link.split(">"))


def _named(series: dict[str, dict[str, float]], words: dict) -> dict[str, dict[str, float]]:
    """The series by the names a manager reads (models, precision and recall)."""
    return {words["series"].get(k, k): v for k, v in series.items()}


def _goal_charts(result: BacktestResult, dates: list[str], words: dict) -> list[str]:
    links = sorted({r.subject for r in result.rows if r.measure.startswith("goals.error.")
                    and r.date != ALL})
    return [f"<h3>{html.escape(_link(link))}</h3>" + line_chart(
        words["error"].format(link=_link(link)), dates,
        _named(_series(result, "goals.error.", link, "goals.error."), words))
        for link in links]


def _warning_charts(result: BacktestResult, dates: list[str], words: dict) -> list[str]:
    out = []
    shown = check_names(result)
    for (check, kind), t in sorted(result.warnings.tally.items()):
        if not t.flagged:
            continue
        subject = check if kind == "rep" else f"{check} (teams)"
        name = shown.get(check, check)
        title = name if kind == "rep" else words["teams"].format(check=name)
        out.append((title, line_chart(words["pr"].format(subject=title), dates, _named(
            _series(result, "warnings.", subject, "warnings."), words))))
    return [f"<h3>{html.escape(s)}</h3>{svg}" for s, svg in out]


def write_html(result: BacktestResult, path: Path, rules: str) -> None:
    lang = "zh" if result.config.output.language == "zh" else "en"
    with speaking(lang, {s.name: s.label for s in result.dataset.funnel.stages}):
        path.write_text(_page(result, rules, lang), encoding="utf-8")


def _page(result: BacktestResult, rules: str, lang: str) -> str:
    """The page: the summary, then each chart, titled in ``lang`` (stages and checks by the
    names a manager reads); the totals table keeps ``backtest.csv``'s measure names."""
    words = PAGE_WORDS[lang]
    dates = [d.isoformat() for d in result.dates]
    corr = result.metrics.correlations()
    metrics = interval_chart(words["rho"], [(stage(s), c.rho, c.low, c.high)
                                            for s, c in corr.items()])
    totals = "".join(f"<tr><td>{html.escape(r.measure)}</td><td>{html.escape(r.subject)}</td>"
                     f"<td>{_num(r.value)}</td></tr>" for r in result.rows if r.date == ALL)
    said = "".join(f"<li>{html.escape(s)}</li>" for s in sentences(result, lang))
    body = (f"<h1>{words['title']}: {html.escape(rules)}</h1>"
            f"<p>{html.escape(result.config.digest)}</p><ul>{said}</ul>"
            f"<h2>{words['goals']}</h2>{''.join(_goal_charts(result, dates, words))}"
            f"<h2>{words['warnings']}</h2>{''.join(_warning_charts(result, dates, words))}"
            f"<h2>{words['metrics']}</h2>{metrics}<h2>{words['totals']}</h2>"
            f"<table>{totals}</table>")
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{words['title']}</title><style>body{{font-family:system-ui,sans-serif;"
            f"max-width:60rem;margin:2rem auto;padding:0 1rem}}svg{{max-width:100%}}"
            f"td{{padding:2px 8px}}</style></head><body>{body}</body></html>\n")


def check_folder(out: Path, cfg: RulesConfig, data: Path | None, force: bool) -> None:
    """The run's ``--out`` guard: never the root, home, rules or data folder (the one read,
    ``--data`` included); a folder holding files the backtest did not write only with
    ``force``."""
    folder = data_dir(cfg, data)
    never = protected_reason(out, cfg.base_dir,
                             [folder / t.file for t in cfg.data.tables.values()])
    if never:
        raise UserError(never)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder")
    foreign = sorted(p.name for p in out.iterdir()
                     if p.name not in FILES and not p.name.startswith(PARTIAL)) \
        if out.is_dir() else []
    if foreign and not force:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more"
                                          if len(foreign) > 3 else "")
        raise UserError(f"--out {out} holds files the backtest did not write ({shown}); "
                        "choose an empty or new folder, or pass --force to write beside them")


def write_all(result: BacktestResult, out: Path, rules: str, options: dict) -> list[str]:
    """Write the three files into ``out``; returns their names.

    Each is written beside its final name (``.partial-<name>``) and, once all three are on
    disk, renamed over it: a reader sees the previous backtest's file or the new one, never
    half a file."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(PARTIAL + "*"):  # what a killed backtest left
        stale.unlink()
    temp = [out / (PARTIAL + name) for name in FILES]
    write_csv(result, temp[0])
    write_json(result, temp[1], rules, options)
    write_html(result, temp[2], rules)
    crash_point("backtest.written")
    for t, name in zip(temp, FILES):
        os.replace(t, out / name)
    return list(FILES)
