"""The ``salesrules`` command line: run, validate, plugins, init and sample."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from . import HOOK_CONTRACT, __version__
from .errors import PluginError, UserError
from .plugins import PluginLoadError

EXIT_INTERNAL, EXIT_INPUT = 1, 2


def _fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input → its problems and exit 2; plugin or internal errors → one message and exit 1."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            _fail("error: " + exc.render().replace("\n", "\n  "), EXIT_INPUT)
        except PluginLoadError as exc:
            _fail("error: plugins failed to load (strict mode):\n  "
                  + "\n  ".join(str(p) for p in exc.problems), EXIT_INPUT)
        except PluginError as exc:
            if os.environ.get("SALESRULES_DEBUG"):
                traceback.print_exception(exc.cause)
            _fail(f"error: {exc}\n(set SALESRULES_DEBUG=1 to see the traceback)", EXIT_INTERNAL)
        except KeyboardInterrupt:
            _fail("interrupted; previous outputs are untouched", 130)
        except BrokenPipeError:  # e.g. piped into `head`
            sys.stderr.close()
            sys.exit(0)
        except click.exceptions.Exit:
            raise
        except (click.ClickException, click.Abort):
            raise
        except Exception as exc:  # a bug in salesrules itself
            if os.environ.get("SALESRULES_DEBUG"):
                traceback.print_exc()
            _fail(f"internal error: {type(exc).__name__}: {exc}\n"
                  "(set SALESRULES_DEBUG=1 to see the traceback, and please report it)",
                  EXIT_INTERNAL)

    return wrapper


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="salesrules")
def main() -> None:
    """A rules engine for sales operations.

    Each run reads a CRM export, sets every rep's targets down the funnel,
    tracks progress, raises findings, and allocates new leads, with every
    decision made by a strategy named in rules.toml.
    """


rules_option = click.option(
    "--rules", "rules", type=click.Path(path_type=Path), default=Path("rules.toml"),
    show_default=True, help="The rules file.")
strict_option = click.option(
    "--strict", is_flag=True, envvar="SALESRULES_STRICT",
    help="Fail when any installed plugin cannot be loaded (env SALESRULES_STRICT=1).")


def _warn_plugins(problems: list) -> None:
    for p in problems:
        click.echo(f"warning: {p}", err=True)


@main.command()
@rules_option
@click.option("--data", type=click.Path(path_type=Path, file_okay=False),
              help="Folder of the export files (default: data.dir in rules.toml).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Output folder (default: output.dir in rules.toml, i.e. out/).")
@click.option("--as-of", "as_of", callback=_date, metavar="YYYY-MM-DD",
              help="The day the run is for (default: run.as_of, else the last activity date).")
@click.option("--seed", type=int, help="Seed for any policy that draws lots (default: run.seed).")
@click.option("--dry-run", is_flag=True, help="Write the outputs but change no run history.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@strict_option
@handle_errors
def run(rules: Path, data: Path | None, out: Path | None, as_of: dt.date | None,
        seed: int | None, dry_run: bool, quiet: bool, strict: bool) -> None:
    """Run the loop: load → goals → progress → checks → allocation → outputs."""
    from .run import RunOptions
    from .run import run as do_run

    # on a terminal, the run shows which stage it is in; scripts (and -q) get nothing
    status = None
    if not quiet:
        from rich.console import Console

        err = Console(stderr=True, highlight=False)
        status = err.status("loading the export …") if err.is_terminal else None
    if status is not None:
        status.start()
    try:
        result = do_run(RunOptions(rules, data, out, as_of, seed, dry_run, strict),
                        on_stage=(lambda stage: status.update(f"{stage} …")) if status else None)
    finally:
        if status is not None:
            status.stop()
    global _last_result
    _last_result = result  # freed by the process ending, not object by object; see entry()
    if quiet:
        return
    from rich.markup import escape

    for w in result.warnings:  # warnings quote rules.toml tables such as [data.reps]
        err.print(f"[yellow]warning:[/] {escape(w)}", markup=True, soft_wrap=True)
    print_summary(result, Console(highlight=False, soft_wrap=True))


def print_summary(result, console) -> None:
    """The short table after a run: leads, reps behind pace, findings, where the report is."""
    from rich.table import Table

    a = result.allocation
    sev = {s: 0 for s in ("critical", "warn", "info")}
    for f in result.findings:
        sev[f.severity] += 1
    behind = len({f.subject for f in result.findings
                  if f.check == "behind-pace" and f.subject_kind == "rep"})
    p = result.goals.period
    title = (f"salesrules run as of {result.as_of} ({p.grain} {p.start} .. {p.end})"
             + (" [dry run]" if result.dry_run else ""))
    from rich.text import Text

    table = Table(title=Text(title), title_justify="left", show_header=False, box=None,
                  padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("reps", f"{len(result.dataset.reps)} "
                          f"({sum(r.active for r in result.dataset.reps.values())} active)")
    table.add_row("leads", f"{a.to_allocate} to allocate: {len(a.assignments)} assigned, "
                           f"{len(a.unassigned)} unassigned; {len(a.kept)} kept by their owner")
    table.add_row("behind pace", f"{behind} rep(s)")
    table.add_row("findings", f"{sev['critical']} critical, {sev['warn']} warn, "
                              f"{sev['info']} info")
    out = result.out_dir
    shown = out
    try:
        shown = out.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        pass
    if "report.html" in result.files:
        table.add_row("report", f"{shown}/report.html")
    table.add_row("outputs", f"{shown}/ ({', '.join(result.files)})")
    console.print(table)


@main.command()
@rules_option
@click.option("--data", type=click.Path(path_type=Path, file_okay=False),
              help="Folder of the export files (default: data.dir in rules.toml).")
@strict_option
@handle_errors
def validate(rules: Path, data: Path | None, strict: bool) -> None:
    """Check rules.toml and the data files; write nothing. Reports every problem."""
    from .allocation import check_fields
    from .config import load_config
    from .errors import ConfigError, DataError, Problems
    from .load import data_dir, load_dataset
    from .run import plan_run

    cfg = load_config(rules)  # without a readable config there is nothing more to check
    problems = Problems(cfg.data.max_errors)
    plan = plan_run(cfg, strict=strict, problems=problems)
    _warn_plugins(plan.registry.problems)
    ds = None
    try:
        ds = load_dataset(cfg, plan.sources, data_dir(cfg, data))
        check_fields(plan.routes, ds)
    except (DataError, ConfigError) as exc:
        for p in exc.problems:
            problems.add(p.where, p.message)
    if problems:
        raise UserError(problems.all(), f"{rules}: invalid")
    assert ds is not None
    for w in ds.warnings:
        click.echo(f"warning: {w}", err=True)
    rows = ", ".join(f"{i.name} {i.rows} rows" for i in ds.inputs)
    click.echo(f"{rules}: valid ({len(plan.components)} components; {rows})")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--check", is_flag=True,
              help="Verify every plugin loads and matches the hook contract; exit 1 if not.")
@strict_option
@handle_errors
def plugins(as_json: bool, check: bool, strict: bool) -> None:
    """List installed plugins, their versions and their components with params."""
    from .plugins import health, load_registry

    registry = load_registry(strict=strict and not check)
    if check:
        problems = health(registry)
        for p in problems:
            click.echo(f"problem: {p}", err=True)
        n = len(registry.plugins)
        if problems:
            _fail(f"{len(problems)} problem(s) in {n} plugin(s)", EXIT_INTERNAL)
        click.echo(f"{n} plugin(s) ok")
        return
    listing = plugin_listing(registry)
    if as_json:
        click.echo(json.dumps(listing, indent=2, ensure_ascii=False))
        return
    _warn_plugins(registry.problems + registry.deprecations)
    click.echo(f"hook contract {HOOK_CONTRACT}")
    for p in listing["plugins"]:
        click.echo(f"{p['name']} {p['version']} ({p['distribution']})")
        for c in p["components"]:
            click.echo(f"  {c['kind']:<7} {c['name']}: {c['summary']}")
            for prm in c["params"]:
                default = ("" if prm["default"] is None else
                           f" = {json.dumps(prm['default'], ensure_ascii=False)}")
                click.echo(f"            {prm['name']}: {prm['type']}{default}")
                if prm["doc"]:
                    click.echo(f"              {prm['doc']}")


def plugin_listing(registry: Any) -> dict[str, Any]:
    import attrs

    from .config import converter
    from .config.comments import field_comments

    comps: dict[str, list[dict[str, Any]]] = {}
    for kind, entries in registry.components.items():
        for name, reg in sorted(entries.items()):
            params, docs = [], field_comments(reg.cls.Params)
            for a in attrs.fields(reg.cls.Params):
                default = a.default
                if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                    default = default.factory()  # type: ignore[union-attr]
                elif default is attrs.NOTHING:
                    default = None
                default = converter.unstructure(default)
                tp = a.type if isinstance(a.type, str) else getattr(a.type, "__name__", str(a.type))
                params.append({"name": a.name, "type": str(tp), "default": default,
                               "doc": docs.get(a.name, "")})
            comps.setdefault(reg.plugin, []).append(
                {"kind": kind, "name": name, "summary": reg.cls.summary(), "params": params})
    return {
        "hook_contract": HOOK_CONTRACT,
        "plugins": [{"name": p.name, "distribution": p.distribution, "version": p.version,
                     "builtin": p.builtin, "hooks": list(p.hooks),
                     "components": comps.get(p.name, [])} for p in registry.plugins],
        "problems": [str(p) for p in registry.problems],
    }


@main.command(name="compare")
@click.argument("rules_a", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("rules_b", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--data", type=click.Path(path_type=Path, file_okay=False),
              help="Export folder (default: RULES_A's data.dir).")
@click.option("--as-of", "as_of", callback=_date, metavar="YYYY-MM-DD")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def compare_cmd(rules_a: Path, rules_b: Path, data: Path | None, as_of: dt.date | None,
                seed: int, as_json: bool) -> None:
    """Allocate the same leads under two rule sets and compare them side by side.

    Uses RULES_A's export for both; writes no outputs and no history.
    """
    from .compare import compare

    out = compare(rules_a, rules_b, data, as_of, seed)
    if as_json:
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    a, b = out["a"], out["b"]
    click.echo(f"{out['leads']} leads as of {out['as_of']}")
    click.echo(f"  A = {a['rules']}\n  B = {b['rules']}\n")
    click.echo(f"{'':<22}{'A':>14}{'B':>14}")
    for key, label in (("assigned", "assigned"), ("unassigned", "unassigned"),
                       ("value", "lead value"), ("gini_count", "Gini of counts"),
                       ("gini_value", "Gini of value"),
                       ("expected_conversions", "expected conversions")):
        fmt = (lambda v: f"{v:,.2f}") if isinstance(a[key], float) else (lambda v: f"{v:,}")
        click.echo(f"{label:<22}{fmt(a[key]):>14}{fmt(b[key]):>14}")
    click.echo(f"\n{'rep':<10}{'team':<10}{'A leads':>8}{'A value':>12}{'B leads':>8}"
               f"{'B value':>12}{'conv.':>7}")
    for r in out["reps"]:
        click.echo(f"{r['rep_id']:<10}{r['team']:<10}{r['a_leads']:>8}{r['a_value']:>12,.0f}"
                   f"{r['b_leads']:>8}{r['b_value']:>12,.0f}{r['conversion_rate']:>7.1%}")


@main.command()
@rules_option
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 10_000),
              help="How many recent runs to show.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def history(rules: Path, limit: int, as_json: bool) -> None:
    """Show recent runs and each rep's load (leads received) in the balance window."""
    from .config import load_config
    from .history import open_history

    cfg = load_config(rules)
    path = cfg.base_dir / cfg.history.path
    if not cfg.history.enabled:
        raise UserError("history.enabled is false in rules.toml: there is no run history")
    if not path.exists():
        click.echo(f"no runs recorded yet ({path} does not exist)")
        return
    h = open_history(path)
    try:
        runs = h.runs(limit)
        latest = dt.date.fromisoformat(runs[0].as_of) if runs else None
        loads = h.load_by_rep(latest, cfg.allocation.window_days) if latest else {}
    finally:
        h.close()
    if as_json:
        click.echo(json.dumps({
            "runs": [{"run_id": r.run_id, "as_of": r.as_of, "committed_at": r.committed_at,
                      "assigned": r.assigned, "unassigned": r.unassigned} for r in runs],
            "window_days": cfg.allocation.window_days,
            "as_of": latest.isoformat() if latest else None,
            "load": {rep: {"leads": n, "value": round(v, 2)} for rep, (n, v) in loads.items()},
        }, indent=2, ensure_ascii=False))
        return
    click.echo(f"{'as of':<12} {'run':<17} {'assigned':>9} {'unassigned':>11}  committed")
    for r in runs:
        click.echo(f"{r.as_of:<12} {r.run_id:<17} {r.assigned:>9} {r.unassigned:>11}  "
                   f"{r.committed_at}")
    if latest:
        click.echo(f"\nload per rep, {cfg.allocation.window_days} days to {latest}:")
        click.echo(f"{'rep':<12} {'leads':>6} {'value':>12}")
        for rep, (n, v) in sorted(loads.items(), key=lambda kv: (-kv[1][0], kv[0])):
            click.echo(f"{rep:<12} {n:>6} {v:>12,.2f}")


@main.command()
@click.argument("path", type=click.Path(path_type=Path), default=Path("rules.toml"))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@handle_errors
def init(path: Path, force: bool) -> None:
    """Write a commented starter rules.toml."""
    from .starter import starter_toml

    if path.exists() and not force:
        raise UserError(f"{path} already exists (use --force to overwrite)")
    path.write_text(starter_toml(), encoding="utf-8")
    click.echo(f"wrote {path}; next: point [data] at your export and run `salesrules validate`")


@main.command(name="new-plugin")
@click.argument("name")
@click.option("--kind", type=click.Choice(["allocation", "goals", "check"]), required=True,
              help="What the plugin's component is.")
@click.option("--dir", "parent", type=click.Path(path_type=Path, file_okay=False),
              default=Path("."), show_default=True, help="Where to create the NAME folder.")
@handle_errors
def new_plugin_cmd(name: str, kind: str, parent: Path) -> None:
    """Write a complete plugin package into ./NAME: pyproject, component, README, a test."""
    from .scaffold import KINDS, new_plugin

    dest = new_plugin(name, kind, parent)
    line = KINDS[kind][1].format(c=name)
    click.echo(f"wrote {dest}/\n  next: pip install -e '{dest}[test]' && pytest {dest}\n"
               f"  then switch it on in rules.toml with: {line}")


@main.command()
@click.argument("outdir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--reps", default=40, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--days", default=180, show_default=True, type=click.IntRange(1, 3660),
              help="Days of activity history, ending on --end.")
@click.option("--call-days", default=20, show_default=True, type=click.IntRange(0, 3660),
              help="Days (ending on --end) with a call log; 0 for none.")
@click.option("--leads", default=300, show_default=True, type=click.IntRange(0, 10_000_000))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--end", callback=_date, default="2026-11-25", show_default=True,
              metavar="YYYY-MM-DD", help="Last day of activity.")
@click.option("--chinese", is_flag=True, help="Chinese headers and names, GB18030-encoded.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv",
              show_default=True)
@click.option("--deals", type=click.Choice(["salesforce", "hubspot", "generic"]),
              help="Write a deal (opportunity) export in this CRM's format instead.")
@handle_errors
def sample(outdir: Path, reps: int, days: int, call_days: int, leads: int, seed: int,
           end: dt.date, chinese: bool, fmt: str, deals: str | None) -> None:
    """Write a realistic sample export (and a rules.toml that reads it) into OUTDIR."""
    import tomli_w

    from .sample import SampleSpec, deal_rules_for, generate, generate_deals, rules_for

    spec = SampleSpec(reps, days, leads, seed, end, chinese, fmt, call_days)
    if deals:
        files = generate_deals(outdir, spec, deals)
        rules = deal_rules_for(deals)
    else:
        files = generate(outdir, spec)
        rules = rules_for(files, chinese)
    (outdir / "rules.toml").write_text(tomli_w.dumps(rules), encoding="utf-8")
    click.echo(f"wrote {', '.join(p.name for p in files.values())}, truth.json and rules.toml "
               f"to {outdir}/; try: salesrules run --rules {outdir}/rules.toml")


#: The last run's result, kept alive so that :func:`entry` can end the process without
#: first freeing a big run's objects one by one (a few tenths of a second on 200,000 leads).
_last_result = None


def entry() -> None:  # pragma: no cover - exercised by the end-to-end tests' subprocesses
    """The ``salesrules`` command: :func:`main`, then a prompt exit.

    Everything is written, closed and committed when a command returns;
    what is left is tearing down the heap, which the operating system does
    at once. The cycle collector stays off for the whole short-lived command
    (:func:`salesrules.run.run` pauses it anyway), so that nothing walks a
    finished run's millions of objects just before the process ends.
    """
    import gc

    gc.disable()
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
