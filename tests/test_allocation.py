"""Allocation: routing rules, the balanced policy, caps, owners, every lead accounted for."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from alloc_runs import run_alloc
from conftest import invoke, read_csv
from hypothesis import given, settings
from hypothesis import strategies as st

from salesrules.model import Lead, Rep

reps_st = st.lists(
    st.builds(lambda i, team, active, cap: Rep(f"R{i}", f"Rep {i}", team, "P1", active, cap),
              st.integers(), st.sampled_from(["East", "West"]), st.booleans(),
              st.one_of(st.none(), st.integers(0, 6))),
    min_size=0, max_size=12, unique_by=lambda r: r.id)


leads_st = st.lists(
    st.builds(lambda i, prio, val, grade, owner, mins: Lead(
        f"L{i}", dt.datetime(2026, 11, 24) + dt.timedelta(minutes=mins), owner, prio, val,
        {"grade": grade}),
        st.integers(), st.integers(0, 2), st.floats(0, 10000, allow_nan=False),
        st.sampled_from("ABC"), st.one_of(st.none(), st.sampled_from(["R1", "R2", "Rx"])),
        st.integers(0, 3000)),
    max_size=60, unique_by=lambda lead: lead.id)


RULES_FOR = {
    "balanced": """
[allocation]
self_sourced_teams = []
[[allocation.rules]]
name = "A to East"
when = "grade == 'A'"
teams = ["East"]
[[allocation.rules]]
name = "B by value"
when = "grade == 'B'"
policy = "balanced"
params = { by = "value" }
""",
    "weighted": """
[[allocation.rules]]
name = "A to East"
when = "grade == 'A'"
teams = ["East"]
policy = "weighted"
params = { team = { East = 2 } }
[[allocation.rules]]
name = "B by value"
when = "grade == 'B'"
policy = "weighted"
params = { by = "value", default = 1.5 }
""",
}


RULES = RULES_FOR["balanced"]


policies = pytest.mark.parametrize("policy", sorted(RULES_FOR))


@pytest.mark.slow
@policies
@settings(max_examples=100, deadline=None)
@given(reps=reps_st, leads=leads_st)
def test_every_lead_is_accounted_for_exactly_once(policy, reps, leads):
    res = run_alloc(reps, leads, RULES_FOR[policy])
    decided = [a.lead_id for a in res.assignments] + [u.lead_id for u in res.unassigned]
    kept = res.kept["lead_id"].to_list()
    assert len(decided) == len(set(decided))
    assert sorted(decided + kept) == sorted(lead.id for lead in leads)
    active = {r.id for r in reps if r.active}
    owner = {lead.id: lead.owner for lead in leads}
    assert all(rep in active and owner[lead] == rep
               for lead, rep in zip(res.kept["lead_id"], res.kept["rep_id"]))


@pytest.mark.slow
@policies
@settings(max_examples=100, deadline=None)
@given(reps=reps_st, leads=leads_st)
def test_caps_hold_and_inactive_reps_get_nothing(policy, reps, leads):
    res = run_alloc(reps, leads, RULES_FOR[policy])
    by_id = {r.id: r for r in reps}
    counts = Counter(a.rep_id for a in res.assignments)
    for rep_id, n in counts.items():
        rep = by_id[rep_id]
        assert rep.active
        assert rep.capacity is None or n <= rep.capacity
    # rule 1 only ever gives to East
    assert all(by_id[a.rep_id].team == "East" for a in res.assignments if a.rule == "A to East")


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(st.integers(1, 15), st.integers(0, 200))
def test_balanced_with_equal_loads_and_no_caps_differs_by_at_most_one(n_reps, n_leads):
    reps = [Rep(f"R{i:02d}", "x", "East", "P1") for i in range(n_reps)]
    leads = [Lead(f"L{i}", dt.datetime(2026, 11, 24), None, 0, 100.0) for i in range(n_leads)]
    res = run_alloc(reps, leads)
    counts = Counter(a.rep_id for a in res.assignments)
    got = [counts.get(r.id, 0) for r in reps]
    assert sum(got) == n_leads
    assert max(got) - min(got) <= 1


@pytest.mark.slow
@policies
@settings(max_examples=50, deadline=None)
@given(reps=reps_st, leads=leads_st)
def test_same_input_same_result(policy, reps, leads):
    a = run_alloc(reps, leads, RULES_FOR[policy])
    b = run_alloc(reps, leads, RULES_FOR[policy])
    assert a.assignments == b.assignments and a.unassigned == b.unassigned


def test_existing_load_is_counted():
    reps = [Rep("R1", "a", "East", "P1"), Rep("R2", "b", "East", "P1")]
    owned = [Lead(f"O{i}", dt.datetime(2026, 11, 1), "R1") for i in range(3)]
    new = [Lead(f"N{i}", dt.datetime(2026, 11, 24)) for i in range(5)]
    res = run_alloc(reps, owned + new)
    counts = Counter(a.rep_id for a in res.assignments)
    assert counts == {"R2": 4, "R1": 1}  # R2 catches up to R1's 3 open leads first
    assert len(res.kept) == 3


def test_capacity_and_reason_text():
    reps = [Rep("R1", "Ann", "East", "P1", capacity=2), Rep("R2", "Bo", "East", "P1", capacity=1)]
    leads = [Lead(f"N{i}", dt.datetime(2026, 11, 24, 9, i)) for i in range(5)]
    res = run_alloc(reps, leads)
    assert Counter(a.rep_id for a in res.assignments) == {"R1": 2, "R2": 1}
    assert len(res.unassigned) == 2
    assert all("every eligible rep is at their daily capacity" in u.reason for u in res.unassigned)
    first = res.assignments[0]
    assert first.reason == ("rule 'all leads' → balanced: least loaded of 2 rep(s) with 0 "
                            "lead(s): 0 received in the window, 0 held, 0 today; 1 of cap 2 today")


def test_inactive_owner_sends_the_lead_back_to_the_pool():
    reps = [Rep("R1", "a", "East", "P1", active=False), Rep("R2", "b", "East", "P1")]
    leads = [Lead("L1", dt.datetime(2026, 11, 24), "R1"),
             Lead("L2", dt.datetime(2026, 11, 24), "R2")]
    res = run_alloc(reps, leads)
    assert res.kept["lead_id"].to_list() == ["L2"]
    (a,) = res.assignments
    assert a.lead_id == "L1" and a.rep_id == "R2"
    assert a.reason.startswith("previous owner R1 is inactive; rule 'all leads'")


def test_first_matching_rule_wins_and_unmatched_leads_are_listed():
    reps = [Rep("E1", "a", "East", "P1"), Rep("W1", "b", "West", "P1")]
    leads = [Lead("L1", dt.datetime(2026, 11, 24), fields={"grade": "A"}),
             Lead("L2", dt.datetime(2026, 11, 24), fields={"grade": "B"}),
             Lead("L3", dt.datetime(2026, 11, 24), fields={"grade": "C"})]
    res = run_alloc(reps, leads, RULES)
    assert {(a.lead_id, a.rep_id, a.rule) for a in res.assignments} == {
        ("L1", "E1", "A to East"), ("L2", "E1", "B by value")}
    (u,) = res.unassigned
    assert u.lead_id == "L3"
    assert u.reason == "no routing rule matched ('A to East', 'B by value')"


def test_leads_go_in_priority_value_then_age_order():
    reps = [Rep("R1", "a", "East", "P1", capacity=1)]
    leads = [Lead("old-low", dt.datetime(2026, 11, 20), value=10.0),
             Lead("new-high", dt.datetime(2026, 11, 24), value=900.0),
             Lead("urgent", dt.datetime(2026, 11, 24), priority=2, value=1.0)]
    res = run_alloc(reps, leads)
    assert [a.lead_id for a in res.assignments] == ["urgent"]


def test_self_sourced_team_takes_no_leads():
    reps = [Rep("H1", "a", "Hunters", "P1"), Rep("F1", "b", "Farmers", "P1")]
    leads = [Lead(f"L{i}", dt.datetime(2026, 11, 24)) for i in range(4)]
    res = run_alloc(reps, leads, '[allocation]\nself_sourced_teams = ["Hunters"]')
    assert {a.rep_id for a in res.assignments} == {"F1"}


def test_rule_naming_a_field_the_leads_lack_is_a_config_error(export):
    from conftest import edit_rules

    edit_rules(export / "rules.toml", lambda d: d["allocation"].update(
        rules=[{"name": "x", "when": "regoin == 'East'"}]))
    res = invoke("run", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 2
    assert ("allocation.rules[0].when: column 1: unknown lead field 'regoin'; did you mean "
            "'region'?") in res.output


@pytest.mark.slow
def test_assignments_and_unassigned_cover_every_pool_lead(export):
    res = invoke("run", "--rules", str(export / "rules.toml"), "-q")
    assert res.exit_code == 0, res.output
    leads = read_csv(export / "leads.csv")
    reps = {r["rep_id"]: r for r in read_csv(export / "reps.csv")}
    as_of = dt.date(2026, 11, 25)

    def recycled(lead):  # owner got it over 7 days ago and nobody followed up since
        since = dt.date.fromisoformat(lead["assigned_at"])
        touched = lead["last_contact"]
        return (as_of - since).days > 7 and (not touched or touched < lead["assigned_at"])

    pool = {lead["lead_id"] for lead in leads
            if not (lead["owner"] and reps.get(lead["owner"], {}).get("active") == "yes")
            or recycled(lead)}
    assert any(lead["owner"] and recycled(lead) for lead in leads)  # the sample has some
    a = [r["lead_id"] for r in read_csv(export / "out" / "assignments.csv")]
    u = [r["lead_id"] for r in read_csv(export / "out" / "unassigned.csv")]
    assert len(a) + len(u) == len(set(a) | set(u))
    assert set(a) | set(u) == pool
    rows = {r["lead_id"]: r for r in read_csv(export / "out" / "assignments.csv")}
    by_id = {lead["lead_id"]: lead for lead in leads}
    for lead_id, r in rows.items():
        if by_id[lead_id]["owner"] and recycled(by_id[lead_id]) and \
                reps[by_id[lead_id]["owner"]]["active"] == "yes":
            assert r["rep_id"] != by_id[lead_id]["owner"]  # someone else
            assert r["reason"].startswith(f"recycled from {by_id[lead_id]['owner']}")


def test_compare_two_rule_sets_on_the_same_leads(export):
    import json

    from conftest import edit_rules

    b = export / "rules_b.toml"
    b.write_text((export / "rules.toml").read_text(encoding="utf-8"), encoding="utf-8")
    edit_rules(b, lambda d: d["allocation"].update(rules=[
        {"name": "all", "policy": "weighted", "params": {"level": {"P3": 3, "P1": 1, "P2": 1}}}]))
    res = invoke("compare", str(export / "rules.toml"), str(b), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["a"]["assigned"] == out["b"]["assigned"] > 0
    a_counts = [r["a_leads"] for r in out["reps"]]
    b_counts = [r["b_leads"] for r in out["reps"]]
    assert sum(a_counts) == out["a"]["assigned"] and sum(b_counts) == out["b"]["assigned"]
    assert out["b"]["gini_count"] > out["a"]["gini_count"]  # weights spread leads unevenly
    assert 0 <= out["a"]["gini_value"] <= 1
    for side in ("a", "b"):  # eligible reps, today's leads and the window's load
        assert all(0 <= out[side][k] <= 1 for k in ("gini_count_window", "gini_value_window"))
    assert not (export / "out").exists()  # nothing written
    assert not (export / "salesrules-history.sqlite").exists()
    text = invoke("compare", str(export / "rules.toml"), str(b)).output
    assert "Gini of counts" in text and "expected conversions" in text
    assert "Gini of counts, window" in text and "Gini of value, window" in text


def test_gini():
    from salesrules.allocation import gini

    assert gini([5, 5, 5, 5]) == 0
    assert gini([0, 0, 0, 12]) == 0.75
    assert gini([]) == 0
