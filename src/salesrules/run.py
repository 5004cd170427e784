"""The run loop: load → goals → progress → checks → allocation → outputs."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import time
from collections.abc import Callable
from pathlib import Path

import attrs

from . import HOOK_CONTRACT, __version__
from .allocation import (
    AllocationContext,
    AllocationResult,
    Prepared,
    Route,
    allocate,
    assigned_values,
    start_prepare,
)
from .history import History, HistoryView, open_history
from .allocation.conditions import compile_condition
from .checks import CheckContext, run_checks
from .config import RuleConfig, RulesConfig, Use, format_path, load_config
from .errors import ConfigError, Problems
from .goals import GoalPlan, set_goals
from .load import Dataset, data_dir, load_dataset, resolve_sources
from .model import Finding, ProgressRow
from .outputs import Staging
from .parallel import settle
from .plugins import Registry, call_each, load_local_module, load_registry
from .progress import team_totals, track
from .resolve import Bound, resolve


@attrs.define
class RunOptions:
    """What ``salesrules run`` was asked to do."""

    rules: Path = Path("rules.toml")
    data: Path | None = None
    out: Path | None = None
    as_of: dt.date | None = None
    seed: int | None = None
    dry_run: bool = False
    strict: bool = False


@attrs.define
class Plan:
    """A validated config with every component resolved: what a run will execute."""

    config: RulesConfig
    registry: Registry
    sources: list[tuple[str, Bound]]
    split: Bound
    funnel: Bound
    checks: list[Bound]
    routes: list[Route]

    @property
    def components(self) -> list[Bound]:
        return ([b for _, b in self.sources] + [self.split, self.funnel] + self.checks
                + [r.policy for r in self.routes])


@attrs.define
class RunResult:
    """Everything a run computed; what output plugins receive."""

    config: RulesConfig
    config_path: str
    registry: Registry
    components: list[Bound]
    dataset: Dataset
    as_of: dt.date
    seed: int
    dry_run: bool
    goals: GoalPlan
    progress: list[ProgressRow]
    findings: list[Finding]
    allocation: AllocationResult
    warnings: list[str]
    timings: dict[str, float]
    out_dir: Path | None = None
    files: list[str] = attrs.Factory(list)
    #: Each team's progress: the sums of its reps' rows.
    team_progress: list[ProgressRow] = attrs.Factory(list)
    version: str = __version__
    contract: str = HOOK_CONTRACT


def default_rules() -> list[RuleConfig]:
    return [RuleConfig(name="all leads", policy="balanced")]


def plan_run(cfg: RulesConfig, strict: bool = False, entry_points: bool = True,
             problems: Problems | None = None) -> Plan:
    """Load plugins and resolve every component config names.

    Raises :class:`ConfigError` listing every problem; given a ``problems``
    collector instead, adds them to it and returns what could be resolved
    (for ``salesrules validate``, which goes on to check the data too).
    """
    collect = problems is not None
    problems = problems if problems is not None else Problems()
    local = []
    for i, mod in enumerate(cfg.plugins.modules):
        path = (cfg.base_dir / mod).resolve()
        try:
            local.append((f"local:{Path(mod).name}", load_local_module(path)))
        except FileNotFoundError:
            problems.add(f"plugins.modules[{i}]", f"no such file: {path}")
        except Exception as exc:
            problems.add(f"plugins.modules[{i}]",
                         f"cannot import {path}: {type(exc).__name__}: {exc}")
    if not collect:
        problems.raise_if_any(ConfigError, "cannot load local plugin modules:")
    registry = load_registry(local, entry_points=entry_points, strict=strict or cfg.plugins.strict,
                             disable=cfg.plugins.disable)

    sources = resolve_sources(cfg, registry, problems)
    split = resolve(registry, "split", cfg.goals.split, ["goals", "split"], problems,
                    name_key="strategy")
    funnel = resolve(registry, "funnel", cfg.goals.funnel, ["goals", "funnel"], problems,
                     name_key="strategy")
    checks = []
    for name, use in cfg.checks.items():
        b = resolve(registry, "check", Use(name, use.params), ["checks", name], problems)
        if b is not None:
            checks.append(b)
    routes = []
    rules = cfg.allocation.rules or default_rules()
    for i, rule in enumerate(rules):
        cond, err = compile_condition(rule.when)
        if err:
            problems.add(format_path(["allocation", "rules", i, "when"]), err)
        b = resolve(registry, "policy", Use(rule.policy, rule.params),
                    ["allocation", "rules", i], problems, name_key="policy")
        if b is not None and cond is not None:
            routes.append(Route(rule.name or f"rule {i + 1}", i, cond, b,
                                rule.teams, rule.reps))
    bound_all = [b for _, b in sources] + [x for x in (split, funnel) if x] + checks + [
        r.policy for r in routes]
    funnel_model = cfg.funnel_model
    for b in bound_all:
        for key, msg in b.validate_against(funnel_model):
            problems.add(key, msg)
    if not collect:
        problems.raise_if_any(ConfigError, f"{cfg.source or 'rules.toml'}: invalid config")
        assert split is not None and funnel is not None
    return Plan(cfg, registry, sources, split, funnel, checks, routes)  # type: ignore[arg-type]


def run(opts: RunOptions, on_stage: Callable[[str], None] | None = None,
        plan: Plan | None = None) -> RunResult:
    """Execute one run and write its outputs."""
    # A run builds a large, long-lived heap (leads, activity) and few reference
    # cycles; the cyclic collector rescanning that heap costs more than the run's
    # own work, so it is paused for the run and resumed after.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(opts, on_stage, plan)
    finally:
        if was_enabled:
            gc.enable()


def _run(opts: RunOptions, on_stage: Callable[[str], None] | None,
         plan: Plan | None) -> RunResult:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def stage(name: str) -> None:
        if on_stage:
            on_stage(name)

    def mark(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = now - since
        return now

    cfg = plan.config if plan else load_config(opts.rules)
    plan = plan or plan_run(cfg, strict=opts.strict)
    t = mark("plan", t0)

    stage("load")
    folder = data_dir(cfg, opts.data)
    dataset = load_dataset(cfg, plan.sources, folder)
    t = mark("load", t)

    as_of = opts.as_of or cfg.run.as_of or dataset.activity.last_day()
    if as_of is None:
        raise ConfigError("no as-of date: pass --as-of YYYY-MM-DD, set run.as_of, "
                          "or provide activity to take the latest date from")
    seed = opts.seed if opts.seed is not None else cfg.run.seed

    history_path = cfg.base_dir / cfg.history.path
    # a dry run changes nothing on disk but its outputs: it reads history only if there is one
    history = (open_history(history_path, readonly=opts.dry_run)
               if cfg.history.enabled and (history_path.exists() or not opts.dry_run) else None)
    preparing: Callable[[], Prepared] | None = None
    staging: Staging | None = None
    try:
        view = None
        if history is not None:
            view = HistoryView(history.before(as_of, cfg.allocation.window_days),
                               history.owners((lead.id for lead in dataset.leads), as_of))
        # owners, load, duplicates and lead order need only the data: a second core
        # works them out while goals, progress and checks run here
        preparing = start_prepare(cfg, dataset, as_of, view)

        stage("goals")
        goals = set_goals(cfg, dataset, plan.split, plan.funnel, as_of)
        t = mark("goals", t)

        stage("progress")
        progress = track(goals, dataset, as_of)
        teams = team_totals(progress)
        t = mark("progress", t)

        stage("checks")
        findings = run_checks(plan.checks, CheckContext(dataset, goals, tuple(progress), as_of,
                                                        tuple(teams)))
        t = mark("checks", t)

        # targets, progress and findings are final: a second process writes them meanwhile
        out_dir = opts.out or (cfg.base_dir / cfg.output.dir)
        staging = Staging(out_dir)
        staging.start_plan_files(goals, [*progress, *teams], findings, dataset.funnel, cfg,
                                 as_of)
        stage("allocation")
        prepared, preparing = preparing(), None
        context = AllocationContext(dataset, goals, tuple(progress), as_of, seed)
        allocation = allocate(cfg, plan.routes, dataset, as_of, seed, view, context, prepared)
        t = mark("allocation", t)
        timings["allocation_prepared_alongside"] = prepared.seconds

        warnings = [*(str(p) for p in plan.registry.problems),
                    *(str(p) for p in plan.registry.deprecations), *dataset.warnings,
                    *goals.warnings]
        if history is not None and opts.dry_run:
            warnings.append("dry run: run history was read but not changed")
        result = RunResult(
            cfg, _shown_path(opts.rules), plan.registry, plan.components, dataset, as_of, seed,
            opts.dry_run, goals, progress, findings, allocation, warnings, timings,
            team_progress=teams)
        stage("outputs")
        result.out_dir = out_dir
        _commit(result, plan, staging, None if opts.dry_run else history)
        mark("outputs", t)
    finally:
        if preparing is not None:  # the run failed first: no child is left running
            settle([preparing])
        if staging is not None:
            staging.discard()  # waits for any job still writing; a committed run left nothing
        if history is not None:
            history.close()
    call_each(plan.registry, "run_finished", result=result, out_dir=result.out_dir)
    return result


def _commit(result: RunResult, plan: Plan, staging: Staging, history: History | None) -> None:
    """Finish the outputs, record the run in history, move the outputs into place, commit.

    The run's assignments go into history while a second process may still be
    writing the biggest files; the manifest follows once every file is written.
    Any failure before the end leaves both the output folder and the history
    exactly as they were.
    """
    assert result.out_dir is not None
    inputs = _inputs_digest(result.dataset.inputs)
    # a run is named by what determines it: as-of date, config, inputs and seed
    run_id = hashlib.sha256(f"{result.as_of.isoformat()}|{result.config.digest}|{inputs}|"
                            f"{result.seed}".encode()).hexdigest()[:16]

    def record() -> None:
        if history is not None:
            history.begin()
            history.record(
                run_id, result.as_of,
                dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                result.config.digest, inputs, result.allocation.assignments,
                assigned_values(result.allocation.assignments, result.dataset.leads),
                len(result.allocation.unassigned))

    try:
        staged = staging.finish(
            result,
            lambda folder: call_each(plan.registry, "write_outputs", result=result,
                                     out_dir=folder),
            meanwhile=record)
        if history is not None:
            history.set_manifest(run_id, staged.manifest)
        result.files = staged.commit()
        if history is not None:
            history.commit()
    except BaseException:
        if history is not None:
            history.rollback()
        raise


def _inputs_digest(inputs) -> str:
    """One digest of every input file's name and digest: what the run read."""
    h = hashlib.sha256()
    for i in inputs:
        h.update(f"{i.name}={i.digest};".encode())
    return "sha256:" + h.hexdigest()


def _shown_path(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return p.name
