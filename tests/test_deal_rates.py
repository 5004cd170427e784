"""Win rates of a deals export count closed deals only: won ÷ (won + lost). Open deals are
pipeline, never losses, in the goals' funnel rates and in the checks' rate estimate (issue 15)."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
import tomli_w
from conftest import invoke, read_csv
from hypothesis import given, settings
from hypothesis import strategies as st

from salesrules.api import CheckContext, FunnelBatch
from salesrules.goals import GoalPlan
from salesrules.goals.calendar import WorkCalendar, period_of
from salesrules.load.deals import closed_deals
from salesrules.sample import deal_rules_for
from salesrules.testing import load_export

AS_OF = dt.date(2026, 11, 25)  # Q4: the rates come from the 180 days before October


def write_export(folder, won: int, lost: int, a_open: int, funnel: str = "personal"):
    """Reps A and B with the same closed deals (``won``, ``lost``, closed in July); A also has
    ``a_open`` deals still open. Returns the rules file."""
    rows, n = [], 0
    for owner, open_ in (("A", a_open), ("B", 0)):
        for stage, k, closed in (("Won", won, "2026-07-20"), ("Lost", lost, "2026-07-21"),
                                 ("Proposal", open_, "")):
            for _ in range(k):
                n += 1
                rows.append([f"D{n}", owner, stage, "1000" if stage != "Lost" else "0",
                             "2026-06-10" if closed else "2026-08-01", closed])
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "deals.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "owner", "stage", "amount", "created_at", "close_date"])
        w.writerows(rows)
    (folder / "reps.csv").write_text("rep_id,team,level\nA,East,P1\nB,East,P1\n")
    rules = deal_rules_for("generic")
    rules["data"]["deals"]["params"]["leads_when"] = ""
    rules["goals"]["funnel"] = funnel
    (folder / "rules.toml").write_text(tomli_w.dumps(rules), encoding="utf-8")
    return folder / "rules.toml"


@pytest.mark.parametrize("funnel", ["personal", "team-rates"])
def test_open_deals_do_not_lower_the_goals_win_rate(tmp_path, funnel):
    """A has 30 open deals besides B's record (12 won, 8 lost): both convert at 12 ÷ 20, so the
    same revenue target asks them for the same new deals."""
    rules = write_export(tmp_path, won=12, lost=8, a_open=30, funnel=funnel)
    res = invoke("run", "--rules", str(rules), "--as-of", AS_OF.isoformat())
    assert res.exit_code == 0, res.output
    quarter = {(t["rep_id"], t["stage"]): t for t in read_csv(tmp_path / "out" / "targets.csv")
               if t["grain"] == "quarter"}
    assert quarter["A", "wins"]["target"] == quarter["B", "wins"]["target"]
    assert quarter["A", "intents"]["target"] == quarter["B", "intents"]["target"]
    trace = quarter["A", "intents"]["trace"]
    if funnel == "personal":
        assert "intents→wins 0.6 (rep 0.6 from 20 closed deals" in trace, trace
    else:
        assert "intents→wins 0.6 (team East rate 24 won/40 closed deals" in trace, trace


@pytest.mark.slow
@settings(max_examples=15, deadline=None)
@given(won=st.integers(0, 15), lost=st.integers(0, 15), a_open=st.integers(1, 40))
def test_a_rep_with_open_deals_gets_the_win_rate_of_their_closed_deals(
        tmp_path_factory, won, lost, a_open):
    """However many open deals A has, A's win rate is B's (same closed deals) in the goals'
    personal rates and in the checks' estimate, and the team's is won ÷ (won + lost)."""
    from salesrules.goals.personal import Personal

    folder = tmp_path_factory.mktemp("rates")
    write_export(folder, won, lost, a_open)
    ds = load_export(folder)
    period = period_of(AS_OF, "quarter")
    reps = tuple(ds.reps.values())
    batch = FunnelBatch("East", reps, ds.funnel, ds.activity, AS_OF, period, reps,
                        closed=closed_deals(ds))
    rates = Personal().rates(batch)
    if won:
        assert rates["A"]["wins"].value == rates["B"]["wins"].value
        assert rates["A"]["wins"].value == pytest.approx(won / (won + lost))
    goals = GoalPlan(period, WorkCalendar(), {}, [], {}, {})
    est = CheckContext(ds, goals, (), AS_OF).rate_estimate()
    if won:  # without a win there is no rate to estimate
        assert est.teams["East"]["wins"].mean == pytest.approx(won / (won + lost))
        assert est.reps["A"]["wins"].mean == pytest.approx(est.reps["B"]["wins"].mean)


def test_the_checks_judge_a_reps_period_on_their_closed_deals(tmp_path):
    """In the period too: A and B closed the same deals this quarter (6 won, 4 lost) and A has
    30 more open. The checks' diagnosis gives both the same conversion, the success cases'
    benchmark is the closed win rate, and both have the same tries for the win stage."""
    from salesrules.config import load_config
    from salesrules.goals import set_goals
    from salesrules.load import data_dir, load_dataset
    from salesrules.progress import track
    from salesrules.run import plan_run

    write_export(tmp_path, won=12, lost=8, a_open=0)
    with (tmp_path / "deals.csv").open("a", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        n = 1000
        for owner, open_ in (("A", 30), ("B", 0)):
            for stage, k, closed in (("Won", 6, "2026-11-10"), ("Lost", 4, "2026-11-12"),
                                     ("Proposal", open_, "")):
                for _ in range(k):
                    n += 1
                    w.writerow([f"D{n}", owner, stage, "1000" if stage != "Lost" else "0",
                                "2026-10-06", closed])
    cfg = load_config(tmp_path / "rules.toml")
    plan = plan_run(cfg)
    ds = load_dataset(cfg, plan.sources, data_dir(cfg, None))
    goals = set_goals(cfg, ds, plan.split, plan.funnel, AS_OF)
    ctx = CheckContext(ds, goals, tuple(track(goals, ds, AS_OF)), AS_OF)
    assert ctx.closed_stage == "wins"
    assert ctx.period_totals("A")[0] == 40 and ctx.period_totals("B")[0] == 10  # intents
    a, b = ctx.diagnosis("A"), ctx.diagnosis("B")
    assert a is not None and b is not None
    assert a.conversion == pytest.approx(b.conversion)
    assert [s.rep for s in a.steps] == [s.rep for s in b.steps] == [pytest.approx(0.6)]
    assert ctx.benchmark("East")["wins"] == pytest.approx(0.6)
    counts = ctx.closed_counts(["A", "B"])
    assert counts is not None and counts.closed == (10, 10) and counts.won == (6, 6)


def test_a_stage_that_lost_deals_reach_never_takes_the_win_rate(tmp_path):
    """Lost deals reach ``pipeline`` (the generic preset's Lost), so with a funnel of intents →
    pipeline → revenue no stage is reached by won deals only: intents→pipeline is the plain
    count ratio (every closed deal reached pipeline), not won ÷ (won + lost)."""
    rules = write_export(tmp_path, won=12, lost=8, a_open=0)
    text = rules.read_text(encoding="utf-8").replace('name = "wins"', 'name = "pipeline"')
    rules.write_text(text, encoding="utf-8")
    res = invoke("run", "--rules", str(rules), "--as-of", AS_OF.isoformat())
    assert res.exit_code == 0, res.output
    trace = next(t["trace"] for t in read_csv(tmp_path / "out" / "targets.csv")
                 if t["rep_id"] == "B" and t["stage"] == "intents" and t["grain"] == "quarter")
    assert "closed deals" not in trace, trace
    assert "intents→pipeline 1 (rep 1 from 20 intents" in trace, trace


@pytest.mark.parametrize(("stage", "said"), [("new", True), ("New", False)])
def test_a_leads_condition_that_matches_no_open_deal_is_said(tmp_path, stage, said):
    """Found on a hand-written HubSpot export, whose labels are in sentence case
    ('Appointment scheduled'): a condition spelt as the preset spells the stage matched no
    deal and the run allocated nothing without a word. Now it says so, with the stages."""
    rows = [["D1", "", stage, "", "2026-11-20", ""], ["D2", "", stage, "", "2026-11-21", ""],
            ["D3", "A", "Won", "900", "2026-10-01", "2026-10-20"]]
    with (tmp_path / "deals.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["id", "owner", "stage", "amount", "created_at", "close_date"],
                                 *rows])
    (tmp_path / "reps.csv").write_text("rep_id,team\nA,East\n", encoding="utf-8")
    (tmp_path / "rules.toml").write_text(tomli_w.dumps(deal_rules_for("generic")),
                                         encoding="utf-8")
    res = invoke("run", "--rules", str(tmp_path / "rules.toml"), "--as-of", "2026-11-25",
                 "--dry-run", "--out", str(tmp_path / "out"))
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert ("params.leads_when matched none of the 2 open deal(s) without an owner, at stages "
            "'new' (2)" in text) is said
    assert len(read_csv(tmp_path / "out" / "assignments.csv")) == (0 if said else 2)
