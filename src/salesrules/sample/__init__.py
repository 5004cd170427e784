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

LEVELS = {"P1": 55.0, "P2": 70.0, "P3": 85.0}
LEVEL_TARGETS = {"P1": 60000, "P2": 90000, "P3": 120000}
GRADE_VALUE = {"A": 6000.0, "B": 3000.0, "C": 1200.0}
WEEKDAY_FACTOR = (1.10, 1.05, 1.0, 0.98, 0.87, 0.0, 0.0)
MONTH_FACTOR = (0.8, 0.7, 1.0, 1.0, 1.05, 1.0, 0.95, 0.95, 1.1, 1.0, 1.15, 1.2)

HEADERS_EN = {
    "reps": ("rep_id", "name", "team", "level", "active", "capacity", "hired"),
    "leads": ("lead_id", "created_at", "owner", "priority", "value", "source", "region",
              "grade", "phone", "email", "assigned_at", "last_contact"),
    "activity": ("date", "rep_id", "dials", "connects", "conversations", "intents",
                 "pipeline", "revenue"),
    "leave": ("rep_id", "start", "end"),
}
HEADERS_ZH = {
    "reps": ("销售编号", "姓名", "团队", "职级", "在职", "日容量", "入职日期"),
    "leads": ("线索编号", "创建时间", "负责人", "优先级", "价值", "来源", "区域", "等级",
              "电话", "邮箱", "分配日期", "最近跟进"),
    "activity": ("日期", "销售编号", "外呼", "接通", "深入沟通", "意向客户", "储备金额", "业绩"),
    "leave": ("销售编号", "开始日期", "结束日期"),
}
#: Our field name for each column, in header order, per file.
FIELDS = {
    "reps": ("id", "name", "team", "level", "active", "capacity", "hired"),
    "leads": ("id", "created_at", "owner", "priority", "value", "source", "region", "grade",
              "phone", "email", "assigned_at", "last_contact"),
    "activity": ("date", "rep_id", "dials", "connects", "conversations", "intents",
                 "pipeline", "revenue"),
    "leave": ("rep_id", "start", "end"),
}


@attrs.frozen
class SampleSpec:
    """What to generate."""

    reps: int = 40
    days: int = 120
    leads: int = 300
    seed: int = 7
    end: dt.date = dt.date(2026, 11, 25)
    chinese: bool = False
    format: str = "csv"


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


def _make_reps(spec: SampleSpec, rng: random.Random) -> list[_Rep]:
    n_teams = max(1, min(len(TEAMS_EN), math.ceil(spec.reps / 7)))
    teams = (TEAMS_ZH if spec.chinese else TEAMS_EN)[:n_teams]
    team_rates = {t: [0.35 * rng.uniform(0.9, 1.1), 0.30 * rng.uniform(0.85, 1.15),
                      0.25 * rng.uniform(0.85, 1.15)] for t in teams}
    team_arpu = {t: 3000 * rng.uniform(0.9, 1.1) for t in teams}
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
        reps.append(_Rep(
            f"R{i + 1:04d}", name, team, level, True, rng.choice((8, 10, 12, 15)),
            spec.end - dt.timedelta(days=rng.randrange(200, 1500)),
            math.exp(rng.gauss(0, 0.12)), rates,
            team_arpu[team] * math.exp(rng.gauss(0, 0.1))))
    # planted behaviours, on distinct reps, spread over teams
    plants = ["star", "effort_no_results", "short_calls", "on_leave", "inactive", "behind"]
    for k, plant in enumerate(plants[: max(0, spec.reps - 1)]):
        rep = reps[(k * 5 + 3) % spec.reps]
        if rep.plant:
            continue
        rep.plant = plant
        if plant == "star":
            rep.rates = [r * 1.15 for r in rep.rates]
            rep.arpu *= 1.6
            rep.effort *= 1.2
        elif plant == "inactive":
            rep.active = False
        elif plant == "behind":
            rep.effort *= 0.55
    return reps


def _calendar(spec: SampleSpec):
    """Chinese samples follow China's public holidays and make-up workdays (调休)."""
    if not spec.chinese:
        return None
    import holidays

    start = spec.end - dt.timedelta(days=spec.days - 1)
    return holidays.country_holidays("CN", years=range(start.year, spec.end.year + 1))


def _activity(spec: SampleSpec, rng: random.Random, reps: list[_Rep],
              leave: dict[str, tuple[dt.date, dt.date]]) -> Iterable[tuple]:
    start = spec.end - dt.timedelta(days=spec.days - 1)
    quarter_start = dt.date(spec.end.year, (spec.end.month - 1) // 3 * 3 + 1, 1)
    cal = _calendar(spec)
    day = start
    while day <= spec.end:
        wd = WEEKDAY_FACTOR[day.weekday()]
        if cal is not None:
            if day in cal.weekend_workdays:
                wd = WEEKDAY_FACTOR[0]
            elif day in cal:
                wd = 0.0
        if wd:
            season = MONTH_FACTOR[day.month - 1]
            for rep in reps:
                if rep.id in leave and leave[rep.id][0] <= day <= leave[rep.id][1]:
                    continue
                if not rep.active and day > spec.end - dt.timedelta(days=30):
                    continue
                dials = _poisson(rng, LEVELS[rep.level] * rep.effort * wd * season)
                r_conn, r_conv, r_int = rep.rates
                if rep.plant == "short_calls":
                    r_conn, r_conv = min(r_conn * 2.0, 0.9), r_conv * 0.3
                connects = _binom(rng, dials, r_conn)
                convs = _binom(rng, connects, r_conv)
                if rep.plant == "effort_no_results" and day >= quarter_start:
                    dials = round(dials * 1.3)
                    connects = _binom(rng, dials, r_conn)
                    convs = _binom(rng, connects, r_conv)
                    intents = 0
                else:
                    intents = _binom(rng, convs, r_int)
                pipeline = round(sum(rep.arpu * math.exp(rng.gauss(0, 0.25))
                                     for _ in range(intents)), 2)
                wins = _poisson(rng, intents * 0.33)
                revenue = round(sum(rep.arpu * math.exp(rng.gauss(0, 0.3))
                                    for _ in range(wins)), 2)
                yield (day, rep.id, dials, connects, convs, intents, pipeline, revenue)
        day += dt.timedelta(days=1)


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
    """Write reps, leads, activity and leave files, plus ``truth.json`` naming the planted reps."""
    outdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(spec.seed)
    reps = _make_reps(spec, rng)
    heads = HEADERS_ZH if spec.chinese else HEADERS_EN
    enc = {"reps": "utf-8-sig", "leads": "utf-8", "activity": "utf-8", "leave": "utf-8"}
    if spec.chinese:
        enc = dict.fromkeys(enc, "gb18030")
    leave: dict[str, tuple[dt.date, dt.date]] = {}
    for rep in reps:
        if rep.plant == "on_leave":
            d, n = spec.end, 0
            while n < 8:
                if d.weekday() < 5:
                    n += 1
                d -= dt.timedelta(days=1)
            leave[rep.id] = (d + dt.timedelta(days=1), spec.end)
    files = {}
    files["reps"] = _write(outdir / "reps.csv", heads["reps"], (
        (r.id, r.name, r.team, r.level, r.active, r.capacity, r.hired) for r in reps),
        spec, enc["reps"])
    files["leads"] = _write(outdir / "leads.csv", heads["leads"], _leads(spec, rng, reps),
                            spec, enc["leads"])
    files["activity"] = _write(outdir / "activity.csv", heads["activity"],
                               _activity(spec, rng, reps, leave), spec, enc["activity"])
    files["leave"] = _write(outdir / "leave.csv", heads["leave"],
                            ((k, a, b) for k, (a, b) in leave.items()), spec, enc["leave"])
    truth = {
        "seed": spec.seed, "end": spec.end.isoformat(), "reps": spec.reps, "days": spec.days,
        "leads": spec.leads,
        "planted": {r.plant: r.id for r in reps if r.plant},
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
    for name in ("reps", "leads", "activity", "leave"):
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
        "checks": {"behind-pace": {}},
        "output": {"dir": "out"},
    }
