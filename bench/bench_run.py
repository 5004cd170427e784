"""Benchmark: `salesrules run` on a large generated export, against a floor and a pandas peer.

Every figure is the CPU time (user + system) of a child process, as a user
runs it, with its wall time and peak memory (the largest process, forked
children included). Each round runs, in turn:

- the floor: ``csv.reader`` over every input file the run reads (bench/csv_floor.py);
- the kernel run: the kernel's own outputs (CSVs, ``run.json``, run history),
  with ``output.report`` and ``output.workbook`` off;
- the default run: plus ``report.html`` and ``workbook.xlsx``;
- the pandas peer: the core job in plain pandas (bench/peer_pandas.py);
- the kernel run on the same export with twice the leads (the scaling line);
- the kernel run on the same export with a month of daily runs in its history (the
  steady state of a team that runs it every day; not one of #13's goals);
- the kernel run cut to the peer's job (:func:`peer_job`): what the peer goal's ratio
  would be if salesrules did only what the peer does (not one of #13's goals).

Rounds are interleaved, so a noisy shared machine affects every figure alike,
and each figure is the best of ``--repeat`` rounds (peak memory: the largest).
It prints the scale, the config, every figure, and each goal of issue #13
with PASS or MISS.

    python bench/bench_run.py [--reps 2000] [--days 180] [--leads 200000] [--repeat 5]
    python bench/bench_run.py --quick          # a small scale, one round
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import attrs
import tomli_w

#: The environment as the user's shell gave it, before anything here imports polars, which
#: sets its own jemalloc options in os.environ: children inheriting those would not get
#: the run's own (salesrules.cli.allocator), and peak about 40 MiB higher.
USER_ENV = dict(os.environ)

from salesrules.sample import SampleSpec, generate, rules_for  # noqa: E402

HERE = Path(__file__).resolve().parent
FULL = {"reps": 2000, "days": 180, "leads": 200_000, "repeat": 5}
QUICK = {"reps": 50, "days": 30, "leads": 2000, "repeat": 1}
#: Each goal: (label, figure, limit).
GOALS = (("kernel run CPU / floor", "kernel_floor", 2.5),
         ("default run CPU / floor", "default_floor", 3.5),
         ("kernel run CPU / pandas peer CPU", "kernel_peer", 1.2),
         ("peak memory, MiB (kernel and default runs)", "peak", 400.0),
         ("kernel run CPU, 2x leads / 1x leads", "scaling", 2.1))


@attrs.frozen
class Export:
    """A generated export, its rules files (by config) and the input files the runs read."""

    folder: Path
    rules: dict[str, Path]
    inputs: tuple[Path, ...]
    settings: dict


@attrs.frozen
class Sample:
    """One child process: CPU seconds (user + system), wall seconds, peak RSS in MiB."""

    cpu: float
    wall: float
    peak: float
    stdout: str


def prepare(folder: Path, spec: SampleSpec) -> Export:
    """The export (generated once, then reused) and three configs: the kernel's outputs, all
    outputs, and the kernel's cut to the peer's job."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = folder / "spec.json"
    key = json.dumps({"reps": spec.reps, "days": spec.days, "leads": spec.leads,
                      "seed": spec.seed})
    if not (stamp.exists() and stamp.read_text() == key):
        t = time.perf_counter()
        generate(folder, spec)
        stamp.write_text(key)
        print(f"generated {folder.name} in {time.perf_counter() - t:.1f}s", flush=True)
    files = {n: folder / f"{n}.csv" for n in ("reps", "leads", "activity", "leave", "calls")
             if (folder / f"{n}.csv").exists()}
    rules = rules_for(files, False)
    paths = {"default": folder / "rules.toml", "kernel": folder / "rules-kernel.toml"}
    paths["default"].write_text(tomli_w.dumps(rules), encoding="utf-8")
    rules["output"].update(report=False, workbook=False)
    paths["kernel"].write_text(tomli_w.dumps(rules), encoding="utf-8")
    paths["peer_job"] = folder / "rules-peer-job.toml"
    paths["peer_job"].write_text(tomli_w.dumps(peer_job(rules)), encoding="utf-8")
    return Export(folder, paths, input_files(rules, folder), rules)


def peer_job(kernel: dict) -> dict:
    """The kernel run's rules cut to what the pandas peer does: the same goals and allocation
    on the files the peer reads (reps, leads, activity; the small leave file stays, for the
    working days), without the call log, the checks, the run history or duplicate leads.
    It still validates every cell, writes every kernel CSV and ``run.json`` atomically."""
    checks = {name: {"enabled": False} for name in [*kernel.get("checks", {}), "behind-pace"]}
    return {**kernel, "data": {k: v for k, v in kernel["data"].items() if k != "calls"},
            "checks": checks, "allocation": {**kernel["allocation"], "dedupe_on": []},
            "history": {"enabled": False}}


#: Earlier days in the month-of-history line's history.
MONTH_DAYS = 30


def with_month(one: Export) -> Export:
    """``one``'s kernel run with its own history holding :data:`MONTH_DAYS` earlier days,
    each with as many assignments as this run makes, of leads no longer in the export (as
    a team that ran it every day would have). Made once, by running it and copying its
    day back; each round reruns the same as-of date, so the history keeps its size."""
    from salesrules.history import open_history
    from salesrules.model import Assignment

    folder = one.folder.parent / f"{one.folder.name}-month"
    folder.mkdir(exist_ok=True)
    rules = dict(one.settings, data={**one.settings["data"], "dir": str(one.folder.resolve())})
    path = folder / "rules-kernel.toml"
    path.write_text(tomli_w.dumps(rules), encoding="utf-8")
    stamp = folder / "month.json"
    key = json.dumps({"days": MONTH_DAYS, "export": (one.folder / "spec.json").read_text()})
    if not (stamp.exists() and stamp.read_text() == key):
        (folder / "salesrules-history.sqlite").unlink(missing_ok=True)
        measure(run_command(path, "kernel"))
        history = open_history(folder / "salesrules-history.sqlite")
        (run_id, as_of), = history.db.execute("SELECT run_id, as_of FROM runs").fetchall()
        rows = history.db.execute("SELECT lead_id, rep_id, team, policy, rule, value, reason "
                                  "FROM assignments WHERE run_id = ?", (run_id,)).fetchall()
        day = dt.date.fromisoformat(as_of)
        for back in range(1, MONTH_DAYS + 1):
            then = day - dt.timedelta(days=back)
            history.begin()
            history.record(f"month-{back}", then, f"{then}T09:00:00+00:00", "c", "i",
                           [Assignment(f"{r[0]}~{back}", *r[1:5], r[6]) for r in rows],
                           {f"{r[0]}~{back}": r[5] for r in rows}, 0)
            history.commit()
        history.close()
        stamp.write_text(key)
    return Export(folder, {"kernel": path}, one.inputs, rules)


def input_files(rules: dict, folder: Path) -> tuple[Path, ...]:
    """Every file the rules' ``[data]`` tables name: what the run reads."""
    data = rules["data"]
    base = folder / data.get("dir", ".")
    return tuple(base / table["file"] for table in data.values()
                 if isinstance(table, dict) and "file" in table)


def child_env() -> dict[str, str]:
    """The children's environment: Python's bytecode cache on, as a user's Python has it.

    A machine that sets PYTHONDONTWRITEBYTECODE (this project's CI machines do) makes every
    child compile each module it imports again: about 0.9 s of CPU for the ~500 modules a
    ``salesrules run`` imports, and some for the peer's pandas, which no user pays after their
    first run. The cache goes to bench/out/pycache and the warm-up round fills it.
    """
    env = dict(USER_ENV)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(HERE / "out" / "pycache"))
    return env


def measure(cmd: list[str]) -> Sample:
    """Run ``cmd`` as a child; its CPU, wall time and peak memory from ``wait4``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=child_env())
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            err.seek(0)
            sys.exit(f"{' '.join(cmd)} failed with status {proc.returncode}:\n"
                     + err.read().decode(errors="replace"))
        out.seek(0)
        return Sample(usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024,
                      out.read().decode(errors="replace"))


def run_command(rules: Path, config: str) -> list[str]:
    """``salesrules run`` on these rules, into ``out-<config>`` beside them."""
    exe = str(Path(sys.executable).with_name("salesrules"))
    return [exe, "run", "--rules", str(rules), "--out", str(rules.parent / f"out-{config}"),
            "-q"]


def commands(one: Export, two: Export, month: Export) -> dict[str, list[str]]:
    """What each round runs, in order: floor, kernel run, default run, peer, 2x leads, the
    kernel run with a month of history, and the kernel run cut to the peer's job."""
    return {"floor": [sys.executable, str(HERE / "csv_floor.py"), *map(str, one.inputs)],
            "kernel": run_command(one.rules["kernel"], "kernel"),
            "default": run_command(one.rules["default"], "default"),
            "peer": [sys.executable, str(HERE / "peer_pandas.py"), str(one.folder),
                     str(one.folder / "out-peer")],
            "kernel_2x": run_command(two.rules["kernel"], "kernel"),
            "kernel_month": run_command(month.rules["kernel"], "kernel"),
            "peer_job": run_command(one.rules["peer_job"], "peer-job")}


def rounds(cmds: dict[str, list[str]], repeat: int) -> dict[str, Sample]:
    """Every command once per round, ``repeat`` rounds; the best CPU and wall, the largest peak.

    A warm-up round, not counted, runs each command once first: it fills the bytecode cache
    and the file cache, as a user's earlier runs would have."""
    samples: dict[str, list[Sample]] = {name: [] for name in cmds}
    for cmd in cmds.values():
        measure(cmd)
    for r in range(repeat):
        for name, cmd in cmds.items():
            samples[name].append(measure(cmd))
        print(f"round {r + 1}/{repeat}: " + ", ".join(
            f"{n} {s[-1].cpu:.2f}s" for n, s in samples.items()), flush=True)
    return {name: Sample(min(s.cpu for s in got), min(s.wall for s in got),
                         max(s.peak for s in got), got[-1].stdout)
            for name, got in samples.items()}


def print_config(one: Export, two: Export, month: Export) -> None:
    s = one.settings
    goals, alloc = s["goals"], s["allocation"]
    print(f"config: {one.rules['kernel']} (kernel: output.report = false, "
          f"output.workbook = false)")
    print(f"        {one.rules['default']} (default: report.html and workbook.xlsx on)")
    print(f"        2x leads: {two.rules['kernel']}")
    print(f"  goals: period {goals['period']}, split {goals['split']}, "
          f"funnel {goals['funnel']}; allocation: "
          + ", ".join(r["policy"] for r in alloc["rules"])
          + f", recycle after {alloc['recycle']['after_days']} days; "
          f"checks: {', '.join(s['checks'])}")
    print(f"  history: {one.folder / 'salesrules-history.sqlite'} (every round reruns one "
          f"as-of date)")
    print("  floor reads: " + ", ".join(
        f"{p.name} ({p.stat().st_size / 2**20:.1f} MiB)" for p in one.inputs))
    print("  peer: bench/peer_pandas.py (reads reps, activity and leads)")
    size = (month.folder / "salesrules-history.sqlite").stat().st_size / 2**20
    print(f"  month of history: {month.rules['kernel']}, its history {size:.0f} MiB "
          f"({MONTH_DAYS} earlier days, each as many assignments as this run makes)")
    print(f"  the peer's job: {one.rules['peer_job']} (the kernel's rules without the call "
          "log, checks, history or duplicates)")


def print_figures(best: dict[str, Sample], one: Export, two: Export,
                  month: Export) -> dict[str, float]:
    """Each run's CPU, wall and peak, the kernel's stage timings; returns the goals' figures."""
    labels = {"floor": f"floor: csv.reader, {best['floor'].stdout.strip()} rows",
              "kernel": "kernel run (CSVs, run.json, history)",
              "default": "default run (plus report.html, workbook.xlsx)",
              "peer": "pandas peer",
              "kernel_2x": "kernel run, 2x leads",
              "kernel_month": "kernel run, a month of history",
              "peer_job": "kernel run cut to the peer's job"}
    for name, label in labels.items():
        b = best[name]
        print(f"{label + ':':48} CPU {b.cpu:7.2f}s  wall {b.wall:7.2f}s  "
              f"peak {b.peak:6.0f} MiB")
    for name, export in (("kernel", one), ("default", one), ("kernel_2x", two),
                         ("kernel_month", month), ("peer_job", one)):
        config = {"default": "default", "peer_job": "peer-job"}.get(name, "kernel")
        manifest = json.loads((export.folder / f"out-{config}" / "run.json").read_text())
        print(f"  {name} stages (last round's run.json, wall s): " + ", ".join(
            f"{k} {v:.2f}s" for k, v in manifest["timings_s"].items()))
    counts = manifest_counts(one)
    print(f"outputs: {counts['assigned']} assigned, {counts['unassigned']} unassigned, "
          f"{counts['targets']} target rows; peer: {best['peer'].stdout.strip()}")
    print(f"a month of history: {best['kernel_month'].cpu / best['kernel'].cpu:.2f}x the "
          f"kernel run's CPU, peak {best['kernel_month'].peak:.0f} MiB (not a goal of #13)")
    print(f"the peer's job: {best['peer_job'].cpu / best['peer'].cpu:.2f}x the pandas peer's "
          f"CPU; the rest of the kernel run (call log, checks, history, duplicates) "
          f"{best['kernel'].cpu - best['peer_job'].cpu:.2f}s (not a goal of #13)")
    floor = best["floor"].cpu
    return {"kernel_floor": best["kernel"].cpu / floor,
            "default_floor": best["default"].cpu / floor,
            "kernel_peer": best["kernel"].cpu / best["peer"].cpu,
            "peak": max(best["kernel"].peak, best["default"].peak),
            "scaling": best["kernel_2x"].cpu / best["kernel"].cpu}


def manifest_counts(export: Export) -> dict:
    return json.loads((export.folder / "out-kernel" / "run.json").read_text())["counts"]


def print_goals(figures: dict[str, float]) -> int:
    """Each goal with its figure and PASS or MISS; returns how many are missed."""
    missed = 0
    for label, key, limit in GOALS:
        ok = figures[key] <= limit
        missed += not ok
        print(f"goal: {label:44} {figures[key]:7.2f}  (<= {limit:g})  "
              f"{'PASS' if ok else 'MISS'}")
    return missed


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def scale_args(description: str, argv: list[str] | None, full: dict, quick: dict,
               leads_help: str = "leads in the export") -> argparse.Namespace:
    """A benchmark's scale options (``--reps --days --leads --repeat --quick --work``),
    each one not given taken from ``full``, or from ``quick`` with ``--quick``."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--reps", type=int)
    ap.add_argument("--days", type=int)
    ap.add_argument("--leads", type=int, help=leads_help)
    ap.add_argument("--repeat", type=int, help="rounds; each figure is the best of them")
    ap.add_argument("--quick", action="store_true",
                    help=f"a small scale: {quick} unless given")
    ap.add_argument("--work", type=Path, default=HERE / "out",
                    help="where the exports and outputs go (default bench/out)")
    args = ap.parse_args(argv)
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return scale_args(__doc__.splitlines()[0], argv, FULL, QUICK,
                      "leads in the export; the scaling line uses 2x")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if importlib.util.find_spec("pandas") is None:
        sys.exit("the pandas peer needs pandas: pip install -e '.[bench]' (make bench does)")
    exports = [prepare(args.work / f"export-{args.reps}-{args.days}-{n}",
                       SampleSpec(reps=args.reps, days=args.days, leads=n, seed=1))
               for n in (args.leads, 2 * args.leads)]
    one, two = exports
    size = sum(p.stat().st_size for p in one.inputs) / 2**20
    print(f"scale: {args.reps} reps, {args.days} days of activity, {args.leads} leads "
          f"(and {2 * args.leads} for the scaling line); input {size:.1f} MiB; "
          f"best of {args.repeat}; {os.cpu_count()} cores; load average {load_average()}")
    month = with_month(one)
    print_config(one, two, month)
    best = rounds(commands(one, two, month), args.repeat)
    figures = print_figures(best, one, two, month)
    missed = print_goals(figures)
    print(f"load average at the end: {load_average()}; {missed} goal(s) missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
