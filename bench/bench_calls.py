"""Benchmark: ingest millions of call-log rows and run every check for 2,000 reps.

Prints the scale, the time of `salesrules run` on the export (calls, activity,
reps; every built-in check on), the time merely to parse the same files with
Python's csv module (csv.reader, no type conversion), their ratio (target <= 2),
and peak memory. Both are measured in this one process run, best of --repeat.

    python bench/bench_calls.py [--reps 2000] [--call-days 66]
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import tomli_w

from salesrules.sample import SampleSpec, generate, rules_for

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--call-days", type=int, default=66)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    spec = SampleSpec(reps=args.reps, days=args.days, leads=1000, seed=2,
                      call_days=args.call_days)
    folder = HERE / "out" / f"calls-{args.reps}-{args.days}-{args.call_days}"
    rules = folder / "rules.toml"
    if not (folder / "calls.csv").exists():
        t = time.perf_counter()
        generate(folder, spec)
        print(f"generated the export in {time.perf_counter() - t:.0f}s")
    files = {n: folder / f"{n}.csv" for n in ("reps", "leads", "activity", "leave", "calls")}
    config = rules_for(files, False)
    # what is measured is ingestion and the checks; the report and the workbook of a
    # 2,000-rep run are measured by bench_report.py
    config["output"].update(report=False, workbook=False)
    rules.write_text(tomli_w.dumps(config), encoding="utf-8")
    names = ("calls.csv", "activity.csv", "reps.csv", "leads.csv", "leave.csv")
    size = sum((folder / n).stat().st_size for n in names) / 2**20
    exe = Path(sys.executable).with_name("salesrules")
    run_t, parse_t, rows = [], [], 0
    for _ in range(args.repeat):
        t = time.perf_counter()
        subprocess.run([str(exe), "run", "--rules", str(rules), "--out", str(folder / "out"),
                        "-q", "--dry-run"], check=True)
        run_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        rows = 0
        for n in names:
            with (folder / n).open(encoding="utf-8", newline="") as f:
                for _ in csv.reader(f):
                    rows += 1
        parse_t.append(time.perf_counter() - t)
    m = json.loads((folder / "out" / "run.json").read_text())
    calls = next(i["rows"] for i in m["inputs"] if i["name"] == "calls")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"scale: {args.reps} reps, {calls:,} call rows over {args.call_days} days, "
          f"{size:.0f} MiB of input; checks: " + ", ".join(
              c["name"] for c in m["components"] if c["kind"] == "check")
          + "; CSV outputs written, report and workbook off")
    print(f"csv.reader parse: {min(parse_t):.2f}s for {rows:,} rows")
    print(f"salesrules run:   {min(run_t):.2f}s (stages: " + ", ".join(
        f"{k} {v:.2f}s" for k, v in m["timings_s"].items()) + ")")
    print(f"ratio run/parse:  {min(run_t) / min(parse_t):.2f} (target <= 2)")
    print(f"peak memory:      {peak:.0f} MiB")


if __name__ == "__main__":
    main()
