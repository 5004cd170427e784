"""The sample generator: a realistic CRM export with known, planted behaviours."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

TEAMS_EN = ("East", "West", "North", "South", "Central", "Coast")
TEAMS_ZH = ("华东", "华南", "华北", "西南", "华中", "东北")
REGIONS_EN = ("East", "West", "North", "South")
REGIONS_ZH = ("华东", "华南", "华北", "西南")
SOURCES_EN = ("web", "referral", "event", "cold-list")
SOURCES_ZH = ("官网", "转介绍", "展会", "名单")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "霞")
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
              "zero_streak", "data_gap")


def _quarter(end: dt.date) -> tuple[dt.date, dt.date]:
    q0 = (end.month - 1) // 3 * 3 + 1
    start = dt.date(end.year, q0, 1)
    nxt = dt.date(end.year + (q0 + 3 > 12), (q0 + 2) % 12 + 1, 1)
    return start, nxt - dt.timedelta(days=1)


def _working(day: dt.date, cal) -> float:
    """The day's activity factor: 0 on days off."""
    wd = WEEKDAY_FACTOR[day.weekday()]
    if cal is not None:
        if day in cal.weekend_workdays:
            return WEEKDAY_FACTOR[0]
        if day in cal:
            return 0.0
    return wd


def _make_reps(spec: SampleSpec, rng: random.Random) -> tuple[list[_Rep], str]:
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
    cal = _calendar(spec)
    q_start, q_end = _quarter(spec.end)
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
            name = f"{FIRST_EN[rng.randrange(len(FIRST_EN))]} {LAST_EN[rng.randrange(len(LAST_EN))]}"
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
            rep = next((r for r in candidates if not r.plant), None)
            if rep is None:
                break
        rep.plant = plant
        if plant == "star":
            rep.rates = [r * 1.15 for r in rep.rates]
            rep.arpu *= 1.6
            rep.effort *= 1.2
        elif plant == "inactive":
            rep.active = False
    for rep in reps:
        if rep.team == weak_team:
            rep.plant = "weak_team"
    return reps, weak_team


def _calendar(spec: SampleSpec):
    """Chinese samples follow China's public holidays and make-up workdays (调休)."""
    if not spec.chinese:
        return None
    import holidays

    start = spec.end - dt.timedelta(days=spec.days - 1)
    return holidays.country_holidays("CN", years=range(start.year, spec.end.year + 2))


def _last_working_days(end: dt.date, n: int, cal) -> list[dt.date]:
    out, d = [], end
    while len(out) < n:
        if _working(d, cal):
            out.append(d)
        d -= dt.timedelta(days=1)
    return out


def _activity(spec: SampleSpec, rng: random.Random, reps: list[_Rep],
              leave: dict[str, tuple[dt.date, dt.date]],
              calls: dict[tuple[str, dt.date], tuple[int, int]]) -> Iterable[tuple]:
    """Daily rows per rep; the rep-days of the call window are also kept in ``calls``."""
    start = spec.end - dt.timedelta(days=spec.days - 1)
    q_start, _ = _quarter(spec.end)
    cal = _calendar(spec)
    streak = set(_last_working_days(spec.end, 10, cal))
    gap = set(_last_working_days(spec.end - dt.timedelta(days=7), 3, cal))
    call_from = spec.end - dt.timedelta(days=spec.call_days - 1)
    day = start
    while day <= spec.end:
        wd = _working(day, cal)
        if wd:
            season = MONTH_FACTOR[day.month - 1]
            in_q = day >= q_start
            for rep in reps:
                if rep.id in leave and leave[rep.id][0] <= day <= leave[rep.id][1]:
                    continue
                if not rep.active and day > spec.end - dt.timedelta(days=30):
                    continue
                if rep.plant == "data_gap" and day in gap:
                    continue
                effort = rep.effort
                if in_q and rep.plant == "behind":
                    effort *= 0.55
                elif in_q and rep.plant == "weak_team":
                    effort *= 0.75
                elif in_q and rep.plant == "effort_no_results":
                    effort *= 1.3
                dials = _poisson(rng, effort * wd * season)
                r_conn, r_conv, r_int = rep.rates
                if rep.plant == "short_calls":
                    r_conn, r_conv = min(r_conn * 2.0, 0.9), r_conv * 0.3
                connects = _binom(rng, dials, r_conn)
                convs = _binom(rng, connects, r_conv)
                if (rep.plant == "effort_no_results" and in_q) or (
                        rep.plant == "zero_streak" and day in streak):
                    intents = 0
                else:
                    intents = _binom(rng, convs, r_int)
                pipeline = round(sum(rep.arpu * math.exp(rng.gauss(0, 0.25))
                                     for _ in range(intents)), 2)
                wins = _poisson(rng, intents * WIN_RATE)
                revenue = round(sum(rep.arpu * math.exp(rng.gauss(0, 0.3))
                                    for _ in range(wins)), 2)
                if day >= call_from:
                    calls[(rep.id, day)] = (dials, connects)
                yield (day, rep.id, dials, connects, convs, intents, pipeline, revenue)
        day += dt.timedelta(days=1)


def _calls(spec: SampleSpec, rng: random.Random, reps: list[_Rep],
           days: dict[tuple[str, dt.date], tuple[int, int]]) -> Iterable[tuple]:
    """One row per call: the dials and connects of each rep-day in the call window."""
    short = {r.id for r in reps if r.plant == "short_calls"}
    other = ("no answer", "busy", "voicemail") if not spec.chinese else ("未接", "占线", "语音信箱")
    connected = "connected" if not spec.chinese else "接通"
    for (rep_id, day), (dials, connects) in sorted(days.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        starts = sorted(rng.randrange(9 * 3600, 18 * 3600) for _ in range(dials))
        picked = set(rng.sample(range(dials), connects)) if connects else set()
        for k, sec in enumerate(starts):
            start = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=sec)
            if k in picked:
                if rep_id in short and rng.random() < 0.75:
                    dur = rng.randrange(10, 25)
                else:
                    dur = max(10, round(120 * math.exp(rng.gauss(0, 0.7))))
                outcome = connected
            else:
                dur, outcome = rng.randrange(0, 25), other[rng.randrange(len(other))]
            shown = f"{dur // 60}:{dur % 60:02d}" if spec.chinese else dur
            yield (rep_id, start, shown, outcome)


def _leads(spec: SampleSpec, rng: random.Random, reps: list[_Rep]) -> list[tuple]:
    regions = REGIONS_ZH if spec.chinese else REGIONS_EN
    sources = SOURCES_ZH if spec.chinese else SOURCES_EN
    inactive = [r.id for r in reps if not r.active]
    active = [r.id for r in reps if r.active]
    out = []
    phones: list[str] = []
    for i in range(spec.leads):
        grade = rng.choices("ABC", weights=(2, 5, 3))[0]
        value = round(GRADE_VALUE[grade] * math.exp(rng.gauss(0, 0.3)), 2)
        created = dt.datetime.combine(spec.end, dt.time(0)) - dt.timedelta(
            minutes=rng.randrange(1, 3 * 24 * 60))
        owner = ""
        roll = rng.random()
        if roll < 0.06 and active:
            owner = rng.choice(active)
        elif roll < 0.09 and inactive:
            owner = rng.choice(inactive)
        if phones and rng.random() < 0.02:
            phone = rng.choice(phones)
        else:
            phone = f"1{rng.randrange(30, 90)}{rng.randrange(10**8):08d}"
            phones.append(phone)
        assigned = contact = ""
        if owner:
            # owned leads are older: some were followed up, some were left untouched
            created = created - dt.timedelta(days=rng.randrange(3, 25))
            assigned_day = created.date() + dt.timedelta(days=1)
            assigned = assigned_day
            if rng.random() < 0.7:
                contact = min(assigned_day + dt.timedelta(days=rng.randrange(0, 6)), spec.end)
        out.append((f"L{i + 1:06d}", created, owner, {"A": 2, "B": 1, "C": 0}[grade], value,
                    rng.choice(sources), rng.choice(regions), grade, phone,
                    f"lead{i + 1}@example.com", assigned, contact))
    return out


def _fmt_cell(v: object, chinese: bool, field: str) -> object:
    if isinstance(v, dt.datetime):
        return v.strftime("%Y/%m/%d %H:%M") if chinese else v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, dt.date):
        return v.strftime("%Y/%m/%d") if chinese else v.isoformat()
    if isinstance(v, bool):
        return ("是" if v else "否") if chinese else ("yes" if v else "no")
    if isinstance(v, float):
        # Chinese exports often carry thousands separators on amounts
        return f"{v:,.2f}" if chinese else f"{v:.2f}"
    return v


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]], spec: SampleSpec,
           encoding: str) -> Path:
    if spec.format == "xlsx":
        import openpyxl

        path = path.with_suffix(".xlsx")
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("export")
        ws.append(list(header))
        for row in rows:
            ws.append([("yes" if c else "no") if isinstance(c, bool) else c for c in row])
        wb.save(path)
        return path
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for row in rows:
            w.writerow([_fmt_cell(c, spec.chinese, "") for c in row])
    return path


def generate(outdir: Path, spec: SampleSpec = SampleSpec()) -> dict[str, Path]:
    """Write reps, leads, activity, leave and call files, plus ``truth.json`` naming the plants."""
    outdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(spec.seed)
    reps, weak_team = _make_reps(spec, rng)
    heads = HEADERS_ZH if spec.chinese else HEADERS_EN
    enc = {"reps": "utf-8-sig", "leads": "utf-8", "activity": "utf-8", "leave": "utf-8",
           "calls": "utf-8"}
    if spec.chinese:
        enc = dict.fromkeys(enc, "gb18030")
    cal = _calendar(spec)
    leave: dict[str, tuple[dt.date, dt.date]] = {}
    for rep in reps:
        if rep.plant == "on_leave":
            days = _last_working_days(spec.end, 8, cal)
            leave[rep.id] = (days[-1], spec.end)
    files = {}
    files["reps"] = _write(outdir / "reps.csv", heads["reps"], (
        (r.id, r.name, r.team, r.level, r.active, r.capacity, r.hired) for r in reps),
        spec, enc["reps"])
    files["leads"] = _write(outdir / "leads.csv", heads["leads"], _leads(spec, rng, reps),
                            spec, enc["leads"])
    call_days: dict[tuple[str, dt.date], tuple[int, int]] = {}
    files["activity"] = _write(outdir / "activity.csv", heads["activity"],
                               _activity(spec, rng, reps, leave, call_days), spec,
                               enc["activity"])
    files["leave"] = _write(outdir / "leave.csv", heads["leave"],
                            ((k, a, b) for k, (a, b) in leave.items()), spec, enc["leave"])
    if spec.call_days > 0:
        files["calls"] = _write(outdir / "calls.csv", heads["calls"],
                                _calls(spec, rng, reps, call_days), spec, enc["calls"])
    planted = {r.plant: r.id for r in reps if r.plant and r.plant != "weak_team"}
    truth = {
        "seed": spec.seed, "end": spec.end.isoformat(), "reps": spec.reps, "days": spec.days,
        "leads": spec.leads,
        "planted": planted,
        "weak_team": weak_team,
        "clean": sorted(r.id for r in reps if not r.plant),
        "levels": {r.id: r.level for r in reps},
        "rates": {r.id: [round(x, 4) for x in r.rates] for r in reps},
    }
    (outdir / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    return files


def rules_for(files: dict[str, Path], chinese: bool, data_dir: str = ".") -> dict:
    """A rules.toml (as a dict) that reads the generated files."""
    heads = HEADERS_ZH if chinese else HEADERS_EN
    data: dict[str, object] = {"dir": data_dir, "encoding": "auto"}
    for name in ("reps", "leads", "activity", "leave", "calls"):
        if name not in files:
            continue
        cols = {f: h for f, h in zip(FIELDS[name], heads[name]) if f != h}
        table: dict[str, object] = {"file": files[name].name}
        if cols:
            table["columns"] = cols
        data[name] = table
    return {
        "data": data,
        "goals": {"period": "quarter", "split": "even", "funnel": "personal",
                  "levels": {lvl: {"revenue": amt} for lvl, amt in LEVEL_TARGETS.items()},
                  **({"calendar": {"country": "CN"}} if chinese else {})},
        "allocation": {"rules": [{"name": "all leads", "policy": "balanced"}],
                       "recycle": {"after_days": 7}},
        "checks": {name: {} for name in ("behind-pace", "effort-without-results",
                                         "vanity-activity", "zero-streak", "team-execution",
                                         "data-gaps", "goal-raise")},
        "output": {"dir": "out"},
    }


# ---------------------------------------------------------------- deal exports

DEAL_OPEN_STAGES = {
    "salesforce": ["Needs Analysis", "Value Proposition", "Proposal/Price Quote",
                   "Negotiation/Review"],
    "hubspot": ["Presentation Scheduled", "Decision Maker Bought-In", "Contract Sent"],
    "generic": ["Proposal"],
}
DEAL_FIRST = {"salesforce": "Prospecting", "hubspot": "Appointment Scheduled", "generic": "New"}
DEAL_WON = {"salesforce": "Closed Won", "hubspot": "Closed Won", "generic": "Won"}
DEAL_LOST = {"salesforce": "Closed Lost", "hubspot": "Closed Lost", "generic": "Lost"}


def _deal_date(preset: str, d: dt.date | dt.datetime | None) -> str:
    if d is None:
        return ""
    if preset == "salesforce":
        return d.strftime("%m/%d/%Y")
    if preset == "hubspot" and isinstance(d, dt.datetime):
        return d.strftime("%Y-%m-%d %H:%M")
    return d.strftime("%Y-%m-%d") if not isinstance(d, dt.datetime) else d.strftime(
        "%Y-%m-%d %H:%M")


def _deal_amount(preset: str, x: float) -> str:
    return f"${x:,.2f}" if preset == "salesforce" else f"{x:.2f}"


def generate_deals(outdir: Path, spec: SampleSpec, preset: str) -> dict[str, Path]:
    """A deal (opportunity) export in a preset's format, with its reps file.

    Every intent customer of the simulated reps becomes a deal on its day;
    deals are won (at the win rate), lost or still open by ``spec.end``.
    ``spec.leads`` open deals nobody owns yet are the leads to allocate.
    """
    from ..load.deals import PRESETS

    outdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(spec.seed)
    reps, _ = _make_reps(spec, rng)
    calls: dict = {}
    head = PRESETS[preset]
    extra_cols = {"salesforce": ["Opportunity Name", "Lead Source"],
                  "hubspot": ["Deal Name", "Pipeline"], "generic": ["name", "source"]}[preset]
    header = [head[f] for f in ("id", "owner", "stage", "amount", "created_at", "close_date")]
    header += extra_cols
    owner_of = {r.id: (r.id if preset == "generic" else r.name) for r in reps}
    rows = []
    n = 0
    for day, rep_id, *_ , intents, pipeline, revenue in _activity(
            spec, rng, reps, {}, calls):
        rep = next(r for r in reps if r.id == rep_id) if intents else None
        for _ in range(int(intents)):
            n += 1
            amount = round(rep.arpu * math.exp(rng.gauss(0, 0.25)), 2)
            created = dt.datetime.combine(day, dt.time(9)) + dt.timedelta(
                minutes=rng.randrange(0, 540))
            roll = rng.random()
            close = day + dt.timedelta(days=rng.randrange(3, 35))
            # won often enough that a healthy rep's deals reach their level target
            # (a rate measured by date loses the deals still closing at the window's end)
            if roll < 0.38 and close <= spec.end:
                stage, closed = DEAL_WON[preset], close
            elif roll > 0.45 and close <= spec.end:
                stage, closed = DEAL_LOST[preset], close
            else:
                stage, closed = rng.choice(DEAL_OPEN_STAGES[preset]), None
            rows.append([f"D{n:07d}", owner_of[rep_id], stage, _deal_amount(preset, amount),
                         _deal_date(preset, created), _deal_date(preset, closed),
                         f"Deal {n}", rng.choice(["Web", "Referral", "Partner"])])
    for i in range(spec.leads):
        n += 1
        created = dt.datetime.combine(spec.end, dt.time(0)) - dt.timedelta(
            minutes=rng.randrange(1, 3 * 24 * 60))
        amount = round(3000 * math.exp(rng.gauss(0, 0.4)), 2)
        rows.append([f"D{n:07d}", "", DEAL_FIRST[preset], _deal_amount(preset, amount),
                     _deal_date(preset, created), "", f"Deal {n}",
                     rng.choice(["Web", "Referral", "Partner"])])
    files = {}
    with (outdir / "deals.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    files["deals"] = outdir / "deals.csv"
    with (outdir / "reps.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["rep_id", "name", "team", "level", "active", "capacity"])
        for r in reps:
            w.writerow([r.id, r.name, r.team, r.level, "yes" if r.active else "no", r.capacity])
    files["reps"] = outdir / "reps.csv"
    return files


def deal_rules_for(preset: str) -> dict:
    """A rules.toml (as a dict) for a deal export: a deals funnel, the preset, leads from it."""
    first = DEAL_FIRST[preset]
    return {
        "data": {"dir": ".", "reps": {"file": "reps.csv", "columns": {"id": "rep_id"}},
                 "deals": {"file": "deals.csv", "params": {
                     "preset": preset,
                     "leads_when": f"stage == '{first}' and owner == ''"}}},
        "funnel": {"stages": [
            {"name": "intents", "label": "意向客户", "unit": "count", "kind": "process"},
            {"name": "pipeline", "label": "储备金额", "unit": "amount", "default_rate": 3000.0},
            {"name": "revenue", "label": "业绩", "unit": "amount", "default_rate": 0.33}]},
        "goals": {"period": "quarter", "split": "even", "funnel": "personal",
                  "levels": {lvl: {"revenue": amt} for lvl, amt in LEVEL_TARGETS.items()}},
        "allocation": {"rules": [{"name": "open deals", "policy": "balanced"}]},
        "checks": {"behind-pace": {}, "team-execution": {}, "goal-raise": {}},
        "output": {"dir": "out"},
    }
