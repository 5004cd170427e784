"""Benchmark: the report of a large run (2,000 reps):
its size, and how fast headless Chromium opens it.

The report is written by the ``salesrules-report`` plugin package
(plugins/salesrules-report), installed by ``make``. Prints the report's size and
how much of it is the embedded data (target < 15 MB at this scale; at most 1 MB at
the example's), and the time from navigation until the page has loaded and its
SVG charts are drawn (target < 3 s), best of --repeat.

    python bench/bench_report.py [--reps 2000]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    import salesrules_report  # the plugin package that writes the report must be installed
    from bench_run import prepare

    from salesrules.sample import SampleSpec

    folder = HERE / "out" / f"report-{args.reps}"
    rules = prepare(folder, SampleSpec(reps=args.reps, days=120, leads=20_000, seed=3,
                                       call_days=0)).rules["default"]
    exe = Path(sys.executable).with_name("salesrules")
    out = folder / "out"
    subprocess.run([str(exe), "run", "--rules", str(rules), "--out", str(out), "-q",
                    "--dry-run"], check=True)
    report = out / "report.html"
    size = report.stat().st_size / 2**20
    chromium = shutil.which("chromium")
    print(f"scale: {args.reps} reps; report.html {size:.1f} MiB (target < 15), "
          f"workbook.xlsx {(out / 'workbook.xlsx').stat().st_size / 2**20:.1f} MiB")
    html = report.read_text(encoding="utf-8")
    data = html.split('<script id="report-data" type="application/json">', 1)[1]
    print(f"  of which embedded data {len(data.split('</script>', 1)[0]) / 2**20:.1f} MiB "
          f"(written by {salesrules_report.__name__})")
    if chromium is None:
        print("chromium not installed: load time not measured")
        return
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        for _ in range(args.repeat):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            t = time.perf_counter()
            page.goto(report.resolve().as_uri(), wait_until="load")
            page.wait_for_selector("#chart-rep svg rect")
            times.append(time.perf_counter() - t)
            page.close()
        browser.close()
    print(f"open and draw in headless Chromium: {min(times):.2f}s best of {args.repeat} "
          f"(target < 3 s)")


if __name__ == "__main__":
    main()
