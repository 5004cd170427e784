"""``salesrules init``, ``new-plugin`` and ``sample``: files to start from."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..errors import UserError
from .common import DATE_HELP, date_option, handle_errors


@click.command()
@click.argument("path", type=click.Path(path_type=Path), default=Path("rules.toml"))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@handle_errors
def init(path: Path, force: bool) -> None:
    """Write a commented starter rules.toml."""
    from ..starter import starter_toml

    if path.exists() and not force:
        raise UserError(f"{path} already exists (use --force to overwrite)")
    path.write_text(starter_toml(), encoding="utf-8")
    click.echo(f"wrote {path}; next: point [data] at your export and run `salesrules validate`")


@click.command(name="new-plugin")
@click.argument("name")
@click.option("--kind", type=click.Choice(["allocation", "goals", "check"]), required=True,
              help="What the plugin's component is.")
@click.option("--dir", "parent", type=click.Path(path_type=Path, file_okay=False),
              default=Path("."), show_default=True, help="Where to create the NAME folder.")
@handle_errors
def new_plugin_cmd(name: str, kind: str, parent: Path) -> None:
    """Write a complete plugin package into ./NAME: pyproject, component, README, a test."""
    from ..scaffold import KINDS, new_plugin

    dest = new_plugin(name, kind, parent)
    line = KINDS[kind][1].format(c=name)
    click.echo(f"wrote {dest}/\n  next: pip install -e '{dest}[test]' && pytest {dest}\n"
               f"  then switch it on in rules.toml with: {line}")


@click.command()
@click.argument("outdir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--reps", default=40, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--days", default=180, show_default=True, type=click.IntRange(1, 3660),
              help="Days of activity history, ending on --end.")
@click.option("--call-days", default=20, show_default=True, type=click.IntRange(0, 3660),
              help="Days (ending on --end) with a call log; 0 for none.")
@click.option("--leads", default=300, show_default=True, type=click.IntRange(0, 10_000_000))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--end", callback=date_option, default="2026-11-25", show_default=True,
              metavar="DATE", help="Last day of activity. " + DATE_HELP)
@click.option("--chinese", is_flag=True, help="Chinese headers and names, GB18030-encoded.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv",
              show_default=True)
@click.option("--quarters", default=0, show_default=True, type=click.IntRange(0, 40),
              help="Write this many full quarters of history before --end's quarter, with "
                   "planted truth for `salesrules backtest` (replaces --days).")
@click.option("--deals", type=click.Choice(["salesforce", "hubspot", "generic"]),
              help="Write a deal (opportunity) export in this CRM's format instead.")
@handle_errors
def sample(outdir: Path, reps: int, days: int, call_days: int, leads: int, seed: int,
           end: dt.date, chinese: bool, fmt: str, quarters: int, deals: str | None) -> None:
    """Write a realistic sample export (and a rules.toml that reads it) into OUTDIR."""
    import tomli_w

    from ..sample import SampleSpec, deal_rules_for, generate, generate_deals, rules_for

    spec = SampleSpec(reps, days, leads, seed, end, chinese, fmt, call_days, quarters)
    if deals:
        files = generate_deals(outdir, spec, deals)
        rules = deal_rules_for(deals)
    else:
        files = generate(outdir, spec)
        rules = rules_for(files, chinese)
    (outdir / "rules.toml").write_text(tomli_w.dumps(rules), encoding="utf-8")
    click.echo(f"wrote {', '.join(p.name for p in files.values())}, truth.json and rules.toml "
               f"to {outdir}/; try: salesrules run --rules {outdir}/rules.toml")
