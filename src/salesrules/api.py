"""The public API: everything a plugin may import, and nothing else.

Plugins import from here only (``from salesrules.api import hookimpl, Policy``);
the modules behind it may move between releases, this module's names do not
change within a hook contract version (``HOOK_CONTRACT``). The built-in
strategies import only from here and from ``salesrules.hookspecs``, like any
other plugin.
"""

from __future__ import annotations

from . import HOOK_CONTRACT
from .allocation.batch import AllocationBatch, AllocationContext, RepSlot
from .checks.context import CheckContext
from .components import Check, FunnelModel, Policy, Source, TimeSplit
from .errors import ConfigError
from .goals.batches import FunnelBatch, Rate, SplitBatch
from .goals.split import largest_remainder
from .hookspecs import hookimpl
from .load.dataset import Dataset, DatasetBuilder, InputFile
from .load.tables import parse_date
from .model import ActivityTable, Assignment, Finding, Funnel, Lead, Period, ProgressRow, Rep, Stage
from .run import RunResult

__all__ = [
    # writing a plugin
    "HOOK_CONTRACT", "hookimpl",
    # the component kinds a plugin registers
    "Check", "FunnelModel", "Policy", "Source", "TimeSplit",
    # what each kind receives, once per batch
    "AllocationBatch", "AllocationContext", "CheckContext", "FunnelBatch", "RepSlot",
    "SplitBatch",
    # the data: read-only values
    "ActivityTable", "Assignment", "Dataset", "Finding", "Funnel", "Lead", "Period", "ProgressRow",
    "Rate", "Rep", "RunResult", "Stage",
    # reading a file (sources)
    "DatasetBuilder", "InputFile", "parse_date",
    # errors and helpers
    "ConfigError", "largest_remainder",
]

#: One example per public name, shown in docs/api.md (a test compiles each one).
EXAMPLES: dict[str, str] = {
    "HOOK_CONTRACT": '''
        SALESRULES_CONTRACT = "2.0"  # in your plugin module: the contract it was written for
    ''',
    "hookimpl": '''
        @hookimpl
        def register_policies(register):
            register(RoundRobin)
    ''',
    "Check": '''
        class NoDials(Check):
            """Reps with no dials at all so far."""
            name = "no-dials"

            def run(self, ctx):
                for row in ctx.progress:
                    if row.stage == "dials" and row.actual == 0:
                        yield Finding(row.rep_id, "rep", self.name, "warn",
                                      "no dials this period", action="call the rep")
    ''',
    "FunnelModel": '''
        class FixedRates(FunnelModel):
            """Every rep converts at the funnel's default rates."""
            name = "fixed"

            def rates(self, batch):
                return {rep.id: {s.name: Rate(s.default_rate or 1.0, "fixed")
                                 for s in batch.funnel.stages[1:]} for rep in batch.reps}
    ''',
    "Policy": '''
        class RoundRobin(Policy):
            """Each lead to the next eligible rep in turn."""
            name = "round-robin"

            def allocate(self, batch):
                for i, lead in enumerate(batch.leads):
                    batch.assign(lead, batch.reps[i % len(batch.reps)], "next in turn")
    ''',
    "Source": '''
        class ExtraDials(Source):
            """Adds one dial per listed rep-day."""
            name = "extra-dials"

            def read(self, file, into):
                for line, (rep_id, day), _ in file.rows(["rep_id", "date"]):
                    into.add_stage(rep_id, parse_date(day), "dials", 1)
    ''',
    "TimeSplit": '''
        class FrontLoaded(TimeSplit):
            """The first month of a quarter weighs double."""
            name = "front-loaded"

            def month_weights(self, batch):
                return [2.0] + [1.0] * (len(batch.months) - 1)
    ''',
    "AllocationBatch": '''
        def allocate(self, batch):  # a Policy's method
            for lead in batch.leads:  # highest priority, value, then oldest first
                open_slots = [s for s in batch.reps if not s.full and batch.allowed(lead, s)]
                if not open_slots:
                    batch.skip(lead, "every eligible rep is at capacity")
                    continue
                batch.assign(lead, min(open_slots, key=lambda s: s.load), "least loaded")
    ''',
    "AllocationContext": '''
        def allocate(self, batch):
            ctx = batch.context  # the run's goals and progress, for policies that rank reps
            behind = {p.rep_id for p in ctx.progress if p.pace is not None and p.pace < 0.8}
    ''',
    "CheckContext": '''
        def run(self, ctx):  # a Check's method
            for rep, rows in ctx.by_rep():
                days = ctx.working_days(rep.id)  # leave excluded, up to the as-of date
                daily = ctx.daily(rep.id)  # one row per working day, a column per stage
    ''',
    "FunnelBatch": '''
        def rates(self, batch):  # a FunnelModel's method
            window = batch.history_window(90)  # .start and .end, both inclusive
            totals = batch.history.window_totals(window.start, window.end)  # rep id -> per stage
    ''',
    "RepSlot": '''
        slot = batch.reps[0]
        if not slot.full:
            print(slot.rep.id, slot.load, slot.remaining, slot.cap_text())
    ''',
    "SplitBatch": '''
        def month_weights(self, batch):  # a TimeSplit's method: one weight per month
            return list(batch.month_working_days)  # in proportion to working days
    ''',
    "ActivityTable": '''
        table = ctx.dataset.activity
        totals = table.window_totals(start, end)  # every rep's sums in one pass
        dials = totals["r001"][ctx.funnel.index("dials")]
    ''',
    "Assignment": '''
        for a in result.allocation.assignments:  # in an output plugin
            print(a.lead_id, a.rep_id, a.team, a.policy, a.rule, a.reason)
    ''',
    "Dataset": '''
        for team, reps in ctx.dataset.teams().items():
            active = [r for r in reps if r.active]
    ''',
    "Finding": '''
        Finding("r001", "rep", "no-dials", "warn", "no dials this period",
                evidence={"dials": 0}, action="call the rep today")
    ''',
    "Funnel": '''
        funnel = ctx.funnel
        for upper, lower in funnel.links():  # adjacent stages, top down
            kind = funnel.link_kind(upper, lower)  # "rate", or "arpu" from a count to an amount
        source = funnel.upstream("intents")  # the count stage intents convert from
    ''',
    "Lead": '''
        Lead("L-1", datetime(2026, 11, 20, 9, 30), owner=None, priority=1, value=5000.0,
             fields={"region": "华东"})
    ''',
    "Period": '''
        period = batch.period
        print(period.grain, period.start, period.end, len(period.days()))
    ''',
    "ProgressRow": '''
        for row in ctx.progress:
            if row.stage == "revenue" and row.pace is not None and row.pace < 0.8:
                print(row.rep_id, row.actual, row.expected_to_date, row.target)
    ''',
    "Rate": '''
        Rate(0.25, "team rate over 90 days")
    ''',
    "Rep": '''
        Rep("r001", "王芳", "east", "senior", active=True, capacity=8, fields={})
    ''',
    "RunResult": '''
        @hookimpl
        def run_finished(result, out_dir):
            critical = [f for f in result.findings if f.severity == "critical"]
            print(f"{len(critical)} critical findings; outputs in {out_dir}")
    ''',
    "Stage": '''
        Stage("revenue", label="业绩", unit="amount")
    ''',
    "DatasetBuilder": '''
        def read(self, file, into):  # a Source's method
            into.add_stage("r001", date(2026, 11, 20), "dials", 40)
    ''',
    "InputFile": '''
        def read(self, file, into):  # a Source's method
            for line, (rep_id, day), extra in file.rows(["rep_id", "date"], keep_extra=True):
                if not rep_id:
                    file.error(line, "rep_id", "a row needs a rep")
    ''',
    "parse_date": '''
        parse_date("11/25/2026")  # date(2026, 11, 25); also 2026-11-25, 2026年11月25日, ...
    ''',
    "ConfigError": '''
        raise ConfigError("checks.no-dials.params.days: must be at least 1")
    ''',
    "largest_remainder": '''
        largest_remainder(10, [1, 1, 1])  # [4, 3, 3]: exact, and sums to the total
    ''',
}


def __getattr__(name: str) -> object:
    # contract 1.x's Job (a writer on a second core) left the API in 2.0: a 1.x plugin that
    # still imports it gets one that runs in place, with a DeprecationWarning
    if name == "Job":
        import warnings

        warnings.warn("salesrules.api.Job is deprecated (hook contract 2.0): write output files "
                      "directly in write_outputs; a Job now runs in place",
                      DeprecationWarning, stacklevel=2)
        return _InPlaceJob
    raise AttributeError(f"module 'salesrules.api' has no attribute {name!r}")


class _InPlaceJob:
    """Contract 1.x's ``Job``, kept for old plugins:
    :meth:`wait` runs ``fn`` here and gives its result."""

    def __init__(self, fn, size: int = 0, enabled: bool = True) -> None:
        self._fn = fn

    def wait(self):
        return self._fn()
