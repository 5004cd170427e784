"""The sample generator: a realistic CRM export with known, planted behaviours."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

from . import history
from .simulate import _activity, _calls, _leads
from .world import (
    FIELDS,
    HEADERS_EN,
    HEADERS_ZH,
    LEVEL_TARGETS,
    PLANT_CAUSES,
    SampleSpec,
    _calendar,
    _last_working_days,
    _make_reps,
    _quarter,
)


def _fmt_cell(v: object, chinese: bool, field: str) -> object:
    if isinstance(v, dt.datetime):
        return v.strftime("%Y/%m/%d %H:%M") if chinese else v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, dt.date):
        return v.strftime("%Y/%m/%d") if chinese else v.isoformat()
    if isinstance(v, bool):
        return ("是" if v else "否") if chinese else ("yes" if v else "no")
    if isinstance(v, float):
        # Chinese exports often carry thousands separators on amounts
        return f"{v:,.2f}" if chinese else f"{v:.2f}"
    return v


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]], spec: SampleSpec,
           encoding: str) -> Path:
    if spec.format == "xlsx":
        import openpyxl

        path = path.with_suffix(".xlsx")
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("export")
        ws.append(list(header))
        for row in rows:
            ws.append([("yes" if c else "no") if isinstance(c, bool) else c for c in row])
        wb.save(path)
        return path
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for row in rows:
            w.writerow([_fmt_cell(c, spec.chinese, "") for c in row])
    return path


#: The sample ``generate`` makes when given no spec.
DEFAULT_SPEC = SampleSpec()


def _truth(spec: SampleSpec, reps: list, weak_team: str, bad: list[tuple[str, dt.date]],
           slumps: dict[str, list[tuple[dt.date, dt.date]]] | None) -> dict:
    """What ``truth.json`` says: the plants, and what a check or backtest should find."""
    planted = {r.plant: r.id for r in reps if r.plant and r.plant not in ("weak_team",
                                                                            "new_team")}
    new_team = sorted(r.id for r in reps if r.plant == "new_team")
    reps_of = {r.id: r for r in reps}
    return {
        "seed": spec.seed, "end": spec.end.isoformat(), "reps": spec.reps, "days": spec.days,
        "leads": spec.leads,
        "planted": planted,
        "weak_team": weak_team,
        # a team founded on the quarter's first day: no history before the period
        "new_team": {"team": reps_of[new_team[0]].team, "reps": new_team} if new_team else {},
        # the hire date of each rep hired in the export's quarter (their rows start there)
        "hired": {r.id: r.hired.isoformat() for r in reps if r.plant in ("hired_mid_quarter",
                                                                       "new_team")},
        "clean": sorted(r.id for r in reps if not r.plant),
        # the cause a check should name for each planted rep (the weak team's reps included)
        "causes": {r.id: PLANT_CAUSES[r.plant] for r in reps if r.plant in PLANT_CAUSES},
        "bad_rows": [[rep_id, day.isoformat()] for rep_id, day in bad],
        # whether the export holds history before the period (a quarter's export does not)
        "history_before_period": (spec.end - dt.timedelta(days=spec.days - 1)
                                  < _quarter(spec.end).start),
        "levels": {r.id: r.level for r in reps},
        "rates": {r.id: [round(x, 4) for x in r.rates] for r in reps},
        **(history.truth_of(spec, slumps or {}, reps) if spec.quarters else {}),
    }


def generate(outdir: Path, spec: SampleSpec = DEFAULT_SPEC) -> dict[str, Path]:
    """Write reps, leads, activity, leave and call files, plus ``truth.json`` naming the plants."""
    outdir.mkdir(parents=True, exist_ok=True)
    if spec.quarters:
        spec = attrs.evolve(spec, days=history.history_days(spec.end, spec.quarters))
    rng = random.Random(spec.seed)
    staff = _make_reps(spec, rng)
    reps, weak_team = staff.reps, staff.weak_team
    slumps = None
    if spec.quarters:
        history.spread_reps(spec, reps)
        slumps = history.plan_slumps(spec, reps)
    heads = HEADERS_ZH if spec.chinese else HEADERS_EN
    enc = {"reps": "utf-8-sig", "leads": "utf-8", "activity": "utf-8", "leave": "utf-8",
           "calls": "utf-8"}
    if spec.chinese:
        enc = dict.fromkeys(enc, "gb18030")
    cal = _calendar(spec)
    leave: dict[str, tuple[dt.date, dt.date]] = {}
    for rep in reps:
        if rep.plant == "on_leave":
            days = _last_working_days(spec.end, 8, cal)
            leave[rep.id] = (days[-1], spec.end)
    files = {}
    files["reps"] = _write(outdir / "reps.csv", heads["reps"], (
        (r.id, r.name, r.team, r.level, r.active, r.capacity, r.hired) for r in reps),
        spec, enc["reps"])
    lead_head, lead_rows = heads["leads"], _leads(spec, rng, reps)
    if spec.quarters:
        lead_head += (history.OUTCOME_HEADERS_ZH if spec.chinese
                      else history.OUTCOME_HEADERS_EN)
        lead_rows = history.history_leads(spec, rng, reps, len(lead_rows) + 1) + [
            (*row, "", "") for row in lead_rows]
    files["leads"] = _write(outdir / "leads.csv", lead_head, lead_rows, spec, enc["leads"])
    call_days: dict[tuple[str, dt.date], tuple[int, int]] = {}
    bad: list[tuple[str, dt.date]] = []
    files["activity"] = _write(outdir / "activity.csv", heads["activity"],
                               _activity(spec, rng, reps, leave, call_days, bad, slumps), spec,
                               enc["activity"])
    files["leave"] = _write(outdir / "leave.csv", heads["leave"],
                            ((k, a, b) for k, (a, b) in leave.items()), spec, enc["leave"])
    if spec.call_days > 0:
        files["calls"] = _write(outdir / "calls.csv", heads["calls"],
                                _calls(spec, rng, reps, call_days), spec, enc["calls"])
    truth = _truth(spec, reps, weak_team, bad, slumps)
    (outdir / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    return files


def _has_outcomes(leads: Path) -> bool:
    """Whether the Chinese leads file (CSV or XLSX) has the outcome columns (a ``--quarters``
    export): its header as the loader reads it."""
    from ..load.frame import read_raw

    table = read_raw(leads, "auto", "")
    return history.OUTCOME_HEADERS_ZH[0] in [h.strip() for h in table.header]


def rules_for(files: dict[str, Path], chinese: bool, data_dir: str = ".") -> dict:
    """A rules.toml (as a dict) that reads the generated files."""
    heads = HEADERS_ZH if chinese else HEADERS_EN
    data: dict[str, object] = {"dir": data_dir, "encoding": "auto"}
    for name in ("reps", "leads", "activity", "leave", "calls"):
        if name not in files:
            continue
        cols = {f: h for f, h in zip(FIELDS[name], heads[name]) if f != h}
        if chinese and name == "leads" and _has_outcomes(files[name]):
            # how a past lead ended: read as the outcome fields, which a backtest hides
            cols.update(zip(("outcome", "amount"), history.OUTCOME_HEADERS_ZH))
        table: dict[str, object] = {"file": files[name].name}
        if cols:
            table["columns"] = cols
        data[name] = table
    return {
        "data": data,
        "goals": {"period": "quarter", "split": "even", "funnel": "personal",
                  "levels": {lvl: {"revenue": amt} for lvl, amt in LEVEL_TARGETS.items()},
                  **({"calendar": {"country": "CN"}} if chinese else {})},
        "allocation": {"rules": [{"name": "全部线索" if chinese else "all leads",
                                  "policy": "balanced"}],
                       "recycle": {"after_days": 7}},
        "checks": {name: {} for name in ("behind-pace", "effort-without-results",
                                         "vanity-activity", "zero-streak", "team-execution",
                                         "data-gaps", "goal-raise")},
        "output": {"dir": "out", **({"language": "zh"} if chinese else {})},
    }


from .deals import deal_rules_for, generate_deals  # noqa: E402

__all__ = ["SampleSpec", "deal_rules_for", "generate", "generate_deals", "rules_for"]
