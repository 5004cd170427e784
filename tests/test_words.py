"""The words mechanism: one catalogue of message templates by language, for the kernel and
for plugins alike (``Component.words`` and ``Component.say``)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesrules import words
from salesrules.allocation.reasons import REASONS
from salesrules.api import Check, Finding
from salesrules.cli.running import SUMMARY
from salesrules.goals.trace_words import TRACE
from salesrules.plugins import load_registry


class Slow(Check):
    """A third party's check, written as the docs say."""

    name = "slow-dials"
    words = {
        "name": {"en": "slow-dials", "zh": "外呼偏慢"},
        "slow": {"en": "{n:,} {stage} in {days} days, {p:chance}",
                 "zh": "{days} 天仅 {n:,} 个{stage:stage}，{p:chance}"},
        "plain": {"en": "review with {who}"},  # no Chinese template: English is said
    }

    def run(self, ctx):
        yield Finding("r1", "rep", self.name, "warn", self.say("slow", n=1200, stage="dials",
                                                               days=3, p=1e-9))


def test_a_plugin_speaks_the_run_language():
    assert Slow.say("slow", n=1200, stage="dials", days=3, p=1e-9) == (
        "1,200 dials in 3 days, far below what chance explains")
    with words.speaking("zh", {"dials": "外呼"}):
        assert Slow.say("slow", n=1200, stage="dials", days=3, p=1e-9) == (
            "3 天仅 1,200 个外呼，远低于偶然波动能解释的范围")
        assert Slow.say("plain", who="王芳") == "review with 王芳"  # English as the fallback
        assert Slow().shown_name() == "外呼偏慢"
        # the kernel's words follow too: a rep's cap in an assignment reason
        assert words.say("cap", REASONS, n=2, cap=8) == "今日第 2 条，上限 8"
    assert Slow().shown_name() == "slow-dials" and words.language() == "en"


def test_a_missing_message_names_its_key():
    with pytest.raises(KeyError, match="no-such-message"):
        Slow.say("no-such-message")
    with pytest.raises(ValueError, match="no English template"):
        words.add({"x.only-zh": {"zh": "只有中文"}})


def test_steps_amounts_and_skills():
    with words.speaking("zh", {"connects": "接通", "conversations": "深入沟通"}):
        assert words.stage("connects→conversations") == "接通→深入沟通"
        assert words.say("t", {"t": {"en": "", "zh": "{a:amount} {s:skill}"}},
                         a=3020.4, s="closing") == "3,020.40 促单能力"
    assert words.stage("connects→conversations") == "connects→conversations"


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def catalogues() -> list[tuple[str, dict[str, dict[str, str]]]]:
    """Every catalogue: the kernel's and each registered component's."""
    registry = load_registry(entry_points=True)
    found = [("kernel", words.CATALOGUE), ("reasons", REASONS), ("trace", TRACE),
             ("summary", SUMMARY)]
    for kind in registry.components.values():
        for name, reg in sorted(kind.items()):
            if reg.cls.words:
                found.append((f"{reg.cls.kind} {name}", reg.cls.words))
    return found


@pytest.mark.parametrize("where, catalogue", catalogues(), ids=[w for w, _ in catalogues()])
def test_every_chinese_template_fills_from_the_english_fields(where, catalogue):
    """A caller fills the English template's fields; the Chinese one may use no other."""
    for key, by_lang in catalogue.items():
        assert "en" in by_lang, f"{where}: {key} has no English template"
        for lang, template in by_lang.items():
            assert lang in words.LANGUAGES, (where, key, lang)
            assert _fields(template) <= _fields(by_lang["en"]), (where, key, lang)
        if where.startswith("check ") or where.startswith("policy "):
            assert "zh" in by_lang, f"{where}: {key} has no Chinese template"


@given(st.floats(0, 1), st.floats(0, 1))
def test_chance_words_grow_with_the_probability(p, q):
    order = [en for _, en, _ in words.CHANCE]
    lo, hi = sorted((p, q))
    assert order.index(words.chance(lo)) <= order.index(words.chance(hi))


@given(st.integers(-10**9, 10**9), st.floats(-1e9, 1e9, allow_nan=False))
def test_plain_templates_format_as_python_does(n, x):
    template = {"t": {"en": "{n:,} and {x:,.2f} ({x:.1%})"}}
    assert words.say("t", template, n=n, x=x) == f"{n:,} and {x:,.2f} ({x:.1%})"
    # the same through the formatter that knows our own specs
    assert words._FORMATTER.vformat(template["t"]["en"], (), {"n": n, "x": x}) == (
        f"{n:,} and {x:,.2f} ({x:.1%})")


FIELDS = ("n", "rep", "x")
column_st = st.one_of(st.just(st.integers(-10**20, 10**20)), st.just(st.text(max_size=6)),
                      st.just(st.floats(allow_nan=False)), st.just(st.none()),
                      st.just(st.booleans()), st.just(st.one_of(st.integers(), st.booleans())))
piece_st = st.one_of(st.text(alphabet="ab {}：;", max_size=4).map(
                         lambda t: t.replace("{", "{{").replace("}", "}}")),
                     st.sampled_from([f"{{{f}}}" for f in FIELDS] + ["{n:,}", "{rep!r}"]))


@given(pieces=st.lists(piece_st, max_size=5), kinds=st.tuples(column_st, column_st, column_st),
       rows=st.integers(0, 6), data=st.data())
def test_say_each_is_sayer_row_by_row(pieces, kinds, rows, data):
    text = "".join(pieces)
    columns = {f: data.draw(st.lists(kind, min_size=rows, max_size=rows))
               for f, kind in zip(FIELDS, kinds)}
    catalogue = {"m": {"en": text}}
    try:
        want = [words.sayer("m", catalogue)(**dict(zip(columns, row)))
                for row in zip(*columns.values())]
    except (ValueError, TypeError):  # a spec the values do not take: both refuse it
        with pytest.raises((ValueError, TypeError)):
            words.say_each("m", catalogue, **columns)
        return
    assert words.say_each("m", catalogue, **columns) == want


def test_say_each_fills_plain_fields_as_columns():
    got = Slow.say_each("name", n=[1, 2])  # a template without fields: once per row
    assert got == ["slow-dials", "slow-dials"]
    catalogue = {"m": {"en": "{n} of cap {cap}", "zh": "第 {n} 条，上限 {cap}"}}
    with words.speaking("zh"):
        assert words.say_each("m", catalogue, n=[1, 12], cap=[5, 5]) == [
            "第 1 条，上限 5", "第 12 条，上限 5"]
    assert words.say_each("m", {"m": {"en": "{rep}: {{n}} {n}"}}, rep=["ann", "Bo"],
                          n=[3, -4]) == ["ann: {n} 3", "Bo: {n} -4"]


def test_say_each_leaves_values_that_format_themselves_to_format():
    import enum

    import numpy as np

    class Level(int, enum.Enum):
        P1 = 1

    catalogue = {"m": {"en": "{n}"}}
    for column in ([1, True], [0, False], [Level.P1, 2], np.array([True, False])):
        assert words.say_each("m", catalogue, n=column) == [str(v) for v in column]
    assert words.say_each("m", catalogue, n=np.array([3, -4])) == ["3", "-4"]
    with pytest.raises(IndexError):  # "{0}" is positional to str.format, as it is here
        words.say_each("p", {"p": {"en": "{0}"}}, **{"0": [1]})
