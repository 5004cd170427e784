"""Benchmark: `salesrules run` on a large generated export against merely parsing it with csv.

Prints the scale, the time to parse the input files with ``csv.reader`` (no
type conversion), and for two configs the time of the whole run (a
subprocess, as a user runs it), its ratio to the parse time, and peak memory
(the largest process: on a big run a forked child writes the biggest files,
sharing the parent's pages). The two configs are the kernel's own outputs
(the CSVs, ``run.json`` and run history: what the kernel issue's target is
about) and the defaults, which add the report plugin's ``report.html`` and
``workbook.xlsx``. Runs are interleaved with the parses in one process run,
so a noisy shared machine affects every figure alike.

    python bench/bench_run.py [--reps 2000] [--days 180] [--leads 200000]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import tomli_w

from salesrules.sample import SampleSpec, generate, rules_for

HERE = Path(__file__).resolve().parent


def prepare(folder: Path, spec: SampleSpec) -> dict[str, Path]:
    """The export (generated once, then reused) and two configs: the kernel's outputs, and all."""
    stamp = folder / "spec.json"
    key = json.dumps({"reps": spec.reps, "days": spec.days, "leads": spec.leads,
                      "seed": spec.seed})
    if not (stamp.exists() and stamp.read_text() == key):
        t = time.perf_counter()
        generate(folder, spec)
        stamp.write_text(key)
        print(f"generated the export in {time.perf_counter() - t:.1f}s")
    files = {n: folder / f"{n}.csv" for n in ("reps", "leads", "activity", "leave", "calls")
             if (folder / f"{n}.csv").exists()}
    rules = rules_for(files, False)
    out = {"default": folder / "rules.toml", "kernel": folder / "rules-kernel.toml"}
    out["default"].write_text(tomli_w.dumps(rules), encoding="utf-8")
    rules["output"].update(report=False, workbook=False)
    out["kernel"].write_text(tomli_w.dumps(rules), encoding="utf-8")
    return out


def parse_only(folder: Path) -> tuple[float, int]:
    t = time.perf_counter()
    rows = 0
    for name in ("reps.csv", "leads.csv", "activity.csv"):
        with (folder / name).open(encoding="utf-8", newline="") as f:
            for _ in csv.reader(f):
                rows += 1
    return time.perf_counter() - t, rows


def peak_of(cmd: list[str]) -> tuple[float, float]:
    """Wall time and peak memory (MiB) of one run, in a child of its own."""
    code = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
            "subprocess.run(sys.argv[1:], check=True); "
            "print(time.perf_counter() - t, "
            "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, "-c", code, *cmd], check=True, capture_output=True,
                         text=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--leads", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    spec = SampleSpec(reps=args.reps, days=args.days, leads=args.leads, seed=1)
    folder = HERE / "out" / f"export-{args.reps}-{args.days}-{args.leads}"
    configs = prepare(folder, spec)
    exe = Path(sys.executable).with_name("salesrules")
    sizes = {p.name: p.stat().st_size for p in folder.glob("*.csv")}
    print(f"scale: {args.reps} reps, {args.days} days of activity, {args.leads} leads; "
          f"input {sum(sizes.values()) / 2**20:.1f} MiB; {os.cpu_count()} cores")

    times: dict[str, list[float]] = {k: [] for k in configs}
    peaks: dict[str, float] = {k: 0.0 for k in configs}
    parse_times = []
    rows = 0
    for _ in range(args.repeat):  # interleaved, so that noise hits every figure alike
        for name, rules in configs.items():
            wall, peak = peak_of([str(exe), "run", "--rules", str(rules),
                                  "--out", str(folder / f"out-{name}"), "-q"])
            times[name].append(wall)
            peaks[name] = max(peaks[name], peak)
        p, rows = parse_only(folder)
        parse_times.append(p)
    parse_t = min(parse_times)
    print(f"csv.reader parse: {parse_t:.2f}s for {rows} rows")
    for name, label in (("kernel", "the kernel's outputs (CSVs, run.json, history)"),
                        ("default", "plus report.html and workbook.xlsx (rules.toml defaults)")):
        manifest = json.loads((folder / f"out-{name}" / "run.json").read_text())
        run_t = min(times[name])
        print(f"salesrules run, {label}:")
        print(f"  time:   {run_t:.2f}s (stages: " + ", ".join(
            f"{k} {v:.2f}s" for k, v in manifest["timings_s"].items()) + ")")
        print(f"  ratio run/parse: {run_t / parse_t:.1f} (target <= 10; long-term <= 3)")
        print(f"  peak memory: {peaks[name]:.0f} MiB, largest process (target <= 1024)")
    print(f"outputs: {manifest['counts']['assigned']} assigned, "
          f"{manifest['counts']['unassigned']} unassigned, "
          f"{manifest['counts']['targets']} target rows")


if __name__ == "__main__":
    main()
