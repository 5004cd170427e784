"""Benchmark: allocating 200,000 leads to 2,000 reps
under each policy, and how cost grows with leads.

For each policy it prints the time per lead for N/2 and N leads and their
ratio: linear growth means 2x the leads takes about 2x the time (target <= 2.3).
Caps are lifted so that every lead is really assigned. Both sizes are timed in
the same process, best of --repeat runs.

    python bench/bench_allocation.py [--reps 2000] [--leads 200000]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

import attrs

from salesrules.allocation import AllocationContext, allocate
from salesrules.config import load_config
from salesrules.goals import set_goals
from salesrules.load import Dataset, data_dir, load_dataset
from salesrules.progress import track
from salesrules.run import plan_run

HERE = Path(__file__).resolve().parent

POLICIES: dict[str, dict[str, Any]] = {
    "balanced": {},
    "balanced-by-value": {"policy": "balanced", "params": {"by": "value"}},
    "weighted": {"params": {"level": {"P1": 1.0, "P2": 1.3, "P3": 1.6}}},
    "ranking-priority": {},
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--leads", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from bench_run import prepare

    from salesrules.sample import SampleSpec

    folder = HERE / "out" / f"export-{args.reps}-{args.days}-{args.leads}"
    rules = prepare(folder, SampleSpec(reps=args.reps, days=args.days, leads=args.leads,
                                       seed=1)).rules["kernel"]
    cfg = load_config(rules)
    cfg.history.enabled = False
    cfg.allocation.dedupe_on = []
    plan = plan_run(cfg)
    ds = load_dataset(cfg, plan.sources, data_dir(cfg, None))
    reps = {k: attrs.evolve(r, capacity=None) for k, r in ds.reps.items()}
    as_of = ds.activity.last_day()
    goals = set_goals(cfg, ds, plan.split, plan.funnel, as_of)
    progress = tuple(track(goals, ds, as_of))
    leads = [attrs.evolve(lead, owner=None) for lead in ds.leads]
    print(f"scale: {len(reps)} reps (caps lifted), {len(leads)} leads; best of {args.repeat}")
    print(f"{'policy':<20}{'N/2 leads':>12}{'N leads':>12}{'per lead':>12}{'ratio':>8}")
    gc.disable()
    for name, spec in POLICIES.items():
        policy = spec.get("policy", name)
        cfg.allocation.rules = [attrs.evolve(cfg.allocation.rules[0], name="all", when="",
                                             policy=policy, params=spec.get("params", {}))]
        routes = plan_run(cfg).routes
        times = []
        for n in (len(leads) // 2, len(leads)):
            sub = Dataset(ds.funnel, reps, leads[:n], ds.activity)
            best = float("inf")
            for _ in range(args.repeat):
                context = AllocationContext(sub, goals, progress, as_of, 0)
                t = time.perf_counter()
                res = allocate(cfg, routes, sub, as_of, 0, None, context)
                best = min(best, time.perf_counter() - t)
                assert len(res.assignments) == n, (name, len(res.assignments), n)
            times.append(best)
        half, full = times
        print(f"{name:<20}{half:>11.2f}s{full:>11.2f}s{full / len(leads) * 1e6:>10.1f}µs"
              f"{full / half:>8.2f}")
    gc.enable()
    print("ratio = time(N) / time(N/2); linear growth is 2.0 (target <= 2.3)")


if __name__ == "__main__":
    main()
