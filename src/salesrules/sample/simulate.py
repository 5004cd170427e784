"""What the simulated reps do: daily activity, call logs and new leads."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterable

from .history import SLUMP
from .world import (
    GRADE_VALUE,
    MONTH_FACTOR,
    NEWCOMERS,
    REGIONS_EN,
    REGIONS_ZH,
    SOURCES_EN,
    SOURCES_ZH,
    WIN_RATE,
    SampleSpec,
    _binom,
    _calendar,
    _last_working_days,
    _poisson,
    _quarter,
    _Rep,
    _working,
)


def _activity(spec: SampleSpec, rng: random.Random, reps: list[_Rep],
              leave: dict[str, tuple[dt.date, dt.date]],
              calls: dict[tuple[str, dt.date], tuple[int, int]],
              bad: list[tuple[str, dt.date]] | None = None,
              slumps: dict[str, list[tuple[dt.date, dt.date]]] | None = None
              ) -> Iterable[tuple]:
    """Daily rows per rep; the rep-days of the call window are also kept in ``calls``, and
    the planted rows that contradict themselves in ``bad``. A rep works ``SLUMP`` of
    their effort on the days of their ``slumps`` (a history sample's plants)."""
    start = spec.end - dt.timedelta(days=spec.days - 1)
    q_start = _quarter(spec.end).start
    cal = _calendar(spec)
    streak = set(_last_working_days(spec.end, 10, cal))
    gap = set(_last_working_days(spec.end - dt.timedelta(days=7), 3, cal))
    call_from = spec.end - dt.timedelta(days=spec.call_days - 1)
    # before the call window: a call log's dials and connects replace the sheet's
    typos = set(_last_working_days(spec.end - dt.timedelta(days=spec.call_days + 7), 2, cal))
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
                effort = _effort(rep, day, in_q, slumps)
                dials = _poisson(rng, effort * wd * season)
                r_conn, r_conv, r_int = rep.rates
                if rep.plant == "short_calls":
                    r_conn, r_conv = min(r_conn * 2.0, 0.9), r_conv * 0.3
                if rep.plant == "low_conversion" and in_q:
                    r_conv, r_int = r_conv * 0.6, r_int * 0.6  # the same work, fewer results
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
                if rep.plant in NEWCOMERS and day < rep.hired:
                    continue  # drawn and left out: the rows of everyone else stay the same
                if day >= call_from:
                    calls[(rep.id, day)] = (dials, connects)
                if rep.plant == "bad_rows" and day in typos:
                    connects = max(connects * 10, dials + 1)  # a typo: an extra digit
                    if bad is not None:
                        bad.append((rep.id, day))
                yield (day, rep.id, dials, connects, convs, intents, pipeline, revenue)
        day += dt.timedelta(days=1)


def _effort(rep: _Rep, day: dt.date, in_q: bool,
            slumps: dict[str, list[tuple[dt.date, dt.date]]] | None) -> float:
    """The rep's dials per unit of day factor on ``day``, their plants and slumps applied."""
    effort = rep.effort if in_q else rep.effort * rep.past_factor
    if in_q and rep.plant == "behind":
        effort *= 0.55
    elif in_q and rep.plant == "weak_team":
        effort *= 0.75
    elif in_q and rep.plant == "effort_no_results":
        effort *= 1.3
    if slumps and any(a <= day <= b for a, b in slumps.get(rep.id, ())):
        effort *= SLUMP
    return effort


def _calls(spec: SampleSpec, rng: random.Random, reps: list[_Rep],
           days: dict[tuple[str, dt.date], tuple[int, int]]) -> Iterable[tuple]:
    """One row per call: the dials and connects of each rep-day in the call window."""
    short = {r.id for r in reps if r.plant == "short_calls"}
    other = ("no answer", "busy", "voicemail") if not spec.chinese else ("未接", "占线", "语音信箱")
    connected = "connected" if not spec.chinese else "接通"
    by_day = sorted(days.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    for (rep_id, day), (dials, connects) in by_day:
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
        assigned: dt.date | str = ""
        contact: dt.date | str = ""
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
