"""The ``rules.toml`` schema, structured into attrs classes with every error named by key path.

``schema`` holds the classes, ``convert`` the cattrs converter, ``errors`` the
rewriting of cattrs' errors into key paths, and ``load`` the reading of a file.
"""

from __future__ import annotations

from ..errors import ConfigError, Problem
from .convert import converter, make_converter, unstructure
from .errors import add_problems, format_path, path_parts, structure
from .load import ENCODINGS, load_config, parse_config
from .schema import (
    RUNTIME_FIELDS,
    WEEKDAYS,
    AllocationConfig,
    CalendarConfig,
    DataConfig,
    DataFile,
    FunnelConfig,
    GoalsConfig,
    HistoryConfig,
    OutputConfig,
    PluginsConfig,
    RecycleConfig,
    RuleConfig,
    RulesConfig,
    RunConfig,
    TierConfig,
    Use,
    _default_stages,
)

__all__ = [
    "ENCODINGS", "RUNTIME_FIELDS", "WEEKDAYS", "AllocationConfig", "CalendarConfig",
    "ConfigError", "DataConfig", "DataFile", "FunnelConfig", "GoalsConfig", "HistoryConfig",
    "OutputConfig", "PluginsConfig", "Problem", "RecycleConfig", "RuleConfig", "RulesConfig",
    "RunConfig", "TierConfig", "Use", "_default_stages", "add_problems", "converter",
    "format_path", "load_config", "make_converter", "parse_config", "path_parts", "structure",
    "unstructure",
]
