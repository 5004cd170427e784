"""What the report and the workbook show, computed once from a finished run (拿结果)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

import attrs

from salesrules.api import Assignment, Lead, RunResult

from . import evidence

ONE_DAY = dt.timedelta(days=1)

#: Share of a team's reps (by result attainment) whose rates make the benchmark.
TOP_SHARE = 0.2

#: A routing rule without a condition, as the report shows it.
ALL_LEADS = {"en": "(all leads)", "zh": "（全部线索）"}

#: Finding severities, most severe first (the values ``Finding.severity`` takes).
SEVERITIES = ("critical", "warn", "info")


def _rate(a: float, b: float) -> float | None:
    return a / b if b else None


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(x, nd)


def assigned_values(assignments: Iterable[Assignment], leads: Iterable[Lead]) -> dict[str, float]:
    """The value of each assigned lead, by lead id (read from the leads' columns when they
    have them: ``Dataset.leads.value_of``)."""
    ids = [a.lead_id for a in assignments]
    value_of = getattr(leads, "value_of", None)
    if value_of is not None:
        return value_of(ids)
    assigned = set(ids)
    return {lead.id: lead.value for lead in leads if lead.id in assigned}


def funnel_rates(totals: dict[str, float], stages: list[str]) -> dict[str, float | None]:
    """Each stage's ratio to the one above it."""
    return {low: _r(_rate(totals.get(low, 0.0), totals.get(up, 0.0)))
            for up, low in zip(stages, stages[1:])}


def win_rate(result: RunResult, rep_ids: list[str]) -> float | None:
    """won ÷ (won + lost) of the deals the reps closed this period to date (open deals are
    pipeline, not losses); ``None`` without a closed deal or a deals export."""
    c = result.dataset.closed_counts(rep_ids, result.goals.period.start, result.as_of)
    n = sum(c.closed) if c is not None else 0
    return _r(sum(c.won) / n) if c is not None and n else None


def rates_of(result: RunResult, totals: dict[str, float], stages: list[str],
             rep_ids: list[str]) -> dict[str, float | None]:
    """:func:`funnel_rates`; with a deals export, the win stage's rate is the reps' closed
    deals' :func:`win_rate`, as the goals, the checks and the ranking measure it."""
    rates = funnel_rates(totals, stages)
    win = result.dataset.closed_stage
    if win is not None and win in rates:
        rates[win] = win_rate(result, rep_ids)
    return rates


def _meets(pace: dict[str, float | None], process: list[str], meet_pace: float) -> bool:
    """Whether a rep meets their process targets: mean pace over the process stages."""
    paces = [v for s in process if (v := pace.get(s)) is not None]
    return bool(paces) and sum(paces) / len(paces) >= meet_pace


@attrs.frozen
class Week:
    """A Monday-to-Sunday week's first and last day."""

    start: dt.date
    end: dt.date


def week_of(day: dt.date) -> Week:
    start = day - dt.timedelta(days=day.weekday())
    return Week(start, start + dt.timedelta(days=6))


@attrs.frozen
class _Reps:
    """Each rep's report entry by rep id, and each team's members."""

    entries: dict[str, Any]
    members: dict[str, list[str]]


def _new_rep(rep: Any) -> dict[str, Any]:
    return {"id": rep.id, "name": rep.name, "team": rep.team, "level": rep.level,
            "today": {}, "week": {}, "target": {}, "actual": {}, "expected": {},
            "attainment": {}, "pace": {}, "required": {}, "findings": [], "proposal": None}


def _reps(result: RunResult, stages: list[str]) -> _Reps:
    """Each rep's targets today and this week, progress and funnel; and each team's members."""
    ds, funnel, as_of = result.dataset, result.dataset.funnel, result.as_of
    rows = {(p.rep_id, p.stage): p for p in result.progress}
    week = week_of(as_of)
    wk_start, wk_end = week.start, week.end
    reps_out: dict[str, Any] = {}
    members: dict[str, list[str]] = defaultdict(list)
    for (rep_id, stage), plan in result.goals.plans.items():
        if rep_id not in reps_out:
            reps_out[rep_id] = _new_rep(ds.reps[rep_id])
            members[ds.reps[rep_id].team].append(rep_id)
        entry = reps_out[rep_id]
        s = funnel.stage(stage).scale
        # a span's day targets: the difference of two cumulative sums
        today = plan.expected_to(as_of) - plan.expected_to(as_of - ONE_DAY)
        this_week = plan.expected_to(wk_end) - plan.expected_to(wk_start - ONE_DAY)
        entry["today"][stage] = today / s
        entry["week"][stage] = this_week / s
        row = rows.get((rep_id, stage))
        if row is not None:
            entry["target"][stage] = _r(row.target, 2)
            entry["actual"][stage] = _r(row.actual, 2)
            entry["expected"][stage] = _r(row.expected_to_date, 2)
            entry["attainment"][stage] = _r(row.attainment)
            entry["pace"][stage] = _r(row.pace)
            entry["required"][stage] = _r(row.required_per_day, 2)
    return _Reps(reps_out, members)


def _period_totals(result: RunResult, reps_out: dict[str, Any],
                   stages: list[str]) -> dict[str, dict[str, float]]:
    """Each rep's stage totals this period to date; sets their rates and funnel."""
    in_period = result.dataset.activity.window_totals(result.goals.period.start, result.as_of)
    zero = [0.0] * len(stages)
    totals = {rep_id: dict(zip(stages, in_period.get(rep_id, zero))) for rep_id in reps_out}
    for rep_id, entry in reps_out.items():
        entry["rates"] = rates_of(result, totals[rep_id], stages, [rep_id])
        entry["funnel"] = [_r(totals[rep_id][s], 2) for s in stages]
    return totals


def _sum(totals: dict[str, dict[str, float]], reps: list[str]) -> dict[str, float]:
    out: defaultdict[str, float] = defaultdict(float)
    for rep_id in reps:
        for st, v in totals[rep_id].items():
            out[st] += v
    return out


def _benchmark(result: RunResult, reps_out: dict[str, Any], members: list[str],
               totals: dict[str, dict[str, float]], stages: list[str]) -> dict[str, Any]:
    """A team's top performers (by result attainment), their funnel and habits."""
    result_stage = result.dataset.funnel.result.name
    ranked = sorted(members, key=lambda r: (-(reps_out[r]["attainment"].get(result_stage)
                                               or 0), r))
    top = ranked[:max(1, round(len(ranked) * TOP_SHARE))]
    team_tot, top_tot = _sum(totals, members), _sum(totals, top)
    period = result.goals.period
    days = max(1, len(list(result.goals.calendar.working_days(period.start, result.as_of))))
    top_rates = rates_of(result, top_tot, stages, top)
    habits = {f"{stages[0]}_per_day": _r(top_tot[stages[0]] / len(top) / days, 1),
              "rates": top_rates}
    return {"top": top, "rates": top_rates, "habits": habits,
            "funnel": [_r(top_tot[s] / len(top), 2) for s in stages],
            "team_funnel": [_r(team_tot[s] / len(members), 2) for s in stages],
            "team_rates": rates_of(result, team_tot, stages, members)}


def _execution(result: RunResult, team: str) -> float | None:
    """The share of reps meeting feasible activity
    targets, as the team-execution check judged it."""
    return next((_r(f.evidence["share"]) for f in result.findings  # type: ignore[arg-type]
                 if f.check == "team-execution" and f.subject == team), None)


def _meet_pace(result: RunResult) -> float:
    """The mean process pace the team-execution check counts a rep as executing at."""
    use = result.config.checks.get("team-execution")
    if use is None:
        return 0.85
    return float(use.params.get("meet_pace", 0.85))


def _team_row(result: RunResult, team: str, members: list[str], reps_out: dict[str, Any],
              team_rows: dict[tuple[str, str], Any]) -> dict[str, Any]:
    funnel = result.dataset.funnel
    process = list(funnel.process)
    res = team_rows.get((team, funnel.result.name))
    proc_pace = [team_rows[(team, s)].pace for s in process
                 if (team, s) in team_rows and team_rows[(team, s)].pace is not None]
    meet_pace = _meet_pace(result)
    executing = sum(1 for r in members if _meets(reps_out[r]["pace"], process, meet_pace))
    return {
        "team": team, "reps": len(members),
        "target": _r(res.target, 2) if res else None,
        "actual": _r(res.actual, 2) if res else None,
        "expected": _r(res.expected_to_date, 2) if res else None,
        "attainment": _r(res.attainment) if res else None,
        "pace": _r(res.pace) if res else None,
        "projected": _r(res.projected, 2) if res else None,
        "process_pace": _r(sum(proc_pace) / len(proc_pace)) if proc_pace else None,
        "execution": (_execution(result, team)
                      or (_r(executing / len(members)) if members else None)),
    }


def _pace(result: RunResult, members: list[str]) -> dict[str, Any]:
    """A team's cumulative result against its expected curve, per working day."""
    ds, funnel, period, as_of = result.dataset, result.dataset.funnel, result.goals.period, \
        result.as_of
    stage = funnel.result.name
    scale = funnel.stage(stage).scale
    per_day: dict[dt.date, float] = defaultdict(float)
    for rep_id in members:
        plan = result.goals.plans.get((rep_id, stage))
        for d, _, v in (plan.grains["day"] if plan is not None else ()):
            per_day[d] += v / scale
    working = list(result.goals.calendar.working_days(period.start, period.end))
    expected, actual = [], []
    cum_e = cum_a = 0.0
    for d in working:
        cum_e += per_day.get(d, 0.0)
        expected.append(round(cum_e, 2))
    done = [d for d in working if d <= as_of]
    if done:  # the members' result per day, read for all at once (no row: nothing done)
        grid = ds.activity.grid(members, done)[:, :, funnel.index(stage)]
        for j in range(len(done)):
            cum_a += sum(0.0 if v != v else v for v in grid[:, j].tolist())  # NaN: no row
            actual.append(round(cum_a, 2))
    return {"days": [d.isoformat() for d in working], "expected": expected, "actual": actual}


def _rules(result: RunResult) -> list[dict[str, Any]]:
    by_rule = Counter(x.rule for x in result.allocation.assignments)
    everything = ALL_LEADS.get(result.config.output.language, ALL_LEADS["en"])
    shown = {b.name: b.component.shown_name() for b in result.components
             if b.component.kind == "policy"}
    rules = [{"name": r.name, "when": r.when or everything,
              "policy": shown.get(r.policy, r.policy), "params": r.params, "teams": r.teams,
              "assigned": by_rule.get(r.name, 0)}
             for r in (result.config.allocation.rules or [])]
    return rules or [{"name": n, "when": everything, "policy": shown.get("balanced", "balanced"),
                      "params": {}, "teams": [], "assigned": c} for n, c in by_rule.items()]


def _allocation(result: RunResult) -> dict[str, Any]:
    """Leads and value per rep, fairness, the rules and why leads were left unassigned."""
    ds, a = result.dataset, result.allocation
    value_of = assigned_values(a.assignments, ds.leads)
    per_rep: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for x in a.assignments:
        per_rep[x.rep_id][0] += 1
        per_rep[x.rep_id][1] += value_of.get(x.lead_id, 0.0)
    eligible = [r.id for r in ds.reps.values() if r.active]
    return {
        "assigned": len(a.assignments), "unassigned": len(a.unassigned), "kept": len(a.kept),
        "duplicates": len(a.duplicates), "recycled": len(a.recycled),
        "per_rep": [{"rep": r, "team": ds.reps[r].team, "leads": per_rep[r][0],
                     "value": round(per_rep[r][1], 2)} for r in eligible],
        # the kernel's figure: reps who could receive leads, today and over the window
        **a.fairness(),
        "rules": _rules(result),
        "unassigned_reasons": _reasons(a.unassigned.reasons),
    }


def _reasons(reasons: Iterable[str]) -> list[tuple[str, int]]:
    """The eight commonest reasons leads were left unassigned, rule prefixes removed; counted
    per distinct reason first (a big export repeats a handful of reasons many times)."""
    out: Counter[str] = Counter()
    for reason, n in Counter(reasons).items():
        out[_why(reason)] += n
    return out.most_common(8)


def _why(reason: str) -> str:
    """An unassigned lead's reason without its rule prefix (``rule 'x' → policy: ``)."""
    return re.split(r": |：", reason, maxsplit=1)[-1]


def check_names(result: RunResult) -> dict[str, str]:
    """Each check's name as a manager reads it (its ``words``' ``"name"``, in the run's
    language), by the name findings carry."""
    return {b.name: b.component.shown_name() for b in result.components
            if b.component.kind == "check"}


def _findings(result: RunResult, reps_out: dict[str, Any]) -> list[dict[str, Any]]:
    """Every finding; each rep's entry lists its findings and its goal-raise proposal."""
    findings = []
    lang = result.config.output.language
    labels = {s.name: s.label for s in result.dataset.funnel.stages}
    for i, f in enumerate(result.findings):
        findings.append({"subject": f.subject, "kind": f.subject_kind, "check": f.check,
                         "severity": f.severity, "message": f.message, "action": f.action,
                         "evidence": evidence.rows(f.evidence, lang, labels)})
        if f.subject_kind == "rep" and f.subject in reps_out:
            reps_out[f.subject]["findings"].append(i)
            if f.check == "goal-raise":
                reps_out[f.subject]["proposal"] = i
    return findings


def _overview(teams: list[dict[str, Any]]) -> dict[str, Any]:
    target = sum(t["target"] or 0 for t in teams)
    actual = sum(t["actual"] or 0 for t in teams)
    expected = sum(t["expected"] or 0 for t in teams)
    return {"teams": teams, "target": round(target, 2), "actual": round(actual, 2),
            "expected": round(expected, 2), "attainment": _r(_rate(actual, target)),
            "pace": _r(_rate(actual, expected))}


def build(result: RunResult) -> dict[str, Any]:
    """The report's data: plain dicts and lists, ready for JSON."""
    funnel, period = result.dataset.funnel, result.goals.period
    stages = list(funnel.names)
    staff = _reps(result, stages)
    reps_out, members = staff.entries, staff.members
    totals = _period_totals(result, reps_out, stages)
    team_rows = {(t.team, t.stage): t for t in result.team_progress}
    teams = sorted(members)
    by_sev: Counter[str] = Counter(f.severity for f in result.findings)
    findings = _findings(result, reps_out)
    return {
        "period": {"grain": period.grain, "start": period.start.isoformat(),
                   "end": period.end.isoformat()},
        "as_of": result.as_of.isoformat(), "lang": result.config.output.language,
        "week": [d.isoformat() for d in attrs.astuple(week_of(result.as_of))],
        "stages": stages, "units": {s.name: s.unit for s in funnel.stages},
        "labels": {s.name: s.label for s in funnel.stages},
        "result_stage": funnel.result.name, "process": list(funnel.process),
        "closed_stage": result.dataset.closed_stage,
        "overview": _overview([_team_row(result, t, members[t], reps_out, team_rows)
                               for t in teams]),
        "benchmark": {t: _benchmark(result, reps_out, members[t], totals, stages)
                      for t in teams},
        "pace": {t: _pace(result, ms) for t, ms in members.items()},
        "allocation": _allocation(result),
        "findings": findings,
        "severity_counts": {s: by_sev.get(s, 0) for s in SEVERITIES},
        "check_names": check_names(result),
        "reps": reps_out,
        "warnings": result.warnings[:20],
    }
