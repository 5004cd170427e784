"""Benchmark: `salesrules run` on a large generated export against merely parsing it with csv.

Prints the scale, the time of the whole run (a subprocess, as a user runs it),
the time to parse the same files with ``csv.reader`` (no type conversion),
their ratio, and the run's peak memory. Ratios are measured in one process
run, so a noisy shared machine affects both sides alike.

    python bench/bench_run.py [--reps 2000] [--days 180] [--leads 200000]
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


def prepare(folder: Path, spec: SampleSpec) -> Path:
    stamp = folder / "spec.json"
    key = json.dumps({"reps": spec.reps, "days": spec.days, "leads": spec.leads,
                      "seed": spec.seed})
    if not (stamp.exists() and stamp.read_text() == key):
        t = time.perf_counter()
        files = generate(folder, spec)
        rules = rules_for(files, False)
        (folder / "rules.toml").write_text(tomli_w.dumps(rules), encoding="utf-8")
        stamp.write_text(key)
        print(f"generated the export in {time.perf_counter() - t:.1f}s")
    return folder / "rules.toml"


def parse_only(folder: Path) -> tuple[float, int]:
    t = time.perf_counter()
    rows = 0
    for name in ("reps.csv", "leads.csv", "activity.csv"):
        with (folder / name).open(encoding="utf-8", newline="") as f:
            for _ in csv.reader(f):
                rows += 1
    return time.perf_counter() - t, rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--leads", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    spec = SampleSpec(reps=args.reps, days=args.days, leads=args.leads, seed=1)
    folder = HERE / "out" / f"export-{args.reps}-{args.days}-{args.leads}"
    rules = prepare(folder, spec)
    exe = Path(sys.executable).with_name("salesrules")
    sizes = {p.name: p.stat().st_size for p in folder.glob("*.csv")}
    print(f"scale: {args.reps} reps, {args.days} days of activity, {args.leads} leads; "
          f"input {sum(sizes.values()) / 2**20:.1f} MiB")

    run_times, parse_times = [], []
    rows = 0
    for _ in range(args.repeat):
        t = time.perf_counter()
        subprocess.run([str(exe), "run", "--rules", str(rules), "--out", str(folder / "out"),
                        "-q"], check=True)
        run_times.append(time.perf_counter() - t)
        p, rows = parse_only(folder)
        parse_times.append(p)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB → MiB
    run_t, parse_t = min(run_times), min(parse_times)
    manifest = json.loads((folder / "out" / "run.json").read_text())
    print(f"csv.reader parse: {parse_t:.2f}s for {rows} rows")
    print(f"salesrules run:   {run_t:.2f}s (stages: " + ", ".join(
        f"{k} {v:.2f}s" for k, v in manifest["timings_s"].items()) + ")")
    print(f"ratio run/parse:  {run_t / parse_t:.1f} (target <= 10; long-term <= 3)")
    print(f"peak memory:      {peak:.0f} MiB (target <= 1024)")
    print(f"outputs: {manifest['counts']['assigned']} assigned, "
          f"{manifest['counts']['targets']} target rows")


if __name__ == "__main__":
    main()
