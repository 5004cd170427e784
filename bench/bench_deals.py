"""Benchmark: loading an 8,800-row opportunity export as the CRM hands it over (target <= 0.3 s).

The export is the generator's CRM shape (US dates, open deals without engage
dates, a product spelled two ways, a team file without levels, a product file
for the known values). Prints the best of --repeat loads (reading, parsing and
summing the deals into stage history; no goals, checks or allocation).

    python bench/bench_deals.py [--deals 8800] [--repeat 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import tomli_w

from salesrules.sample.crm_export import crm_export_rules, generate_crm_export
from salesrules.testing import load_export


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deals", type=int, default=8800)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate_crm_export(folder, deals=args.deals)
        (folder / "rules.toml").write_text(tomli_w.dumps(crm_export_rules()), encoding="utf-8")
        load_export(folder)  # warm: imports and plugin loading are not the load
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            ds = load_export(folder)
            best = min(best, time.perf_counter() - t0)
    verdict = "PASS" if best <= 0.3 else "MISS"
    print(f"deals export: {args.deals:,} rows, {len(ds.reps)} reps: "
          f"load {best:.3f} s (target <= 0.3 s)  {verdict}")


if __name__ == "__main__":
    main()
