"""The checks: planted anomalies found across seeds, clean reps left alone, and each check's
behaviour."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from conftest import edit_rules, invoke, read_csv

from salesrules.checks.effort import beta_binom_cdf, binom_cdf
from salesrules.checks.vanity import robust_z
from salesrules.testing import make_export

PLANTS = {"behind": "behind-pace", "effort_no_results": "effort-without-results",
          "short_calls": "vanity-activity", "zero_streak": "zero-streak",
          "data_gap": "data-gaps"}
SEEDS = (11, 12, 13, 14)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Generated exports (40 reps, 180 days, planted anomalies) run with every check on."""
    out = []
    for seed in SEEDS:
        folder = tmp_path_factory.mktemp(f"seed{seed}")
        make_export(folder, reps=40, days=180, leads=10, seed=seed)
        res = invoke("run", "--rules", str(folder / "rules.toml"), "-q", "--dry-run")
        assert res.exit_code == 0, res.output
        out.append((json.loads((folder / "truth.json").read_text()),
                    read_csv(folder / "out" / "findings.csv"), read_csv(folder / "reps.csv")))
    return out


@pytest.mark.slow
def test_planted_anomalies_are_found_and_clean_reps_left_alone(runs):
    found, planted, false_pos = Counter(), Counter(), Counter()
    clean_reps = team_hits = team_planted = clean_team_hits = clean_teams = 0
    for truth, findings, reps in runs:
        hits = {(f["check"], f["subject"]) for f in findings}
        for kind, check in PLANTS.items():
            if kind in truth["planted"]:
                planted[check] += 1
                found[check] += (check, truth["planted"][kind]) in hits
        clean = set(truth["clean"])
        clean_reps += len(clean)
        for check, subject in hits:
            if subject in clean and check != "goal-raise":
                false_pos[check] += 1
        team_of = {r["rep_id"]: r["team"] for r in reps}
        if truth["weak_team"]:
            team_planted += 1
            team_hits += ("team-execution", truth["weak_team"]) in hits
        untouched = set(team_of.values()) - {truth["weak_team"]} - {
            team_of[r] for r in truth["planted"].values()}
        clean_teams += len(untouched)
        clean_team_hits += sum(("team-execution", t) in hits for t in untouched)
    report = {c: f"found {found[c]}/{planted[c]}, clean flagged {false_pos[c]}/{clean_reps}"
              for c in planted}
    report["team-execution"] = (f"found {team_hits}/{team_planted}, clean teams flagged "
                                f"{clean_team_hits}/{clean_teams}")
    print("\n" + "\n".join(f"{k}: {v}" for k, v in report.items()))
    for check in planted:
        assert found[check] >= 0.9 * planted[check], report
        assert false_pos[check] <= 0.05 * clean_reps, report
    assert team_hits >= 0.9 * team_planted and team_planted == len(SEEDS)
    assert clean_team_hits <= max(1, 0.05 * clean_teams), report


@pytest.mark.slow
def test_findings_say_why_with_evidence_and_an_action(runs):
    truth, findings, _ = runs[0]
    by = {(f["check"], f["subject"]): f for f in findings}
    effort = by[("effort-without-results", truth["planted"]["effort_no_results"])]
    ev = json.loads(effort["evidence"])
    assert ev["intents"] == 0 and ev["probability"] < 0.01
    assert "The weakest step is conversations→intents" in effort["message"]
    assert "professional knowledge problem" in effort["message"]
    vanity = by[("vanity-activity", truth["planted"]["short_calls"])]
    ev = json.loads(vanity["evidence"])
    assert ev["short_share"] > 0.5 and ev["short_z"] >= 3.5
    assert "shorter than 30s" in vanity["message"]
    streak = by[("zero-streak", truth["planted"]["zero_streak"])]
    assert json.loads(streak["evidence"])["days"] >= 8
    gap = by[("data-gaps", truth["planted"]["data_gap"])]
    assert len(json.loads(gap["evidence"])["missing_days"]) == 3
    team = by[("team-execution", truth["weak_team"])]
    assert team["subject_kind"] == "team"
    assert json.loads(team["evidence"])["share"] < 0.8
    # the rep on leave is not a data gap: leave days are not working days for them
    assert ("data-gaps", truth["planted"]["on_leave"]) not in by


def test_progress_has_pace_projection_replan_and_team_sums(export):
    assert invoke("run", "--rules", str(export / "rules.toml"), "-q").exit_code == 0
    rows = read_csv(export / "out" / "progress.csv")
    reps = [r for r in rows if r["subject_kind"] == "rep"]
    teams = [r for r in rows if r["subject_kind"] == "team"]
    assert reps and teams and all(r["rep_id"] == "" for r in teams)
    r = next(r for r in reps if r["stage"] == "dials" and float(r["expected_to_date"]) > 0)
    actual, expected, target = (float(r[k]) for k in ("actual", "expected_to_date", "target"))
    assert float(r["pace"]) == pytest.approx(actual / expected, abs=1e-4)
    assert float(r["projected"]) == pytest.approx(actual * target / expected, abs=0.01)
    assert float(r["required_per_day"]) == pytest.approx(
        max(target - actual, 0) / int(r["remaining_days"]), abs=0.01)
    for team in {t["team"] for t in teams}:
        for stage in ("dials", "revenue"):
            t = next(x for x in teams if x["team"] == team and x["stage"] == stage)
            members = [x for x in reps if x["team"] == team and x["stage"] == stage]
            assert float(t["actual"]) == pytest.approx(sum(float(m["actual"]) for m in members))
            assert float(t["target"]) == pytest.approx(sum(float(m["target"]) for m in members))


def test_call_logs_become_daily_dials_and_connects(export):
    calls = read_csv(export / "calls.csv")
    day = calls[0]["start"][:10]
    rep = calls[0]["rep_id"]
    mine = [c for c in calls if c["rep_id"] == rep and c["start"].startswith(day)]
    from salesrules.testing import load_export

    ds = load_export(export)
    row = ds.activity.days(rep)[dt.date.fromisoformat(day)]
    assert row[0] == len(mine)
    assert row[1] == sum(c["outcome"] == "connected" for c in mine)
    stats = ds.calls.by_rep[rep][dt.date.fromisoformat(day)]
    assert stats[2] == sum(c["outcome"] == "connected" and int(c["duration"]) < 30 for c in mine)


def test_a_connect_can_be_defined_by_duration(export):
    from salesrules.testing import load_export

    edit_rules(export / "rules.toml", lambda d: d["data"]["calls"].update(
        params={"connect_by": "duration", "min_seconds": 60}))
    calls = read_csv(export / "calls.csv")
    rep, day = calls[0]["rep_id"], calls[0]["start"][:10]
    mine = [c for c in calls if c["rep_id"] == rep and c["start"].startswith(day)]
    row = load_export(export).activity.days(rep)[dt.date.fromisoformat(day)]
    assert row[1] == sum(int(c["duration"]) >= 60 for c in mine)


def test_bad_call_rows_are_located(export):
    with (export / "calls.csv").open("a", encoding="utf-8") as f:
        f.write("R0001,yesterday,30,connected\nR0001,2026-11-25 10:00:00,long,connected\n")
    n = len((export / "calls.csv").read_text().splitlines())
    res = invoke("run", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 2
    assert f"calls.csv:{n - 1}: column 'start': expected a start time" in res.output
    assert f"calls.csv:{n}: column 'duration': expected a duration in seconds or mm:ss, " \
           "got 'long'" in res.output


@pytest.mark.slow
def test_chinese_call_logs_with_mm_ss_durations(tmp_path):
    from salesrules.testing import load_export

    make_export(tmp_path, chinese=True, reps=8, leads=10, days=40)
    ds = load_export(tmp_path)
    assert ds.calls.by_rep  # 接通 outcomes and "1:05" durations were read


def test_robust_z_and_binomial_tails():
    z = robust_z([10, 11, 9, 10, 12, 10, 40])
    assert z[-1] > 3.5 and max(abs(x) for x in z[:-1]) < 3.5
    assert robust_z([5, 5, 5]) == [0, 0, 0]
    assert binom_cdf(0, 10, 0.5) == pytest.approx(0.5 ** 10)
    assert binom_cdf(10, 10, 0.3) == 1.0
    # the rate's own uncertainty makes a low count less surprising
    assert beta_binom_cdf(2, 100, 20, 80) > binom_cdf(2, 100, 0.2)
    assert beta_binom_cdf(2, 100, 2e9, 8e9) == pytest.approx(binom_cdf(2, 100, 0.2), rel=1e-3)


def test_check_params_are_validated(export):
    edit_rules(export / "rules.toml", lambda d: d["checks"].update({
        "zero-streak": {"stages": ["revenue"]},
        "vanity-activity": {"rate": ["dials"]},
        "team-execution": {"threshold": 1.5}}))
    res = invoke("validate", "--rules", str(export / "rules.toml"))
    assert res.exit_code == 2
    assert "checks.zero-streak.stages: 'revenue' is not a count stage" in res.output
    assert "checks.vanity-activity.rate: expected two funnel stages" in res.output
    assert "checks.team-execution.threshold: must be <= 1, got 1.5" in res.output


def test_daily_grid_matches_each_reps_own_days_leave_included(tmp_path):
    """CheckContext.daily: the rep's working days (leave left out) with NaN where no row."""
    import math

    from check_runs import staged

    make_export(tmp_path, reps=30, days=120, leads=5, seed=12)
    ctx = staged(tmp_path).context
    ds, goals, day = ctx.dataset, ctx.goals, ctx.as_of
    on_leave = [r for r in ds.reps if any(ds.on_leave(r, d) for d in
                                          goals.calendar.working_days(goals.period.start, day))]
    assert on_leave  # the sample plants a rep on leave: their days differ from the others'
    for rep in ds.reps:
        working = ctx.working_days(rep)
        grid = ctx.daily(rep)
        rows = ds.activity.days(rep)
        assert grid.shape == (len(working), len(ds.funnel.stages))
        for d, got in zip(working, grid.tolist()):
            want = rows.get(d)
            assert (all(math.isnan(x) for x in got) if want is None else got == want)
        assert not any(ds.on_leave(rep, d) for d in working)
