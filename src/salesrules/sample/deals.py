"""Deal (opportunity) exports in a CRM preset's format, made from the same simulated reps."""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from pathlib import Path

from .simulate import _activity
from .world import LEVEL_TARGETS, SampleSpec, _make_reps

DEAL_OPEN_STAGES = {
    "salesforce": ["Needs Analysis", "Value Proposition", "Proposal/Price Quote",
                   "Negotiation/Review"],
    "hubspot": ["Presentation Scheduled", "Decision Maker Bought-In", "Contract Sent"],
    "generic": ["Proposal"],
}
DEAL_FIRST = {"salesforce": "Prospecting", "hubspot": "Appointment Scheduled", "generic": "New"}
DEAL_WON = {"salesforce": "Closed Won", "hubspot": "Closed Won", "generic": "Won"}
DEAL_LOST = {"salesforce": "Closed Lost", "hubspot": "Closed Lost", "generic": "Lost"}


def _deal_date(preset: str, d: dt.date | dt.datetime | None) -> str:
    if d is None:
        return ""
    if preset == "salesforce":
        return d.strftime("%m/%d/%Y")
    if preset == "hubspot" and isinstance(d, dt.datetime):
        return d.strftime("%Y-%m-%d %H:%M")
    return d.strftime("%Y-%m-%d") if not isinstance(d, dt.datetime) else d.strftime(
        "%Y-%m-%d %H:%M")


def _deal_amount(preset: str, x: float) -> str:
    return f"${x:,.2f}" if preset == "salesforce" else f"{x:.2f}"


def generate_deals(outdir: Path, spec: SampleSpec, preset: str) -> dict[str, Path]:
    """A deal (opportunity) export in a preset's format, with its reps file.

    Every intent customer of the simulated reps becomes a deal on its day;
    deals are won (at the win rate), lost or still open by ``spec.end``.
    ``spec.leads`` open deals nobody owns yet are the leads to allocate.
    """
    from ..load.deals import PRESETS

    outdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(spec.seed)
    reps = _make_reps(spec, rng).reps
    head = PRESETS[preset]
    extra_cols = {"salesforce": ["Opportunity Name", "Lead Source"],
                  "hubspot": ["Deal Name", "Pipeline"], "generic": ["name", "source"]}[preset]
    header = [head[f] for f in ("id", "owner", "stage", "amount", "created_at", "close_date")]
    header += extra_cols
    rows = _owned_deal_rows(spec, rng, reps, preset)
    rows += _open_deal_rows(spec, rng, preset, first=len(rows) + 1)
    files = {}
    with (outdir / "deals.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    files["deals"] = outdir / "deals.csv"
    with (outdir / "reps.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["rep_id", "name", "team", "level", "active", "capacity"])
        for r in reps:
            w.writerow([r.id, r.name, r.team, r.level, "yes" if r.active else "no", r.capacity])
    files["reps"] = outdir / "reps.csv"
    return files


def _owned_deal_rows(spec: SampleSpec, rng: random.Random, reps: list, preset: str) -> list[list]:
    """One deal row per simulated intent customer: won, lost or still open by ``spec.end``."""
    owner_of = {r.id: (r.id if preset == "generic" else r.name) for r in reps}
    rows: list[list] = []
    calls: dict = {}
    for day, rep_id, *_, intents, _pipeline, _revenue in _activity(spec, rng, reps, {}, calls):
        if not intents:
            continue
        rep = next(r for r in reps if r.id == rep_id)
        for _ in range(int(intents)):
            n = len(rows) + 1
            amount = round(rep.arpu * math.exp(rng.gauss(0, 0.25)), 2)
            created = dt.datetime.combine(day, dt.time(9)) + dt.timedelta(
                minutes=rng.randrange(0, 540))
            roll = rng.random()
            close = day + dt.timedelta(days=rng.randrange(3, 35))
            # won often enough that a healthy rep's deals reach their level target
            # (a rate measured by date loses the deals still closing at the window's end)
            if roll < 0.38 and close <= spec.end:
                stage, closed = DEAL_WON[preset], close
            elif roll > 0.45 and close <= spec.end:
                stage, closed = DEAL_LOST[preset], close
            else:
                stage, closed = rng.choice(DEAL_OPEN_STAGES[preset]), None
            rows.append([f"D{n:07d}", owner_of[rep_id], stage, _deal_amount(preset, amount),
                         _deal_date(preset, created), _deal_date(preset, closed),
                         f"Deal {n}", rng.choice(["Web", "Referral", "Partner"])])
    return rows


def _open_deal_rows(spec: SampleSpec, rng: random.Random, preset: str, first: int) -> list[list]:
    """``spec.leads`` open deals nobody owns yet, numbered from ``first``: the leads to allocate."""
    rows = []
    for n in range(first, first + spec.leads):
        created = dt.datetime.combine(spec.end, dt.time(0)) - dt.timedelta(
            minutes=rng.randrange(1, 3 * 24 * 60))
        amount = round(3000 * math.exp(rng.gauss(0, 0.4)), 2)
        rows.append([f"D{n:07d}", "", DEAL_FIRST[preset], _deal_amount(preset, amount),
                     _deal_date(preset, created), "", f"Deal {n}",
                     rng.choice(["Web", "Referral", "Partner"])])
    return rows


def _deals_funnel() -> list[dict]:
    """A deals funnel: new customers, deals won (a real win rate), revenue per win."""
    return [
        {"name": "intents", "label": "意向客户", "unit": "count", "kind": "process"},
        {"name": "wins", "label": "成交", "unit": "count", "default_rate": 0.4},
        {"name": "revenue", "label": "业绩", "unit": "amount", "default_rate": 3000.0}]


def deal_rules_for(preset: str) -> dict:
    """A rules.toml (as a dict) for a deal export: a deals funnel, the preset, leads from it."""
    first = DEAL_FIRST[preset]
    return {
        "data": {"dir": ".", "reps": {"file": "reps.csv", "columns": {"id": "rep_id"}},
                 "deals": {"file": "deals.csv", "params": {
                     "preset": preset,
                     "leads_when": f"stage == '{first}' and owner == ''"}}},
        "funnel": {"stages": _deals_funnel()},
        "goals": {"period": "quarter", "split": "even", "funnel": "personal",
                  "levels": {lvl: {"revenue": amt} for lvl, amt in LEVEL_TARGETS.items()}},
        "allocation": {"rules": [{"name": "open deals", "policy": "balanced"}]},
        "checks": {"behind-pace": {}, "team-execution": {}, "goal-raise": {}},
        "output": {"dir": "out"},
    }
