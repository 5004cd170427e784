"""The public API: everything a plugin may import, and nothing else.

Plugins import from here only (``from salesrules.api import hookimpl, Policy``);
the modules behind it may move between releases, this module's names do not
change within a hook contract version (``HOOK_CONTRACT``).
"""

from __future__ import annotations

from . import HOOK_CONTRACT, __version__
from .allocation.batch import AllocationBatch, AllocationContext, RepSlot
from .checks.context import CheckContext
from .components import Check, Component, FunnelModel, NoParams, Policy, Source, TimeSplit
from .errors import ConfigError, DataError, UserError
from .goals.batches import FunnelBatch, Rate, SplitBatch
from .goals.calendar import WorkCalendar
from .goals.split import largest_remainder
from .hookspecs import hookimpl
from .load.dataset import Dataset, DatasetBuilder, InputFile
from .load.tables import (
    CellError,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_int,
    parse_number,
)
from .activity import ActivityRows
from .model import (
    ActivityTable,
    Assignment,
    DailyActivity,
    Finding,
    Funnel,
    Goal,
    Lead,
    Period,
    ProgressRow,
    Rep,
    Stage,
    Target,
    Unassigned,
    link_kind,
)
from .run import RunResult

__all__ = [
    "HOOK_CONTRACT", "ActivityRows", "ActivityTable", "AllocationBatch", "AllocationContext", "Assignment", "CellError", "Check",
    "CheckContext", "Component", "ConfigError", "DailyActivity", "DataError", "Dataset",
    "DatasetBuilder", "Finding", "Funnel", "FunnelBatch", "FunnelModel", "Goal", "InputFile",
    "Lead", "NoParams", "Period", "Policy", "ProgressRow", "Rate", "Rep", "RepSlot",
    "RunResult", "Source", "SplitBatch", "Stage", "Target", "TimeSplit", "Unassigned",
    "UserError", "WorkCalendar", "__version__", "hookimpl", "largest_remainder",
    "link_kind", "parse_bool", "parse_date", "parse_datetime", "parse_int", "parse_number",
]


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
    """Contract 1.x's ``Job``, kept for old plugins: :meth:`wait` runs ``fn`` here and gives its result."""

    def __init__(self, fn, size: int = 0, enabled: bool = True) -> None:
        self._fn = fn

    def wait(self):
        return self._fn()
