"""What the report and the workbook show, computed once from a finished run (拿结果)."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import Counter, defaultdict
from typing import Any

import numpy as np

from ..allocation import assigned_values
from ..compare import gini
from ..model import SEVERITIES
from ..run import RunResult

ONE_DAY = dt.timedelta(days=1)

#: Share of a team's reps (by result attainment) whose rates make the benchmark.
TOP_SHARE = 0.2


def _rate(a: float, b: float) -> float | None:
    return a / b if b else None


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(x, nd)


def funnel_rates(totals: dict[str, float], stages: list[str]) -> dict[str, float | None]:
    """Each stage's ratio to the one above it."""
    return {low: _r(_rate(totals.get(low, 0.0), totals.get(up, 0.0)))
            for up, low in zip(stages, stages[1:])}


def _meets(pace: dict[str, float | None], process: list[str], meet_pace: float) -> bool:
    """Whether a rep meets their process targets: mean pace over the process stages."""
    paces = [pace[s] for s in process if pace.get(s) is not None]
    return bool(paces) and sum(paces) / len(paces) >= meet_pace


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    start = day - dt.timedelta(days=day.weekday())
    return start, start + dt.timedelta(days=6)


def build(result: RunResult) -> dict[str, Any]:
    """The report's data: plain dicts and lists, ready for JSON."""
    ds = result.dataset
    funnel = ds.funnel
    stages = list(funnel.names)
    units = {s.name: s.unit for s in funnel.stages}
    result_stage = funnel.result.name
    process = list(funnel.process)
    period = result.goals.period
    as_of = result.as_of
    rows_by_rep: dict[str, dict[str, Any]] = defaultdict(dict)
    for p in result.progress:
        rows_by_rep[p.rep_id][p.stage] = p

    # ---------------------------------------------------------------- per rep
    wk_start, wk_end = week_of(as_of)
    reps_out: dict[str, Any] = {}
    team_members: dict[str, list[str]] = defaultdict(list)
    for (rep_id, stage), plan in result.goals.plans.items():
        rep = ds.reps[rep_id]
        entry = reps_out.get(rep_id)
        if entry is None:
            entry = reps_out[rep_id] = {
                "id": rep_id, "name": rep.name, "team": rep.team, "level": rep.level,
                "today": {}, "week": {}, "target": {}, "actual": {}, "expected": {},
                "attainment": {}, "pace": {}, "required": {}, "findings": [], "proposal": None}
            team_members[rep.team].append(rep_id)
        s = funnel.stage(stage).scale
        days = plan.grains["day"]  # in date order
        lo, hi = bisect_left(days, (wk_start,)), bisect_left(days, (wk_end + ONE_DAY,))
        week = sum(v for _, _, v in days[lo:hi])
        today = sum(v for d, _, v in days[lo:hi] if d == as_of)
        entry["today"][stage] = today / s
        entry["week"][stage] = week / s
        row = rows_by_rep[rep_id].get(stage)
        if row is not None:
            entry["target"][stage] = _r(row.target, 2)
            entry["actual"][stage] = _r(row.actual, 2)
            entry["expected"][stage] = _r(row.expected_to_date, 2)
            entry["attainment"][stage] = _r(row.attainment)
            entry["pace"][stage] = _r(row.pace)
            entry["required"][stage] = _r(row.required_per_day, 2)
    in_period = ds.activity.window_totals(period.start, as_of)
    zero = [0.0] * len(stages)
    period_totals = {rep_id: dict(zip(stages, in_period.get(rep_id, zero))) for rep_id in reps_out}
    for rep_id, entry in reps_out.items():
        entry["rates"] = funnel_rates(period_totals[rep_id], stages)
        entry["funnel"] = [_r(period_totals[rep_id][s], 2) for s in stages]

    # ---------------------------------------------------------------- teams, benchmark
    # execution counts reps as the team-execution check does: mean process pace
    meet_pace = float(result.config.checks.get("team-execution").params.get("meet_pace", 0.85)
                      if "team-execution" in result.config.checks else 0.85)
    teams_out = []
    benchmark: dict[str, Any] = {}
    team_rows = {(t.team, t.stage): t for t in result.team_progress}
    for team in sorted(team_members):
        members = team_members[team]
        totals = Counter()
        for rep_id in members:
            for st, v in period_totals[rep_id].items():
                totals[st] += v
        ranked = sorted(members, key=lambda r: (-(reps_out[r]["attainment"].get(result_stage)
                                                   or 0), r))
        top = ranked[:max(1, round(len(ranked) * TOP_SHARE))]
        top_tot = Counter()
        for rep_id in top:
            for st, v in period_totals[rep_id].items():
                top_tot[st] += v
        days = max(1, len([d for d in result.goals.calendar.working_days(period.start, as_of)]))
        habits = {
            f"{stages[0]}_per_day": _r(top_tot[stages[0]] / len(top) / days, 1),
            "rates": funnel_rates(top_tot, stages),
        }
        benchmark[team] = {"top": top, "rates": funnel_rates(top_tot, stages),
                           "habits": habits,
                           "funnel": [_r(top_tot[s] / len(top), 2) for s in stages],
                           "team_funnel": [_r(totals[s] / len(members), 2) for s in stages],
                           "team_rates": funnel_rates(totals, stages)}
        res = team_rows.get((team, result_stage))
        proc = [team_rows[(team, s)] for s in process if (team, s) in team_rows]
        proc_pace = [t.pace for t in proc if t.pace is not None]
        executing = sum(1 for r in members if _meets(reps_out[r]["pace"], process, meet_pace))
        teams_out.append({
            "team": team, "reps": len(members),
            "target": _r(res.target, 2) if res else None,
            "actual": _r(res.actual, 2) if res else None,
            "expected": _r(res.expected_to_date, 2) if res else None,
            "attainment": _r(res.attainment) if res else None,
            "pace": _r(res.pace) if res else None,
            "projected": _r(res.projected, 2) if res else None,
            "process_pace": _r(sum(proc_pace) / len(proc_pace)) if proc_pace else None,
            "execution": _r(executing / len(members)) if members else None,
        })
    overall_target = sum(t["target"] or 0 for t in teams_out)
    overall_actual = sum(t["actual"] or 0 for t in teams_out)
    overall_expected = sum(t["expected"] or 0 for t in teams_out)

    # ---------------------------------------------------------------- pace curves
    pace: dict[str, Any] = {}
    working = result.goals.calendar.working_days(period.start, period.end)
    idx = funnel.index(result_stage)
    scale = funnel.stage(result_stage).scale
    for team, members in team_members.items():
        per_day = Counter()
        for rep_id in members:
            plan = result.goals.plans.get((rep_id, result_stage))
            if plan is None:
                continue
            for d, _, v in plan.grains["day"]:
                per_day[d] += v / scale
        expected, actual = [], []
        cum_e = cum_a = 0.0
        done = [d for d in working if d <= as_of]
        # the members' result per day, read for all of them at once (no row: nothing done)
        grid = np.nan_to_num(ds.activity.grid(members, done)[:, :, idx]) if done else None
        for d in working:
            cum_e += per_day.get(d, 0.0)
            expected.append(round(cum_e, 2))
        for j in range(len(done)):
            cum_a += sum(grid[:, j].tolist())  # in member order, as a plain sum
            actual.append(round(cum_a, 2))
        pace[team] = {"days": [d.isoformat() for d in working], "expected": expected,
                      "actual": actual}

    # ---------------------------------------------------------------- allocation
    a = result.allocation
    value_of = assigned_values(a.assignments, ds.leads)
    per_rep = defaultdict(lambda: [0, 0.0])
    for x in a.assignments:
        per_rep[x.rep_id][0] += 1
        per_rep[x.rep_id][1] += value_of.get(x.lead_id, 0.0)
    eligible = [r.id for r in ds.reps.values() if r.active]
    by_rule = Counter(x.rule for x in a.assignments)
    rules = []
    for route_cfg in (result.config.allocation.rules or []):
        rules.append({"name": route_cfg.name, "when": route_cfg.when or "(all leads)",
                      "policy": route_cfg.policy, "params": route_cfg.params,
                      "teams": route_cfg.teams, "assigned": by_rule.get(route_cfg.name, 0)})
    if not rules:
        rules = [{"name": n, "when": "(all leads)", "policy": "balanced", "params": {},
                  "teams": [], "assigned": c} for n, c in by_rule.items()]
    allocation = {
        "assigned": len(a.assignments), "unassigned": len(a.unassigned), "kept": len(a.kept),
        "duplicates": len(a.duplicates), "recycled": len(a.recycled),
        "per_rep": [{"rep": r, "team": ds.reps[r].team, "leads": per_rep[r][0],
                     "value": round(per_rep[r][1], 2)} for r in eligible],
        "gini_count": _r(gini([per_rep[r][0] for r in eligible])),
        "gini_value": _r(gini([per_rep[r][1] for r in eligible])),
        "rules": rules,
        "unassigned_reasons": Counter(u.reason.split(": ", 1)[-1] for u in a.unassigned
                                      ).most_common(8),
    }

    # ---------------------------------------------------------------- findings
    findings = []
    for i, f in enumerate(result.findings):
        findings.append({"subject": f.subject, "kind": f.subject_kind, "check": f.check,
                         "severity": f.severity, "message": f.message, "action": f.action,
                         "evidence": f.evidence})
        if f.subject_kind == "rep" and f.subject in reps_out:
            reps_out[f.subject]["findings"].append(i)
            if f.check == "goal-raise":
                reps_out[f.subject]["proposal"] = i
    by_sev = Counter(f.severity for f in result.findings)

    return {
        "period": {"grain": period.grain, "start": period.start.isoformat(),
                   "end": period.end.isoformat()},
        "as_of": as_of.isoformat(),
        "week": [wk_start.isoformat(), wk_end.isoformat()],
        "stages": stages, "units": units, "labels": {s.name: s.label for s in funnel.stages},
        "result_stage": result_stage, "process": process,
        "overview": {"teams": teams_out, "target": round(overall_target, 2),
                     "actual": round(overall_actual, 2), "expected": round(overall_expected, 2),
                     "attainment": _r(_rate(overall_actual, overall_target)),
                     "pace": _r(_rate(overall_actual, overall_expected))},
        "benchmark": benchmark,
        "pace": pace,
        "allocation": allocation,
        "findings": findings,
        "severity_counts": {s: by_sev.get(s, 0) for s in reversed(SEVERITIES)},
        "reps": reps_out,
        "warnings": result.warnings[:20],
    }
