"""Finding plugins, registering their components, and refusing broken ones clearly."""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.util
import inspect
import sys
import warnings
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from types import ModuleType

import attrs
import pluggy

from . import HOOK_CONTRACT, SUPPORTED_CONTRACTS, __version__, hookspecs
from .components import KINDS, Component

#: The entry-point group third-party plugins declare in their pyproject.
ENTRY_POINT_GROUP = "salesrules"

#: Built-in components, registered through the same hooks as anyone else's.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "salesrules.load.sources",
    "salesrules.load.deals",
    "salesrules.goals.even",
    "salesrules.goals.team_rates",
    "salesrules.goals.personal",
    "salesrules.checks.behind_pace",
    "salesrules.checks.goal_raise",
    "salesrules.checks.effort",
    "salesrules.checks.vanity",
    "salesrules.checks.streak",
    "salesrules.checks.execution",
    "salesrules.allocation.balanced",
    "salesrules.allocation.weighted",
)

#: Registration hook for each component kind.
REGISTER_HOOKS: dict[str, str] = {
    "source": "register_sources",
    "policy": "register_policies",
    "split": "register_splits",
    "funnel": "register_funnels",
    "check": "register_checks",
}


@attrs.frozen
class PluginInfo:
    """A loaded plugin: its name, the distribution that ships it, and its hooks."""

    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]
    builtin: bool = False


@attrs.frozen
class Registered:
    """A component class together with the plugin that registered it."""

    cls: type[Component]
    plugin: str

    @property
    def name(self) -> str:
        return self.cls.name

    @property
    def kind(self) -> str:
        return self.cls.kind


@attrs.frozen
class LoadProblem:
    """A plugin that could not be loaded or registered something invalid."""

    plugin: str
    distribution: str
    message: str

    def __str__(self) -> str:
        who = self.plugin if self.distribution in ("", self.plugin) else (
            f"{self.plugin} (from distribution {self.distribution})"
        )
        return f"plugin {who}: {self.message}"


class PluginLoadError(Exception):
    """Raised in strict mode when any plugin fails to load."""

    def __init__(self, problems: list[LoadProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@attrs.define
class Registry:
    """Every component available to a run, by kind and name."""

    pm: pluggy.PluginManager
    plugins: list[PluginInfo] = attrs.Factory(list)
    components: dict[str, dict[str, Registered]] = attrs.Factory(
        lambda: {kind: {} for kind in KINDS}
    )
    #: Components refused because their name was taken: (kept, refused).
    duplicates: list[tuple[Registered, Registered]] = attrs.Factory(list)
    problems: list[LoadProblem] = attrs.Factory(list)
    #: Warnings from hooks or arguments marked deprecated (the plugin still works).
    deprecations: list[LoadProblem] = attrs.Factory(list)

    def get(self, kind: str, name: str) -> Registered | None:
        return self.components[kind].get(name)

    def names(self, kind: str) -> list[str]:
        return sorted(self.components[kind])

    def plugin(self, name: str) -> PluginInfo | None:
        return next((p for p in self.plugins if p.name == name), None)

    def duplicate_of(self, kind: str, name: str) -> Registered | None:
        """The refused second component of this kind and name, if there was one."""
        return next(
            (r for kept, r in self.duplicates if r.kind == kind and r.name == name), None
        )


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("salesrules")
    pm.add_hookspecs(hookspecs)
    return pm


def _hook_names(module: object) -> tuple[str, ...]:
    specs = {n for n in dir(hookspecs) if n.startswith(("register_", "write_", "run_"))}
    return tuple(sorted(n for n in specs if callable(getattr(module, n, None))))


@attrs.frozen
class ContractVerdict:
    """What a plugin module's ``SALESRULES_CONTRACT`` means here: a refusal, a note, or neither."""

    #: Why the module is refused (written for a newer or unknown contract), else None.
    problem: str | None = None
    #: A deprecation note (written for an older contract still supported), else None.
    note: str | None = None


def _contract_problem(module: ModuleType) -> ContractVerdict:
    """A refusal (written for a newer or unknown contract), or a deprecation note (an older one)."""
    wanted = getattr(module, "SALESRULES_CONTRACT", None)
    if wanted is None:
        return ContractVerdict()
    ours = HOOK_CONTRACT.split(".")
    theirs = str(wanted).split(".")
    if theirs[0] in SUPPORTED_CONTRACTS:
        return ContractVerdict(note=(
            f"deprecated: written for hook contract {wanted}; contract {HOOK_CONTRACT} "
            "runs outputs in place (no Job) and gives plugins a read-only activity "
            "view; see docs/hooks.md"))
    if theirs[0] != ours[0] or int(theirs[1] if len(theirs) > 1 else 0) > int(ours[1]):
        return ContractVerdict(problem=(
            f"was written for hook contract {wanted}, but this salesrules "
            f"({__version__}) provides contract {HOOK_CONTRACT}"))
    return ContractVerdict()


def _register_module(
    registry: Registry, module: ModuleType, name: str, dist: str, version: str, builtin: bool
) -> None:
    if registry.pm.is_blocked(name):
        return
    verdict = _contract_problem(module)
    if verdict.problem:
        registry.problems.append(LoadProblem(name, dist, verdict.problem))
        return
    if verdict.note:
        registry.deprecations.append(LoadProblem(name, dist, verdict.note))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            registry.pm.register(module, name=name)
        for w in caught:  # hooks or arguments marked deprecated with warn_on_impl
            registry.deprecations.append(LoadProblem(name, dist, f"deprecated: {w.message}"))
    except pluggy.PluginValidationError as exc:
        registry.problems.append(LoadProblem(name, dist, str(exc)))
        return
    except ValueError as exc:  # the same plugin name twice
        registry.problems.append(LoadProblem(name, dist, str(exc)))
        return
    for message in _hook_problems(registry.pm, module):
        registry.problems.append(LoadProblem(name, dist, message))
    registry.plugins.append(PluginInfo(name, dist, version, _hook_names(module), builtin))


def _load_entry_points(registry: Registry) -> None:
    eps = sorted(
        metadata.entry_points(group=ENTRY_POINT_GROUP),
        key=lambda ep: ((ep.dist.name if ep.dist else ""), ep.name),
    )
    for ep in eps:
        dist = ep.dist.name if ep.dist else ""
        version = ep.dist.version if ep.dist else ""
        if registry.pm.is_blocked(ep.name):
            continue
        try:
            module = ep.load()
        except Exception as exc:  # a broken plugin must not take the CLI down
            registry.problems.append(
                LoadProblem(ep.name, dist, f"failed to import {ep.value!r}: "
                            f"{type(exc).__name__}: {exc}")
            )
            continue
        _register_module(registry, module, ep.name, dist, version, builtin=False)


def load_local_module(path: Path) -> ModuleType:
    """Import a plugin module from a file path (``[plugins] modules`` in rules.toml)."""
    mod_name = "salesrules_local_" + "".join(c if c.isalnum() else "_" for c in path.stem)
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(mod_name, None)
        raise
    return module


def _collect_components(registry: Registry) -> None:
    for kind, hook_name in REGISTER_HOOKS.items():
        hook = getattr(registry.pm.hook, hook_name)
        # pluggy calls the last registered first; defaults were registered
        # first, so reverse to keep built-ins ahead of third-party plugins.
        for impl in reversed(hook.get_hookimpls()):
            plugin_name = impl.plugin_name
            dist = next((p.distribution for p in registry.plugins if p.name == plugin_name), "")
            register = functools.partial(_register_component, registry, kind, plugin_name, dist)
            try:
                impl.function(register=register)
            except Exception as exc:
                registry.problems.append(LoadProblem(
                    plugin_name, dist, f"{hook_name}() raised {type(exc).__name__}: {exc}"))


def _register_component(registry: Registry, kind: str, plugin: str, dist: str, cls: type) -> None:
    """The ``register`` callback a ``register_*`` hook
    of ``plugin`` gets: keeps or refuses ``cls``."""
    base, hook_name = KINDS[kind], REGISTER_HOOKS[kind]
    if not (isinstance(cls, type) and issubclass(cls, base)):
        registry.problems.append(LoadProblem(
            plugin, dist,
            f"{hook_name}() registered {cls!r}, which is not a subclass of "
            f"salesrules.api.{base.__name__}"))
        return
    if not cls.name or not isinstance(cls.name, str):
        registry.problems.append(LoadProblem(plugin, dist, f"{cls.__qualname__} has no 'name'"))
        return
    if not attrs.has(cls.Params):
        registry.problems.append(LoadProblem(
            plugin, dist, f"{cls.__qualname__}.Params must be an attrs class"))
        return
    entry = Registered(cls, plugin)
    kept = registry.components[kind].get(cls.name)
    if kept is not None:
        registry.duplicates.append((kept, entry))
        registry.problems.append(LoadProblem(
            plugin, dist,
            f"{kind} {cls.name!r} is already registered by plugin "
            f"{kept.plugin!r}; the one from {plugin!r} was refused"))
        return
    registry.components[kind][cls.name] = entry


def load_registry(
    local_modules: Iterable[tuple[str, ModuleType]] = (),
    entry_points: bool = True,
    strict: bool = False,
    disable: Iterable[str] = (),
) -> Registry:
    """Load the built-in plugins, installed plugins and local modules.

    Broken plugins are recorded in ``registry.problems`` and skipped; with
    ``strict`` they raise :class:`PluginLoadError` instead. Plugins named in
    ``disable`` are blocked: they are neither loaded nor called.
    """
    registry = Registry(new_plugin_manager())
    for name in disable:
        registry.pm.set_blocked(name)
    for mod_path in DEFAULT_PLUGINS:
        module = importlib.import_module(mod_path)
        _register_module(registry, module, mod_path, "salesrules", __version__, builtin=True)
    if entry_points:
        _load_entry_points(registry)
    for name, module in local_modules:
        _register_module(registry, module, name, "", "local", builtin=False)
    _collect_components(registry)
    if strict and registry.problems:
        raise PluginLoadError(registry.problems)
    return registry


def call_each(registry: Registry, hook_name: str, **kwargs: object) -> None:
    """Call every implementation of a lifecycle hook in turn; an exception names its plugin.

    A hook written for contract 1.x may hand back a job (``salesrules.api.Job``,
    deprecated): it has already run, and its outcome is collected here.
    """
    from .errors import PluginError

    for impl in reversed(getattr(registry.pm.hook, hook_name).get_hookimpls()):
        try:
            out = impl.function(**{k: kwargs[k] for k in impl.argnames})
            if callable(getattr(out, "wait", None)):
                out.wait()
        except Exception as exc:
            raise PluginError(impl.plugin_name, f"hook {hook_name}()", exc) from exc


def health(registry: Registry) -> list[str]:
    """Every problem ``salesrules plugins --check`` reports.

    Those found while loading (imports, pluggy's argument validation, unknown
    hook names and defaulted arguments, which pluggy lets through, duplicate
    names, deprecations), plus params that have neither a default nor any
    documentation.
    """
    out = [str(p) for p in registry.problems] + [str(p) for p in registry.deprecations]
    for kind, entries in registry.components.items():
        for name, reg in sorted(entries.items()):
            for a in attrs.fields(reg.cls.Params):
                if a.default is attrs.NOTHING and not _documented(reg.cls, a.name):
                    out.append(f"plugin {reg.plugin}: {kind} {name!r} param {a.name!r} has no "
                               "default and is not documented in the Params docstring")
    return out


def _hook_problems(pm: pluggy.PluginManager, module: object) -> list[str]:
    """What pluggy does not refuse: hooks that do not exist, and arguments it will never pass."""
    known = {n for n in dir(hookspecs) if hasattr(getattr(hookspecs, n), "salesrules_spec")}
    out = []
    for attr in dir(module):
        fn = getattr(module, attr, None)
        if not callable(fn) or pm.parse_hookimpl_opts(module, attr) is None:
            continue
        if attr not in known:
            close = difflib.get_close_matches(attr, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            out.append(f"hook {attr!r} is not a salesrules hook, so it would never be "
                       f"called{hint}")
            continue
        try:
            params = inspect.signature(fn).parameters.values()
        except (TypeError, ValueError):
            continue
        for prm in params:
            if prm.default is not inspect.Parameter.empty:
                out.append(f"hook {attr!r} argument {prm.name!r} has a default, so it is never "
                           "passed; remove the default or the argument")
    return out


def _documented(cls: type, param: str) -> bool:
    from .config.comments import field_comments

    doc = (cls.Params.__doc__ or "") + (cls.__doc__ or "")  # type: ignore[attr-defined]
    return param in doc or param in field_comments(cls.Params)  # type: ignore[attr-defined]
