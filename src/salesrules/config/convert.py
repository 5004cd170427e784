"""The cattrs converter for rules.toml and component params: strict types, no unknown keys."""

from __future__ import annotations

import datetime as dt
import typing
from typing import Any, Literal

import attrs
import cattrs
from cattrs.cols import is_mapping, list_structure_factory
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, make_mapping_structure_fn, override

from .schema import DataConfig, DataFile, GoalsConfig, RulesConfig, Use


class Expected(TypeError):
    """A value of the wrong type; the message is what the user sees."""


def describe(value: Any) -> str:
    """A value as rules.toml would show it, for "got ..." in messages."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _strict_float(v: Any, _: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise Expected(f"expected a number, got {describe(v)}")
    return float(v)


def _strict_int(v: Any, _: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise Expected(f"expected a whole number, got {describe(v)}")
    return v


def _strict(tp: type, word: str):
    def structure(v: Any, _: Any) -> Any:
        if not isinstance(v, tp):
            raise Expected(f"expected {word}, got {describe(v)}")
        return v

    return structure


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
    raise Expected(f"expected a date (YYYY-MM-DD), got {describe(v)}")


def _literal(t: Any):
    allowed = typing.get_args(t)
    words = ", ".join(repr(a) for a in allowed)

    def structure(v: Any, _: Any) -> Any:
        if isinstance(v, bool) or v not in allowed:
            raise Expected(f"expected one of {words}, got {describe(v)}")
        return v

    return structure


def _checked(make: Any, tp: type, word: str):
    """A hook factory: cattrs' own hook, after a check that the value has the right shape."""

    def factory(t: Any, conv: cattrs.Converter):
        inner = make(t, conv)

        def structure(v: Any, _: Any) -> Any:
            if not isinstance(v, tp):
                raise Expected(f"expected {word}, got {describe(v)}")
            return inner(v, t)

        return structure

    return factory


def _attrs_fn(cl: type, conv: cattrs.Converter) -> Any:
    return make_dict_structure_fn(cl, conv, _cattrs_forbid_extra_keys=True)


def make_converter() -> cattrs.Converter:
    """A converter that refuses unknown keys and loose types, for config and params."""
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_structure_hook_factory(
        lambda t: typing.get_origin(t) is list, _checked(list_structure_factory, list, "a list"))
    conv.register_structure_hook_factory(
        is_mapping, _checked(make_mapping_structure_fn, dict, "a table"))
    conv.register_structure_hook_factory(attrs.has, _checked(_attrs_fn, dict, "a table"))
    conv.register_structure_hook_factory(lambda t: typing.get_origin(t) is Literal, _literal)
    conv.register_structure_hook(float, _strict_float)
    conv.register_structure_hook(int, _strict_int)
    conv.register_structure_hook(str, _strict(str, "a string"))
    conv.register_structure_hook(bool, _strict(bool, "true or false"))
    conv.register_structure_hook(dt.date, _date)
    conv.register_unstructure_hook(dt.date, lambda d: d.isoformat())
    return conv


converter = make_converter()


# ------------------------------------------------ rules.toml's own shapes


def _at(exc: Exception, key: str | int, tp: Any) -> Exception:
    """Note on ``exc`` the table key (or list index) it happened under, as cattrs does."""
    exc.__notes__ = [*getattr(exc, "__notes__", []), IterableValidationNote(f"@ {key!r}", key, tp)]
    return exc


@attrs.define
class _Strategy:
    """``goals.split`` and ``goals.funnel`` written as a table."""

    strategy: str
    params: dict[str, Any] = attrs.Factory(dict)


def _strategy_hook(v: Any, _: Any) -> Use:
    if isinstance(v, str):
        return Use(v)
    if not isinstance(v, dict):
        raise Expected(f"expected a name or a table with 'strategy', got {describe(v)}")
    s = converter.structure(v, _Strategy)
    return Use(s.strategy, s.params)


@attrs.define
class _DataScalars:
    dir: str = "."
    encoding: str = "auto"
    max_errors: int = 50


def _data_file(v: Any, t: Any) -> DataFile:
    if not isinstance(v, dict):
        raise Expected(f"expected a table naming an input file, got {describe(v)}")
    return _data_file_fn(v, t)


def _data_hook(v: Any, _: Any) -> DataConfig:
    """``[data]`` holds its own keys and, beside them, one table per input file."""
    if not isinstance(v, dict):
        raise Expected(f"expected a table, got {describe(v)}")
    own = [a.name for a in attrs.fields(_DataScalars)]
    errors: list[Exception] = []
    scalars, tables = _DataScalars(), {}
    try:
        scalars = converter.structure({k: v[k] for k in own if k in v}, _DataScalars)
    except ClassValidationError as exc:  # re-noted as keys of [data], like the tables
        for sub in exc.exceptions:
            note = next(n for n in sub.__notes__ if isinstance(n, AttributeValidationNote))
            errors.append(_at(sub, note.name, note.type))
    try:
        tables = converter.structure({k: x for k, x in v.items() if k not in own},
                                     dict[str, DataFile])
    except IterableValidationError as exc:
        errors.extend(exc.exceptions)
    if errors:
        raise IterableValidationError("While structuring data", errors, DataConfig)
    return DataConfig(scalars.dir, scalars.encoding, scalars.max_errors, tables)


def _checks_hook(v: Any, _: Any) -> dict[str, Use]:
    """``[checks.NAME]``: the check's params, plus ``enabled``."""
    tables = converter.structure(v, dict[str, dict[str, Any]])
    out: dict[str, Use] = {}
    errors: list[Exception] = []
    for name, table in tables.items():
        try:
            enabled = converter.structure(table.get("enabled", True), bool)
        except Expected as exc:
            inner = IterableValidationError("", [_at(exc, "enabled", bool)], dict)
            errors.append(_at(inner, name, dict))
            continue
        if enabled:
            out[name] = Use(name, {k: x for k, x in table.items() if k != "enabled"})
    if errors:
        raise IterableValidationError("While structuring checks", errors, dict)
    return out


_data_file_fn = _attrs_fn(DataFile, converter)
converter.register_structure_hook(DataFile, _data_file)
converter.register_structure_hook(DataConfig, _data_hook)
converter.register_structure_hook_func(lambda t: t == dict[str, Use], _checks_hook)
converter.register_structure_hook(GoalsConfig, _checked(
    lambda cl, conv: make_dict_structure_fn(
        cl, conv, _cattrs_forbid_extra_keys=True,
        split=override(struct_hook=_strategy_hook), funnel=override(struct_hook=_strategy_hook)),
    dict, "a table")(GoalsConfig, converter))
_omit = override(omit=True)  # RUNTIME_FIELDS: set by loading, not keys of rules.toml
converter.register_structure_hook(RulesConfig, _checked(
    lambda cl, conv: make_dict_structure_fn(
        cl, conv, _cattrs_forbid_extra_keys=True,
        base_dir=_omit, source=_omit, digest=_omit, warnings=_omit),
    dict, "a table")(RulesConfig, converter))


def unstructure(obj: Any) -> Any:
    return converter.unstructure(obj)
