"""The words a manager reads, in English or Chinese (``output.language``).

One mechanism for the kernel and for plugins alike: a catalogue maps a
message key to templates by language, ``{"en": "...", "zh": "..."}``, with
named ``{fields}``; :func:`say` fills the template of the run's language
(English when a key has no template in it). A component keeps its own
catalogue in its ``words`` class attribute and calls
:meth:`salesrules.api.Check.say` (every component kind has it).

Besides Python's format specs (``{n:,.0f}``), templates know four of their own:

- ``{x:stage}``: a funnel stage (or a step ``a→b``) by its label in Chinese
  (``dials`` → 外呼), by its name in English;
- ``{p:chance}``: a probability in words ("far below what chance explains"),
  for the message; the exact figure belongs in the evidence;
- ``{x:skill}``: a skill word of the catalogue (``communication`` → 沟通能力);
- ``{x:amount}``: an amount with thousands separators and two decimals.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

#: The languages a template may be written in; English is the fallback.
LANGUAGES = ("en", "zh")

_LANG: ContextVar[str] = ContextVar("salesrules_language", default="en")
_LABELS: ContextVar[Mapping[str, str] | None] = ContextVar("salesrules_stage_labels",
                                                          default=None)

#: The kernel's templates: allocation reasons, the trace, the summary, skills, chance.
CATALOGUE: dict[str, dict[str, str]] = {}

#: Below each bound, the words for a probability, most improbable first.
CHANCE = [
    (1e-6, "far below what chance explains", "远低于偶然波动能解释的范围"),
    (1e-3, "well below what chance explains (under 1 in 1,000)",
     "很难用偶然波动解释（不到千分之一）"),
    (1e-2, "below what chance explains (under 1 in 100)", "难以用偶然波动解释（不到百分之一）"),
    (5e-2, "unlikely by chance (under 1 in 20)", "不太可能是偶然（不到二十分之一）"),
    (float("inf"), "within what chance explains", "仍在偶然波动范围内"),
]


def language() -> str:
    """The language being spoken: the run's ``output.language``, else ``en``."""
    return _LANG.get()


@contextmanager
def speaking(lang: str, labels: Mapping[str, str] | None = None) -> Iterator[None]:
    """Speak ``lang`` inside the block; ``labels`` name the funnel's stages in Chinese."""
    lang_token = _LANG.set(lang if lang in LANGUAGES else "en")
    labels_token = _LABELS.set(dict(labels or {}))
    try:
        yield
    finally:
        _LABELS.reset(labels_token)
        _LANG.reset(lang_token)


def add(entries: Mapping[str, Mapping[str, str]]) -> None:
    """Add templates to the kernel's catalogue (each needs an ``en`` one)."""
    for key, by_lang in entries.items():
        if "en" not in by_lang:
            raise ValueError(f"message {key!r} has no English template")
        CATALOGUE[key] = dict(by_lang)
    _SAYERS.clear()


def template(key: str, catalogue: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """The template of ``key`` in the current language (its English one if it has none)."""
    entry = (catalogue or {}).get(key) or CATALOGUE.get(key)
    if entry is None:
        raise KeyError(f"no message {key!r} in the catalogue")
    return entry.get(language()) or entry["en"]


def say(key: str, catalogue: Mapping[str, Mapping[str, str]] | None = None,
        /, **fields: Any) -> str:
    """The message ``key`` (from ``catalogue``, else the kernel's) with ``fields`` filled in."""
    return sayer(key, catalogue)(**fields)


def sayer(key: str, catalogue: Mapping[str, Mapping[str, str]] | None = None
          ) -> Callable[..., str]:
    """The message ``key`` in the current language as a function of its fields: for a
    message said once per lead, looked up once per batch.

    A template without specs of our own is Python's ``str.format``, at C speed.
    Catalogues are read once: change one after it was said and the change is not seen.
    """
    lang = _LANG.get()
    cache_key = (id(catalogue), key, lang)
    hit = _SAYERS.get(cache_key)
    if hit is not None and hit[0] is catalogue:
        return hit[1]
    text = template(key, catalogue)
    fn: Callable[..., str]
    if any(f":{spec}}}" in text for spec in OWN_SPECS):
        def fn(**fields: Any) -> str:
            return _FORMATTER.vformat(text, (), fields)
    else:
        fn = text.format
    # the catalogue is kept with its sayers, so that its id is not reused while they are
    _SAYERS[cache_key] = (catalogue, fn)
    return fn


def say_each(key: str, catalogue: Mapping[str, Mapping[str, str]] | None = None,
             /, **columns: Collection[Any]) -> list[str]:
    """The message ``key`` once per row, each field a column (all of one length): what
    :func:`sayer`'s function gives row by row. A template of plain fields filled with text
    and whole numbers is filled as columns (polars), any other row by row."""
    import polars as pl  # not at import: the command line starts without polars

    parsed = list(string.Formatter().parse(template(key, catalogue)))
    series = _plain_columns(columns)
    if series is not None and any(name for _, name, _, _ in parsed) and all(
            name is None or (name.isidentifier() and name in series and not spec
                             and conversion is None)
            for _, name, spec, conversion in parsed):
        parts = [e for (literal, name, _, _) in parsed for e in (
            *([pl.lit(literal)] if literal else []),
            *([pl.col(name).cast(pl.String)] if name is not None else []))]
        return pl.DataFrame(series).select(pl.concat_str(parts)).to_series().to_list()
    say = sayer(key, catalogue)
    names = list(columns)
    return [say(**dict(zip(names, row))) for row in zip(*columns.values())]


def _plain_columns(columns: Mapping[str, Collection[Any]]) -> dict[str, pl.Series] | None:
    """The columns as polars series when each is text or whole numbers without a gap (of
    ``str`` and ``int`` themselves: not ``bool``, an enum or another subclass, which format
    themselves), and there is at least one; else ``None``."""
    import numpy as np
    import polars as pl

    for values in columns.values():
        plain = (values.dtype.kind in "iuU" if isinstance(values, np.ndarray)
                 else set(map(type, values)) <= {int, str})
        if not plain:
            return None
    try:
        series = {name: pl.Series(name, values) for name, values in columns.items()}
    except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
        return None
    if not series or len({s.len() for s in series.values()}) != 1:
        return None
    plain = all((s.dtype == pl.String or s.dtype.is_integer()) and not s.null_count()
                for s in series.values())
    return series if plain else None


#: The format specs of our own (see the module's docstring).
OWN_SPECS = ("stage", "chance", "amount", "skill")
#: (catalogue id, key, language) -> the catalogue and the key's sayer.
_SAYERS: dict[tuple[int, str, str], tuple[object, Callable[..., str]]] = {}


def stage(name: str) -> str:
    """A stage, or a step ``a→b``, as a manager reads it: its label in Chinese."""
    if language() != "zh":
        return name
    labels = _LABELS.get() or {}
    return "→".join(labels.get(part, part) or part for part in name.split("→"))


def chance(p: float) -> str:
    """A probability in words, in the current language."""
    for bound, en, zh in CHANCE:
        if p < bound:
            return zh if language() == "zh" else en
    return CHANCE[-1][2] if language() == "zh" else CHANCE[-1][1]


def join(parts: list[str]) -> str:
    """Clauses joined: ``; `` in English, ``；`` in Chinese."""
    return ("；" if language() == "zh" else "; ").join(parts)


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "stage":
            return stage(str(value))
        if format_spec == "chance":
            return chance(float(value))
        if format_spec == "amount":
            return f"{float(value):,.2f}"
        if format_spec == "skill":
            entry = CATALOGUE.get(f"skill.{value}")
            return (entry.get(language()) or entry["en"]) if entry else str(value)
        return super().format_field(value, format_spec)


_FORMATTER = _Formatter()

add({
    "skill.communication": {"en": "communication", "zh": "沟通能力"},
    "skill.professional knowledge": {"en": "professional knowledge", "zh": "专业能力"},
    "skill.closing": {"en": "closing", "zh": "促单能力"},
})
