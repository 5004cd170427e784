"""Incremental runs: successive runs on one day add up, keep what was given out, and share the
caps."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from conftest import invoke, read_csv
from hypothesis import given, settings
from hypothesis import strategies as st

from salesrules.allocation import allocate, assigned_values
from salesrules.config import parse_config
from salesrules.history import open_history
from salesrules.leads import LeadList
from salesrules.load import Dataset
from salesrules.model import ActivityTable, Lead, Rep
from salesrules.run import plan_run

AS_OF = dt.date(2026, 11, 25)


def run(export, *args):
    res = invoke("run", "--rules", str(export / "rules.toml"), *args)
    assert res.exit_code == 0, res.output
    return res


def split_leads(export: Path, first: int) -> list[str]:
    """Keep only the first ``first`` leads in leads.csv; return every line, header first."""
    lines = (export / "leads.csv").read_text(encoding="utf-8").splitlines()
    (export / "leads.csv").write_text("\n".join(lines[:first + 1]) + "\n", encoding="utf-8")
    return lines


@pytest.mark.slow
def test_a_second_run_on_the_same_day_keeps_the_morning_s_assignments(export):
    lines = split_leads(export, 40)
    run(export, "--as-of", "2026-11-25")
    morning = {a["lead_id"]: a["rep_id"] for a in read_csv(export / "out" / "assignments.csv")}
    assert morning
    (export / "leads.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run(export, "--as-of", "2026-11-25")
    rows = read_csv(export / "out" / "assignments.csv")
    after = {a["lead_id"]: a for a in rows}
    for lead_id, rep in morning.items():
        assert after[lead_id]["rep_id"] == rep
        assert after[lead_id]["reason"].startswith("kept from the run at ")
    assert len(after) == len(rows)  # each lead once
    assert len(after) > len(morning)
    new = [a for a in rows if a["lead_id"] not in morning]
    assert all(not a["reason"].startswith("kept from") for a in new)


@pytest.mark.slow
def test_caps_hold_over_the_day_across_runs(export):
    lines = split_leads(export, 30)
    run(export, "--as-of", "2026-11-25")
    (export / "leads.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run(export, "--as-of", "2026-11-25")
    caps = {r["rep_id"]: int(r["capacity"]) for r in read_csv(export / "reps.csv")
            if r["capacity"]}
    day = Counter(a["rep_id"] for a in read_csv(export / "out" / "assignments.csv"))
    assert all(n <= caps[rep] for rep, n in day.items() if rep in caps)


@pytest.mark.slow
def test_an_identical_rerun_after_a_second_run_changes_nothing(export):
    lines = split_leads(export, 40)
    run(export, "--as-of", "2026-11-25")
    (export / "leads.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run(export, "--as-of", "2026-11-25")
    first = (export / "out" / "assignments.csv").read_bytes()
    rows = read_csv(export / "out" / "assignments.csv")
    run(export, "--as-of", "2026-11-25")
    assert (export / "out" / "assignments.csv").read_bytes() == first
    data = json.loads(invoke("history", "--rules", str(export / "rules.toml"), "--json").output)
    assert len(data["runs"]) == 2
    assert sum(r["assigned"] for r in data["runs"]) == len(rows)


@pytest.mark.slow
def test_redo_day_replaces_the_day_and_says_how_much_changes(export):
    lines = split_leads(export, 40)
    run(export, "--as-of", "2026-11-25")
    (export / "leads.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = run(export, "--as-of", "2026-11-25", "--redo-day")
    assert "--redo-day: replaces the" in res.output and "change (" in res.output
    rows = read_csv(export / "out" / "assignments.csv")
    assert not any(a["reason"].startswith("kept from") for a in rows)
    data = json.loads(invoke("history", "--rules", str(export / "rules.toml"), "--json").output)
    assert [r["assigned"] for r in data["runs"]] == [len(rows)]
    manifest = json.loads((export / "out" / "run.json").read_text())
    assert any(w.startswith("--redo-day") for w in manifest["warnings"])


# ---------------------------------------------------------------- the invariant

reps_st = st.lists(
    st.builds(lambda i, cap: Rep(f"R{i}", f"Rep {i}", "East", "P1", True, cap),
              st.integers(0, 30), st.one_of(st.none(), st.integers(0, 5))),
    min_size=1, max_size=6, unique_by=lambda r: r.id)


@settings(max_examples=40, deadline=None)
@given(reps=reps_st, n=st.integers(0, 40), cuts=st.lists(st.integers(0, 40), max_size=4),
       policy=st.sampled_from(["balanced", "weighted"]), cumulative=st.booleans())
@pytest.mark.slow
def test_any_split_of_a_day_into_runs_assigns_each_lead_once(reps, n, cuts, policy,
                                                              cumulative):
    leads = [Lead(f"L{i:03d}", dt.datetime(2026, 11, 24, 8) + dt.timedelta(minutes=7 * i),
                  None, i % 3, float(100 + 37 * i % 900), {"phone": f"1380000{i:04d}"})
             for i in range(n)]
    bounds = [0, *sorted({min(c, n) for c in cuts}), n]
    cfg = parse_config(f'[[allocation.rules]]\nname = "all"\npolicy = "{policy}"\n')
    plan = plan_run(cfg, entry_points=False)
    first_rep: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        history = open_history(Path(tmp) / "h.sqlite")
        try:
            for k, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
                part = leads[0 if cumulative else lo:hi]
                ds = Dataset(cfg.funnel_model, {r.id: r for r in reps}, part,
                             ActivityTable(cfg.funnel_model.names))
                view = history.view(AS_OF, 30, [x.id for x in part], f"run{k}")
                result = allocate(cfg, plan.routes, ds, AS_OF, 0, view)
                for a in result.assignments:  # an earlier assignment never moves
                    assert first_rep.setdefault(a.lead_id, a.rep_id) == a.rep_id
                new = result.new_assignments
                history.begin()
                history.record(f"run{k}", AS_OF, f"2026-11-25T09:{k:02d}:00+00:00", "c", "i",
                               new, assigned_values(new, LeadList.of(part)),
                               len(result.unassigned))
                history.commit()
            day = history.day(AS_OF)
        finally:
            history.close()
    given_out = Counter(p.lead_id for p in day)
    assert all(c == 1 for c in given_out.values()), "a lead was assigned twice in a day"
    per_rep = Counter(p.rep_id for p in day)
    for r in reps:
        if r.capacity is not None:
            assert per_rep[r.id] <= r.capacity
