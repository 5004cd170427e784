"""The reverse funnel's fast path (words looked up once per run) says exactly what the
straightforward one does, in both languages, caps and rates above 1 included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from salesrules.goals.batches import Rate
from salesrules.goals.feasible import Cap, Limit
from salesrules.goals.pushback import PushWords, fmt, push_back
from salesrules.goals.trace_words import trace
from salesrules.model import Funnel, Stage, link_kind
from salesrules.words import speaking

FUNNEL = Funnel((Stage("dials", "外呼"), Stage("connects", "接通"),
                 Stage("conversations", "深入沟通"), Stage("intents", "意向客户"),
                 Stage("pipeline", "储备金额", unit="amount"),
                 Stage("revenue", "业绩", unit="amount")))
LABELS = {s.name: s.label for s in FUNNEL.stages}


def reference(funnel, given, rates, limits=None):
    """push_back as it was written before its words were looked up once per run."""
    values = dict(given)
    traces, caps = {}, {}
    stages = funnel.stages
    for i in range(len(stages) - 1, 0, -1):
        upper, lower = stages[i - 1], stages[i]
        if upper.name in values or lower.name not in values:
            continue
        rate = rates.get(lower.name)
        if rate is None or not rate.value > 0:
            continue
        if upper.unit == lower.unit == "count" and rate.value > 1:
            rate = Rate(1.0, "the funnel model's rate is above 1, which a conversion cannot "
                             "be: taken as 1")
        values[upper.name] = values[lower.name] / rate.value
        arpu = link_kind(upper, lower) == "arpu"
        traces[upper.name] = trace(
            "push", lower=lower.name, lower_value=fmt(values[lower.name], lower.unit),
            what=trace("arpu") if arpu else trace("step", upper=upper.name, lower=lower.name),
            rate=f"{rate.value:,.2f}" if arpu else f"{rate.value:.4g}", why=rate.trace,
            upper_value=fmt(values[upper.name], upper.unit), upper=upper.name)
        limit = (limits or {}).get(upper.name)
        if limit is not None and values[upper.name] > limit.value > 0:
            cap = Cap(upper.name, limit, values[upper.name], lower.name, rate.value,
                      values[lower.name] / limit.value)
            caps[upper.name] = cap
            values[upper.name] = limit.value
            traces[upper.name] += cap.words()
    return values, traces, caps


rate_values = st.one_of(st.none(), st.floats(-1, 3), st.floats(1, 50000),
                        st.sampled_from([0.0, 1.0, 1e-9]))


@settings(deadline=None, max_examples=150)
@given(st.dictionaries(st.sampled_from(FUNNEL.names), st.floats(0, 1e9), min_size=1,
                       max_size=2),
       st.lists(rate_values, min_size=5, max_size=5),
       st.lists(st.one_of(st.none(), st.floats(0, 500)), min_size=3, max_size=3),
       st.integers(0, 66), st.sampled_from(["en", "zh"]))
def test_push_back_with_words_looked_up_once_says_what_it_said(given_targets, rate_list,
                                                                per_day, days, lang):
    rates = {s: Rate(v, f"why {s} {{}}") for s, v in zip(FUNNEL.names[1:], rate_list)
             if v is not None}
    limits = {s: Limit(v, days, 0.9, "team East") for s, v in
              zip(("dials", "connects", "conversations"), per_day) if v is not None}
    with speaking(lang, LABELS):
        words = PushWords(FUNNEL)
        for lim in (limits, None, {}):
            want = reference(FUNNEL, given_targets, rates, lim)
            for got in (push_back(FUNNEL, given_targets, rates, lim, words),
                        push_back(FUNNEL, given_targets, rates, lim)):
                assert (got.values, got.traces, got.caps) == want


def test_words_made_for_another_funnel_are_not_used():
    other = Funnel((Stage("calls"), Stage("sales", unit="amount")))
    rates = {"revenue": Rate(0.5, "r"), "sales": Rate(100.0, "s")}
    got = push_back(other, {"sales": 1000.0}, rates, None, PushWords(FUNNEL))
    assert got.traces == {"calls": "sales 1,000.00 ÷ ARPU 100.00 (s) = 10.0 calls"}
