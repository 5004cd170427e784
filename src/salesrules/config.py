"""The ``rules.toml`` schema, structured into attrs classes with every error named by key path."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
import typing
from pathlib import Path
from typing import Any, Literal

import attrs
import cattrs
from cattrs.errors import (
    BaseValidationError,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)

from .errors import ConfigError, Problem, Problems
from .model import Funnel, Stage

# ---------------------------------------------------------------- schema

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@attrs.define
class DataFile:
    """One input file and how to read it."""

    file: str
    #: The source component that reads it; defaults to the table's own key.
    source: str = ""
    #: Our field name -> the header in the file, e.g. ``name = "姓名"``.
    columns: dict[str, str] = attrs.Factory(dict)
    #: ``auto``, ``utf-8``, ``utf-8-sig`` or ``gb18030``; defaults to ``data.encoding``.
    encoding: str = ""
    #: Worksheet to read from an XLSX file; defaults to the first.
    sheet: str = ""
    params: dict[str, Any] = attrs.Factory(dict)


@attrs.define
class DataConfig:
    """``[data]``: where the export is and how to read each file."""

    dir: str = "."
    encoding: str = "auto"
    #: Stop collecting bad cells after this many and report them all.
    max_errors: int = 50
    tables: dict[str, DataFile] = attrs.Factory(dict)


def _default_stages() -> list[Stage]:
    return [
        Stage("dials", "外呼", "count"),
        Stage("connects", "接通", "count", 0.35),
        Stage("conversations", "深入沟通", "count", 0.30),
        Stage("intents", "意向客户", "count", 0.25),
        Stage("pipeline", "储备金额", "amount", 12000.0),
        Stage("revenue", "业绩", "amount", 0.33),
    ]


@attrs.define
class FunnelConfig:
    """``[funnel]``: the stages, from the first touch down to the result."""

    stages: list[Stage] = attrs.Factory(_default_stages)


@attrs.define
class Use:
    """A component chosen in config: its name and its raw params."""

    name: str
    params: dict[str, Any] = attrs.Factory(dict)


@attrs.define
class CalendarConfig:
    """``[goals.calendar]``: which days are working days."""

    weekdays: list[str] = attrs.Factory(lambda: list(WEEKDAYS[:5]))
    #: Public holidays (and make-up workdays) of this country from the ``holidays``
    #: library, e.g. ``CN``; empty for none.
    country: str = ""
    #: A subdivision (province, state) of ``country``, if its holidays differ.
    subdiv: str = ""
    holidays: list[dt.date] = attrs.Factory(list)
    #: Make-up working days (调休) that fall on a weekend.
    workdays: list[dt.date] = attrs.Factory(list)


@attrs.define
class TierConfig:
    """One rung of the goal ladder: a name and a multiple of the level target."""

    name: str
    multiplier: float = attrs.field(validator=attrs.validators.gt(0))


def _default_tiers() -> list[TierConfig]:
    return [TierConfig("中间力量", 1.0), TierConfig("高绩效", 1.3), TierConfig("标杆", 1.6)]


@attrs.define
class GoalsConfig:
    """``[goals]``: the level targets and the strategies that decompose them."""

    period: Literal["quarter", "month"] = "quarter"
    split: Use = attrs.Factory(lambda: Use("even"))
    funnel: Use = attrs.Factory(lambda: Use("personal"))
    #: Level -> stage -> target for one ``period``.
    levels: dict[str, dict[str, float]] = attrs.Factory(dict)
    calendar: CalendarConfig = attrs.Factory(CalendarConfig)
    #: Leave days: ``prorate`` lowers the rep's period target in proportion to the
    #: working days they lose; ``keep`` spreads the whole target over the days left.
    leave: Literal["prorate", "keep"] = "prorate"
    #: How a team target from the goals file is shared by its reps: ``even``, or
    #: in proportion to their ``level`` targets.
    cascade: Literal["even", "level"] = "level"
    #: The tier ladder, lowest first; a rep's ``tier`` column picks their rung.
    tiers: list[TierConfig] = attrs.Factory(_default_tiers)
    #: If set (e.g. 0.8), each first-stage target's trace also gives the amount
    #: needed to reach the result target with this probability.
    confidence: float | None = None


@attrs.define
class RuleConfig:
    """One routing rule: which leads, which reps, which policy."""

    name: str = ""
    #: Condition on lead fields in the safe expression language; empty matches all.
    when: str = ""
    teams: list[str] = attrs.Factory(list)
    reps: list[str] = attrs.Factory(list)
    policy: str = "balanced"
    params: dict[str, Any] = attrs.Factory(dict)


@attrs.define
class RecycleConfig:
    """``[allocation.recycle]``: give back leads nobody followed up within an SLA."""

    #: Days after assignment without follow-up before a lead goes back to the pool.
    after_days: int = attrs.field(default=7, validator=attrs.validators.ge(1))
    #: Lead column holding the last follow-up (empty means none).
    follow_up_field: str = "last_contact"
    #: Lead column holding when the current owner got the lead; history is used when empty.
    assigned_field: str = "assigned_at"


@attrs.define
class AllocationConfig:
    """``[allocation]``: routing rules, first match wins."""

    enabled: bool = True
    #: Teams that find their own customers and take no leads.
    self_sourced_teams: list[str] = attrs.Factory(list)
    rules: list[RuleConfig] = attrs.Factory(list)
    #: A rep's load counts the leads earlier runs gave them within this many days.
    window_days: int = attrs.field(default=30, validator=attrs.validators.ge(1))
    #: Lead columns whose normalised value marks duplicates (phone: digits; email: lower case).
    dedupe_on: list[str] = attrs.Factory(lambda: ["phone", "email"])
    recycle: RecycleConfig | None = None


@attrs.define
class HistoryConfig:
    """``[history]``: the run-history database."""

    enabled: bool = True
    #: SQLite file, relative to rules.toml.
    path: str = "salesrules-history.sqlite"


@attrs.define
class OutputConfig:
    """``[output]``: where and how results are written."""

    dir: str = "out"
    #: Day-grain rows in targets.csv: for the as-of ``week`` (default: today's and
    #: this week's targets), the as-of ``month``, or the whole ``period``. The
    #: quarter, month and week rows always cover the whole period.
    day_targets: Literal["week", "month", "period"] = "week"
    #: Write ``report.html``: one self-contained page with charts, offline.
    report: bool = True
    #: Write ``workbook.xlsx``: one sheet per output, with native charts.
    workbook: bool = True
    #: Language of the report and workbook labels: ``en`` or ``zh``.
    language: Literal["en", "zh"] = "en"
    #: On a big run, write the biggest outputs (targets.csv, the workbook) in a
    #: second process, on a second core, while this one writes the rest.
    parallel: bool = True


@attrs.define
class RunConfig:
    """``[run]``: defaults for ``salesrules run`` options."""

    as_of: dt.date | None = None
    seed: int = 0


@attrs.define
class PluginsConfig:
    """``[plugins]``: local plugin modules, and strictness."""

    #: Paths of plugin modules, relative to rules.toml, for quick experiments.
    modules: list[str] = attrs.Factory(list)
    #: Fail on any plugin that cannot be loaded (also ``--strict``).
    strict: bool = False
    #: Plugins to switch off by name (as ``salesrules plugins`` lists them), e.g.
    #: ``["salesrules.report"]`` to replace the built-in report with your own.
    disable: list[str] = attrs.Factory(list)


@attrs.define
class RulesConfig:
    """The whole of ``rules.toml``."""

    data: DataConfig = attrs.Factory(DataConfig)
    funnel: FunnelConfig = attrs.Factory(FunnelConfig)
    goals: GoalsConfig = attrs.Factory(GoalsConfig)
    allocation: AllocationConfig = attrs.Factory(AllocationConfig)
    checks: dict[str, Use] = attrs.Factory(lambda: {"behind-pace": Use("behind-pace")})
    output: OutputConfig = attrs.Factory(OutputConfig)
    history: HistoryConfig = attrs.Factory(HistoryConfig)
    run: RunConfig = attrs.Factory(RunConfig)
    plugins: PluginsConfig = attrs.Factory(PluginsConfig)

    #: Folder relative paths are resolved against (that of rules.toml).
    base_dir: Path = attrs.field(default=Path("."), eq=False)
    #: Where the config came from, and a digest of its bytes.
    source: str = attrs.field(default="", eq=False)
    digest: str = attrs.field(default="", eq=False)

    @property
    def funnel_model(self) -> Funnel:
        return Funnel(tuple(self.funnel.stages))


# ---------------------------------------------------------------- converter


class _Expected(TypeError):
    """A value of the wrong type; the message is what the user sees."""


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _strict_float(v: Any, _: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _Expected(f"expected a number, got {_describe(v)}")
    return float(v)


def _strict_int(v: Any, _: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise _Expected(f"expected a whole number, got {_describe(v)}")
    return v


def _strict_str(v: Any, _: Any) -> str:
    if not isinstance(v, str):
        raise _Expected(f"expected a string, got {_describe(v)}")
    return v


def _strict_bool(v: Any, _: Any) -> bool:
    if not isinstance(v, bool):
        raise _Expected(f"expected true or false, got {_describe(v)}")
    return v


def _date(v: Any, _: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            pass
    raise _Expected(f"expected a date (YYYY-MM-DD), got {_describe(v)}")


def _any_dict(v: Any, _: Any) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise _Expected(f"expected a table, got {_describe(v)}")
    return v


def _container_hooks(conv: cattrs.Converter) -> None:
    """Lists and tables that refuse the wrong shape, and name the failing item."""

    def list_hook(t: Any):
        (elem,) = typing.get_args(t) or (Any,)

        def structure(v: Any, _: Any) -> list[Any]:
            if not isinstance(v, list):
                raise _Expected(f"expected a list, got {_describe(v)}")
            out, errors = [], []
            for i, x in enumerate(v):
                try:
                    out.append(conv.structure(x, elem))
                except Exception as exc:
                    exc.__notes__ = [*getattr(exc, "__notes__", []),  # type: ignore[attr-defined]
                                     IterableValidationNote(f"@ index {i}", i, elem)]
                    errors.append(exc)
            if errors:
                raise IterableValidationError(f"While structuring {t}", errors, t)
            return out

        return structure

    def dict_hook(t: Any):
        _, val_t = typing.get_args(t) or (str, Any)

        def structure(v: Any, _: Any) -> dict[Any, Any]:
            if not isinstance(v, dict):
                raise _Expected(f"expected a table, got {_describe(v)}")
            out, errors = {}, []
            for k, x in v.items():
                try:
                    out[k] = x if val_t is Any else conv.structure(x, val_t)
                except Exception as exc:
                    exc.__notes__ = [*getattr(exc, "__notes__", []), _KeyNote(k)]  # type: ignore[attr-defined]
                    errors.append(exc)
            if errors:
                raise IterableValidationError(f"While structuring {t}", errors, t)
            return out

        return structure

    conv.register_structure_hook_factory(lambda t: typing.get_origin(t) is list, list_hook)
    conv.register_structure_hook_factory(lambda t: typing.get_origin(t) is dict, dict_hook)


def make_converter() -> cattrs.Converter:
    """A converter that refuses unknown keys and loose types, for config and params."""
    conv = cattrs.Converter(forbid_extra_keys=True)
    _container_hooks(conv)
    conv.register_structure_hook(float, _strict_float)
    conv.register_structure_hook(int, _strict_int)
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(bool, _strict_bool)
    conv.register_structure_hook(dt.date, _date)
    conv.register_unstructure_hook(dt.date, lambda d: d.isoformat())
    return conv


converter = make_converter()


def _use_hook(key: str):
    def structure(v: Any, _: Any) -> Use:
        if isinstance(v, str):
            return Use(v)
        if not isinstance(v, dict):
            raise _Expected(f"expected a name or a table with '{key}', got {_describe(v)}")
        extra = set(v) - {key, "params"}
        if extra:
            raise ForbiddenExtraKeysError("", Use, extra)
        if key not in v:
            raise KeyError(key)
        return Use(_strict_str(v[key], None), _any_dict(v.get("params", {}), None))

    return structure


@attrs.define
class _DataScalars:
    dir: str = "."
    encoding: str = "auto"
    max_errors: int = 50


def _data_hook(v: Any, _: Any) -> DataConfig:
    v = _any_dict(v, None)
    scalar_keys = [a.name for a in attrs.fields(_DataScalars)]
    errors: list[Exception] = []
    out = DataConfig()
    try:
        s = converter.structure({k: v[k] for k in scalar_keys if k in v}, _DataScalars)
        out = DataConfig(s.dir, s.encoding, s.max_errors)
    except ClassValidationError as exc:
        errors.extend(exc.exceptions)
    for name, table in v.items():
        if name in scalar_keys:
            continue
        try:
            if not isinstance(table, dict):
                raise _Expected(f"expected a table naming an input file, got {_describe(table)}")
            out.tables[name] = converter.structure(table, DataFile)
        except Exception as exc:
            exc.__notes__ = [*getattr(exc, "__notes__", []), _KeyNote(name)]  # type: ignore[attr-defined]
            errors.append(exc)
    if errors:
        raise ClassValidationError("While structuring data", errors, DataConfig)
    return out


def _checks_hook(v: Any, _: Any) -> dict[str, Use]:
    v = _any_dict(v, None)
    out: dict[str, Use] = {}
    errors: list[Exception] = []
    for name, table in v.items():
        notes: list[_KeyNote] = [_KeyNote(name)]
        try:
            table = _any_dict(table, None)
            notes.append(_KeyNote("enabled"))
            enabled = _strict_bool(table.get("enabled", True), None)
        except Exception as exc:
            exc.__notes__ = [*getattr(exc, "__notes__", []), *notes]  # type: ignore[attr-defined]
            errors.append(exc)
            continue
        if enabled:
            out[name] = Use(name, {k: x for k, x in table.items() if k != "enabled"})
    if errors:
        raise ClassValidationError("While structuring checks", errors, dict)
    return out


@attrs.frozen
class _KeyNote:
    """Marks an exception with the table key it happened under."""

    name: str


converter.register_structure_hook(DataConfig, _data_hook)
converter.register_structure_hook_func(lambda t: t == dict[str, Use], _checks_hook)
_goal_use = _use_hook("strategy")
converter.register_structure_hook(
    GoalsConfig,
    cattrs.gen.make_dict_structure_fn(
        GoalsConfig, converter, _cattrs_forbid_extra_keys=True,
        split=cattrs.gen.override(struct_hook=_goal_use),
        funnel=cattrs.gen.override(struct_hook=_goal_use),
    ),
)


# ---------------------------------------------------------------- error paths


def format_path(parts: list[str | int]) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            key = p if re.fullmatch(r"[A-Za-z0-9_-]+", p) else '"' + p.replace('"', '\\"') + '"'
            out += ("." if out else "") + key
    return out


def _lookup(data: Any, parts: list[str | int]) -> Any:
    for p in parts:
        try:
            data = data[p]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    names = {float: "a number", int: "a whole number", str: "a string", bool: "true or false"}
    if tp in names:
        return names[tp]
    if attrs.has(tp) or typing.get_origin(tp) is dict:
        return "a table"
    if typing.get_origin(tp) is list:
        return "a list"
    return getattr(tp, "__name__", str(tp))


def collect_errors(
    exc: BaseException, data: Any, prefix: list[str | int], problems: Problems,
    tp: Any = None,
) -> None:
    """Walk a cattrs error tree and add one problem per leaf, named by key path."""
    for note in getattr(exc, "__notes__", []):
        if isinstance(note, _KeyNote):
            prefix = [*prefix, note.name]
    if isinstance(exc, BaseValidationError):
        for sub in exc.exceptions:
            path = list(prefix)
            sub_tp = None
            for note in getattr(sub, "__notes__", []):
                if isinstance(note, _KeyNote):
                    continue
                if hasattr(note, "name") and hasattr(note, "type"):
                    path.append(note.name)
                    sub_tp = note.type
                elif hasattr(note, "index") and hasattr(note, "type"):
                    path.append(note.index)
                    sub_tp = note.type
            collect_errors(sub, data, path, problems, sub_tp)
        return
    where = format_path(prefix)
    if isinstance(exc, ForbiddenExtraKeysError):
        known = sorted(a.name for a in attrs.fields(exc.cl)) if attrs.has(exc.cl) else []
        hint = f" (known keys: {', '.join(known)})" if known else ""
        for key in sorted(exc.extra_fields):
            problems.add(format_path([*prefix, key]), f"unknown key{hint}")
        return
    if isinstance(exc, KeyError):
        problems.add(where, "required key is missing")
        return
    if isinstance(exc, _Expected):
        problems.add(where, str(exc))
        return
    value = _lookup(data, prefix)
    if tp is not None and typing.get_origin(tp) is Literal:
        problems.add(where, f"expected {_type_name(tp)}, got {_describe(value)}")
        return
    if isinstance(exc, (ValueError, TypeError)) and str(exc):
        # attrs validators and __attrs_post_init__ checks: keep their words, and
        # point at the field when the message names one ("'x' must be >= 1: 0")
        msg = str(exc)
        m = re.match(r"'([A-Za-z_][A-Za-z0-9_]*)' (must .*?)(?:: (.*))?$", msg)
        if m:
            got = f", got {m.group(3)}" if m.group(3) is not None else ""
            problems.add(format_path([*prefix, m.group(1)]), f"{m.group(2)}{got}")
        else:
            problems.add(where, msg)
        return
    expected = _type_name(tp) if tp is not None else "another value"
    problems.add(where, f"expected {expected}, got {_describe(value)}")


def structure(data: Any, cls: type, path: list[str | int], problems: Problems) -> Any:
    """Structure ``data`` into ``cls``; on failure add path-named problems and return None."""
    try:
        return converter.structure(data, cls)
    except Exception as exc:
        collect_errors(exc, data if not path else wrap_at(path, data), path, problems, cls)
        return None


def wrap_at(path: list[str | int], data: Any) -> Any:
    """Nest ``data`` under ``path`` so that value look-ups by full path work."""
    for p in reversed(path):
        data = {p: data} if isinstance(p, str) else _IndexBox(p, data)
    return data


class _IndexBox:
    def __init__(self, index: int, data: Any) -> None:
        self.index, self.data = index, data

    def __getitem__(self, i: int) -> Any:
        if i != self.index:
            raise IndexError(i)
        return self.data


# ---------------------------------------------------------------- loading


def _check_semantics(cfg: RulesConfig, problems: Problems) -> None:
    names = [s.name for s in cfg.funnel.stages]
    if not names:
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
    for level, stages in cfg.goals.levels.items():
        for stage, amount in stages.items():
            where = format_path(["goals", "levels", level, stage])
            if stage not in names:
                problems.add(where, f"unknown funnel stage {stage!r} (stages: {', '.join(names)})")
            elif amount < 0:
                problems.add(where, "a target cannot be negative")
    tiers = cfg.goals.tiers
    if [t.multiplier for t in tiers] != sorted(t.multiplier for t in tiers):
        problems.add("goals.tiers", "tiers must go from the lowest multiplier to the highest")
    if len({t.name for t in tiers}) != len(tiers):
        problems.add("goals.tiers", "tier names must be unique")
    conf = cfg.goals.confidence
    if conf is not None and not 0.5 <= conf < 1:
        problems.add("goals.confidence", f"must be at least 0.5 and below 1, got {conf}")
    if cfg.goals.calendar.country:
        import holidays

        if cfg.goals.calendar.country not in holidays.list_supported_countries():
            problems.add("goals.calendar.country",
                         f"no holiday calendar for {cfg.goals.calendar.country!r} in the "
                         "holidays library (use an ISO code such as CN, US, DE)")
    for i, day in enumerate(cfg.goals.calendar.weekdays):
        if day not in WEEKDAYS:
            problems.add(f"goals.calendar.weekdays[{i}]",
                         f"expected one of {', '.join(WEEKDAYS)}, got {day!r}")
    if cfg.data.encoding not in ENCODINGS:
        problems.add("data.encoding", f"expected one of {', '.join(ENCODINGS)}, got {cfg.data.encoding!r}")
    for name, table in cfg.data.tables.items():
        if table.encoding and table.encoding not in ENCODINGS:
            problems.add(format_path(["data", name, "encoding"]),
                         f"expected one of {', '.join(ENCODINGS)}, got {table.encoding!r}")
    if cfg.data.max_errors < 1:
        problems.add("data.max_errors", "must be at least 1")


ENCODINGS = ("auto", "utf-8", "utf-8-sig", "gb18030")


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
    _check_semantics(cfg, problems)
    cfg.base_dir = base_dir if base_dir is not None else Path(".")
    cfg.source = source
    cfg.digest = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    return cfg


def load_config(path: Path) -> RulesConfig:
    """Read rules.toml; raise :class:`ConfigError` listing every problem."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (use --rules, or `salesrules init` to write one)")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte {exc.start})")
    problems = Problems()
    cfg = parse_config(text, str(path), path.parent.resolve(), problems)
    if cfg is not None:
        cfg.digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    problems.raise_if_any(ConfigError, f"{path}: invalid config")
    assert cfg is not None
    return cfg


def unstructure(obj: Any) -> Any:
    return converter.unstructure(obj)


__all__ = [
    "AllocationConfig", "CalendarConfig", "ConfigError", "DataConfig", "DataFile",
    "FunnelConfig", "GoalsConfig", "OutputConfig", "PluginsConfig", "Problem",
    "RuleConfig", "RulesConfig", "RunConfig", "Use", "converter", "load_config",
    "parse_config", "structure",
]
