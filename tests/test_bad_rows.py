"""Activity rows that contradict themselves (more connects than dials): named by file and line,
and left out of every rate estimate, the goals' included."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re

import pytest
from conftest import invoke, make_export, read_csv

from salesrules.goals import Rate, push_back
from salesrules.model import Funnel, Stage

AS_OF = "2026-11-25"


def _run(folder, out):
    res = invoke("run", "--rules", str(folder / "rules.toml"), "--as-of", AS_OF,
                 "--out", str(out), "-q", "--dry-run")
    assert res.exit_code == 0, res.output
    return read_csv(out / "targets.csv"), read_csv(out / "findings.csv")


def _free_day(folder, rep_id: str) -> dt.date:
    """A day of the history window (before the quarter) on which the rep has no row."""
    with (folder / "activity.csv").open(encoding="utf-8") as f:
        have = {r["date"] for r in csv.DictReader(f) if r["rep_id"] == rep_id}
    day = dt.date(2026, 9, 30)
    while day.isoformat() in have:
        day -= dt.timedelta(days=1)
    return day


@pytest.mark.slow
def test_a_bad_row_is_named_by_file_and_line_and_moves_no_teammates_targets(tmp_path):
    make_export(tmp_path, reps=14, days=180, leads=5, seed=5)
    before, findings_before = _run(tmp_path, tmp_path / "out1")
    team_of = {r["rep_id"]: r["team"] for r in read_csv(tmp_path / "reps.csv")}
    rep = next(r["rep_id"] for r in before)
    mates = {r for r, t in team_of.items() if t == team_of[rep] and r != rep}
    day = _free_day(tmp_path, rep)
    path = tmp_path / "activity.csv"
    text = path.read_text(encoding="utf-8")
    line = text.count("\n") + (0 if text.endswith("\n") else 1) + 1
    path.write_text(text.rstrip("\n") + f"\n{day},{rep},40,400,30,9,0,0\n", encoding="utf-8")
    after, findings = _run(tmp_path, tmp_path / "out2")

    f = next(f for f in findings if f["check"] == "data-gaps" and f["subject"] == rep)
    assert f"activity.csv:{line}" in f["message"] and f["cause"] == "data"
    ev = json.loads(f["evidence"])
    row = next(r for r in ev["contradicting_rows"] if r["date"] == day.isoformat())
    assert row["where"] == f"activity.csv:{line}" and row["connects"] == 400
    assert not any(f["subject"] == rep and f["check"] == "data-gaps"
                   and f"activity.csv:{line}" in f["message"] for f in findings_before)
    # the row is left out of every rate: no teammate's target or trace moves
    assert mates
    mine = [r for r in before if r["rep_id"] in mates]
    assert mine and mine == [r for r in after if r["rep_id"] in mates]


@pytest.mark.slow
def test_rates_above_one_never_enter_a_trace(tmp_path):
    make_export(tmp_path, reps=14, days=180, leads=5, seed=7)
    path = tmp_path / "activity.csv"
    rows = read_csv(path)
    bad = [f"{r['date']},{r['rep_id']},5,{int(float(r['dials'])) + 3000},3,1,0,0"
           for r in rows[:40]]  # summed with real rows: more connects than dials in all
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + "\n".join(bad)
                    + "\n", encoding="utf-8")
    targets, _ = _run(tmp_path, tmp_path / "out")
    counts = {"dials", "connects", "conversations", "intents"}
    seen = 0
    for r in targets:
        for upper, lower, value in re.findall(r"(\w+)→(\w+) ([0-9.]+)", r["trace"]):
            if upper in counts and lower in counts:
                seen += 1
                assert float(value) <= 1, r["trace"]
        for value in re.findall(r"rep ([0-9.]+) from [0-9,]+ (?:dials|connects|conversations)",
                                r["trace"]):
            assert float(value) <= 1, r["trace"]
    assert seen


def test_a_funnel_models_rate_above_one_is_taken_as_one():
    funnel = Funnel((Stage("dials"), Stage("connects"), Stage("revenue", unit="amount")))
    got = push_back(funnel, {"revenue": 3000.0},
                    {"connects": Rate(1.7, "rep 1.7 from 10 dials"),
                     "revenue": Rate(100.0, "ARPU")})
    assert got.values["dials"] == got.values["connects"] == 30.0
    assert "1.7" not in got.traces["dials"] and "taken as 1" in got.traces["dials"]


def test_a_bad_row_leaves_out_only_itself_not_the_rest_of_its_rep_day(tmp_path):
    """Rows of one rep-day are summed: a typo row among them is taken out of the estimate's
    rep-day, the others still count; a rep-day whose only row is a typo is left out whole;
    the stages a call log replaced are the log's, so the typo takes nothing from them."""
    from salesrules.estimate import estimate_of
    from salesrules.goals.calendar import period_of
    from salesrules.testing import load_export

    make_export(tmp_path, reps=14, days=180, leads=5, seed=5)
    rep = next(r for r in read_csv(tmp_path / "reps.csv") if r["active"] == "yes")["rep_id"]
    path = tmp_path / "activity.csv"
    shared = _free_day(tmp_path, rep)
    path.write_text(path.read_text(encoding="utf-8") + f"{shared},{rep},50,20,6,2,0,0\n",
                    encoding="utf-8")
    alone = _free_day(tmp_path, rep)
    called = dt.date.fromisoformat(AS_OF) - dt.timedelta(days=2)  # in the call log's days
    path.write_text(path.read_text(encoding="utf-8")
                    + f"{shared},{rep},40,400,30,9,0,0\n{alone},{rep},40,400,30,9,0,0\n"
                    + f"{called},{rep},40,400,30,9,0,0\n", encoding="utf-8")
    ds = load_export(tmp_path)
    as_of = dt.date.fromisoformat(AS_OF)
    est = estimate_of(ds, period_of(as_of, "quarter"), as_of)
    assert {(r.rep_id, r.day) for r in est.bad_rows} >= {(rep, shared), (rep, alone),
                                                        (rep, called)}
    # progress keeps what was reported; the estimate keeps the good row of the rep-day
    assert ds.activity.totals(rep, shared, shared) == [90, 420, 36, 11, 0, 0]
    assert est.history.totals(rep, shared, shared) == [50, 20, 6, 2, 0, 0]
    assert not len(est.history.rows(alone, alone, reps=[rep]))
    reported = ds.activity.totals(rep, called, called)
    assert reported[:2] != [40, 400]  # the call log's dials and connects, not the sheet's
    assert est.history.totals(rep, called, called) == [*reported[:2], reported[2] - 30,
                                                       reported[3] - 9, *reported[4:]]


def test_a_call_log_day_is_judged_with_the_logs_figures(tmp_path):
    """On a day the call log covers, its dials and connects replace the sheet's. A row whose
    only contradiction is in those stages (connects 900 > dials 5, a typo the log overrides)
    is not bad: its rep-day counts whole. A row that still contradicts (intents above
    conversations) and is the rep-day's only row is left out whole, not kept as the log's
    figures with its own stages taken away (which would understate connects→conversations)."""
    from salesrules.estimate import estimate_of
    from salesrules.goals.calendar import period_of
    from salesrules.testing import load_export

    make_export(tmp_path, reps=14, days=180, leads=5, seed=5)
    path = tmp_path / "activity.csv"
    rows = list(csv.reader(path.open(encoding="utf-8")))
    as_of = dt.date.fromisoformat(AS_OF)
    rep = rows[1][1]
    days = sorted({r[0] for r in rows[1:] if r[1] == rep
                   and as_of - dt.timedelta(days=10) <= dt.date.fromisoformat(r[0]) < as_of})
    typo, still = (dt.date.fromisoformat(d) for d in days[-2:])  # in the call log's days
    for r in rows[1:]:
        if r[1] == rep and r[0] == typo.isoformat():
            r[2:4] = ["5", "900"]
        if r[1] == rep and r[0] == still.isoformat():
            r[4:6] = ["2", "7"]  # conversations 2, intents 7
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    ds = load_export(tmp_path)
    est = estimate_of(ds, period_of(as_of, "quarter"), as_of)
    assert ds.activity.totals(rep, typo, typo)[:2] != [5, 900]  # the log's dials, connects
    assert (rep, typo) not in {(r.rep_id, r.day) for r in est.bad_rows}
    assert est.history.totals(rep, typo, typo) == ds.activity.totals(rep, typo, typo)
    assert (rep, still) in {(r.rep_id, r.day) for r in est.bad_rows}
    assert not len(est.history.rows(still, still, reps=[rep]))
