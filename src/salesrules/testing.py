"""Test helpers for plugin authors: sample exports, one-call runners and invariant assertions.

Registered as a pytest plugin (entry point ``pytest11``), so a plugin
package's tests get the fixtures without importing anything; the functions are
imported from here.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
import tomli_w

from .allocation import AllocationResult, Route, allocate
from .allocation.batch import AllocationContext
from .allocation.conditions import Condition
from .components import Check, Policy, TimeSplit
from .config import parse_config
from .errors import ConfigError, Problems
from .load import Dataset
from .model import SEVERITIES, ActivityTable, Finding, Lead, Rep
from .resolve import Bound, structure_params
from .sample import SampleSpec, generate, rules_for

__all__ = [
    "assert_caps_respected", "assert_every_lead_once", "assert_findings_well_formed",
    "assert_sums_to_parent", "CHROMIUM", "load_export", "make_export", "needs_chromium",
    "open_offline", "OpenedPage", "run_check", "run_policy", "run_split",
]


# ---------------------------------------------------------------- exports


def make_export(folder: Path, reps: int = 14, days: int = 70, leads: int = 80, seed: int = 3,
                chinese: bool = False, format: str = "csv",
                end: dt.date = dt.date(2026, 11, 25)) -> Path:
    """Write a small realistic export and a rules.toml that reads it; return the rules path.

    ``truth.json`` beside it names the planted reps (on leave, short calls,
    effort without results, star, inactive, behind).
    """
    spec = SampleSpec(reps, days, leads, seed, end, chinese, format)
    files = generate(folder, spec)
    rules = folder / "rules.toml"
    rules.write_text(tomli_w.dumps(rules_for(files, chinese)), encoding="utf-8")
    return rules


@pytest.fixture
def sample_export(tmp_path: Path) -> Path:
    """A small generated export with its rules.toml, in a fresh folder; returns the folder."""
    make_export(tmp_path / "export")
    return tmp_path / "export"


def load_export(export: Path) -> Dataset:
    """The dataset (reps, leads, activity, leave) of an export folder with its rules.toml."""
    from .config import load_config
    from .load import data_dir, load_dataset
    from .run import plan_run

    cfg = load_config(export / "rules.toml")
    return load_dataset(cfg, plan_run(cfg).sources, data_dir(cfg, None))


@pytest.fixture
def sample_dataset(sample_export: Path) -> Dataset:
    """The loaded sample export: ``.reps``, ``.leads``, ``.activity`` (history), ``.leave``."""
    return load_export(sample_export)


# ---------------------------------------------------------------- one-call runners


def run_policy(policy: type[Policy], reps: Sequence[Rep], leads: Sequence[Lead],
               params: dict[str, Any] | None = None, as_of: dt.date = dt.date(2026, 11, 25),
               seed: int = 0, activity: ActivityTable | None = None,
               when: str = "") -> AllocationResult:
    """Allocate ``leads`` to ``reps`` with one policy class, as one routing rule would.

    Params are structured exactly as from rules.toml; a bad one raises
    :class:`ConfigError` with its key path.
    """
    cfg = parse_config("[allocation]\ndedupe_on = []\n")
    assert cfg is not None
    problems = Problems()
    structured = structure_params(policy.Params, params or {}, ["params"], problems)
    problems.raise_if_any(ConfigError, f"{policy.name} params:")
    bound = Bound(policy(structured), "test", "allocation.rules[0]", "allocation.rules[0].params")
    funnel = cfg.funnel_model
    ds = Dataset(funnel, {r.id: r for r in reps}, list(leads),
                 activity or ActivityTable(funnel.names))
    from .goals import GoalPlan
    from .goals.calendar import WorkCalendar, period_of

    goals = GoalPlan(period_of(as_of, "quarter"), WorkCalendar(), {}, [], {}, {})
    context = AllocationContext(ds, goals, (), as_of, seed)
    route = Route("test rule", 0, Condition(when), bound, [], [])
    return allocate(cfg, [route], ds, as_of, seed, None, context)


def run_split(split: type[TimeSplit], total: int = 90000, params: dict[str, Any] | None = None,
              as_of: dt.date = dt.date(2026, 11, 25), history: ActivityTable | None = None,
              reps: Sequence[Rep] = (Rep("R1", "Rep 1", "East", "P1"),)) -> list[int]:
    """Split ``total`` over the months of ``as_of``'s quarter with one time-split class.

    Returns the month totals exactly as the kernel computes them (largest
    remainder over the strategy's weights).
    """
    from .goals.batches import SplitBatch
    from .goals.calendar import WorkCalendar, months_in, period_of
    from .goals.split import largest_remainder

    cfg = parse_config("")
    assert cfg is not None
    funnel = cfg.funnel_model
    problems = Problems()
    structured = structure_params(split.Params, params or {}, ["params"], problems)
    problems.raise_if_any(ConfigError, f"{split.name} params:")
    period = period_of(as_of, "quarter")
    months = months_in(period)
    cal = WorkCalendar()
    days = tuple(len(cal.working_days(m.start, m.end)) for m in months)
    batch = SplitBatch("East", tuple(reps), period, tuple(months), funnel,
                       history or ActivityTable(funnel.names), as_of, days)
    return largest_remainder(total, split(structured).month_weights(batch))


def run_check(check: type[Check], export: Path, params: dict[str, Any] | None = None,
              as_of: dt.date | None = None) -> list[Finding]:
    """Run one check class on an export folder (with its
    rules.toml): load, goals, progress, then the check."""
    from .checks import CheckContext
    from .config import load_config
    from .goals import set_goals
    from .load import data_dir, load_dataset
    from .progress import track
    from .run import plan_run

    cfg = load_config(export / "rules.toml")
    plan = plan_run(cfg)
    ds = load_dataset(cfg, plan.sources, data_dir(cfg, None))
    day = as_of or cfg.run.as_of or ds.activity.last_day()
    if day is None:
        raise ValueError(f"{export} has no activity rows: give as_of")
    goals = set_goals(cfg, ds, plan.split, plan.funnel, day)
    progress = track(goals, ds, day)
    problems = Problems()
    structured = structure_params(check.Params, params or {}, ["params"], problems)
    problems.raise_if_any(ConfigError, f"{check.name} params:")
    return list(check(structured).run(CheckContext(ds, goals, tuple(progress), day)))


# ---------------------------------------------------------------- invariants


def assert_every_lead_once(result: AllocationResult, leads: Iterable[Lead]) -> None:
    """Every lead is assigned, unassigned or kept by its owner: exactly once."""
    seen = ([a.lead_id for a in result.assignments] + [u.lead_id for u in result.unassigned]
            + result.kept["lead_id"].to_list())
    dupes = [k for k, n in Counter(seen).items() if n > 1]
    assert not dupes, f"leads decided more than once: {dupes[:5]}"
    missing = {lead.id for lead in leads} - set(seen)
    assert not missing, f"leads never accounted for: {sorted(missing)[:5]}"


def assert_caps_respected(result: AllocationResult, reps: Iterable[Rep]) -> None:
    """No rep gets more leads in a run than their daily capacity, and inactive reps get none."""
    by_id = {r.id: r for r in reps}
    for rep_id, n in Counter(a.rep_id for a in result.assignments).items():
        rep = by_id[rep_id]
        assert rep.active, f"inactive rep {rep_id} received {n} lead(s)"
        assert rep.capacity is None or n <= rep.capacity, (
            f"rep {rep_id} received {n} lead(s), over their cap of {rep.capacity}")


def assert_sums_to_parent(parent: int, parts: Iterable[int]) -> None:
    """Integer targets split from a parent add back up to it exactly."""
    parts = list(parts)
    assert sum(parts) == parent, f"parts sum to {sum(parts)}, not {parent}: {parts}"
    assert all(p >= 0 for p in parts), f"negative part in {parts}"


def assert_findings_well_formed(findings: Iterable[Finding], check: str | None = None) -> None:
    for f in findings:
        assert isinstance(f, Finding), f"not a Finding: {f!r}"
        assert f.severity in SEVERITIES, f"bad severity {f.severity!r}"
        assert f.subject_kind in ("rep", "team"), f"bad subject_kind {f.subject_kind!r}"
        assert f.subject and f.message, f"finding without subject or message: {f!r}"
        assert check is None or f.check == check, f"finding names check {f.check!r}"



# ---------------------------------------------------------------- pages in a browser

#: Debian's headless Chromium (``apt-get install chromium``; ``.ci/run`` installs it).
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed "
                                    "(apt-get install chromium); .ci/run installs it")


@attrs.frozen
class OpenedPage:
    """A page open in headless Chromium (Playwright's ``page``), with the errors it logged
    and every URL it requested, collected as it runs."""

    page: Any
    errors: list[str]
    requests: list[str]


@contextmanager
def open_offline(path: Path, width: int = 1280, height: int = 900) -> Iterator[OpenedPage]:
    """Open an output page (``report.html``, ``backtest.html``) from disk in headless
    Chromium, with no network services; the browser closes after the block."""
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            opened = OpenedPage(page, [], [])
            page.on("console", lambda m: opened.errors.append(m.text)
                    if m.type == "error" else None)
            page.on("pageerror", lambda e: opened.errors.append(str(e)))
            page.on("request", lambda r: opened.requests.append(r.url))
            page.goto(path.resolve().as_uri(), wait_until="load")
            yield opened
        finally:
            browser.close()
