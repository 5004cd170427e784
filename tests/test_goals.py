"""Goal setting: the reverse funnel, personal rates, goals files, tiers and feasible targets."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import read_csv
from goal_runs import quarter, run_goals, set_rep_column
from hypothesis import given
from hypothesis import strategies as st

from salesrules.goals import push_back, to_units
from salesrules.goals.batches import Rate
from salesrules.goals.calendar import period_of
from salesrules.model import Funnel, Stage

FUNNEL = Funnel((Stage("dials"), Stage("connects"), Stage("conversations"), Stage("intents"),
                 Stage("pipeline", unit="amount"), Stage("revenue", unit="amount")))


def test_reverse_funnel_from_revenue_to_dials():
    rates = {"connects": Rate(0.4), "conversations": Rate(0.5), "intents": Rate(0.25),
             "pipeline": Rate(3000.0), "revenue": Rate(1 / 3)}
    pushed = push_back(FUNNEL, {"revenue": 30000.0}, rates)
    values, traces = pushed.values, pushed.traces
    assert values["pipeline"] == pytest.approx(90000)
    assert values["intents"] == pytest.approx(30)
    assert values["conversations"] == pytest.approx(120)
    assert values["connects"] == pytest.approx(240)
    assert values["dials"] == pytest.approx(600)
    assert traces["pipeline"].startswith("revenue 30,000.00 ÷ pipeline→revenue 0.3333")
    assert "ARPU 3,000.00" in traces["intents"]  # an amount: thousands separated, two decimals
    assert to_units(values["dials"], "count") == 600
    assert to_units(100.2, "count") == 101  # counts round up only at the end
    assert to_units(1234.567, "amount") == 123457  # amounts keep cents


# ------------------------------------------------------------ personal rates, goals files, leave


def _batch_for(ds, as_of, days):
    from salesrules.goals.batches import FunnelBatch

    reps = tuple(r for r in ds.reps.values() if r.active)
    return FunnelBatch("all", reps, ds.funnel, ds.activity, as_of, period_of(as_of, "quarter"))


@pytest.mark.slow
def test_shrunk_rates_predict_the_truth_better_than_raw_rates(tmp_path):
    """On generated data with known per-rep rates, shrinkage lowers the total squared error."""
    import json

    from test_load import load

    from salesrules.goals.personal import Personal, PersonalParams
    from salesrules.testing import make_export

    errors = {"raw": 0.0, "shrunk": 0.0}
    for seed in (1, 2, 3):
        folder = tmp_path / f"s{seed}"
        rules = make_export(folder, reps=42, days=120, leads=5, seed=seed)
        truth = json.loads((folder / "truth.json").read_text())
        ds = load(rules)
        as_of = dt.date(2026, 11, 25) - dt.timedelta(days=100)  # only ~14 working days of history
        model = Personal(PersonalParams(lookback_days=20))
        rates = model.rates(_batch_for(ds, as_of, 20))
        start = as_of - dt.timedelta(days=20)
        planted = set(truth["planted"].values())
        for rep_id, true in truth["rates"].items():
            if rep_id in planted or rep_id not in rates:
                continue
            t = ds.activity.totals(rep_id, start, as_of)
            for k, stage in enumerate(("connects", "conversations", "intents")):
                up, low = t[k], t[k + 1]
                if up == 0:
                    continue
                errors["raw"] += (low / up - true[k]) ** 2
                errors["shrunk"] += (rates[rep_id][stage].value - true[k]) ** 2
    print(f"held-out squared error: raw {errors['raw']:.4f}, shrunk {errors['shrunk']:.4f}")
    assert errors["shrunk"] < errors["raw"], errors


@pytest.mark.parametrize("model", ["personal", "team-rates"])
def test_a_rep_without_history_gets_the_team_rate_and_a_team_without_the_company_rate(model):
    from salesrules.goals.batches import FunnelBatch
    from salesrules.goals.personal import Personal
    from salesrules.goals.team_rates import TeamRates
    from salesrules.model import ActivityTable, Rep

    make = Personal if model == "personal" else TeamRates
    funnel = Funnel((Stage("dials"), Stage("connects", default_rate=0.35)))
    hist = ActivityTable(funnel.names)
    hist.add_columns(["R1", "R2", "S1"], [dt.date(2026, 11, 20)] * 3,
                     [[100.0, 40.0], [100.0, 30.0], [300.0, 30.0]])
    team = (Rep("R1", "a", "T", "P1"), Rep("R2", "b", "T", "P1"), Rep("R3", "new", "T", "P1"))
    new_team = (Rep("U1", "c", "U", "P1"), Rep("U2", "d", "U", "P1"))
    everyone = (*team, Rep("S1", "e", "S", "P1"), *new_team)
    as_of = dt.date(2026, 11, 25)
    q = period_of(as_of, "quarter")
    out = make().rates(FunnelBatch("T", team, funnel, hist, as_of, q, everyone))
    if model == "personal":
        # the team's 70/200, pulled a little toward the company's
        assert 0.3 < out["R3"]["connects"].value <= 0.35
        assert "no dials of their own" in out["R3"]["connects"].trace
    # a team without history: the company's 100/500, not the built-in default 0.35
    company = make().rates(FunnelBatch("U", new_team, funnel, hist, as_of, q, everyone))
    assert company["U1"]["connects"].value == pytest.approx(0.2)
    assert "company" in company["U1"]["connects"].trace
    assert "team U has no history" in company["U1"]["connects"].trace
    # no history anywhere: the stage's default rate
    empty = make().rates(FunnelBatch("U", new_team, funnel, ActivityTable(funnel.names), as_of,
                                     q, new_team))
    assert empty["U1"]["connects"].value == 0.35
    assert "default rate (no history in any team)" in empty["U1"]["connects"].trace


def test_beta_binomial_prior_strength_follows_the_spread():
    from salesrules.goals.personal.shrinkage import beta_binomial_prior, shrink

    same = beta_binomial_prior([30, 31, 29, 30], [100, 100, 100, 100])
    assert same.strength == float("inf")  # no spread beyond noise: full pooling
    spread = beta_binomial_prior([10, 50, 20, 60], [100, 100, 100, 100])
    assert 0 < spread.strength < 100
    mean, m = spread.mean, spread.strength
    # more history, less shrinkage
    little = shrink(6, 10, mean, m)
    lots = shrink(600, 1000, mean, m)
    assert abs(lots - 0.6) < abs(little - 0.6)


def test_goals_file_overrides_reps_and_cascades_team_targets(export):
    (export / "goals.csv").write_text(
        "rep_id,team,stage,target\nR0001,,revenue,\"150,000\"\n,West,revenue,200000.01\n",
        encoding="utf-8")
    rows = run_goals(export, lambda d: (
        d["data"].update(goals={"file": "goals.csv"}),
        d["goals"].update(cascade="even")))
    assert quarter(rows, "R0001") == 150000
    reps = read_csv(export / "reps.csv")
    west = [r["rep_id"] for r in reps if r["team"] == "West" and r["active"] == "yes"]
    shares = [quarter(rows, r) for r in west]
    assert round(sum(shares) * 100) == 20000001  # shared exactly, to the cent
    hired = json.loads((export / "truth.json").read_text())["hired"]  # the sample's newcomers
    full = [quarter(rows, r) for r in west if r not in hired]
    assert max(full) - min(full) <= 0.011
    for rep in set(west) & set(hired):  # a rep hired in the quarter: the share of it they work
        days = [dt.date(2026, 10, 1) + dt.timedelta(days=k) for k in range(92)]
        work = [d for d in days if d.weekday() < 5]
        after = [d for d in work if d >= dt.date.fromisoformat(hired[rep])]
        assert quarter(rows, rep) == pytest.approx(full[0] * len(after) / len(work), abs=0.02)
    trace = next(r["trace"] for r in rows if r["rep_id"] == west[0] and r["grain"] == "quarter"
                 and r["stage"] == "revenue")
    assert trace.startswith("team West target 200,000.01 shared by even")


def test_bad_goals_file_rows_are_located(export):
    from conftest import edit_rules, invoke

    (export / "goals.csv").write_text("rep_id,team,stage,target\nR0001,East,revenue,5\n"
                                      ",East,sales,5\n,East,revenue,lots\n", encoding="utf-8")
    edit_rules(export / "rules.toml", lambda d: d["data"].update(goals={"file": "goals.csv"}))
    res = invoke("run", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 2
    assert "goals.csv:2: column 'rep_id': give either a rep_id or a team" in res.output
    assert "goals.csv:3: column 'stage': unknown funnel stage 'sales'" in res.output
    assert "goals.csv:4: column 'target': expected a number, got 'lots'" in res.output


def test_tier_column_multiplies_the_level_target(export):
    text = (export / "reps.csv").read_text(encoding="utf-8-sig").splitlines()
    text[0] += ",tier"
    text[1] += ",高绩效"
    text[2:] = [line + "," for line in text[2:]]
    (export / "reps.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    rows = run_goals(export)
    level = text[1].split(",")[3]
    assert quarter(rows, "R0001") == {"P1": 60000, "P2": 90000, "P3": 120000}[level] * 1.3


def test_confidence_range_in_the_first_stage_trace(export):
    rows = run_goals(export, lambda d: d["goals"].update(confidence=0.8))
    trace = next(r["trace"] for r in rows if r["stage"] == "dials" and r["grain"] == "quarter")
    assert "at 80% confidence of reaching" in trace
    need = int(trace.rsplit(": ", 1)[1].split()[0].replace(",", ""))
    dials = float(next(r["target"] for r in rows if r["stage"] == "dials"
                       and r["grain"] == "quarter"))
    assert need > dials


def test_goal_raise_proposes_the_next_rung_to_the_star(export):
    import json

    from conftest import edit_rules, invoke

    edit_rules(export / "rules.toml", lambda d: d["checks"].update({"goal-raise": {}}))
    res = invoke("run", "--rules", str(export / "rules.toml"), "-q")
    assert res.exit_code == 0
    truth = json.loads((export / "truth.json").read_text())
    found = [f for f in read_csv(export / "out" / "findings.csv") if f["check"] == "goal-raise"]
    star = [f for f in found if f["subject"] == truth["planted"]["star"]]
    assert star, [f["subject"] for f in found]
    ev = json.loads(star[0]["evidence"])
    assert ev["next_tier"] in ("高绩效", "标杆") and ev["probability"] >= 0.7
    assert ev["next_target"] > ev["target"]
    behind = truth["planted"]["behind"]
    assert behind not in {f["subject"] for f in found}


# ---------------------------------------------------------------- tiers and team targets


def test_an_unknown_tier_is_an_error_listing_the_tiers(export):
    from conftest import invoke

    set_rep_column(export, "R0003", "tier", "标竿")
    res = invoke("run", "--rules", str(export / "rules.toml"), "-q")
    assert res.exit_code == 2
    assert ("reps.csv: rep 'R0003': column 'tier': unknown tier '标竿'; "
            "the tiers are 中间力量, 高绩效, 标杆 (goals.tiers)") in res.output
    assert "Traceback" not in res.output


@pytest.mark.slow
def test_a_team_target_stays_whole_with_tiers_own_rows_and_leave(export):
    """West's target is shared by level × tier; a member's own row comes off it first.
    East's is shared over members' working days, so the one on leave takes less."""
    import json

    on_leave = json.loads((export / "truth.json").read_text())["planted"]["on_leave"]
    reps = {r["rep_id"]: r for r in read_csv(export / "reps.csv") if r["active"] == "yes"}
    west = [r for r in reps if reps[r]["team"] == "West"]
    east = [r for r in reps if reps[r]["team"] == "East"]
    star, own = west[0], west[1]
    set_rep_column(export, star, "tier", "标杆")
    (export / "goals.csv").write_text(
        f"rep_id,team,stage,target\n{own},,revenue,50000\n,West,revenue,600000\n"
        ",East,revenue,700000\n", encoding="utf-8")
    rows = run_goals(export, lambda d: d["data"].update(goals={"file": "goals.csv"}))
    cents = {r: round(quarter(rows, r) * 100) for r in reps}
    assert sum(cents[r] for r in west) == 600000_00
    assert cents[own] == 50000_00
    level = {"P1": 60000, "P2": 90000, "P3": 120000}
    others = [r for r in west if r not in (star, own)]
    unit = cents[others[0]] / level[reps[others[0]]["level"]]
    assert cents[star] / level[reps[star]["level"]] == pytest.approx(1.6 * unit, rel=1e-6)
    assert sum(cents[r] for r in east) == 700000_00
    if on_leave in east:
        peers = [r for r in east if r != on_leave and reps[r]["level"] == reps[on_leave]["level"]]
        assert peers and all(cents[on_leave] < cents[p] for p in peers)


# ---------------------------------------------------------------- feasible targets


def test_an_activity_target_beyond_the_feasible_is_capped_and_the_rest_is_a_conversion_target():
    from salesrules.goals.feasible import Limit

    rates = {"connects": Rate(0.4), "conversations": Rate(0.5), "intents": Rate(0.25),
             "pipeline": Rate(3000.0), "revenue": Rate(1 / 3)}
    limits = {"dials": Limit(8.0, 60, 0.9, "team East")}  # 480 dials feasible, 600 needed
    pushed = push_back(FUNNEL, {"revenue": 30000.0}, rates, limits)
    assert pushed.values["dials"] == 480
    assert pushed.values["connects"] == pytest.approx(240)  # what is needed stays
    cap = pushed.caps["dials"]
    assert cap.uncapped == pytest.approx(600) and cap.value == 480
    assert cap.next_stage == "connects" and cap.rate == 0.4
    assert cap.needed_rate == pytest.approx(0.5)  # 240 connects from 480 dials
    assert ("capped at the feasible 480 (8.0 a day, the team East's 90% quantile"
            in pushed.traces["dials"])
    assert "conversion target, dials→connects 0.5 (now 0.4)" in pushed.traces["dials"]
    tiny = push_back(FUNNEL, {"revenue": 30000.0}, rates, {"dials": Limit(1.0, 60, 0.9, "company")})
    assert tiny.caps["dials"].needed_rate == 4
    assert "more than 1 (out of reach by conversion alone)" in tiny.traces["dials"]
    assert push_back(FUNNEL, {"revenue": 30000.0}, rates, {"dials": Limit(20.0, 60, 0.9, "x")}
                     ).caps == {}


def test_a_run_caps_activity_targets_at_the_team_quantile(export):
    from salesrules.config import load_config
    from salesrules.goals import set_goals
    from salesrules.load import data_dir, load_dataset
    from salesrules.run import plan_run

    cfg = load_config(export / "rules.toml")
    plan = plan_run(cfg)
    ds = load_dataset(cfg, plan.sources, data_dir(cfg, None))
    goals = set_goals(cfg, ds, plan.split, plan.funnel, dt.date(2026, 11, 25))
    capped = [p for p in goals.plans.values() if p.cap is not None]
    assert capped, "the generated export has reps with low conversion"
    for p in capped:
        assert p.total == p.cap.value <= p.cap.limit.per_day * p.cap.limit.days
        assert p.cap.uncapped > p.cap.value
        below = goals.plans[p.rep_id, p.cap.next_stage]
        assert p.cap.needed_rate == pytest.approx(below.total / p.total, rel=0.01)
        assert "conversion target" in p.trace
    cfg.goals.feasible_quantile = None
    uncapped = set_goals(cfg, ds, plan.split, plan.funnel, dt.date(2026, 11, 25))
    assert all(p.cap is None for p in uncapped.plans.values())


def test_a_middle_stage_override_the_result_target_contradicts_is_a_warning(export):
    import json

    (export / "goals.csv").write_text("rep_id,team,stage,target\nR0002,,intents,1\n",
                                      encoding="utf-8")
    rows = run_goals(export, lambda d: d["data"].update(goals={"file": "goals.csv"}))
    assert quarter(rows, "R0002", "intents") == 1  # kept as given
    run = json.loads((export / "out" / "run.json").read_text())
    said = [w for w in run["warnings"] if "goals.csv:2" in w]
    assert len(said) == 1, run["warnings"]
    assert "rep R0002's intents target 1.0 is below the" in said[0]
    assert "that their revenue target 90,000.00 needs at their rates" in said[0]


@given(st.floats(1, 1e7), st.lists(st.floats(0.01, 1), min_size=3, max_size=3),
       st.lists(st.one_of(st.none(), st.floats(0, 500)), min_size=3, max_size=3),
       st.integers(0, 66))
def test_capped_targets_never_exceed_their_cap_and_the_needed_rate_closes_the_gap(
        revenue, rates3, per_day, days):
    from salesrules.goals.feasible import Limit

    rates = {"connects": Rate(rates3[0]), "conversations": Rate(rates3[1]),
             "intents": Rate(rates3[2]), "pipeline": Rate(3000.0), "revenue": Rate(0.3)}
    limits = {s: Limit(v, days, 0.9, "team") for s, v in
              zip(("dials", "connects", "conversations"), per_day) if v is not None}
    pushed = push_back(FUNNEL, {"revenue": revenue}, rates, limits)
    for stage, limit in limits.items():
        if limit.value > 0:
            assert pushed.values[stage] <= limit.value
    for stage, cap in pushed.caps.items():
        assert pushed.values[stage] == cap.value > 0
        assert cap.value * cap.needed_rate == pytest.approx(pushed.values[cap.next_stage])
        assert to_units(pushed.values[stage], "count") <= limits[stage].per_day * days + 1e-6
