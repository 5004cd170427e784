"""``salesrules run`` and ``salesrules validate``: the loop, its summary, and the dry check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from ..errors import UserError
from .common import (
    DATE_HELP,
    count,
    data_option,
    date_option,
    handle_errors,
    rules_option,
    strict_option,
    warn_plugins,
)

#: The last run's result, kept alive so that :func:`salesrules.cli.entry` can end the process
#: without first freeing a big run's objects one by one (a few tenths of a second on 200,000
#: leads).
last_result: Any = None


@click.command()
@rules_option
@data_option
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Output folder (default: output.dir in rules.toml, i.e. out/).")
@click.option("--as-of", "as_of", callback=date_option, metavar="DATE",
              help="The day the run is for (default: run.as_of, else the last activity date). "
                   + DATE_HELP)
@click.option("--seed", type=int, help="Seed for any policy that draws lots (default: run.seed).")
@click.option("--dry-run", is_flag=True, help="Write the outputs but change no run history.")
@click.option("--redo-day", is_flag=True,
              help="Replace the as-of date's earlier runs instead of adding to them (their "
                   "leads are routed again); says how many assignments change.")
@click.option("--force", is_flag=True,
              help="Use --out even if it holds files salesrules did not write (they are left "
                   "alone; files named like an output are replaced). The root, home, rules "
                   "and input folders are refused even so.")
@click.option("-q", "--quiet", is_flag=True,
              help="Print nothing but errors and plugins that failed to load.")
@strict_option
@handle_errors
def run(rules: Path, data: Path | None, out: Path | None, as_of: dt.date | None,
        seed: int | None, dry_run: bool, redo_day: bool, force: bool, quiet: bool,
        strict: bool) -> None:
    """Run the loop: load → goals → progress → checks → allocation → outputs."""
    from rich.console import Console

    from ..run import RunOptions
    from ..run import run as do_run

    # on a terminal, the run shows which stage it is in; scripts (and -q) get nothing
    err = Console(stderr=True, highlight=False)
    status = err.status("loading the export …") if not quiet and err.is_terminal else None
    if status is not None:
        status.start()
    try:
        result = do_run(RunOptions(rules, data, out, as_of, seed, dry_run, strict, force,
                                   redo_day),
                        on_stage=(lambda stage: status.update(f"{stage} …")) if status else None)
    finally:
        if status is not None:
            status.stop()
    global last_result
    last_result = result  # freed by the process ending, not object by object; see entry()
    if quiet:  # a plugin that failed to load is never silent: strict mode would have failed
        warn_plugins(result.registry.problems)
        return
    from rich.markup import escape

    for w in result.warnings:  # warnings quote rules.toml tables such as [data.reps]
        err.print(f"[yellow]warning:[/] {escape(w)}", markup=True, soft_wrap=True)
    print_summary(result, Console(highlight=False, soft_wrap=True))


def print_summary(result: Any, console: Any) -> None:
    """The short table after a run: leads, reps behind pace, findings, where the report is."""
    from rich.table import Table
    from rich.text import Text

    a = result.allocation
    sev = {s: 0 for s in ("critical", "warn", "info")}
    for f in result.findings:
        sev[f.severity] += 1
    behind = len({f.subject for f in result.findings
                  if f.check == "behind-pace" and f.subject_kind == "rep"})
    p = result.goals.period
    title = (f"salesrules run as of {result.as_of} ({p.grain} {p.start} .. {p.end})"
             + (" [dry run]" if result.dry_run else ""))
    table = Table(title=Text(title), title_justify="left", show_header=False, box=None,
                  padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    reps = result.dataset.reps
    table.add_row("reps", f"{len(reps):,} ({sum(r.active for r in reps.values()):,} active)")
    table.add_row("leads", f"{a.to_allocate:,} to allocate: {len(a.assignments):,} assigned, "
                           f"{len(a.unassigned):,} unassigned; {len(a.kept):,} kept by their "
                           "owner")
    table.add_row("behind pace", count(behind, "rep"))
    table.add_row("findings", f"{sev['critical']:,} critical, {sev['warn']:,} warn, "
                              f"{sev['info']:,} info")
    shown = result.out_dir
    try:
        shown = shown.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        pass
    if "report.html" in result.files:
        table.add_row("report", f"{shown}/report.html")
    table.add_row("outputs", f"{shown}/ ({', '.join(result.files)})")
    console.print(table)


@click.command()
@rules_option
@data_option
@strict_option
@handle_errors
def validate(rules: Path, data: Path | None, strict: bool) -> None:
    """Check rules.toml and the data files; write nothing. Reports every problem."""
    from ..allocation import check_fields
    from ..allocation.affinity import account_column
    from ..allocation.conditions import match_leads
    from ..config import load_config
    from ..errors import ConfigError, DataError, Problems
    from ..load import data_dir, load_dataset
    from ..run import plan_run

    cfg = load_config(rules)  # without a readable config there is nothing more to check
    problems = Problems(cfg.data.max_errors)
    plan = plan_run(cfg, strict=strict, problems=problems)
    warn_plugins(plan.registry.problems)
    ds = None
    try:
        ds = load_dataset(cfg, plan.sources, data_dir(cfg, data))
        check_fields(plan.routes, ds)
        account_column(cfg.allocation.account_field, ds.leads.frame.columns)
        match_leads([r.condition for r in plan.routes], ds.leads)  # as run will: never fails
    except (DataError, ConfigError) as exc:
        for p in exc.problems:
            problems.add(p.where, p.message)
    if problems:
        raise UserError(problems.all(), f"{rules}: invalid")
    assert ds is not None
    for w in ds.warnings:
        click.echo(f"warning: {w}", err=True)
    rows = ", ".join(f"{i.name} {count(i.rows, 'row')}" for i in ds.inputs)
    click.echo(f"{rules}: valid ({count(len(plan.components), 'component')}; {rows})")
