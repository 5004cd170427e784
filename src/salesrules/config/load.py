"""Reading rules.toml: TOML, structuring, then the checks across keys; every problem at once."""

from __future__ import annotations

import hashlib
import math
import tomllib
from pathlib import Path
from typing import Any

from ..errors import ConfigError, Problems
from ..warning_words import warning
from ..words import speaking
from .errors import format_path, structure
from .schema import WEEKDAYS, RulesConfig

ENCODINGS = ("auto", "utf-8", "utf-8-sig", "gb18030")
#: ``[data.NAME].delimiter``'s values (a tab is written ``tab`` or ``"\t"``).
DELIMITERS = (",", ";", "tab", "\t", "|")
#: The largest level target: far above any real one, and far enough below the float
#: range that tiers, ramps and funnel rates cannot overflow it.
MAX_TARGET = 1e15


def _check_funnel(cfg: RulesConfig, problems: Problems) -> None:
    if not cfg.funnel.stages:
        problems.add("funnel.stages", "the funnel needs at least one stage")
    seen: set[str] = set()
    for i, s in enumerate(cfg.funnel.stages):
        if s.kind not in ("", "process", "result"):
            problems.add(f"funnel.stages[{i}].kind",
                         f"expected one of 'process', 'result', got {s.kind!r}")
        if s.name in seen:
            problems.add(f"funnel.stages[{i}].name", f"stage {s.name!r} is listed twice")
        seen.add(s.name)
        if s.unit not in ("count", "amount"):
            problems.add(f"funnel.stages[{i}].unit",
                         f"expected one of 'count', 'amount', got {s.unit!r}")
        if i > 0 and s.default_rate is not None and s.default_rate <= 0:
            problems.add(f"funnel.stages[{i}].default_rate", "must be greater than 0")


def _check_goals(cfg: RulesConfig, problems: Problems) -> None:
    names = [s.name for s in cfg.funnel.stages]
    for level, stages in cfg.goals.levels.items():
        for stage, amount in stages.items():
            where = format_path(["goals", "levels", level, stage])
            if stage not in names:
                problems.add(where, f"unknown funnel stage {stage!r} (stages: {', '.join(names)})")
            elif not math.isfinite(amount):
                problems.add(where, f"expected a finite number, got {amount}")
            elif amount < 0:
                problems.add(where, "a target cannot be negative")
            elif amount > MAX_TARGET:
                problems.add(where, f"a target above {MAX_TARGET:g} is not supported, "
                             f"got {amount:g}")
    tiers = cfg.goals.tiers
    if [t.multiplier for t in tiers] != sorted(t.multiplier for t in tiers):
        problems.add("goals.tiers", "tiers must go from the lowest multiplier to the highest")
    if len({t.name for t in tiers}) != len(tiers):
        problems.add("goals.tiers", "tier names must be unique")
    conf = cfg.goals.confidence
    if conf is not None and not 0.5 <= conf < 1:
        problems.add("goals.confidence", f"must be at least 0.5 and below 1, got {conf}")
    _check_calendar(cfg, problems)


def _check_calendar(cfg: RulesConfig, problems: Problems) -> None:
    calendar = cfg.goals.calendar
    if calendar.country:
        import holidays

        if calendar.country not in holidays.list_supported_countries():
            problems.add("goals.calendar.country",
                         f"no holiday calendar for {calendar.country!r} in the "
                         "holidays library (use an ISO code such as CN, US, DE)")
        elif calendar.subdiv:
            try:
                holidays.country_holidays(calendar.country, subdiv=calendar.subdiv)
            except NotImplementedError:
                known = holidays.list_supported_countries()[calendar.country]
                problems.add("goals.calendar.subdiv",
                             f"{calendar.country} has no subdivision {calendar.subdiv!r} in "
                             f"the holidays library (it has: {', '.join(known) or 'none'})")
    elif calendar.subdiv:
        problems.add("goals.calendar.subdiv", "a subdivision needs goals.calendar.country")
    if not calendar.weekdays:
        problems.add("goals.calendar.weekdays", "at least one weekday must be a working day")
    for i, day in enumerate(calendar.weekdays):
        if day not in WEEKDAYS:
            problems.add(f"goals.calendar.weekdays[{i}]",
                         f"expected one of {', '.join(WEEKDAYS)}, got {day!r}")


def _check_data(cfg: RulesConfig, problems: Problems) -> None:
    if cfg.data.encoding not in ENCODINGS:
        problems.add("data.encoding",
                     f"expected one of {', '.join(ENCODINGS)}, got {cfg.data.encoding!r}")
    for name, table in cfg.data.tables.items():
        if table.encoding and table.encoding not in ENCODINGS:
            problems.add(format_path(["data", name, "encoding"]),
                         f"expected one of {', '.join(ENCODINGS)}, got {table.encoding!r}")
        if table.delimiter and table.delimiter not in DELIMITERS:
            problems.add(format_path(["data", name, "delimiter"]),
                         "expected one of ',', ';', 'tab' or '|' (empty: sniffed from the "
                         f"header), got {table.delimiter!r}")
    if cfg.data.max_errors < 1:
        problems.add("data.max_errors", "must be at least 1")


def _deprecations(data: dict[str, Any]) -> list[str]:
    output = data.get("output")
    if isinstance(output, dict) and "parallel" in output:
        return [warning("parallel")]
    return []


def parse_config(text: str, source: str = "rules.toml", base_dir: Path | None = None,
                 problems: Problems | None = None) -> RulesConfig | None:
    """Parse and structure rules.toml text. Problems are collected, not raised."""
    problems = problems if problems is not None else Problems()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.add(source, f"not valid TOML: {exc}")
        return None
    cfg = structure(data, RulesConfig, [], problems)
    if cfg is None:
        return None
    _check_funnel(cfg, problems)
    _check_goals(cfg, problems)
    _check_data(cfg, problems)
    cfg.base_dir = base_dir if base_dir is not None else Path(".")
    cfg.source = source
    cfg.digest = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    with speaking(cfg.output.language):
        cfg.warnings = _deprecations(data)
    return cfg


def load_config(path: Path) -> RulesConfig:
    """Read rules.toml; raise :class:`ConfigError` listing every problem."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file (use --rules, or `salesrules init` to write one)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte {exc.start})") from None
    problems = Problems()
    cfg = parse_config(text, str(path), path.parent.resolve(), problems)
    if cfg is not None:
        cfg.digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    problems.raise_if_any(ConfigError, f"{path}: invalid config")
    assert cfg is not None
    return cfg
