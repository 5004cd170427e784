"""``salesrules backtest``: replay the rules on past days and say how right they were."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..errors import UserError
from .common import DATE_HELP, data_option, date_option, handle_errors, rules_option


@click.command()
@rules_option
@data_option
@click.option("--from", "start", callback=date_option, metavar="DATE", required=True,
              help="The first as-of date to replay. " + DATE_HELP)
@click.option("--to", "end", callback=date_option, metavar="DATE", required=True,
              help="The last as-of date to replay.")
@click.option("--every", type=click.Choice(["day", "week", "month"]), default="week",
              show_default=True, help="How far apart the as-of dates are.")
@click.option("--against", type=click.Path(path_type=Path, dir_okay=False),
              help="A second rules file to replay on the same dates and compare with.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Folder for backtest.csv, .json and .html (default: output.dir/backtest).")
@click.option("--seed", type=int, help="Seed for any policy that draws lots (default: run.seed).")
@click.option("--force", is_flag=True,
              help="Use --out even if it holds files the backtest did not write (they are left "
                   "alone). The root, home, rules and input folders are refused even so.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@handle_errors
def backtest(rules: Path, data: Path | None, start: dt.date, end: dt.date, every: str,
             against: Path | None, out: Path | None, seed: int | None, force: bool,
             quiet: bool) -> None:
    """Replay the rules at each as-of date from --from to --to, using only what was known
    then, and score goals, warnings, metrics, raises and allocation against what happened."""
    from ..backtest import BacktestOptions
    from ..backtest import backtest as do_backtest
    from ..backtest.output import check_folder, write_all
    from ..backtest.summary import sentences
    from ..config import load_config

    if not rules.is_file():
        raise UserError(f"--rules {rules}: no such file")
    if against is not None and not against.is_file():
        raise UserError(f"--against {against}: no such file")
    cfg = load_config(rules)
    folder = out or (cfg.base_dir / cfg.output.dir / "backtest")
    check_folder(folder, cfg, data, force)  # before the replay: a refused --out costs nothing
    opts = BacktestOptions(rules, start, end, every, against, data, seed)
    zh = cfg.output.language == "zh"
    say = (lambda d: None) if quiet else (
        lambda d: click.echo(f"正在回测 {d}" if zh else f"replaying {d}", err=True, nl=True))
    result = do_backtest(opts, say)
    options = {"from": start.isoformat(), "to": end.isoformat(), "every": every,
               "against": str(against) if against else "",
               "seed": seed if seed is not None else cfg.run.seed}
    files = write_all(result, folder, str(rules), options)
    if quiet:
        return
    for line in sentences(result, cfg.output.language):
        click.echo(line)
    click.echo(f"已写入 {folder}/：{'、'.join(files)}" if zh else
               f"wrote {', '.join(files)} to {folder}/")
