"""Several quarters of history with planted truth a backtest can recover.

``SampleSpec(quarters=N)`` makes the export cover the ``N`` full quarters before
the one holding ``end`` (plus that one up to ``end``, and 91 days before the
first, so the first quarter's goals have history to be set from), and plants:

- reps whose funnel rates really differ: each rep's rates are spread a further
  ``RATE_SPREAD`` (log-normal) around their team's, so a rep's own rate
  predicts them better than one standard for everyone;
- reps who really fall behind in mid-quarter: in every quarter a few healthy
  reps work ``SLUMP`` of their usual effort from day ``SLUMP_FROM`` of the
  quarter to its end (``truth.json``'s ``slumps``), and miss their target; in
  every second past quarter a whole team does (``team_slumps``, its reps'
  spans in ``slumps`` too);
- lead outcomes that depend on the rep: leads created over the whole history,
  each assigned the next day to a rep and won with a probability that follows
  the rep's own rates, for an amount around the rep's deal size.

Healthy reps get more headroom over their target than in the default sample
(``HEADROOM``), so that a missed quarter is mostly a planted one; the reps with
the default sample's plants get it too before the quarter holding ``end`` (their
plants play in that quarter), so they are not marginal reps in every past one.
A slump starts in week 4 (``SLUMP_FROM``) so that by mid-quarter the slumped
reps are really behind (about 25% of their pace at week 7).
"""

from __future__ import annotations

import datetime as dt
import math
import random

from .world import WIN_RATE, SampleSpec, _quarter, _Rep

RATE_SPREAD = 0.2
SLUMP = 0.3
SLUMP_FROM = 21
SLUMP_SHARE = 0.2
HEADROOM = 1.25
#: Historical leads per rep per week.
LEADS_PER_REP_WEEK = 1.5
#: The outcome columns history leads carry (after the usual lead columns).
OUTCOME_HEADERS_EN = ("outcome", "amount")
OUTCOME_HEADERS_ZH = ("结果", "成交金额")
OUTCOMES_EN = ("won", "lost", "open")
OUTCOMES_ZH = ("赢单", "输单", "跟进中")


def quarter_starts(end: dt.date, quarters: int) -> list[dt.date]:
    """The first days of the ``quarters`` quarters before ``end``'s and of ``end``'s own."""
    starts = [_quarter(end).start]
    for _ in range(quarters):
        starts.insert(0, _quarter(starts[0] - dt.timedelta(days=1)).start)
    return starts


def history_days(end: dt.date, quarters: int) -> int:
    """Days of activity a ``quarters``-quarter history ending on ``end`` covers."""
    first = quarter_starts(end, quarters)[0] - dt.timedelta(days=91)
    return (end - first).days + 1


def spread_reps(spec: SampleSpec, reps: list[_Rep]) -> None:
    """Spread the reps' rates further apart, and give them the effort (with more headroom)
    that still reaches their target."""
    rng = random.Random(spec.seed * 7919 + 17)
    for rep in reps:
        if rep.plant and rep.plant != "star":
            # the default plants keep their own story in the quarter holding ``end``; before
            # it they work as the healthy reps do, with the same headroom
            rep.past_factor = HEADROOM
            continue
        before = math.prod(rep.rates)
        rep.rates = [min(r * math.exp(rng.gauss(0, RATE_SPREAD)), 0.9) for r in rep.rates]
        rep.effort *= before / math.prod(rep.rates) * HEADROOM


def plan_slumps(spec: SampleSpec, reps: list[_Rep]) -> dict[str, list[tuple[dt.date, dt.date]]]:
    """Per rep, the spans in which they fall behind: ``SLUMP_SHARE`` of the healthy reps in
    each quarter (the quarter holding ``end`` included), from day ``SLUMP_FROM`` to its end."""
    rng = random.Random(spec.seed * 104729 + 3)
    healthy = [r for r in reps if not r.plant and r.active]
    n = max(1, round(len(healthy) * SLUMP_SHARE)) if healthy else 0
    out: dict[str, list[tuple[dt.date, dt.date]]] = {}
    for q0 in quarter_starts(spec.end, spec.quarters):
        q_end = _quarter(q0).end
        for rep in sorted(rng.sample(healthy, n), key=lambda r: r.id):
            out.setdefault(rep.id, []).append((q0 + dt.timedelta(days=SLUMP_FROM), q_end))
    for q, team in team_slumps(spec, reps).items():
        q0 = dt.date.fromisoformat(q)
        span = (q0 + dt.timedelta(days=SLUMP_FROM), _quarter(q0).end)
        for rep in reps:
            if rep.team == team and rep.active and span not in out.get(rep.id, []):
                out.setdefault(rep.id, []).append(span)
    return {rep_id: sorted(spans) for rep_id, spans in out.items()}


def team_slumps(spec: SampleSpec, reps: list[_Rep]) -> dict[str, str]:
    """Quarter start -> the team all of whose reps fall behind in it (as a slumped rep does):
    every second past quarter, one team in turn (the weak team plays its own part)."""
    teams = sorted({r.team for r in reps if r.plant != "weak_team"})
    starts = quarter_starts(spec.end, spec.quarters)[:-1]
    return {q.isoformat(): teams[k // 2 % len(teams)] for k, q in enumerate(starts)
            if k % 2 == 1 and teams}


def win_probability(rep: _Rep) -> float:
    """A lead's chance to be won by ``rep``: their conversation and intent rates, as a share
    of the company's usual ones, times the usual win rate."""
    return min(0.95, WIN_RATE * 2.2 * rep.rates[1] * rep.rates[2] / (0.30 * 0.25))


def history_leads(spec: SampleSpec, rng: random.Random, reps: list[_Rep],
                  first: int) -> list[tuple]:
    """Leads created over the history, each assigned the next day to an active rep and
    carrying its outcome: won (with an amount), lost, or still open at ``end``."""
    from .world import GRADE_VALUE, REGIONS_EN, REGIONS_ZH, SOURCES_EN, SOURCES_ZH

    regions = REGIONS_ZH if spec.chinese else REGIONS_EN
    sources = SOURCES_ZH if spec.chinese else SOURCES_EN
    names = OUTCOMES_ZH if spec.chinese else OUTCOMES_EN
    active = [r for r in reps if r.active]
    start = spec.end - dt.timedelta(days=spec.days - 1)
    weeks = max(1, (spec.end - start).days // 7)
    n = round(LEADS_PER_REP_WEEK * len(active) * weeks) if active else 0
    out = []
    for k in range(n):
        created = dt.datetime.combine(start, dt.time(9)) + dt.timedelta(
            minutes=rng.randrange(0, (spec.end - start).days * 24 * 60 - 60 * 24 * 4))
        rep = active[rng.randrange(len(active))]
        grade = rng.choices("ABC", weights=(2, 5, 3))[0]
        value = round(GRADE_VALUE[grade] * math.exp(rng.gauss(0, 0.3)), 2)
        assigned = created.date() + dt.timedelta(days=1)
        contact = assigned + dt.timedelta(days=rng.randrange(0, 4))
        closes = assigned + dt.timedelta(days=rng.randrange(7, 45))
        if closes > spec.end:
            outcome, amount = names[2], ""
        elif rng.random() < win_probability(rep):
            outcome = names[0]
            amount = f"{rep.arpu * math.exp(rng.gauss(0, 0.25)):.2f}"
        else:
            outcome, amount = names[1], ""
        i = first + k
        out.append((f"L{i:06d}", created, rep.id, {"A": 2, "B": 1, "C": 0}[grade], value,
                     rng.choice(sources), rng.choice(regions), grade,
                     f"1{rng.randrange(30, 90)}{rng.randrange(10**8):08d}",
                     f"lead{i}@example.com", assigned, min(contact, spec.end), outcome, amount))
    out.sort(key=lambda row: row[1])
    return out


def truth_of(spec: SampleSpec, slumps: dict[str, list[tuple[dt.date, dt.date]]],
             reps: list[_Rep]) -> dict:
    """What ``truth.json`` adds for a history sample."""
    return {
        "quarters": [q.isoformat() for q in quarter_starts(spec.end, spec.quarters)],
        "team_slumps": team_slumps(spec, reps),
        "slumps": {rep_id: [[a.isoformat(), b.isoformat()] for a, b in spans]
                   for rep_id, spans in sorted(slumps.items())},
        "slump_effort": SLUMP,
        "rate_spread": RATE_SPREAD,
    }
