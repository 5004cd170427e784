"""Benchmark: `salesrules backtest` over 13 weekly dates against one `salesrules run`.

On the benchmark export (bench_run.py's, generated once into ``--work``), each
round runs, as a user does, in child processes:

- one run: ``salesrules run`` on the last day, the default outputs (report and
  workbook on), and the kernel's outputs alone;
- the backtest: ``salesrules backtest`` from 12 weeks before the last day to
  it, every week (13 dates), loading the export once.

It prints each figure (CPU, wall, peak memory; best of ``--repeat`` rounds) and
the goal of issue #18: the backtest costs at most 4x one (default) run.

    python bench/bench_backtest.py [--reps 2000] [--days 180] [--leads 200000] [--repeat 3]
    python bench/bench_backtest.py --quick          # a small scale, one round
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_run import Export, load_average, measure, prepare, scale_args  # noqa: E402

from salesrules.sample import SampleSpec  # noqa: E402

FULL = {"reps": 2000, "days": 180, "leads": 200_000, "repeat": 3}
QUICK = {"reps": 50, "days": 120, "leads": 2000, "repeat": 1}
DATES, LIMIT = 13, 4.0
END = SampleSpec().end


def commands(export: Export) -> dict[str, list[str]]:
    exe = str(Path(sys.executable).with_name("salesrules"))
    start = END - dt.timedelta(weeks=DATES - 1)
    return {
        "run": [exe, "run", "--rules", str(export.rules["default"]), "--as-of", END.isoformat(),
                "--dry-run", "--out", str(export.folder / "out-default"), "-q"],
        "kernel": [exe, "run", "--rules", str(export.rules["kernel"]), "--as-of",
                   END.isoformat(), "--dry-run", "--out", str(export.folder / "out-kernel"),
                   "-q"],
        "backtest": [exe, "backtest", "--rules", str(export.rules["kernel"]), "--from",
                     start.isoformat(), "--to", END.isoformat(), "--every", "week",
                     "--out", str(export.folder / "out-backtest"), "-q"],
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return scale_args(__doc__.splitlines()[0], argv, FULL, QUICK)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    export = prepare(args.work / f"export-{args.reps}-{args.days}-{args.leads}",
                     SampleSpec(reps=args.reps, days=args.days, leads=args.leads, seed=1))
    size = sum(p.stat().st_size for p in export.inputs) / 2**20
    print(f"scale: {args.reps} reps, {args.days} days of activity, {args.leads} leads; input "
          f"{size:.1f} MiB; {DATES} weekly dates to {END}; best of {args.repeat}; "
          f"{os.cpu_count()} cores; load average {load_average()}")
    cmds = commands(export)
    samples: dict[str, list] = {name: [] for name in cmds}
    for r in range(args.repeat):
        for name, cmd in cmds.items():
            samples[name].append(measure(cmd))
        print(f"round {r + 1}/{args.repeat}: " + ", ".join(
            f"{n} {s[-1].cpu:.2f}s" for n, s in samples.items()), flush=True)
    best = {n: min(s, key=lambda x: x.cpu) for n, s in samples.items()}
    labels = {"run": "one run (report and workbook on)", "kernel": "one run (kernel outputs)",
              "backtest": f"backtest, {DATES} weekly dates"}
    for name, label in labels.items():
        b = best[name]
        print(f"{label + ':':40} CPU {b.cpu:7.2f}s  wall {b.wall:7.2f}s  "
              f"peak {max(s.peak for s in samples[name]):6.0f} MiB")
    ratio = best["backtest"].cpu / best["run"].cpu
    print(f"backtest CPU / kernel run CPU: {best['backtest'].cpu / best['kernel'].cpu:.2f}")
    ok = ratio <= LIMIT
    print(f"goal: backtest CPU / one run CPU {ratio:7.2f}  (<= {LIMIT:g})  "
          f"{'PASS' if ok else 'MISS'}")
    print(f"load average at the end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
