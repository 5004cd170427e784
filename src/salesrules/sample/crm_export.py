"""An opportunity export as a CRM hands it over: one row per deal, open deals undated, US dates.

The shape of the public "CRM sales opportunities" exports: ``sales_pipeline.csv``
(opportunity_id, sales_agent, product, account, deal_stage, engage_date,
close_date, close_value) with stages Prospecting, Engaging, Won and Lost,
M/D/YYYY dates, prospecting deals without an engage date, and a product spelled
two ways; ``sales_teams.csv`` (agents, managers and offices, no levels, some
agents without a deal); ``products.csv``. Nothing is reshaped for salesrules.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

PRODUCTS = {"GTX Basic": 550, "GTX Pro": 4821, "MG Special": 55, "MG Advanced": 3393,
            "GTX Plus Pro": 5482, "GTX Plus Basic": 1096, "GTK 500": 26768}
#: How the pipeline file spells "GTX Pro" (the product file has the space).
TYPO = "GTXPro"
OFFICES = ("Central", "East", "West")


def _us(d: dt.date | None) -> str:
    return f"{d.month}/{d.day}/{d.year}" if d else ""


def _close_day(rng: random.Random, engage: dt.date) -> dt.date:
    """A close date 1-90 days on, pulled toward the end of its quarter (B2B's quarter-end peak)."""
    day = engage + dt.timedelta(days=rng.randrange(1, 90))
    if rng.random() < 0.35:
        q_end_month = (day.month - 1) // 3 * 3 + 3
        last = (dt.date(day.year + q_end_month // 12, q_end_month % 12 + 1, 1)
                - dt.timedelta(days=1))
        day = last - dt.timedelta(days=rng.randrange(0, 20))
    return day


def _deal(rng: random.Random, agent: str, skill: float, start: dt.date, end: dt.date,
          n: int) -> list[str]:
    product = rng.choice(list(PRODUCTS))
    engage_day = start + dt.timedelta(days=rng.randrange((end - start).days))
    close_day = _close_day(rng, engage_day)
    engage: dt.date | None = engage_day
    close: dt.date | None = close_day
    roll = rng.random()
    if engage_day > end - dt.timedelta(days=25) and roll < 0.5:
        stage, engage, close, value = "Prospecting", None, None, ""
    elif close_day > end:
        stage, close, value = "Engaging", None, ""
    elif roll < skill:
        stage, value = "Won", str(round(PRODUCTS[product] * rng.uniform(0.9, 1.1)))
    else:
        stage, value = "Lost", "0"
    shown = TYPO if product == "GTX Pro" else product
    return [f"OPP{n:06d}", agent, shown, f"Account {rng.randrange(1, 86)}", stage,
            _us(engage), _us(close), value]


def generate_crm_export(outdir: Path, deals: int = 8800, agents: int = 35, idle: int = 5,
                        seed: int = 11, end: dt.date = dt.date(2026, 12, 31)) -> dict[str, Path]:
    """Write the three files of an opportunity export; ``idle`` agents have no deal."""
    rng = random.Random(seed)
    outdir.mkdir(parents=True, exist_ok=True)
    names = [f"Agent {i + 1:02d}" for i in range(agents)]
    skill = {a: rng.uniform(0.5, 0.75) for a in names}
    working = names[:agents - idle]
    start = end.replace(year=end.year - 1, month=1, day=1) + dt.timedelta(days=90)
    rows: list[list[str]] = []
    for n in range(1, deals + 1):
        agent = working[n % len(working)]
        rows.append(_deal(rng, agent, skill[agent], start, end, n))
    files = {"deals": outdir / "sales_pipeline.csv", "reps": outdir / "sales_teams.csv",
             "products": outdir / "products.csv"}
    _write(files["deals"], ["opportunity_id", "sales_agent", "product", "account",
                            "deal_stage", "engage_date", "close_date", "close_value"], rows)
    _write(files["reps"], ["sales_agent", "manager", "regional_office"],
           [[a, f"Manager {i % 6 + 1}", OFFICES[i % 6 // 2]] for i, a in enumerate(names)])
    _write(files["products"], ["product", "series", "sales_price"],
           [[p, p.split()[0], price] for p, price in PRODUCTS.items()])
    return files


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def crm_export_rules() -> dict:
    """A rules.toml (as a dict) that reads :func:`generate_crm_export`'s files as they are."""
    from .deals import _deals_funnel
    return {
        "data": {"dir": ".",
                 "reps": {"file": "sales_teams.csv",
                          "columns": {"id": "sales_agent", "team": "regional_office"}},
                 "deals": {"file": "sales_pipeline.csv",
                           "columns": {"id": "opportunity_id", "owner": "sales_agent",
                                       "stage": "deal_stage", "amount": "close_value",
                                       "created_at": "engage_date"},
                           "params": {"preset": "generic", "known": {
                               "product": {"file": "products.csv", "column": "product"}}}}},
        "funnel": {"stages": _deals_funnel()},
        "goals": {"period": "quarter", "split": "even", "funnel": "personal",
                  "levels": {"P1": {"revenue": 150000}}},
        "allocation": {"rules": [{"name": "all", "policy": "balanced"}]},
        "output": {"dir": "out"},
    }
