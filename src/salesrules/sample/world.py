"""The simulated company behind the sample export: its reps, calendar and planted behaviours."""

from __future__ import annotations

import datetime as dt
import math
import random

import attrs

TEAMS_EN = ("East", "West", "North", "South", "Central", "Coast")
TEAMS_ZH = ("华东", "华南", "华北", "西南", "华中", "东北")
REGIONS_EN = ("East", "West", "North", "South")
REGIONS_ZH = ("华东", "华南", "华北", "西南")
SOURCES_EN = ("web", "referral", "event", "cold-list")
SOURCES_ZH = ("官网", "转介绍", "展会", "名单")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "艳",
         "勇", "军", "杰", "娟", "涛", "明", "超", "霞")
FIRST_EN = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery",
            "Quinn", "Drew", "Robin", "Kai", "Lee", "Max", "Noor", "Ira", "Jess", "Pat", "Ren")
LAST_EN = ("Chen", "Wang", "Li", "Zhang", "Liu", "Smith", "Garcia", "Kim", "Lopez", "Patel",
           "Nguyen", "Brown", "Silva", "Khan", "Ito", "Novak", "Rossi", "Berg", "Costa", "Hart")

LEVEL_TARGETS = {"P1": 60000, "P2": 90000, "P3": 120000}
GRADE_VALUE = {"A": 6000.0, "B": 3000.0, "C": 1200.0}
WEEKDAY_FACTOR = (1.10, 1.05, 1.0, 0.98, 0.87, 0.0, 0.0)
MONTH_FACTOR = (0.9, 0.85, 1.0, 1.0, 1.05, 1.0, 0.95, 0.95, 1.05, 1.0, 1.05, 1.05)

HEADERS_EN = {
    "reps": ("rep_id", "name", "team", "level", "active", "capacity", "hired"),
    "leads": ("lead_id", "created_at", "owner", "priority", "value", "source", "region",
              "grade", "phone", "email", "assigned_at", "last_contact"),
    "activity": ("date", "rep_id", "dials", "connects", "conversations", "intents",
                 "pipeline", "revenue"),
    "leave": ("rep_id", "start", "end"),
    "calls": ("rep_id", "start", "duration", "outcome"),
}
HEADERS_ZH = {
    "reps": ("销售编号", "姓名", "团队", "职级", "在职", "日容量", "入职日期"),
    "leads": ("线索编号", "创建时间", "负责人", "优先级", "价值", "来源", "区域", "等级",
              "电话", "邮箱", "分配日期", "最近跟进"),
    "activity": ("日期", "销售编号", "外呼", "接通", "深入沟通", "意向客户", "储备金额", "业绩"),
    "leave": ("销售编号", "开始日期", "结束日期"),
    "calls": ("销售编号", "开始时间", "通话时长", "结果"),
}
#: Our field name for each column, in header order, per file.
FIELDS = {
    "reps": ("id", "name", "team", "level", "active", "capacity", "hired"),
    "leads": ("id", "created_at", "owner", "priority", "value", "source", "region", "grade",
              "phone", "email", "assigned_at", "last_contact"),
    "activity": ("date", "rep_id", "dials", "connects", "conversations", "intents",
                 "pipeline", "revenue"),
    "leave": ("rep_id", "start", "end"),
    "calls": ("rep_id", "start", "duration", "outcome"),
}


@attrs.frozen
class SampleSpec:
    """What to generate."""

    reps: int = 40
    days: int = 180
    leads: int = 300
    seed: int = 7
    end: dt.date = dt.date(2026, 11, 25)
    chinese: bool = False
    format: str = "csv"
    #: Days (up to ``end``) with a call log; 0 writes none.
    call_days: int = 20
    #: Full quarters of history before ``end``'s, with planted truth for a backtest
    #: (:mod:`salesrules.sample.history`); 0 writes the usual ``days`` of activity.
    quarters: int = 0


@attrs.define
class _Rep:
    id: str
    name: str
    team: str
    level: str
    active: bool
    capacity: int
    hired: dt.date
    effort: float
    rates: list[float]
    arpu: float
    plant: str = ""
    #: Effort factor before the quarter holding ``end`` (a history sample's headroom for the
    #: reps whose plants belong to that quarter).
    past_factor: float = 1.0


def _binom(rng: random.Random, n: int, p: float) -> int:
    if n <= 0 or p <= 0:
        return 0
    if p >= 1:
        return n
    if n < 25:
        return sum(1 for _ in range(n) if rng.random() < p)
    x = round(rng.gauss(n * p, math.sqrt(n * p * (1 - p))))
    return min(max(x, 0), n)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean < 20:
        limit, k, prod = math.exp(-mean), 0, rng.random()
        while prod > limit:
            k += 1
            prod *= rng.random()
        return k
    return max(0, round(rng.gauss(mean, math.sqrt(mean))))


WIN_RATE = 0.33
#: Rep plants, each on its own rep: what a check should find.
REP_PLANTS = ("star", "effort_no_results", "short_calls", "on_leave", "inactive", "behind",
              "zero_streak", "data_gap", "low_conversion", "bad_rows")
#: Plants of a rep's start, made only outside a history sample: a rep hired a third of the
#: way into the quarter, and a team founded on its first day (no history before the period).
NEWCOMERS = ("hired_mid_quarter", "new_team")
NEW_TEAM_EN, NEW_TEAM_ZH = "New", "新团队"
NEW_TEAM_SIZE = 3
#: The cause each plant should be diagnosed with (``Finding.cause``), where it has one.
PLANT_CAUSES = {"behind": "activity", "weak_team": "activity", "low_conversion": "conversion",
                "effort_no_results": "conversion", "bad_rows": "data"}


@attrs.frozen
class _Quarter:
    """A calendar quarter's first and last day."""

    start: dt.date
    end: dt.date


def _quarter(end: dt.date) -> _Quarter:
    q0 = (end.month - 1) // 3 * 3 + 1
    start = dt.date(end.year, q0, 1)
    nxt = dt.date(end.year + (q0 + 3 > 12), (q0 + 2) % 12 + 1, 1)
    return _Quarter(start, nxt - dt.timedelta(days=1))


def _working(day: dt.date, cal) -> float:
    """The day's activity factor: 0 on days off."""
    wd = WEEKDAY_FACTOR[day.weekday()]
    if cal is not None:
        if day in cal.weekend_workdays:
            return WEEKDAY_FACTOR[0]
        if day in cal:
            return 0.0
    return wd


@attrs.frozen
class _Staff:
    """The sample's reps, and its weak team (``""`` with fewer than three teams)."""

    reps: list[_Rep]
    weak_team: str


def _make_reps(spec: SampleSpec, rng: random.Random) -> _Staff:
    """Reps with funnel rates around their team's, and effort that meets their level target.

    A healthy rep dials enough, at their own rates, to reach 102-115% of their
    level's revenue target over the quarter that holds ``spec.end``; the plants
    then break that for a few reps (and, with three teams or more, one team).
    """
    n_teams = max(1, min(len(TEAMS_EN), math.ceil(spec.reps / 7)))
    teams = (TEAMS_ZH if spec.chinese else TEAMS_EN)[:n_teams]
    team_rates = {t: [0.35 * rng.uniform(0.9, 1.1), 0.30 * rng.uniform(0.85, 1.15),
                      0.25 * rng.uniform(0.85, 1.15)] for t in teams}
    team_arpu = {t: 3000 * rng.uniform(0.9, 1.1) for t in teams}
    cal, quarter = _calendar(spec), _quarter(spec.end)
    q_start, q_end = quarter.start, quarter.end
    q_days = [q_start + dt.timedelta(days=i) for i in range((q_end - q_start).days + 1)]
    q_factor = sum(_working(d, cal) * MONTH_FACTOR[d.month - 1] for d in q_days) or 1.0
    reps = []
    for i in range(spec.reps):
        team = teams[i % n_teams]
        level = ("P1", "P2", "P2", "P3")[rng.randrange(4)]
        if spec.chinese:
            name = SURNAMES[rng.randrange(len(SURNAMES))] + GIVEN[rng.randrange(len(GIVEN))] + (
                GIVEN[rng.randrange(len(GIVEN))] if rng.random() < 0.6 else "")
        else:
            first = FIRST_EN[rng.randrange(len(FIRST_EN))]
            name = f"{first} {LAST_EN[rng.randrange(len(LAST_EN))]}"
        rates = [r * math.exp(rng.gauss(0, 0.15)) for r in team_rates[team]]
        arpu = team_arpu[team] * math.exp(rng.gauss(0, 0.1))
        per_dial = rates[0] * rates[1] * rates[2] * WIN_RATE * arpu * math.exp(0.3 ** 2 / 2)
        # dials per unit of day factor that reach the level target, with some headroom
        effort = LEVEL_TARGETS[level] / q_factor / per_dial * rng.uniform(1.02, 1.15)
        reps.append(_Rep(
            f"R{i + 1:04d}", name, team, level, True, rng.choice((8, 10, 12, 15)),
            spec.end - dt.timedelta(days=rng.randrange(200, 1500)), effort, rates, arpu))
    weak_team = teams[-1] if n_teams >= 3 else ""
    candidates = [r for r in reps if r.team != weak_team]
    for k, plant in enumerate(REP_PLANTS):
        if len(candidates) < 4 or k >= len(candidates) - 2:
            break  # keep some healthy reps in every sample
        rep = candidates[(k * 5 + 3) % len(candidates)]
        if rep.plant:
            healthy = next((r for r in candidates if not r.plant), None)
            if healthy is None:
                break
            rep = healthy
        rep.plant = plant
        if plant in PLANT_CAUSES:  # the team's own rates: the cause is the plant alone
            _use_team_rates(rep, team_rates[rep.team])
        if plant == "star":
            rep.rates = [r * 1.15 for r in rep.rates]
            rep.arpu *= 1.6
            rep.effort *= 1.2
        elif plant == "inactive":
            rep.active = False
    for rep in reps:
        if rep.team == weak_team:
            rep.plant = "weak_team"
            _use_team_rates(rep, team_rates[rep.team])  # the team converts as usual: it works less
    _plant_newcomers(spec, reps, weak_team, team_rates, team_arpu)
    return _Staff(reps, weak_team)


def _plant_newcomers(spec: SampleSpec, reps: list[_Rep], weak_team: str,
                     team_rates: dict[str, list[float]], team_arpu: dict[str, float]) -> None:
    """Outside a history sample (``spec.quarters``), of the healthy reps: one hired a third
    of the way into the quarter, and (with enough left healthy) ``NEW_TEAM_SIZE`` moved to a
    team founded on the quarter's first day. Their rows before the hire date are left out
    of the export; nothing else changes, so every other rep's rows stay the same.

    A newcomer has no history of their own, so their targets take the team's rates (the
    company's, for the new team): the plants are the healthy reps who convert most like
    those (:func:`_unlike`), who reach their results at a healthy pace on those rates too.
    """
    quarter = _quarter(spec.end)
    healthy = [r for r in reps if not r.plant and r.team != weak_team and r.active]
    if spec.quarters or len(healthy) < 2:
        return
    hired = min(healthy, key=lambda r: (_unlike(r, team_rates[r.team], team_arpu[r.team]), r.id))
    healthy.remove(hired)
    hired.plant = "hired_mid_quarter"
    hired.hired = min(quarter.start + (spec.end - quarter.start) // 3, spec.end)
    if len(healthy) < 2 * NEW_TEAM_SIZE:
        return
    rates = [sum(r[k] for r in team_rates.values()) / len(team_rates) for k in range(3)]
    arpu = sum(team_arpu.values()) / len(team_arpu)
    for rep in sorted(healthy, key=lambda r: (_unlike(r, rates, arpu), r.id))[:NEW_TEAM_SIZE]:
        rep.plant, rep.hired = "new_team", quarter.start
        rep.team = NEW_TEAM_ZH if spec.chinese else NEW_TEAM_EN


def _unlike(rep: _Rep, rates: list[float], arpu: float) -> float:
    """How far the rep's rates are from ``rates`` (log ratios), and their ARPU above ``arpu``
    (a higher one needs fewer intents than targets set at ``arpu`` ask)."""
    return (sum(abs(math.log(r / c)) for r, c in zip(rep.rates, rates))
            + max(0.0, math.log(rep.arpu / arpu)))


def _use_team_rates(rep: _Rep, rates: list[float]) -> None:
    """Give the rep the team's rates, with the effort that still reaches their target."""
    rep.effort *= math.prod(rep.rates) / math.prod(rates)
    rep.rates = list(rates)


def _calendar(spec: SampleSpec):
    """Chinese samples follow China's public holidays and make-up workdays (调休)."""
    if not spec.chinese:
        return None
    import holidays

    start = spec.end - dt.timedelta(days=spec.days - 1)
    return holidays.country_holidays("CN", years=range(start.year, spec.end.year + 2))


def _last_working_days(end: dt.date, n: int, cal) -> list[dt.date]:
    out: list[dt.date] = []
    d = end
    while len(out) < n:
        if _working(d, cal):
            out.append(d)
        d -= dt.timedelta(days=1)
    return out
