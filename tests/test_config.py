"""rules.toml: structured into attrs classes, every error named by its key path."""

from __future__ import annotations

import tomllib

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from salesrules.config import load_config, parse_config
from salesrules.errors import ConfigError, Problems
from salesrules.run import plan_run
from salesrules.starter import starter_toml


def problems_of(text: str) -> list[str]:
    p = Problems()
    parse_config(text, problems=p)
    return [str(x) for x in p.all()]


def plan_problems(text: str, tmp_path) -> list[str]:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        plan_run(load_config(path))
    return [str(p) for p in err.value.problems]


def test_default_config_is_the_briefs_funnel():
    cfg = parse_config("")
    assert [s.name for s in cfg.funnel.stages] == [
        "dials", "connects", "conversations", "intents", "pipeline", "revenue"]
    assert [s.unit for s in cfg.funnel.stages][-2:] == ["amount", "amount"]
    assert cfg.goals.split.name == "even"


def test_wrong_type_in_component_params_names_the_key_path(tmp_path):
    text = """
[[allocation.rules]]
name = "a"
[[allocation.rules]]
name = "b"
[[allocation.rules]]
name = "c"
policy = "balanced"
params = { by = 3 }
"""
    assert plan_problems(text, tmp_path) == [
        "allocation.rules[2].params.by: expected one of 'count', 'value', got 3"]


def test_number_expected_got_text():
    assert problems_of('[goals.levels.P2]\nrevenue = "half"') == [
        "goals.levels.P2.revenue: expected a number, got 'half'"]


def test_unknown_keys_are_errors_with_the_known_keys_listed():
    out = problems_of('[output]\ndir = "out"\ncolour = "red"')
    assert out == ["output.colour: unknown key (known keys: crm_import, day_targets, dir, "
                   "keep_runs, language, parallel, report, workbook)"]


def test_every_error_is_reported_at_once():
    text = """
[data]
encoding = "latin-1"
[data.reps]
fil = "reps.csv"
[goals]
period = "year"
[[allocation.rules]]
teams = "East"
[goals.levels.P1]
revenue = -5
"""
    out = problems_of(text)
    assert "data.reps.file: required key is missing" in out
    assert any(o.startswith("data.reps.fil: unknown key") for o in out)
    assert "goals.period: expected one of 'quarter', 'month', got 'year'" in out
    assert "allocation.rules[0].teams: expected a list, got 'East'" in out
    assert len(out) >= 4


def test_semantic_errors_follow_structuring():
    out = problems_of('[goals.levels.P1]\nrevnue = 5\n[data]\nencoding = "latin-1"')
    assert out[0].startswith("goals.levels.P1.revnue: unknown funnel stage 'revnue'")
    assert out[1].startswith("data.encoding: expected one of auto, utf-8")


def test_check_params_are_validated_with_their_path(tmp_path):
    out = plan_problems('[checks.behind-pace]\nwarn_gap = "lots"\nbands = 1\n', tmp_path)
    assert "checks.behind-pace.warn_gap: expected a number, got 'lots'" in out
    assert any(o.startswith("checks.behind-pace.bands: unknown key") for o in out)


def test_attrs_validator_message_reaches_the_user(tmp_path):
    out = plan_problems(
        '[goals]\nfunnel = { strategy = "team-rates", params = { lookback_days = 0 } }', tmp_path)
    assert len(out) == 1
    assert out[0].startswith("goals.funnel.params.lookback_days: ")
    assert "lookback_days" in out[0] and ">= 1" in out[0]


def test_component_validation_against_the_funnel(tmp_path):
    out = plan_problems('[checks.behind-pace]\nresult_stage = "calls"\n', tmp_path)
    assert out == ["checks.behind-pace.result_stage: 'calls' is not a count stage of the funnel"]


def test_unknown_component_lists_what_is_available(tmp_path):
    out = plan_problems('[goals]\nsplit = "seasonl"\n[[allocation.rules]]\npolicy = "robin"',
                        tmp_path)
    assert any(o.startswith("goals.split.strategy: time split 'seasonl' is not available "
                            "(plugin may not be installed); available: even") for o in out)
    assert any(o.startswith("allocation.rules[0].policy: allocation policy 'robin' is not "
                            "available") and "balanced" in o for o in out)


def test_bad_condition_is_a_config_error(tmp_path):
    out = plan_problems('[[allocation.rules]]\nwhen = "grade =="\n', tmp_path)
    assert out[0].startswith("allocation.rules[0].when: column 9: invalid condition 'grade ==': "
                             "it ends too early")


def test_chinese_keys_are_quoted_in_paths():
    out = problems_of('[goals.levels."高级"]\nrevenue = "x"')
    assert out == ['goals.levels."高级".revenue: expected a number, got \'x\'']


def test_toml_syntax_error_is_reported():
    out = problems_of("[goals\n")
    assert out[0].startswith("rules.toml: not valid TOML")


def test_starter_config_parses_and_plans(tmp_path):
    text = starter_toml()
    assert text.count("\n# ") >= 5  # commented
    tomllib.loads(text)
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    plan = plan_run(load_config(path))
    assert [r.name for r in plan.routes] == ["A-grade", "everything else"]


def test_strategy_table_errors_name_the_key_inside_it():
    out = problems_of(
        '[goals]\nsplit = { params = {} }\nfunnel = { strategy = 3, params = 4, x = 1 }')
    assert out == [
        "goals.split.strategy: required key is missing",
        "goals.funnel.strategy: expected a string, got 3",
        "goals.funnel.params: expected a table, got 4",
        "goals.funnel.x: unknown key (known keys: params, strategy)",
    ]


def test_a_table_where_a_list_of_tables_is_expected_says_so():
    out = problems_of('goals = 3\n[allocation]\nrules = [3, { name = 4 }]')
    assert out == ["goals: expected a table, got 3",
                   "allocation.rules[0]: expected a table, got 3",
                   "allocation.rules[1].name: expected a string, got 4"]


def test_keys_set_by_loading_are_not_keys_of_rules_toml():
    out = problems_of('base_dir = "/etc"\ndigest = "x"')
    assert out[0] == ("base_dir: unknown key (known keys: allocation, checks, data, funnel, "
                      "goals, history, output, plugins, run)")
    assert len(out) == 2


def test_output_parallel_still_loads_with_a_deprecation_warning():
    cfg = parse_config("[output]\nparallel = false\n")
    assert cfg is not None
    assert cfg.warnings == [("output.parallel is deprecated and ignored (outputs are written in "
                             "one process): remove it from rules.toml")]
    assert parse_config("[output]\nreport = false\n").warnings == []


def test_cattrs_paths_become_rules_toml_key_paths():
    from salesrules.config import format_path, path_parts

    parts = path_parts("$.allocation.rules[1].params['share']")
    assert parts == ["allocation", "rules", 1, "params", "share"]
    assert format_path(parts) == "allocation.rules[1].params.share"
    assert format_path(path_parts("""$.goals.levels['高级']["it's"]""")) == \
        'goals.levels."高级"."it\'s"'


def _schema_classes():
    import attrs

    from salesrules.config import schema

    return [c for c in vars(schema).values()
            if isinstance(c, type) and attrs.has(c) and c.__module__ == schema.__name__]


@pytest.mark.slow
def test_every_rules_toml_key_is_documented_by_its_comment():
    import attrs

    from salesrules.config import RUNTIME_FIELDS, RulesConfig
    from salesrules.config.comments import field_comments

    missing = [f"{c.__name__}.{f.name}" for c in _schema_classes() for f in attrs.fields(c)
               if not field_comments(c).get(f.name)]
    assert missing == []
    assert set(RUNTIME_FIELDS) <= {f.name for f in attrs.fields(RulesConfig)}


def test_config_reference_lists_each_key_with_its_meaning_and_a_valid_default():
    from pathlib import Path

    from salesrules.docs import config_markdown

    text = config_markdown()
    committed = Path(__file__).parent.parent / "docs" / "config.md"
    assert committed.read_text(encoding="utf-8") == text, "run python -m salesrules.docs"
    assert "| `parallel` | true or false | `true` | Deprecated and ignored" in text
    assert "## `[[allocation.rules]]`" in text and "## `[data.NAME]`" in text
    assert "| `file` | string | *required* | The file, relative to `data.dir`" in text
    assert "base_dir" not in text and "digest" not in text
    rows = [r.split(" | ") for r in text.splitlines() if r.startswith("| `")]
    defaults = {r[0].strip("| `"): r[2] for r in rows if r[2].startswith("`")}
    assert len(rows) > 50 and len(defaults) > 40
    for key, default in defaults.items():  # each default can be pasted into rules.toml
        tomllib.loads(f"{key} = {default.strip('`')}")
    assert parse_config(f"[output]\nday_targets = {defaults['day_targets'].strip('`')}") \
        .output.day_targets == "week"


def test_param_comments_are_read_from_the_source():
    from salesrules.checks.behind_pace import BehindPaceParams
    from salesrules.config.comments import field_comments

    comments = field_comments(BehindPaceParams)
    assert comments["result_stage"] == ("The result stage judged; empty means the last count "
                                        "stage (intents).")
    assert comments["feasible_quantile"].startswith("The feasible level: this quantile")
    assert field_comments(int) == {}


def test_a_params_comment_counts_as_its_documentation_in_plugins_check():
    import attrs

    from salesrules.api import Policy
    from salesrules.plugins import Registered, Registry, health, new_plugin_manager

    @attrs.define
    class SplitParams:
        #: Share of each batch for the first team.
        share: float
        floor: float

    class Split(Policy):
        name = "split"
        Params = SplitParams

    registry = Registry(new_plugin_manager())
    registry.components["policy"]["split"] = Registered(Split, "acme")
    assert health(registry) == [("plugin acme: policy 'split' param 'floor' has no default and "
                                 "is not documented in the Params docstring")]


_keys = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=8)


@given(st.lists(_keys | st.integers(0, 99), max_size=5))
def test_any_cattrs_path_is_read_back_into_its_keys(parts):
    from salesrules.config import path_parts

    cattrs_path = "$" + "".join(f"[{p!r}]" for p in parts)
    assert path_parts(cattrs_path) == parts


@given(_keys)
def test_a_bad_target_under_any_level_name_is_named_by_its_key_path(level):
    from salesrules.config import format_path

    text = tomli_w.dumps({"goals": {"levels": {level: {"revenue": "lots"}}}})
    where = format_path(["goals", "levels", level, "revenue"])
    assert problems_of(text) == [f"{where}: expected a number, got 'lots'"]
    assert tomllib.loads(f"{where} = 1") == {"goals": {"levels": {level: {"revenue": 1}}}}


def test_an_as_of_date_a_run_would_refuse_is_refused_by_validate_too():
    assert problems_of("[run]\nas_of = 0099-01-01") == [
        "run: as_of = 0099-01-01 is outside the years 1900 to 9998 that runs can be for"]
    assert problems_of("[run]\nas_of = 2026-11-25") == []
