"""Turning a component name and params from rules.toml into a ready instance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from .components import Component
from .config import Use, converter, format_path, structure
from .errors import PluginError, Problems, UserError
from .plugins import Registry

T = TypeVar("T")

KIND_WORDS = {
    "source": "data source",
    "policy": "allocation policy",
    "split": "time split",
    "funnel": "funnel model",
    "check": "check",
}


@attrs.define
class Bound:
    """A configured component: the instance, who registered it, and where config chose it."""

    component: Component
    plugin: str
    path: str
    #: Key path of the component's params table.
    params_path: str = ""

    @property
    def name(self) -> str:
        return self.component.name

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call plugin code; any exception becomes a :class:`PluginError` naming the plugin."""
        try:
            return fn(*args, **kwargs)
        except (UserError, PluginError):
            raise
        except Exception as exc:
            raise PluginError(self.plugin, f"{self.component.kind} {self.name!r}", exc) from exc

    def validate_against(self, funnel: Any) -> list[tuple[str, str]]:
        """The component's own checks of its params against the funnel, as (key path, message)."""
        found = self.call(self.component.validate, funnel) or []
        return [(f"{self.params_path}.{key}" if key else self.params_path, msg)
                for key, msg in found]

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.component.kind,
            "name": self.name,
            "plugin": self.plugin,
            "params": converter.unstructure(self.component.params),
            "config": self.path,
        }


def structure_params(cls: type, raw: dict[str, Any], path: list[str | int],
                     problems: Problems) -> Any:
    return structure(raw, cls, path, problems)


def resolve(registry: Registry, kind: str, use: Use, path: list[str | int],
            problems: Problems, name_key: str | None = None) -> Bound | None:
    """Look up ``use.name`` among the registered components of ``kind`` and structure its params.

    ``path`` is the key path of the table that chose it; ``name_key`` is the
    key holding the name within it (``policy``, ``strategy``...), if any.
    Problems are added, not raised, so that every one can be reported.
    """
    where = format_path([*path, name_key] if name_key else path)
    reg = registry.get(kind, use.name)
    word = KIND_WORDS[kind]
    if reg is None:
        names = registry.names(kind)
        problems.add(where, f"{word} {use.name!r} is not available (plugin may not be "
                     f"installed); available: {', '.join(names) or 'none'}")
        return None
    dup = registry.duplicate_of(kind, use.name)
    if dup is not None:
        problems.add(where, f"{word} {use.name!r} is registered by two plugins, "
                     f"{reg.plugin!r} and {dup.plugin!r}; uninstall one of them")
        return None
    params = structure_params(reg.cls.Params, use.params, [*path, "params"]
                              if name_key else path, problems)
    if params is None:
        return None
    try:
        instance = reg.cls(params)
    except Exception as exc:
        problems.add(where, f"{word} {use.name!r} could not be set up: "
                     f"{type(exc).__name__}: {exc}")
        return None
    params_path = [*path, "params"] if name_key else path
    return Bound(instance, reg.plugin, format_path(path), format_path(params_path))
