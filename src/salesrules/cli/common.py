"""What every command shares: error handling and exit codes, options, dates, counts and tables."""

from __future__ import annotations

import datetime as dt
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any

import click

from ..errors import PluginError, UserError
from ..plugins import PluginLoadError

EXIT_INTERNAL, EXIT_INPUT = 1, 2


def fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input → its problems and exit 2; plugin or internal errors → one message and exit 1."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            fail("error: " + exc.render().replace("\n", "\n  "), EXIT_INPUT)
        except PluginLoadError as exc:
            fail("error: plugins failed to load (strict mode):\n  "
                 + "\n  ".join(str(p) for p in exc.problems), EXIT_INPUT)
        except PluginError as exc:
            if os.environ.get("SALESRULES_DEBUG"):
                traceback.print_exception(exc.cause)
            fail(f"error: {exc}\n(set SALESRULES_DEBUG=1 to see the traceback)", EXIT_INTERNAL)
        except KeyboardInterrupt:
            fail("interrupted; previous outputs are untouched", 130)
        except BrokenPipeError:  # e.g. piped into `head`
            sys.stderr.close()
            sys.exit(0)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # a bug in salesrules itself
            if os.environ.get("SALESRULES_DEBUG"):
                traceback.print_exc()
            fail(f"internal error: {type(exc).__name__}: {exc}\n"
                 "(set SALESRULES_DEBUG=1 to see the traceback, and please report it)",
                 EXIT_INTERNAL)

    return wrapper


def parse_day(text: str) -> dt.date:
    """A date in any format the export's date columns accept: the loader's own parser."""
    try:
        from ..api import parse_date
    except ImportError:  # pragma: no cover - in case the public API stops re-exporting it
        from ..load.tables import parse_date
    return parse_date(text)


def date_option(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    """Click callback: a date option read like the export's dates; a bad one is a usage error."""
    if value is None:
        return None
    try:
        return parse_day(value)
    except ValueError:
        raise click.BadParameter(
            f"expected a date such as 2026-11-25, 2026/11/25, 11/25/2026 or 2026年11月25日, "
            f"got {value!r}") from None


DATE_HELP = "Dates are read like the export's: 2026-11-25, 2026/11/25, 11/25/2026, 2026年11月25日 …"

rules_option = click.option(
    "--rules", "rules", type=click.Path(path_type=Path), default=Path("rules.toml"),
    show_default=True, help="The rules file.")
data_option = click.option(
    "--data", type=click.Path(path_type=Path, file_okay=False),
    help="Folder of the export files (default: data.dir in rules.toml).")
strict_option = click.option(
    "--strict", is_flag=True, envvar="SALESRULES_STRICT",
    help="Fail when any installed plugin cannot be loaded (env SALESRULES_STRICT=1).")


def warn_plugins(problems: Sequence[object]) -> None:
    for p in problems:
        click.echo(f"warning: {p}", err=True)


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 row``, ``2 rows``, ``12,345 rows``: a number with thousands separators and its noun."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = (),
                *, err: bool = False) -> None:
    """A plain table: each column as wide as its widest cell, two spaces apart, never cut.

    ``right`` lists the columns (by index) aligned right, such as numbers.
    Widths count terminal cells (rich's measure), so Chinese names line up too.
    """
    from rich.console import Console
    from rich.measure import Measurement
    from rich.table import Table

    table = Table(box=None, padding=(0, 1), pad_edge=False, show_edge=False)
    for i, h in enumerate(header):
        table.add_column(h, justify="right" if i in right else "left", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    wide = Console(width=1_000_000)
    console = Console(width=max(Measurement.get(wide, wide.options, table).maximum, 1),
                      color_system=None, highlight=False)
    with console.capture() as captured:
        console.print(table)
    click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()), err=err)
