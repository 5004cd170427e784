"""The run loop: load → goals → progress → checks → allocation → outputs."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import attrs

from . import HOOK_CONTRACT, __version__
from .allocation import AllocationContext, AllocationResult, Route, allocate, assigned_values
from .allocation.conditions import compile_condition
from .checks import CheckContext, run_checks
from .config import RuleConfig, RulesConfig, Use, format_path, load_config
from .errors import ConfigError, Problems
from .goals import GoalPlan, set_goals
from .history import History, HistoryView, open_history
from .load import Dataset, data_dir, load_dataset, resolve_sources
from .model import Finding, ProgressRow
from .outputs import OutputFolder, write_set
from .outputs.folder import crash_point, protected_reason
from .plugins import Registry, call_each, load_local_module, load_registry
from .progress import team_totals, track
from .resolve import Bound, resolve
from .warning_words import warning
from .words import speaking


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
    #: Write into ``out`` even if it holds files salesrules did not write.
    force: bool = False
    #: Replace every earlier run of the as-of date instead of adding to them.
    redo_day: bool = False


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
    #: What allocation decided: ``assignments``, ``unassigned`` (each an Unassigned; also two
    #: lists, ``unassigned.lead_ids`` and ``.reasons``), ``kept``, ``recycled``, ``duplicates``.
    allocation: AllocationResult
    warnings: list[str]
    timings: dict[str, float]
    out_dir: Path | None = None
    files: list[str] = attrs.Factory(list)
    #: Each team's progress: the sums of its reps' rows.
    team_progress: list[ProgressRow] = attrs.Factory(list)
    version: str = __version__
    contract: str = HOOK_CONTRACT
    #: The history's name for the run: a digest of as-of date, config, inputs and seed.
    run_id: str = ""
    #: ``--redo-day``: the run replaces the as-of date's earlier runs.
    redo_day: bool = False


def default_rules() -> list[RuleConfig]:
    return [RuleConfig(name="all leads", policy="balanced")]


def _local_modules(cfg: RulesConfig, problems: Problems) -> list[tuple[str, ModuleType]]:
    """Import ``[plugins] modules``; one outside the rules file's folder needs ``allow_outside``.

    A local module runs as code, so a copied rules.toml may not reach elsewhere
    on the machine without saying so (docs/security.md).
    """
    local: list[tuple[str, ModuleType]] = []
    for i, mod in enumerate(cfg.plugins.modules):
        path = (cfg.base_dir / mod).resolve()
        if not cfg.plugins.allow_outside and not path.is_relative_to(cfg.base_dir.resolve()):
            problems.add(f"plugins.modules[{i}]",
                         f"{path} is outside the rules file's folder; a local plugin module "
                         "runs as code, so set plugins.allow_outside = true if you trust it")
            continue
        try:
            local.append((f"local:{Path(mod).name}", load_local_module(path)))
        except FileNotFoundError:
            problems.add(f"plugins.modules[{i}]", f"no such file: {path}")
        except Exception as exc:
            problems.add(f"plugins.modules[{i}]",
                         f"cannot import {path}: {type(exc).__name__}: {exc}")
    return local


def plan_run(cfg: RulesConfig, strict: bool = False, entry_points: bool = True,
             problems: Problems | None = None) -> Plan:
    """Load plugins and resolve every component config names.

    Raises :class:`ConfigError` listing every problem; given a ``problems``
    collector instead, adds them to it and returns what could be resolved
    (for ``salesrules validate``, which goes on to check the data too).
    """
    collect = problems is not None
    problems = problems if problems is not None else Problems()
    local = _local_modules(cfg, problems)
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
        compiled = compile_condition(rule.when)
        cond = compiled.condition
        if compiled.error:
            problems.add(format_path(["allocation", "rules", i, "when"]), compiled.error)
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
    """Execute one run and write its outputs, in the words of ``output.language``."""
    cfg = plan.config if plan else load_config(opts.rules)
    with speaking(cfg.output.language, {s.name: s.label for s in cfg.funnel.stages}):
        return _run(opts, on_stage, plan, cfg)


def _run(opts: RunOptions, on_stage: Callable[[str], None] | None, plan: Plan | None,
         cfg: RulesConfig) -> RunResult:
    """Execute one run and write its outputs: the six stages, one after another."""
    clock = StageClock(on_stage)
    plan = plan or plan_run(cfg, strict=opts.strict)
    clock.lap("plan")
    out_dir = opts.out or (cfg.base_dir / cfg.output.dir)
    with _paused_gc(), _output_folder(opts, cfg, out_dir) as folder, \
            _run_history(cfg, opts.dry_run) as history:
        folder.reconcile(history.output_folder(out_dir) if history is not None else None)
        with clock("load"):
            dataset = load_dataset(cfg, plan.sources, data_dir(cfg, opts.data))
        as_of = _as_of(opts, cfg, dataset)
        seed = opts.seed if opts.seed is not None else cfg.run.seed
        run_id = run_id_of(as_of, cfg.digest, _inputs_digest(dataset.inputs), seed)
        view = _history_view(history, dataset, as_of, cfg, run_id, opts.redo_day)
        with clock("goals"):
            goals = set_goals(cfg, dataset, plan.split, plan.funnel, as_of)
        with clock("progress"):
            progress = track(goals, dataset, as_of)
            teams = team_totals(progress)
        with clock("checks"):
            check_ctx = CheckContext(dataset, goals, tuple(progress), as_of, tuple(teams))
            findings = run_checks(plan.checks, check_ctx)
        with clock("allocation"):
            allocation = allocate(
                cfg, plan.routes, dataset, as_of, seed, view,
                AllocationContext(dataset, goals, tuple(progress), as_of, seed))
        result = RunResult(
            cfg, _shown_path(opts.rules), plan.registry, plan.components, dataset, as_of, seed,
            opts.dry_run, goals, progress, findings, allocation,
            _warnings(plan, dataset, goals, history, opts.dry_run) + check_ctx.notes
            + _redo_note(view, allocation, as_of, opts.redo_day),
            clock.timings, out_dir=out_dir, team_progress=teams, run_id=run_id,
            redo_day=opts.redo_day)
        with clock("outputs"):
            result.files = write_outputs(result, plan.registry,
                                         None if opts.dry_run else history, folder)
    call_each(plan.registry, "run_finished", result=result, out_dir=result.out_dir)
    return result


class StageClock:
    """Announces each stage as it starts and times it (``run.json``'s ``timings_s``)."""

    def __init__(self, on_stage: Callable[[str], None] | None) -> None:
        self.on_stage = on_stage
        self.timings: dict[str, float] = {}
        self._since = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = now - self._since
        self._since = now

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        if self.on_stage:
            self.on_stage(name)
        self._since = time.perf_counter()
        yield
        self.lap(name)


@contextmanager
def _paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for the run.

    A run builds a large, long-lived heap (leads, activity) and few reference
    cycles; the collector rescanning that heap costs more than the run's own
    work.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _output_folder(opts: RunOptions, cfg: RulesConfig, out_dir: Path) -> Iterator[OutputFolder]:
    """``--out``, checked, locked for this run, and released at the end."""
    data = data_dir(cfg, opts.data)
    never = protected_reason(out_dir, cfg.base_dir,
                             [data / t.file for t in cfg.data.tables.values()])
    folder = OutputFolder.open(out_dir, cfg.output.keep_runs, never, opts.force)
    try:
        yield folder
    finally:
        folder.close()


@contextmanager
def _run_history(cfg: RulesConfig, dry_run: bool) -> Iterator[History | None]:
    """The run history, open for the run; ``None`` when it is off.

    A dry run changes nothing on disk but its outputs: it reads history only if there is one.
    """
    path = cfg.base_dir / cfg.history.path
    if not cfg.history.enabled or (dry_run and not path.exists()):
        yield None
        return
    history = open_history(path, readonly=dry_run)
    try:
        yield history
    finally:
        history.close()


def run_id_of(as_of: dt.date, config_digest: str, inputs_digest: str, seed: int) -> str:
    """A run is named by what determines it: as-of date, config, inputs and seed."""
    return hashlib.sha256(f"{as_of.isoformat()}|{config_digest}|{inputs_digest}|"
                          f"{seed}".encode()).hexdigest()[:16]


def _history_view(history: History | None, dataset: Dataset, as_of: dt.date,
                  cfg: RulesConfig, run_id: str, redo_day: bool) -> HistoryView | None:
    """What earlier runs assigned: within the load window, each lead's last owner, and what
    the earlier runs of the as-of date gave out (replaced instead with ``redo_day``)."""
    if history is None:
        return None
    return history.view(as_of, cfg.allocation.window_days, dataset.leads.ids, run_id, redo_day)


def _redo_note(view: HistoryView | None, allocation: AllocationResult, as_of: dt.date,
               redo_day: bool) -> list[str]:
    """With ``--redo-day``: how many of the day's assignments the run changes."""
    if not redo_day:
        return []
    before = view.replaced if view is not None else {}
    after = {a.lead_id: a.rep_id for a in allocation.assignments}
    moved = sum(1 for k, r in before.items() if k in after and after[k] != r)
    dropped = sum(1 for k in before if k not in after)
    added = sum(1 for k in after if k not in before)
    return [warning("redo-day", before=len(before), as_of=as_of, changed=moved + dropped + added,
                    moved=moved, dropped=dropped, added=added)]


def _as_of(opts: RunOptions, cfg: RulesConfig, dataset: Dataset) -> dt.date:
    as_of = opts.as_of or cfg.run.as_of or dataset.activity.last_day()
    if as_of is None:
        raise ConfigError("no as-of date: pass --as-of YYYY-MM-DD, set run.as_of, "
                          "or provide activity to take the latest date from")
    return as_of


def _warnings(plan: Plan, dataset: Dataset, goals: GoalPlan, history: History | None,
              dry_run: bool) -> list[str]:
    out = [*plan.config.warnings, *(str(p) for p in plan.registry.problems),
           *(str(p) for p in plan.registry.deprecations), *dataset.warnings, *goals.warnings]
    if history is not None and dry_run:
        out.append(warning("dry-run"))
    return out


def write_outputs(result: RunResult, registry: Registry, history: History | None,
                  folder: OutputFolder) -> list[str]:
    """Write every output into a new run folder, record the run, then make the folder current.

    Until the one link switch at the end, readers of the output folder see the
    previous run's complete set; any failure before the history commit leaves
    both the folder and the history as they were (a kill after it is finished
    by the next run). Returns the names of the files written.
    """
    assert result.out_dir is not None
    inputs = _inputs_digest(result.dataset.inputs)
    run_id = result.run_id or run_id_of(result.as_of, result.config.digest, inputs, result.seed)
    name = folder.next_name(run_id)
    try:
        written = write_set(folder.partial(name), result, run_id, lambda f: call_each(
            registry, "write_outputs", result=result, out_dir=f))
        folder.place(name)
        if history is not None:
            history.begin()
            history.record(
                run_id, result.as_of,
                dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                result.config.digest, inputs, result.allocation.new_assignments,
                assigned_values(result.allocation.new_assignments, result.dataset.leads),
                len(result.allocation.unassigned), redo_day=result.redo_day)
            history.set_manifest(run_id, written.manifest)
            history.set_output(result.out_dir, name, run_id)
            crash_point("recorded")
            history.commit()
            crash_point("history-committed")
    except BaseException:
        if history is not None:
            history.rollback()
        folder.discard(name)
        raise
    folder.switch(name, written.files)
    return written.files


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
