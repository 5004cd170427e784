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
    from ..run import RunOptions
    from ..run import run as do_run

    # on a terminal, the run shows which stage it is in; scripts (and -q) get nothing
    err, status = None, None
    if not quiet:  # -q does not import rich at all
        from rich.console import Console

        err = Console(stderr=True, highlight=False)
        status = err.status("loading the export …") if err.is_terminal else None
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
    if err is None:  # -q: a plugin that failed to load is never silent (strict mode would fail)
        warn_plugins(result.registry.problems)
        return
    from rich.console import Console
    from rich.markup import escape

    from ..warning_words import warning
    from ..words import speaking

    with speaking(result.config.output.language):
        prefix = escape(warning("prefix"))
    for w in result.warnings:  # warnings quote rules.toml tables such as [data.reps]
        err.print(f"[yellow]{prefix}[/] {escape(w)}", markup=True, soft_wrap=True)
    print_summary(result, Console(highlight=False, soft_wrap=True))


SUMMARY: dict[str, dict[str, str]] = {
    "title": {"en": "salesrules run as of {as_of} ({grain} {start} .. {end}){dry}",
              "zh": "salesrules 运行，截至 {as_of}（{grain} {start} .. {end}）{dry}"},
    "dry": {"en": " [dry run]", "zh": " [试运行]"},
    "quarter": {"en": "quarter", "zh": "季度"}, "month": {"en": "month", "zh": "月度"},
    "reps": {"en": "reps", "zh": "销售"},
    "reps-text": {"en": "{n:,} ({active:,} active)", "zh": "{n:,} 人（在职 {active:,} 人）"},
    "leads": {"en": "leads", "zh": "线索"},
    "leads-text": {"en": "{n:,} to allocate: {assigned:,} assigned, {unassigned:,} unassigned; "
                         "{kept:,} kept by their owner",
                   "zh": "待分配 {n:,} 条：已分配 {assigned:,}，未分配 {unassigned:,}；"
                         "{kept:,} 条保留原负责人"},
    "behind": {"en": "behind pace", "zh": "落后进度"},
    "behind-text": {"en": "{n:,} rep", "zh": "{n:,} 人"},
    "behind-texts": {"en": "{n:,} reps", "zh": "{n:,} 人"},
    "findings": {"en": "findings", "zh": "需关注"},
    "findings-text": {"en": "{critical:,} critical, {warn:,} warn, {info:,} info",
                      "zh": "严重 {critical:,}，警告 {warn:,}，提示 {info:,}"},
    "report": {"en": "report", "zh": "报告"},
    "outputs": {"en": "outputs", "zh": "输出"},
}


def print_summary(result: Any, console: Any) -> None:
    """The short table after a run, in ``output.language``."""
    from ..words import speaking

    with speaking(result.config.output.language):
        _print_summary(result, console)


def _print_summary(result: Any, console: Any) -> None:
    """The short table after a run: leads, reps behind pace, findings, where the report is."""
    from rich.table import Table
    from rich.text import Text

    from ..words import say

    def s(key: str, **fields: Any) -> str:
        return say(key, SUMMARY, **fields)

    a = result.allocation
    sev = {s: 0 for s in ("critical", "warn", "info")}
    for f in result.findings:
        sev[f.severity] += 1
    behind = len({f.subject for f in result.findings
                  if f.check == "behind-pace" and f.subject_kind == "rep"})
    p = result.goals.period
    title = s("title", as_of=result.as_of, grain=s(p.grain) if p.grain in SUMMARY else p.grain,
              start=p.start, end=p.end, dry=s("dry") if result.dry_run else "")
    table = Table(title=Text(title), title_justify="left", show_header=False, box=None,
                  padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    reps = result.dataset.reps
    table.add_row(s("reps"), s("reps-text", n=len(reps),
                                active=sum(r.active for r in reps.values())))
    table.add_row(s("leads"), s("leads-text", n=a.to_allocate, assigned=len(a.assignments),
                                unassigned=len(a.unassigned), kept=len(a.kept)))
    table.add_row(s("behind"), s("behind-text" if behind == 1 else "behind-texts", n=behind))
    table.add_row(s("findings"), s("findings-text", **sev))
    shown = result.out_dir
    try:
        shown = shown.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        pass
    if "report.html" in result.files:
        table.add_row(s("report"), f"{shown}/report.html")
    table.add_row(s("outputs"), f"{shown}/ ({', '.join(result.files)})")
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
