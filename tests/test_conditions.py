"""Routing conditions: the grammar, its errors at validate, and the polars path agreeing with
the per-lead one."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import edit_rules, invoke, make_export, read_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesrules.allocation import check_fields
from salesrules.allocation.conditions import (
    Condition,
    ConditionError,
    field_types,
    lead_frame,
    match_frame,
    match_leads,
    parse,
)
from salesrules.allocation.conditions.types import column_type
from salesrules.config import load_config
from salesrules.load import data_dir, load_dataset
from salesrules.model import Lead
from salesrules.run import plan_run


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The generator's leads (with a numeric ``score`` column added) and their field types."""
    folder = tmp_path_factory.mktemp("conditions")
    rules = make_export(folder, leads=120)
    cfg = load_config(rules)
    leads = load_dataset(cfg, plan_run(cfg).sources, data_dir(cfg, None)).leads
    leads = [Lead(x.id, x.created_at, x.owner, x.priority, x.value,
                  {**x.fields, "score": "" if i % 7 == 0 else str(i % 13)})
             for i, x in enumerate(leads)]
    return Sample((leads, field_types(leads)))


class Sample(tuple):
    def __repr__(self) -> str:  # hypothesis prints the fixture with each failing case
        return f"<{len(self[0])} sample leads>"


def validate_with(export, when: str):
    edit_rules(export / "rules.toml", lambda d: d["allocation"].update(
        rules=[{"name": "x", "when": when}]))
    return invoke("validate", "--rules", str(export / "rules.toml"))


@pytest.mark.parametrize("when, expected", [
    ("grade = 'A'", "allocation.rules[0].when: column 7: invalid condition \"grade = 'A'\": "
                    "'=' alone is not a comparison; did you mean '=='?"),
    ("value > '5000'", "allocation.rules[0].when: column 1: `value > '5000'` compares a number "
                       "with text; value is a number; drop the quotes"),
    ("grade > 5", "allocation.rules[0].when: column 1: `grade > 5` compares text with a number; "
                  "grade is text; put the value in quotes: '5'"),
    ("value + 1", "allocation.rules[0].when: column 1: `value + 1` is a number, not a yes/no "
                  "condition; compare it, e.g. `value + 1 > 0`"),
    ("regoin == 'East'", "allocation.rules[0].when: column 1: unknown lead field 'regoin'; "
                         "did you mean 'region'? (fields: assigned_at, created_at, email,"),
    ("created_at >= '2026-11-01'", "created_at is a date; write date('2026-11-01')"),
    ("phone > 100", "phone is text; put the value in quotes: '100'"),
])
@pytest.mark.slow
def test_validate_names_the_rule_the_column_and_the_fix(export, when, expected):
    res = validate_with(export, when)
    assert res.exit_code == 2
    assert expected in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("when", [
    "4000000**4000000 > 0",
    "region.ljust(10**9) != ''",
    "-" * 3000 + "1 > 0",
    "(" * 3000 + "value > 0" + ")" * 3000,
    "not " * 3000 + "value > 0",
    "value in [" + ", ".join(["1"] * 5000) + "]",
    "1e999 > 0",
    "__import__('os').system('true')",
])
@pytest.mark.slow
def test_hostile_conditions_are_refused_quickly(export, when):
    start = time.perf_counter()
    res = validate_with(export, when)
    assert res.exit_code == 2, res.output
    assert time.perf_counter() - start < 3  # the whole validate, data included
    assert "allocation.rules[0].when: column" in res.output


def test_deep_nesting_is_refused_with_a_clear_message():
    parsed = parse("(" * 60 + "not value > 0" + ")" * 60)
    tree, error = parsed.tree, parsed.error
    assert tree is not None  # parentheses alone add no depth
    parsed = parse("not " * 60 + "value > 0")
    tree, error = parsed.tree, parsed.error
    assert tree is None and "nested more than 50 levels deep" in str(error)


def test_what_validate_accepts_run_accepts_and_routes(export):
    when = "grade in ['A', 'B'] and not (source startswith 'cold') or value >= 4000"
    assert validate_with(export, when).exit_code == 0
    res = invoke("run", "--rules", str(export / "rules.toml"), "-q")
    assert res.exit_code == 0, res.output


def test_chinese_and_quoted_field_names(tmp_path):
    lead = Lead("L1", dt.datetime(2026, 11, 2, 9), None, 0, 1.0,
                {"地区": "华东", "lead source": "web-form", "客户等级": "A"})
    types = field_types([lead])
    for text in ["地区 == '华东'", "地区 in ['华东', '华南'] and 客户等级 == \"A\"",
                 "`lead source` startswith 'web'", "created_at >= date('2026-11-01')"]:
        c = Condition(text).typed(types)
        assert c.errors(types) == [] and c.matches(lead), text
        assert match_frame([c], lead_frame([lead], types)).to_list() == [0]


def test_match_frame_gives_the_first_rule_each_lead_meets(sample):
    leads, types = sample
    rules = [Condition(t).typed(types) for t in
             ("grade == 'A'", "region == 'East' and value > 2000", "score > 6", "")]
    frame = lead_frame(leads, types)
    got = match_frame(rules, frame).to_list()
    want = [next(i for i, r in enumerate(rules) if r.matches(lead)) for lead in leads]
    assert got == want
    assert set(got) == {0, 1, 2, 3}
    assert match_frame(rules[:1], frame).null_count() == sum(x != 0 for x in want)


def test_empty_number_is_null_and_never_matches(sample):
    leads, types = sample
    blank = [lead for lead in leads if lead.fields["score"] == ""]
    assert blank
    for text in ("score > 0", "score <= 0", "not (score > 0)", "score in [0, 1, 2]"):
        assert not any(Condition(text).typed(types).matches(lead) for lead in blank)
    assert all(Condition("score > 0 or value >= 0").typed(types).matches(lead) for lead in blank)


def test_column_types_are_read_from_the_values():
    assert column_type(["1,200", "", "3.5", None]) == "number"
    assert column_type(["13800000000", "13912345678"]) == "text"  # phone numbers
    assert column_type(["0571", "0100"]) == "text"  # codes with a leading zero
    assert column_type(["2026-11-01", "2026/3/5", ""]) == "date"
    assert column_type(["A", "12"]) == "text"
    assert column_type(["", None]) == "text"


# ---------------------------------------------------------------- properties

FIELDS = ["id", "owner", "value", "priority", "created_at", "grade", "region", "source",
          "phone", "score", "nosuch"]
WORDS = st.sampled_from(["A", "B", "C", "East", "West", "web", "event", "", "L00001", "R01",
                         "华东", "cold-list", "e"])
text_lit = WORDS.map(lambda w: f"'{w}'")
number_lit = st.one_of(st.integers(-10, 6000), st.floats(-1e4, 1e4, allow_nan=False)).map(repr)
date_lit = st.dates(dt.date(2026, 9, 1), dt.date(2026, 12, 31)).map(lambda d: f"date('{d}')")
atom = st.one_of(st.sampled_from(FIELDS), text_lit, number_lit, date_lit,
                 st.sampled_from(["true", "false"]))


def _compound(inner):
    pair = st.tuples(inner, inner)
    return st.one_of(
        st.tuples(pair, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
        .map(lambda t: f"({t[0][0]} {t[1]} {t[0][1]})"),
        st.tuples(pair, st.sampled_from(["and", "or"])).map(lambda t: f"({t[0][0]} {t[1]} "
                                                                      f"{t[0][1]})"),
        st.tuples(pair, st.sampled_from(["+", "-", "*", "/"]))
        .map(lambda t: f"({t[0][0]} {t[1]} {t[0][1]})"),
        st.tuples(pair, st.sampled_from(["startswith", "endswith", "contains"]))
        .map(lambda t: f"({t[0][0]} {t[1]} {t[0][1]})"),
        st.tuples(inner, st.lists(st.one_of(text_lit, number_lit, date_lit), min_size=1,
                                  max_size=4), st.booleans())
        .map(lambda t: f"({t[0]} {'not in' if t[2] else 'in'} [{', '.join(t[1])}])"),
        inner.map(lambda x: f"(not {x})"),
        inner.map(lambda x: f"-({x})"),
        st.tuples(st.sampled_from(["lower", "upper", "len"]), inner)
        .map(lambda t: f"{t[0]}({t[1]})"),
    )


conditions = st.recursive(atom, _compound, max_leaves=12)

# well-typed conditions on the sample's fields, so that most are accepted and evaluated
num = st.recursive(st.one_of(st.sampled_from(["value", "priority", "score"]), number_lit,
                             st.sampled_from(["len(grade)", "len(lower(source))"])),
                   lambda x: st.tuples(x, st.sampled_from("+-*/"), x)
                   .map(lambda t: f"({t[0]} {t[1]} {t[2]})"), max_leaves=4)
txt = st.one_of(st.sampled_from(["id", "owner", "grade", "region", "source", "phone"]),
                text_lit, st.sampled_from(["lower(grade)", "upper(source)"]))
day = st.one_of(st.just("created_at"), date_lit)
ORDER = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
test = st.one_of(
    st.tuples(num, ORDER, num).map(" ".join), st.tuples(txt, ORDER, txt).map(" ".join),
    st.tuples(day, ORDER, day).map(" ".join),
    st.tuples(txt, st.sampled_from(["startswith", "endswith", "contains"]), txt).map(" ".join),
    st.tuples(st.sampled_from(["grade", "region", "source"]), st.lists(text_lit, min_size=1),
              st.sampled_from(["in", "not in"])
              ).map(lambda t: f"{t[0]} {t[2]} [{', '.join(t[1])}]"),
    st.tuples(num, st.lists(number_lit, min_size=1, max_size=3))
    .map(lambda t: f"{t[0]} in [{', '.join(t[1])}]"),
    st.tuples(st.sampled_from(["true", "false"]), st.sampled_from(["==", "!="]),
              st.sampled_from(["true", "false"])).map(" ".join),
)
typed_conditions = st.recursive(
    test, lambda x: st.one_of(x.map(lambda c: f"not ({c})"),
                              st.tuples(x, st.sampled_from(["and", "or"]), x)
                              .map(lambda t: f"({t[0]}) {t[1]} ({t[2]})")), max_leaves=6)


@settings(max_examples=300, deadline=1000)
@given(st.text(max_size=300))
def test_any_text_parses_to_a_tree_or_a_clear_error(text):
    start = time.perf_counter()
    parsed = parse(text)
    tree, error = parsed.tree, parsed.error
    assert (tree is None) != (error is None) or not text.strip()
    if error is not None:
        assert isinstance(error, ConditionError) and error.column >= 1 and error.message
    assert time.perf_counter() - start < 1


@pytest.mark.slow
@settings(max_examples=300, deadline=1000)
@given(st.lists(st.sampled_from(["value", "grade", "(", ")", "==", "=", "'A'", "1", "and",
                                 "not", "in", "[", "]", ",", "-", "*", "date('2026-11-01')",
                                 "startswith", "lower(", "`x y`", "地区", "\"", "."]),
                max_size=80))
def test_any_token_soup_parses_to_a_tree_or_a_clear_error(tokens):
    parsed = parse(" ".join(tokens))
    tree, error = parsed.tree, parsed.error
    assert tree is not None or error is not None or not tokens


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(conditions, typed_conditions))
def test_every_accepted_condition_agrees_on_frame_and_lead(sample, text):
    leads, types = sample
    error = parse(text).error
    assert error is None, (text, error)
    c = Condition(text).typed(types)
    if c.errors(types):
        return  # refused at validate, with a message: never evaluated
    start = time.perf_counter()
    got = match_frame([c], lead_frame(leads, {n: types[n] for n in c.names})).to_list()
    got = [x == 0 for x in got]
    assert got == [c.matches(lead) for lead in leads], text
    assert time.perf_counter() - start < 1


def test_the_documented_examples_parse():
    doc = (Path(__file__).parents[1] / "docs" / "conditions.md").read_text(encoding="utf-8")
    block = doc.split("## Examples")[1].split("```text")[1].split("```")[0]
    examples = [line for line in block.splitlines() if line.strip()]
    assert len(examples) >= 9
    for text in examples:
        parsed = parse(text)
        tree, error = parsed.tree, parsed.error
        assert error is None and tree is not None, text
    assert parse(r"name == 'O\'Brien'").tree.right.value == "O'Brien"


PLAN_WITHOUT_CONDITIONS = """
import sys
from salesrules.config import parse_config
from salesrules.run import plan_run
import salesrules.cli
plan_run(parse_config('[allocation]\\nrules = [{ name = "all", policy = "balanced" }]\\n'))
print(sorted(m for m in ("lark", "phonenumbers") if m in sys.modules))
from salesrules.allocation.conditions import compile_condition
assert compile_condition("grade == 'A'").condition is not None
print("lark" in sys.modules)
"""


@pytest.mark.slow
def test_a_run_without_conditions_does_not_import_lark_or_phonenumbers():
    """Both cost import time a run only needs for a ``when`` or a number that is not a
    plain mobile; the first condition brings lark in."""
    out = subprocess.run([sys.executable, "-c", PLAN_WITHOUT_CONDITIONS], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["[]", "True"]


def test_division_by_a_constant_gives_the_same_bits_on_a_lead_and_on_the_frame():
    """polars divides by a constant as a product with its reciprocal; one lead is evaluated
    the same way, so an equality between two divisions agrees on both paths."""
    leads = [Lead(f"L{i}", dt.datetime(2026, 11, 20), value=i * 0.7, fields={"score": "3"})
             for i in range(1, 40)]
    types = {"value": "number", "score": "number"}
    c = Condition("value / 3 == value / score").typed(types)
    assert not c.errors(types)
    on_frame = [x == 0 for x in match_frame([c], lead_frame(leads, types)).to_list()]
    assert on_frame == [c.matches(lead) for lead in leads]


# conditions over the sample export's own lead fields, most of them well typed
EXPORT_NUM = st.recursive(
    st.one_of(st.sampled_from(["value", "priority", "len(grade)", "len(lower(source))"]),
              number_lit),
    lambda x: st.tuples(x, st.sampled_from("+-*/"), x).map(" ".join).map(lambda t: f"({t})"),
    max_leaves=3)
EXPORT_TXT = st.one_of(st.sampled_from(["lead_id", "owner", "grade", "region", "source",
                                        "phone", "email", "lower(region)"]), text_lit)
EXPORT_TEST = st.one_of(
    st.tuples(EXPORT_NUM, ORDER, EXPORT_NUM).map(" ".join),
    st.tuples(EXPORT_TXT, ORDER, EXPORT_TXT).map(" ".join),
    st.tuples(st.just("created_at"), ORDER, date_lit).map(" ".join),
    st.tuples(EXPORT_TXT, st.sampled_from(["startswith", "endswith", "contains"]),
              EXPORT_TXT).map(" ".join),
    st.tuples(st.sampled_from(["grade", "region", "source"]), st.sampled_from(["in", "not in"]),
              st.lists(text_lit, min_size=1, max_size=3)
              ).map(lambda t: f"{t[0]} {t[1]} [{', '.join(t[2])}]"),
    st.tuples(st.sampled_from(["value", "grade", "created_at"]), st.sampled_from(["==", ">"]),
              st.one_of(text_lit, number_lit)).map(" ".join),  # often refused: wrong type
)
EXPORT_CONDITIONS = st.recursive(
    EXPORT_TEST, lambda x: st.one_of(x.map(lambda c: f"not ({c})"),
                                     st.tuples(x, st.sampled_from(["and", "or"]), x)
                                     .map(lambda t: f"({t[0]}) {t[1]} ({t[2]})")), max_leaves=4)


@pytest.mark.slow
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(whens=st.lists(EXPORT_CONDITIONS, min_size=1, max_size=5))
def test_whatever_validate_accepts_run_accepts_and_routes_as_validate_evaluated(
        export_template, tmp_path_factory, whens):
    """validate types and evaluates every condition on the leads it has read: a rule set it
    accepts runs, and each lead goes by the first rule whose condition it met there; one it
    refuses names the rule."""
    import shutil

    folder = tmp_path_factory.mktemp("accepts")
    shutil.copytree(export_template, folder, dirs_exist_ok=True)
    rules = [{"name": f"r{i}", "when": w} for i, w in enumerate(whens)] + [{"name": "rest"}]
    edit_rules(folder / "rules.toml", lambda d: d["allocation"].update(rules=rules))
    checked = invoke("validate", "--rules", str(folder / "rules.toml"))
    assert checked.exit_code in (0, 2) and "Traceback" not in checked.output, whens
    if checked.exit_code == 2:
        assert "allocation.rules[" in checked.output, (whens, checked.output)
        return
    res = invoke("run", "--rules", str(folder / "rules.toml"), "-q", "--dry-run")
    assert res.exit_code == 0, (whens, res.output)
    cfg = load_config(folder / "rules.toml")
    plan = plan_run(cfg)
    ds = load_dataset(cfg, plan.sources, data_dir(cfg, None))
    check_fields(plan.routes, ds)  # types each condition from the columns, as validate does
    leads = ds.leads
    first = dict(zip((x.id for x in leads),
                     match_leads([r.condition for r in plan.routes], leads).to_list()))
    assigned = read_csv(folder / "out" / "assignments.csv")
    assert assigned, whens
    for a in assigned:
        assert a["rule"] == rules[first[a["lead_id"]]]["name"], (whens, a)
