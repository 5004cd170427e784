"""The hooks salesrules calls: the whole contract between the kernel and its plugins.

Every hook is called once per batch (per run or per file), never per lead or
per row. Registration hooks receive a ``register`` callback, so one plugin can
register several components; the kernel records which plugin registered each.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .components import Check, FunnelModel, Policy, Source, TimeSplit
    from .run import RunResult

hookspec = pluggy.HookspecMarker("salesrules")
hookimpl = pluggy.HookimplMarker("salesrules")


# ---------------------------------------------------------------- registration
# Called once per process, when the plugins are loaded. Each hook is called on
# every plugin (none stops at the first result); return values are ignored.


@hookspec
def register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register data sources: readers that turn an export file into reps, leads or activity.

    :param register: call it with each :class:`~salesrules.api.Source` subclass.
        The class's ``name`` is what ``source = "..."`` selects in ``[data.*]``.
    """


@hookspec
def register_policies(register: Callable[[type[Policy]], None]) -> None:
    """Register allocation policies: how one routing rule's leads are shared among its reps.

    :param register: call it with each :class:`~salesrules.api.Policy` subclass.
        The class's ``name`` is what ``policy = "..."`` selects in
        ``[[allocation.rules]]``.
    """


@hookspec
def register_splits(register: Callable[[type[TimeSplit]], None]) -> None:
    """Register time splits: how a period's target is weighted over its months.

    :param register: call it with each :class:`~salesrules.api.TimeSplit`
        subclass. The class's ``name`` is what ``goals.split`` selects.
    """


@hookspec
def register_funnels(register: Callable[[type[FunnelModel]], None]) -> None:
    """Register funnel models: how the rates that push a result target back down the funnel are estimated.

    :param register: call it with each :class:`~salesrules.api.FunnelModel`
        subclass. The class's ``name`` is what ``goals.funnel`` selects.
    """


@hookspec
def register_checks(register: Callable[[type[Check]], None]) -> None:
    """Register checks: rules that look at progress and raise findings.

    :param register: call it with each :class:`~salesrules.api.Check` subclass.
        The class's ``name`` is the key of its ``[checks.NAME]`` table.
    """


# ---------------------------------------------------------------- lifecycle
# Called once per run, after allocation. Every implementation is called.


@hookspec
def write_outputs(result: RunResult, out_dir: Path) -> None:
    """Write extra output files for a finished run.

    :param result: everything the run computed: config, dataset, targets,
        progress, findings, assignments.
    :param out_dir: a staging folder. Files written here are moved into the
        run's output folder together with the built-in outputs, only if the
        whole run succeeds; on failure they are discarded.

    Files named here are listed in ``run.json``. Return value is ignored.
    """


@hookspec
def run_finished(result: RunResult, out_dir: Path) -> None:
    """Act on a run whose outputs are in place, e.g. post findings to a chat.

    :param result: everything the run computed.
    :param out_dir: the output folder, now holding the run's files.

    Called after the outputs and run history are committed, also on
    ``--dry-run`` (check ``result.dry_run``). Return value is ignored.
    """
