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

import functools
import string
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

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


def template(key: str, catalogue: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """The template of ``key`` in the current language (its English one if it has none)."""
    entry = (catalogue or {}).get(key) or CATALOGUE.get(key)
    if entry is None:
        raise KeyError(f"no message {key!r} in the catalogue")
    return entry.get(language()) or entry["en"]


def say(key: str, catalogue: Mapping[str, Mapping[str, str]] | None = None,
        /, **fields: Any) -> str:
    """The message ``key`` (from ``catalogue``, else the kernel's) with ``fields`` filled in."""
    text = template(key, catalogue)
    if _plain(text):  # Python's own formatting, at C speed: reasons are said per lead
        return text.format_map(fields)
    return _FORMATTER.vformat(text, (), fields)


@functools.lru_cache(maxsize=4096)
def _plain(text: str) -> bool:
    """Whether a template uses none of the specs of our own."""
    return not any(f":{spec}}}" in text for spec in ("stage", "chance", "amount", "skill"))


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
