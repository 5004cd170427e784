"""Compare two rule sets on the same leads: counts,
value, fairness and expected conversions per rep."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs

from .allocation import AllocationContext, AllocationResult, allocate
from .config import RulesConfig, load_config
from .goals import set_goals
from .history import open_history
from .load import Dataset, data_dir, load_dataset
from .progress import track
from .run import plan_run


def conversion_rates(dataset: Dataset, as_of: dt.date, days: int = 90) -> dict[str, float]:
    """Each rep's historical lead conversion: intents
    per connect over ``days``, team rate when thin.

    Uses the funnel's last count stage over its second stage (connects). A
    rep with fewer than 30 connects gets their team's rate.
    """
    funnel = dataset.funnel
    counts = [i for i, s in enumerate(funnel.stages) if s.unit == "count"]
    if len(counts) < 2:
        return {}
    top, bottom = counts[1] if len(counts) > 2 else counts[0], counts[-1]
    start = as_of - dt.timedelta(days=days)
    per_rep = {r: dataset.activity.totals(r, start, as_of) for r in dataset.reps}
    team_tot: dict[str, list[float]] = {}
    for rep in dataset.reps.values():
        t = team_tot.setdefault(rep.team, [0.0, 0.0])
        t[0] += per_rep[rep.id][top]
        t[1] += per_rep[rep.id][bottom]
    out = {}
    for rep in dataset.reps.values():
        up, down = per_rep[rep.id][top], per_rep[rep.id][bottom]
        if up >= 30:
            out[rep.id] = down / up
        else:
            t = team_tot[rep.team]
            out[rep.id] = t[1] / t[0] if t[0] else 0.0
    return out


@attrs.define
class Side:
    """One rule set's allocation of the shared leads."""

    rules: str
    result: AllocationResult
    leads: dict[str, int]
    value: dict[str, float]
    expected: dict[str, float]

    def summary(self) -> dict[str, float | int]:
        """Totals, and the fairness figure over the reps who could receive leads."""
        return {
            "assigned": len(self.result.assignments),
            "unassigned": len(self.result.unassigned),
            "value": round(sum(self.value.values()), 2),
            **self.result.fairness(),
            "expected_conversions": round(sum(self.expected.values()), 2),
        }


def _simulate(cfg: RulesConfig, dataset: Dataset, as_of: dt.date, seed: int) -> AllocationResult:
    plan = plan_run(cfg)
    goals = set_goals(cfg, dataset, plan.split, plan.funnel, as_of)
    progress = track(goals, dataset, as_of)
    view = None
    path = cfg.base_dir / cfg.history.path
    if cfg.history.enabled and path.exists():
        h = open_history(path, readonly=True)
        try:
            view = h.view(as_of, cfg.allocation.window_days, dataset.leads.ids)
        finally:
            h.close()
    context = AllocationContext(dataset, goals, tuple(progress), as_of, seed)
    return allocate(cfg, plan.routes, dataset, as_of, seed, view, context)


def compare(rules_a: Path, rules_b: Path, data: Path | None = None, as_of: dt.date | None = None,
            seed: int = 0) -> dict:
    """Allocate the leads of A's export under both rule sets; nothing is written."""
    cfg_a, cfg_b = load_config(rules_a), load_config(rules_b)
    plan_a = plan_run(cfg_a)
    dataset = load_dataset(cfg_a, plan_a.sources, data_dir(cfg_a, data))
    day = as_of or cfg_a.run.as_of or dataset.activity.last_day() or dt.date.today()
    rates = conversion_rates(dataset, day)
    value_of = dict(zip(dataset.leads.ids, dataset.leads.frame["value"].to_list()))
    sides = []
    for path, cfg in ((rules_a, cfg_a), (rules_b, cfg_b)):
        res = _simulate(cfg, dataset, day, seed)
        leads: dict[str, int] = {}
        value: dict[str, float] = {}
        for asg in res.assignments:
            leads[asg.rep_id] = leads.get(asg.rep_id, 0) + 1
            value[asg.rep_id] = value.get(asg.rep_id, 0.0) + value_of[asg.lead_id]
        expected = {r: n * rates.get(r, 0.0) for r, n in leads.items()}
        sides.append(Side(str(path), res, leads, value, expected))
    a, b = sides
    eligible = sorted(r.id for r in dataset.reps.values() if r.active)
    return {
        "as_of": day.isoformat(),
        "leads": len(dataset.leads),
        "a": {"rules": a.rules, **a.summary()},
        "b": {"rules": b.rules, **b.summary()},
        "reps": [
            {"rep_id": r, "team": dataset.reps[r].team,
             "a_leads": a.leads.get(r, 0), "a_value": round(a.value.get(r, 0.0), 2),
             "b_leads": b.leads.get(r, 0), "b_value": round(b.value.get(r, 0.0), 2),
             "a_expected": round(a.expected.get(r, 0.0), 2),
             "b_expected": round(b.expected.get(r, 0.0), 2),
             "conversion_rate": round(rates.get(r, 0.0), 4)}
            for r in eligible
        ],
    }


_SUMMARY = (("assigned", "assigned", "{:,}"), ("unassigned", "unassigned", "{:,}"),
            ("value", "lead value", "{:,.2f}"),
            ("gini_count", "Gini of counts, today", "{:.2f}"),
            ("gini_value", "Gini of value, today", "{:.2f}"),
            ("gini_count_window", "Gini of counts, window", "{:.2f}"),
            ("gini_value_window", "Gini of value, window", "{:.2f}"),
            ("expected_conversions", "expected conversions", "{:,.2f}"))


#: Printed under the summary table: what the Gini rows measure, in plain words.
GINI_LEGEND = ("Gini: 0 = shared evenly among the reps who could receive leads, 1 = all to one "
               "rep;\n      today = this run's leads, window = those plus the leads reps hold "
               "or got in the allocation window (allocation.window_days).")


def summary_rows(out: dict) -> list[list[str]]:
    """The side-by-side figures of a :func:`compare` result, as text: label, A, B."""
    return [[label, fmt.format(out["a"][key]), fmt.format(out["b"][key])]
            for key, label, fmt in _SUMMARY]
