"""The hooks salesrules calls: the whole contract between the kernel and its plugins.

Every hook is called once per batch (per run or per file), never per lead or
per row. Registration hooks receive a ``register`` callback, so one plugin can
register several components; the kernel records which plugin registered each.
No hook stops at the first result: every implementation is called.
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
# Called once per process, when plugins are loaded, on every plugin.
# Return values are ignored. Built-in components are registered through these
# same hooks, marked trylast.


@hookspec
def register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register data sources: readers that turn an export file into reps, leads or activity.

    :param register: call it with each ``Source`` subclass. The class's
        ``name`` is what ``source = "..."`` selects in a ``[data.NAME]`` table
        (by default the table's own name).

    Batch: a source's ``read(file, into)`` is called once per configured file.

    Example::

        class MyCrmLeads(Source):
            '''Leads from MyCRM's JSON export.'''
            name = "mycrm-leads"
            def read(self, file, into):
                for item in json.loads(file.path.read_text())["leads"]:
                    into.add_lead(Lead(item["id"], parse_datetime(item["ts"])))

        @hookimpl
        def register_sources(register):
            register(MyCrmLeads)
    """


@hookspec
def register_policies(register: Callable[[type[Policy]], None]) -> None:
    """Register allocation policies: how one routing rule's leads are shared among its reps.

    :param register: call it with each ``Policy`` subclass. The class's
        ``name`` is what ``policy = "..."`` selects in ``[[allocation.rules]]``.

    Batch: a policy's ``allocate(batch)`` is called once per routing rule per
    run, with all the leads that rule matched and the reps it may use.

    Example::

        class FirstComeFirstServed(Policy):
            '''Give every lead to the first rep with room.'''
            name = "first-free"
            def allocate(self, batch):
                for lead in batch.leads:
                    slot = next((s for s in batch.reps if not s.full), None)
                    if slot is None:
                        batch.skip(lead, "nobody has room")
                    else:
                        batch.assign(lead, slot, "first rep with room")

        @hookimpl
        def register_policies(register):
            register(FirstComeFirstServed)
    """


@hookspec
def register_splits(register: Callable[[type[TimeSplit]], None]) -> None:
    """Register time splits: how a period's target is weighted over its months.

    :param register: call it with each ``TimeSplit`` subclass. The class's
        ``name`` is what ``goals.split`` selects.

    Batch: ``month_weights(batch)`` is called once per team per run and
    returns one non-negative weight per month: the month's share of the period
    for a rep who works every working day (the built-in ``even`` returns each
    month's working days). The kernel spreads each month's weight evenly over
    its working days and gives each rep's month a share in proportion to the
    weight of the days that rep works (so leave and a hire date lower only
    their own months), exact to the unit (largest remainder), then splits each
    month over its weeks and working days.

    Example::

        class FrontLoaded(TimeSplit):
            '''More in the first month of the quarter.'''
            name = "front-loaded"
            def month_weights(self, batch):
                return [1.5] + [1.0] * (len(batch.months) - 1)

        @hookimpl
        def register_splits(register):
            register(FrontLoaded)
    """


@hookspec
def register_funnels(register: Callable[[type[FunnelModel]], None]) -> None:
    """Register funnel models: how the rates that push
    a result target back down the funnel are estimated.

    :param register: call it with each ``FunnelModel`` subclass. The class's
        ``name`` is what ``goals.funnel`` selects.

    Batch: ``rates(batch)`` is called once per team per run and returns, per
    rep id, a ``Rate`` into each stage below the first (``lower / upper``).
    The kernel pushes each result target back through them.

    Example::

        class Fixed(FunnelModel):
            '''The configured default rates for everyone.'''
            name = "fixed"
            def rates(self, batch):
                rates = {s.name: Rate(s.default_rate, "configured")
                         for s in batch.funnel.stages[1:]}
                return {rep.id: rates for rep in batch.reps}

        @hookimpl
        def register_funnels(register):
            register(Fixed)
    """


@hookspec
def register_checks(register: Callable[[type[Check]], None]) -> None:
    """Register checks: rules that look at progress and raise findings.

    :param register: call it with each ``Check`` subclass. The class's
        ``name`` is the key of its ``[checks.NAME]`` table in rules.toml.

    Batch: ``run(ctx)`` is called once per run with every rep's progress and
    yields ``Finding`` objects.

    Example::

        class NoDials(Check):
            '''Reps with no dials at all this period.'''
            name = "no-dials"
            def run(self, ctx):
                for rep, rows in ctx.by_rep():
                    dials = next((r for r in rows if r.stage == "dials"), None)
                    if dials and dials.actual == 0:
                        yield Finding(rep.id, "rep", self.name, "warn",
                                      f"{rep.name} has made no calls.")

        @hookimpl
        def register_checks(register):
            register(NoDials)
    """


# ---------------------------------------------------------------- lifecycle
# Called once per run, after allocation, on every plugin. Return values are
# ignored.


@hookspec
def write_outputs(result: RunResult, out_dir: Path) -> None:
    """Write extra output files for a finished run.

    :param result: everything the run computed: config, dataset, goals,
        progress, findings and allocation.
    :param out_dir: the run's own folder, not yet current. Files written here
        become current together with the built-in outputs, in one switch, only
        if the whole run succeeds; if anything fails they are discarded.
    :return: nothing; write the files before returning. (Contract 1.x let a
        hook hand back a ``Job`` to write on a second core; contract 2.0 runs
        the stages one after another, and such a job has already run.)

    Batch: once per run, after the kernel's own files. Files written here are
    listed in ``run.json``.

    Example::

        @hookimpl
        def write_outputs(result, out_dir):
            critical = [f for f in result.findings if f.severity == "critical"]
            (out_dir / "critical.txt").write_text("\\n".join(f.message for f in critical))
    """


@hookspec
def run_finished(result: RunResult, out_dir: Path) -> None:
    """Act on a run whose outputs are in place, e.g. post findings to a chat.

    :param result: everything the run computed; ``result.dry_run`` says
        whether this was a dry run.
    :param out_dir: the output folder, now holding the run's files.

    Batch: once per run, after the outputs are committed.

    Example::

        @hookimpl
        def run_finished(result, out_dir):
            if not result.dry_run:
                print(f"{len(result.findings)} findings in {out_dir}")
    """
