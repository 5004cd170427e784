"""Deal exports (Salesforce, HubSpot, generic): history, leads and reps from one file, and its
data quality."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter

import pytest
import tomli_w
from conftest import edit_rules, invoke, read_csv, set_cell
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from salesrules.sample import SampleSpec, deal_rules_for, generate_deals
from salesrules.testing import load_export


def make_deals(folder, preset, **spec):
    s = SampleSpec(**{"reps": 14, "days": 150, "leads": 25, "seed": 4, **spec})
    generate_deals(folder, s, preset)
    (folder / "rules.toml").write_text(tomli_w.dumps(deal_rules_for(preset)), encoding="utf-8")
    return folder / "rules.toml"


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["salesforce", "hubspot", "generic"])
def test_the_whole_loop_on_each_preset(preset, tmp_path):
    rules = make_deals(tmp_path, preset)
    header = (tmp_path / "deals.csv").read_text(encoding="utf-8").splitlines()[0]
    assert {"salesforce": "Opportunity Owner", "hubspot": "Deal owner",
            "generic": "owner"}[preset] in header
    res = invoke("run", "--rules", str(rules))
    assert res.exit_code == 0, res.output
    out = tmp_path / "out"
    # the open deals nobody owns are the leads, and all of them are allocated
    assigned = read_csv(out / "assignments.csv")
    assert len(assigned) + len(read_csv(out / "unassigned.csv")) == 25
    assert len(assigned) == 25
    # targets come from win-rate history: revenue back to new customers through the win rate
    targets = read_csv(out / "targets.csv")
    trace = next(t["trace"] for t in targets if t["stage"] == "intents" and t["grain"] == "quarter")
    assert "intents→wins" in trace and "shrunk toward team" in trace, trace
    rate = float(trace.split("intents→wins ")[1].split()[0])
    assert 0.2 < rate < 0.6
    findings = read_csv(out / "findings.csv")
    assert all(f["severity"] in ("info", "warn", "critical") for f in findings)
    m = json.loads((out / "run.json").read_text())
    assert next(i for i in m["inputs"] if i["name"] == "deals")["source"] == "deals"


deal = st.fixed_dictionaries({
    "owner": st.sampled_from(["R1", "R2", "R3"]),
    "stage": st.sampled_from(["New", "Engaging", "Proposal", "Won", "Lost"]),
    "amount": st.integers(0, 100_000),
    "created": st.dates(dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
    "lag": st.integers(0, 40),
})


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(st.lists(deal, max_size=60))
def test_aggregation_matches_a_plain_count(tmp_path_factory, deals):
    folder = tmp_path_factory.mktemp("deals")
    with (folder / "deals.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "owner", "stage", "amount", "created_at", "close_date"])
        for i, d in enumerate(deals):
            closed = d["stage"] in ("Won", "Lost")
            close = (d["created"] + dt.timedelta(days=d["lag"])).isoformat() if closed else ""
            w.writerow([f"D{i}", d["owner"], d["stage"], d["amount"], d["created"].isoformat(),
                        close])
    (folder / "reps.csv").write_text("rep_id,team,level\nR1,A,P1\nR2,A,P1\nR3,B,P1\n")
    rules = deal_rules_for("generic")
    rules["data"]["deals"]["params"]["leads_when"] = ""
    (folder / "rules.toml").write_text(tomli_w.dumps(rules), encoding="utf-8")
    ds = load_export(folder)
    # the plain count: every deal is an intent on its created date; a won deal is a win
    # and its amount revenue on its close date
    want: dict[tuple[str, dt.date], list[float]] = {}
    for d in deals:
        row = want.setdefault((d["owner"], d["created"]), [0.0, 0.0, 0.0])
        row[0] += 1
        if d["stage"] == "Won":
            won = want.setdefault((d["owner"], d["created"] + dt.timedelta(days=d["lag"])),
                                  [0.0, 0.0, 0.0])
            won[1] += 1
            won[2] += d["amount"]
    got = {(rep, day): row for rep in ds.activity.rep_ids
           for day, row in ds.activity.days(rep).items()}
    want = {k: v for k, v in want.items() if any(v)}
    assert got == want


def test_each_stage_takes_its_date_from_its_own_column(tmp_path):
    """``dates`` dates a stage by any date column (intents by an engage date, empty for an
    open deal never engaged: no error, one info line); a stage value's ``date`` dates the
    stage it reaches for those deals only (revenue of won deals by a ship date)."""
    (tmp_path / "deals.csv").write_text(
        "id,owner,stage,amount,created_at,engage_date,close_date,ship_date\n"
        "D1,R1,New,0,2026-09-01,,,\n"
        "D2,R1,Proposal,0,2026-09-01,9/3/2026,,\n"
        "D3,R1,Won,100,2026-09-01,9/2/2026,2026-09-10,2026-09-15\n"
        "D4,R2,Lost,0,2026-09-05,9/6/2026,2026-09-20,\n"
        "D5,R2,Won,50,2026-09-05,9/7/2026,2026-09-21,2026-09-21\n", encoding="utf-8")
    (tmp_path / "reps.csv").write_text("rep_id,team\nR1,A\nR2,A\n", encoding="utf-8")
    rules = deal_rules_for("generic")
    rules["data"]["deals"]["params"].update(
        leads_when="", dates={"intents": "engage_date"},
        stages={"Won": {"reaches": "revenue", "closed": True, "date": "ship_date"}})
    (tmp_path / "rules.toml").write_text(tomli_w.dumps(rules), encoding="utf-8")
    ds = load_export(tmp_path)
    day = dt.date.fromisoformat
    got = {(rep, d.isoformat()): row for rep in ds.activity.rep_ids
           for d, row in ds.activity.days(rep).items()}
    assert got == {("R1", "2026-09-02"): [1.0, 0.0, 0.0], ("R1", "2026-09-03"): [1.0, 0.0, 0.0],
                   ("R1", "2026-09-10"): [0.0, 1.0, 0.0], ("R1", "2026-09-15"): [0.0, 0.0, 100.0],
                   ("R2", "2026-09-06"): [1.0, 0.0, 0.0], ("R2", "2026-09-07"): [1.0, 0.0, 0.0],
                   ("R2", "2026-09-21"): [0.0, 1.0, 50.0]}
    assert any("1 deal(s) have no 'engage_date' date, so they do not count in 'intents'" in w
               for w in ds.warnings), ds.warnings
    closed = ds.closed_counts(["R1", "R2"], day("2026-09-01"), day("2026-09-30"))
    assert (closed.won, closed.closed) == ((1, 1), (1, 2))
    assert ds.closed_stage == "wins"
    res = invoke("validate", "--rules", str(tmp_path / "rules.toml"))
    assert res.exit_code == 0, res.output


def _edit_first(path, stage, close):
    """Set the close date of the first deal at ``stage``; return its line."""
    rows = path.read_text(encoding="utf-8").splitlines()
    line = next(i for i, r in enumerate(rows, start=1) if f",{stage}," in r)
    set_cell(path, line, 5, close)
    return line


def test_closed_deal_without_close_date_is_an_error_with_its_line(tmp_path):
    rules = make_deals(tmp_path, "generic")
    line = _edit_first(tmp_path / "deals.csv", "Won", "")
    res = invoke("run", "--rules", str(rules))
    assert res.exit_code == 2
    assert (f"deals.csv:{line}: column 'close_date': the deal is closed ('Won') but has no "
            "close date") in res.output


def test_open_deal_with_a_close_date_is_a_warning(tmp_path):
    rules = make_deals(tmp_path, "generic")
    line = _edit_first(tmp_path / "deals.csv", "Proposal", "2026-11-01")
    res = invoke("run", "--rules", str(rules))
    assert res.exit_code == 0, res.output
    assert (f"deals.csv:{line}: deal" in res.output
            and "is open ('Proposal') but has a close date (2026-11-01)" in res.output)


def test_names_that_almost_match_are_reported_not_dropped(tmp_path):
    rules = make_deals(tmp_path, "salesforce")
    text = (tmp_path / "deals.csv").read_text(encoding="utf-8")
    owner = text.splitlines()[1].split(",")[1]
    typo = owner.replace(" ", "  ")
    lines = text.splitlines()
    lines[1] = lines[1].replace(owner, typo, 1)
    lines[0] += ",Product"
    lines[1:] = [line + (",GTXPro" if i % 3 == 0 else ",GTX Pro")
                 for i, line in enumerate(lines[1:])]
    (tmp_path / "deals.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    edit_rules(rules, lambda d: d["data"]["deals"]["params"].update(
        known={"product": ["GTX Pro", "GTX Mini"]}, ))
    edit_rules(rules, lambda d: d["data"]["deals"].update(columns={"product": "Product"}))
    res = invoke("run", "--rules", str(rules))
    assert res.exit_code == 0, res.output
    n_typo = sum(1 for i in range(len(lines) - 1) if i % 3 == 0)
    assert f"product 'GTXPro' ({n_typo} deal(s)) is not a known product; closest known: " \
           "'GTX Pro'" in res.output
    assert f"deal owner {typo!r} (1 deal(s)) is not in the reps file; closest known: " \
           f"{owner!r}" in res.output


def test_reps_derived_from_owners_with_a_warning(tmp_path):
    rules = make_deals(tmp_path, "hubspot")
    (tmp_path / "reps.csv").unlink()
    edit_rules(rules, lambda d: d["data"].pop("reps"))
    res = invoke("run", "--rules", str(rules))
    assert res.exit_code == 0, res.output
    assert "no reps file, so 14 rep(s) were made from the deal owners" in res.output


def test_one_column_of_a_preset_can_be_overridden(tmp_path):
    rules = make_deals(tmp_path, "salesforce")
    text = (tmp_path / "deals.csv").read_text(encoding="utf-8")
    (tmp_path / "deals.csv").write_text(text.replace("Amount", "Amount (converted)", 1),
                                        encoding="utf-8")
    res = invoke("run", "--rules", str(rules))
    assert res.exit_code == 2 and "missing column 'Amount'" in res.output
    edit_rules(rules, lambda d: d["data"]["deals"].update(columns={"amount": "Amount (converted)"}))
    assert invoke("run", "--rules", str(rules)).exit_code == 0


def test_currency_amounts_are_parsed(tmp_path):
    make_deals(tmp_path, "salesforce")
    ds = load_export(tmp_path)
    assert sum(lead.value for lead in ds.leads) > 0  # "$2,811.43"
    assert Counter(lead.fields["stage"] for lead in ds.leads) == {"Prospecting": 25}


def _standings(folder, deals_rows, as_of):
    """ranking-priority's standings of a deals export's reps, conversion and revenue weighed
    alike."""
    from salesrules_ranking import RankingPriority

    from salesrules.api import AllocationContext
    from salesrules.goals import GoalPlan
    from salesrules.goals.calendar import WorkCalendar, period_of

    with (folder / "deals.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "owner", "stage", "amount", "created_at", "close_date"])
        w.writerows(deals_rows)
    (folder / "reps.csv").write_text("rep_id,team\nA,East\nB,East\n")
    rules = deal_rules_for("generic")
    rules["data"]["deals"]["params"]["leads_when"] = ""
    (folder / "rules.toml").write_text(tomli_w.dumps(rules), encoding="utf-8")
    ds = load_export(folder)
    goals = GoalPlan(period_of(as_of, "quarter"), WorkCalendar(), {}, [], {}, {})
    policy = RankingPriority(RankingPriority.Params(metrics={"revenue": 0.5, "conversion": 0.5}))
    return policy.standings(AllocationContext(ds, goals, (), as_of, 0), "East")


@settings(max_examples=25, deadline=None)
@given(a=st.tuples(st.integers(1, 6), st.integers(0, 6), st.integers(0, 30)),
       b=st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 30)),
       amount=st.integers(1, 9000))
@pytest.mark.slow
def test_open_deals_never_rank_a_better_closer_lower(tmp_path_factory, a, b, amount):
    """A rep with more revenue and a better won ÷ (won + lost) ranks first, however many open
    deals."""
    (a_won, a_lost, _), (b_won, b_lost, _) = a, b
    # A has at least B's revenue and at least B's closed win rate
    assume(a_won >= b_won and a_won * (b_won + b_lost) >= b_won * (a_won + a_lost))
    as_of = dt.date(2026, 11, 25)
    rows, n = [], 0
    for owner, (won, lost, open_) in (("A", a), ("B", b)):
        for stage, k in (("Won", won), ("Lost", lost), ("Proposal", open_)):
            for _ in range(k):
                n += 1
                closed = "2026-11-20" if stage != "Proposal" else ""
                rows.append([f"D{n}", owner, stage, amount, "2026-11-10", closed])
    got = _standings(tmp_path_factory.mktemp("rank"), rows, as_of)
    assert got["A"].rank == 1, (got["A"], got["B"])
    assert f"conversion {a_won}/{a_won + a_lost} closed won" in got["A"].figures


def test_ranking_reasons_show_the_closed_deals_they_counted(tmp_path):
    """In a whole run on a deals export, each ranking-priority reason gives the rep's won and
    closed deals over its 30-day look-back, as a plain count of the export has them."""
    rules = make_deals(tmp_path, "generic")
    edit_rules(rules, lambda r: r["allocation"].update(
        rules=[{"name": "open deals", "policy": "ranking-priority"}]))
    res = invoke("run", "--rules", str(rules), "--as-of", "2026-11-25")
    assert res.exit_code == 0, res.output
    won, closed = Counter(), Counter()
    for d in read_csv(tmp_path / "deals.csv"):
        if "2026-10-27" <= d["close_date"] <= "2026-11-25":
            closed[d["owner"]] += 1
            won[d["owner"]] += d["stage"] == "Won"
    assigned = read_csv(tmp_path / "out" / "assignments.csv")
    assert assigned and {a["policy"] for a in assigned} == {"ranking-priority"}
    for a in assigned:
        rep = a["rep_id"]
        assert f"conversion {won[rep]}/{closed[rep]} closed won" in a["reason"], a["reason"]


@pytest.mark.slow
def test_an_opportunity_export_runs_as_exported(tmp_path):
    """The CRM's own files (open deals undated, M/D/YYYY, GTXPro, idle agents, no levels,
    a product file) pass validate and run untouched, and nothing is written beside them."""
    from salesrules.sample.crm_export import crm_export_rules, generate_crm_export

    generate_crm_export(tmp_path, deals=3000)
    (tmp_path / "rules.toml").write_text(tomli_w.dumps(crm_export_rules()), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert ",Prospecting,," in (tmp_path / "sales_pipeline.csv").read_text(encoding="utf-8")
    res = invoke("validate", "--rules", str(tmp_path / "rules.toml"))
    assert res.exit_code == 0, res.output
    res = invoke("run", "--rules", str(tmp_path / "rules.toml"), "--as-of", "2026-11-15")
    assert res.exit_code == 0, res.output
    # the typo is found against the product file, the idle agents are named
    assert "product 'GTXPro'" in res.output and "closest known: 'GTX Pro'" in res.output
    assert "5 rep(s) have no activity or deals in the 90 days" in res.output
    assert "'engage_date' date, so they do not count in 'intents'" in res.output
    # a preset stage the funnel has not is dropped with an info line; preset stage values
    # the export never uses ('New', 'Proposal') are no error either
    assert ("info: the funnel has no stage 'pipeline' of preset 'generic', so deals at "
            "'Proposal', 'Lost' count down to 'intents'") in res.output
    pipeline = (tmp_path / "sales_pipeline.csv").read_text(encoding="utf-8")
    assert ",Proposal," not in pipeline and ",New," not in pipeline
    # the inputs are untouched; besides them only the outputs and the run history
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name in before} == before
    assert {p.name for p in tmp_path.iterdir()} - set(before) <= {
        "out", "salesrules-history.sqlite"}
    targets = read_csv(tmp_path / "out" / "targets.csv")
    assert {t["stage"] for t in targets} == {"intents", "wins", "revenue"}
    # the team file has no level column: every agent is at the default level, P1, whose
    # quarter revenue target (150,000 in crm_export_rules) each of them gets
    revenue = [t for t in targets if t["stage"] == "revenue" and t["grain"] == "quarter"]
    assert len(revenue) == 35 and {float(t["target"]) for t in revenue} == {150000.0}


def test_idle_reps_can_be_kept_from_leads(tmp_path):
    rules = make_deals(tmp_path, "generic")
    with (tmp_path / "reps.csv").open("a", encoding="utf-8", newline="") as f:
        csv.writer(f).writerow(["IDLE1", "Idle One", "East", "", "yes", "5"])
    edit_rules(rules, lambda r: r["data"]["reps"].update(params={"idle_inactive": True}))
    res = invoke("run", "--rules", str(rules))
    assert res.exit_code == 0, res.output
    assert "IDLE1" in res.output and "marked inactive and given no leads" in res.output
    assigned = read_csv(tmp_path / "out" / "assignments.csv")
    assert assigned and all(a["rep_id"] != "IDLE1" for a in assigned)


def test_data_gaps_takes_a_deals_export_for_events_not_a_daily_log(tmp_path):
    """A working day on which a rep only closed a deal, or touched none, is normal in a deals
    export: data-gaps names no missing day (on a daily log it does: tests/test_checks.py)."""
    rules = make_deals(tmp_path, "generic")
    edit_rules(rules, lambda r: r.update(checks={"data-gaps": {}}))
    res = invoke("run", "--rules", str(rules))
    assert res.exit_code == 0, res.output
    period = json.loads((tmp_path / "out" / "run.json").read_text())["period"]
    start, as_of = dt.date.fromisoformat(period["start"]), dt.date(2026, 11, 25)
    engaged, closed = set(), set()
    for d in read_csv(tmp_path / "deals.csv"):
        engaged.add((d["owner"], d["created_at"][:10]))
        if d["close_date"]:
            closed.add((d["owner"], d["close_date"]))
    workdays = {(start + dt.timedelta(days=i)).isoformat()
                for i in range((as_of - start).days + 1)
                if (start + dt.timedelta(days=i)).weekday() < 5}
    owners = {o for o, _ in engaged}
    # the export has both kinds of day, so the check had something to flag
    assert {k for k in closed - engaged if k[1] in workdays}
    assert {(o, d) for o in owners for d in workdays} - engaged - closed
    assert not [f for f in read_csv(tmp_path / "out" / "findings.csv")
                if f["check"] == "data-gaps"]


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["salesforce", "hubspot", "generic"])
def test_every_built_in_check_validates_on_a_deals_funnel_with_its_defaults(preset, tmp_path):
    rules = make_deals(tmp_path, preset)
    checks = ["behind-pace", "effort-without-results", "team-execution", "data-gaps",
              "goal-raise", "zero-streak", "vanity-activity"]
    edit_rules(rules, lambda r: r.update(checks={c: {} for c in checks}))
    res = invoke("validate", "--rules", str(rules))
    assert res.exit_code == 0, res.output
    res = invoke("run", "--rules", str(rules))
    assert res.exit_code == 0, res.output


def test_a_known_field_finds_its_column_ignoring_case(tmp_path):
    """``known = { product = [...] }`` finds a column headed ``Product`` without a mapping,
    as every header is matched (found trying a hand-written Salesforce export)."""
    rules = make_deals(tmp_path, "salesforce")
    lines = (tmp_path / "deals.csv").read_text(encoding="utf-8").splitlines()
    lines[0] += ",Product"
    lines[1:] = [line + (",GTXPro" if i == 0 else ",GTX Pro") for i, line in enumerate(lines[1:])]
    (tmp_path / "deals.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    edit_rules(rules, lambda d: d["data"]["deals"]["params"].update(
        known={"product": ["GTX Pro", "GTX Mini"]}))
    res = invoke("run", "--rules", str(rules))
    assert res.exit_code == 0, res.output
    assert "product 'GTXPro' (1 deal(s)) is not a known product; closest known: 'GTX Pro'" \
        in res.output


def test_a_rep_hired_within_the_idle_window_is_not_idle(tmp_path):
    """Found trying a hand-written team file: an agent who joined three weeks ago has no
    deals yet, and is new, not idle."""
    rules = make_deals(tmp_path, "generic")
    lines = (tmp_path / "reps.csv").read_text(encoding="utf-8").splitlines()
    lines[0] += ",hired"
    lines[1:] = [line + "," for line in lines[1:]]
    lines += ["NEW1,New One,East,,yes,5,2026-11-02", "OLD1,Old One,East,,yes,5,2024-01-01"]
    (tmp_path / "reps.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = invoke("run", "--rules", str(rules))
    assert res.exit_code == 0, res.output
    idle = next(line for line in res.output.splitlines() if "no activity or deals" in line)
    assert "OLD1" in idle and "NEW1" not in idle


