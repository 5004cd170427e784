"""The ``salesrules`` command line: run, validate, compare, history, plugins, init, sample
and backtest.

Each command lives in the module named for what it does; this module makes
the group, adds them, and is the console script's :func:`entry`.
"""

from __future__ import annotations

import os
import sys

import click

from .. import __version__
from . import allocator  # noqa: F401  # first of ours: before anything imports polars
from .backtesting import backtest
from .common import EXIT_INPUT, EXIT_INTERNAL, handle_errors
from .info import compare_cmd, history, plugin_listing, plugins
from .making import init, new_plugin_cmd, sample
from .running import print_summary, run, validate

__all__ = ["EXIT_INPUT", "EXIT_INTERNAL", "entry", "handle_errors", "main", "plugin_listing",
           "print_summary"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="salesrules")
def main() -> None:
    """A rules engine for sales operations.

    Each run reads a CRM export, sets every rep's targets down the funnel,
    tracks progress, raises findings, and allocates new leads, with every
    decision made by a strategy named in rules.toml.
    """


for _command in (run, validate, plugins, compare_cmd, history, init, new_plugin_cmd, sample,
                 backtest):
    main.add_command(_command)


def entry() -> None:  # pragma: no cover - exercised by the end-to-end tests' subprocesses
    """The ``salesrules`` command: :func:`main`, then a prompt exit.

    Everything is written, closed and committed when a command returns;
    what is left is tearing down the heap, which the operating system does
    at once. The cycle collector stays off for the whole short-lived command
    (:func:`salesrules.run.run` pauses it anyway), so that nothing walks a
    finished run's millions of objects just before the process ends (the
    last run's result stays referenced from :mod:`.running` until then).
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
