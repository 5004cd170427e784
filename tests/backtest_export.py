"""A small multi-quarter export made by ``salesrules sample``, and the same export as it stood
on a past day (files cut by hand, to check the backtest's own cut against the loader)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import tomli_w

from salesrules.sample import SampleSpec, generate, rules_for

#: What the tests generate: four past quarters and the current one up to 2026-11-25.
SPEC = {"reps": 30, "quarters": 4, "leads": 40, "seed": 11}


def make_history(folder: Path, **spec) -> Path:
    """Generate a history export into ``folder`` with its rules.toml; return the rules path."""
    s = SampleSpec(**{**SPEC, **spec})
    files = generate(folder, s)
    rules = folder / "rules.toml"
    rules.write_text(tomli_w.dumps(rules_for(files, s.chinese)), encoding="utf-8")
    return rules


def truth(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text(encoding="utf-8"))


def _day(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text[:10]) if text.strip() else None


def _rewrite(path: Path, keep) -> None:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:]
    out = [row for row in (keep(dict(zip(head, r))) for r in body) if row is not None]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        w.writerows([[row[h] for h in head] for row in out])


def export_as_of(src: Path, dest: Path, as_of: dt.date) -> Path:
    """Copy the export in ``src`` to ``dest`` holding only what was known on ``as_of``:
    activity, calls and leave up to it, leads created by then as they stood (owner and
    later dates blank, no outcome). Returns the copy's rules path."""
    dest.mkdir(parents=True, exist_ok=True)
    for p in src.iterdir():
        if p.is_file():
            (dest / p.name).write_bytes(p.read_bytes())

    def lead(row: dict) -> dict | None:
        if _day(row["created_at"]) > as_of:
            return None
        assigned = _day(row["assigned_at"])
        if assigned is not None and assigned > as_of:
            row["owner"] = row["assigned_at"] = ""
        contact = _day(row["last_contact"])
        if contact is not None and contact > as_of:
            row["last_contact"] = ""
        for k in ("outcome", "amount"):
            if k in row:
                row[k] = ""
        return row

    _rewrite(dest / "leads.csv", lead)
    _rewrite(dest / "activity.csv", lambda r: r if _day(r["date"]) <= as_of else None)
    _rewrite(dest / "calls.csv", lambda r: r if _day(r["start"]) <= as_of else None)
    _rewrite(dest / "leave.csv", lambda r: r if _day(r["start"]) <= as_of else None)
    return dest / "rules.toml"
