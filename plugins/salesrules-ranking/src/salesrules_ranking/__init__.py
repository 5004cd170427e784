"""Ranking-priority allocation: reps ranked by a comprehensive
assessment (综合考核) are served first and get more.

A team's reps are scored on weighted metrics over a look-back window, each
normalised within the team. Reps are ranked; tiers by rank percentile carry
quota multipliers. A ``base_share`` of every batch is shared equally (一视同仁)
and the rest by merit (区别对待). Leads, best first, are dealt in rank order, with
each rep's share spread over the whole batch: the top-ranked reps get first pick,
and a higher rank never ends with worse leads on average.
"""

from __future__ import annotations

import datetime as dt
from collections import deque

import attrs

from salesrules.api import (
    AllocationBatch,
    AllocationContext,
    Funnel,
    Policy,
    RepSlot,
    hookimpl,
    largest_remainder,
)

__version__ = "0.1.0"
SALESRULES_CONTRACT = "2.0"

#: Metrics besides the funnel's own stage names.
DERIVED_METRICS = ("conversion", "attainment", "process")


@attrs.define
class Tier:
    """A band of the ranking: reps whose rank percentile is at most ``upto`` (0.2 = top 20%)."""

    name: str
    upto: float = attrs.field(validator=[attrs.validators.gt(0), attrs.validators.le(1)])
    multiplier: float = attrs.field(validator=attrs.validators.ge(0))


def _default_tiers() -> list[Tier]:
    return [Tier("top", 0.2, 1.5), Tier("middle", 0.8, 1.0), Tier("bottom", 1.0, 0.7)]


def _check_tiers(instance: object, attribute: attrs.Attribute, tiers: list[Tier]) -> None:
    if not tiers:
        raise ValueError("'tiers' must name at least one tier")
    bounds = [t.upto for t in tiers]
    if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
        raise ValueError("'tiers' must be ordered by 'upto', each higher than the last")
    if bounds[-1] != 1.0:
        raise ValueError("'tiers' must end with upto = 1.0 so that every rep is in a tier")


@attrs.define
class RankingParams:
    """Params of ``ranking-priority``.

    ``metrics`` maps a metric to its weight. A metric is a funnel stage (its
    total in the window, e.g. ``revenue``), ``conversion`` (with a deals export,
    the win rate of the deals closed in the window, won ÷ (won + lost), so open
    deals never count as losses; otherwise the last count stage over the first,
    e.g. intents per dial), ``attainment`` (result-stage
    actual over expected to date) or ``process`` (the same, averaged over the
    process stages).
    """

    #: Days of activity the assessment looks back over.
    lookback_days: int = attrs.field(default=30, validator=attrs.validators.ge(1))
    #: Metric -> weight in the comprehensive score.
    metrics: dict[str, float] = attrs.Factory(
        lambda: {"revenue": 0.5, "conversion": 0.3, "process": 0.2})
    #: Rank bands with their quota multipliers, best first.
    tiers: list[Tier] = attrs.field(factory=_default_tiers, validator=_check_tiers)
    #: Fraction of each batch shared equally; the rest goes by tier multiplier.
    base_share: float = attrs.field(
        default=0.3, validator=[attrs.validators.ge(0), attrs.validators.le(1)])


@attrs.frozen
class Standing:
    """One rep's place in their team's ranking."""

    rep_id: str
    team: str
    rank: int
    of: int
    score: float
    tier: Tier
    #: The figures behind the score, for the reasons (e.g. "conversion 12/30 closed won").
    figures: str = ""


class RankingPriority(Policy):
    """Top-ranked reps first and more (综合考核 →
    区别对待), with a base share for all (一视同仁)."""

    name = "ranking-priority"
    Params = RankingParams
    words = {
        "name": {"en": "ranking-priority", "zh": "综合考核优先"},
        "metric": {"en": "{metric} {value:,.0f}", "zh": "{metric:stage} {value:,.0f}"},
        "won": {"en": "conversion {won}/{closed} closed won",
                "zh": "赢单率 {won}/{closed}（已关闭商机）"},
        "conversion": {"en": "conversion {low:,.0f}/{up:,.0f} {last}/{first}",
                       "zh": "转化 {low:,.0f}/{up:,.0f}（{last:stage}/{first:stage}）"},
        "list-sep": {"en": ", ", "zh": "，"},
        "all-full": {"en": "every eligible rep is at their daily capacity",
                     "zh": "所有可分配的销售今日都已满额"},
        "no-rep": {"en": "no active rep is eligible", "zh": "没有可分配的在职销售"},
        "recycled-only": {"en": "the only reps with room are the ones it was recycled from",
                          "zh": "还有余量的只有该线索被回收前的负责人"},
        "why": {"en": "rank {rank}/{of} in {team} (score {score:.2f}: {figures}; {tier} tier "
                      "×{multiplier:g}), {share}; {cap}",
                "zh": "综合考核 {team} 第 {rank}/{of} 名（得分 {score:.2f}：{figures}；"
                      "{tier}档 ×{multiplier:g}），{share}；{cap}"},
        "tier.top": {"en": "top", "zh": "头部"},
        "tier.middle": {"en": "middle", "zh": "中间"},
        "tier.bottom": {"en": "bottom", "zh": "尾部"},
        "beyond": {"en": "beyond its share, as others are full", "zh": "超出份额（其他人已满额）"},
        "capped": {"en": "lead {n}, share {share}, capped at {cap} today",
                   "zh": "第 {n} 条，份额 {share}，今日上限 {cap}"},
        "share": {"en": "lead {n} of a share of {share}", "zh": "份额 {share} 条中的第 {n} 条"},
    }

    def validate(self, funnel: Funnel) -> list[tuple[str, str]]:
        known = set(funnel.names) | set(DERIVED_METRICS)
        out = [("metrics", f"unknown metric {m!r} (use a funnel stage or one of "
                           f"{', '.join(DERIVED_METRICS)})")
               for m in self.params.metrics if m not in known]
        out += [("metrics", f"weight of {m!r} cannot be negative")
                for m, w in self.params.metrics.items() if w < 0]
        if not out and not any(w > 0 for w in self.params.metrics.values()):
            out.append(("metrics", "at least one metric needs a weight above 0"))
        return out

    # ------------------------------------------------------------ assessment

    def standings(self, context: AllocationContext, team: str) -> dict[str, Standing]:
        """The team's ranking; computed once per team per run and kept in the run's cache."""
        key = ("ranking-priority", id(self), team)
        hit = context.cache.get(key)
        if hit is None:
            hit = context.cache[key] = self._rank(context, team)
        return hit

    def _rank(self, context: AllocationContext, team: str) -> dict[str, Standing]:
        ds = context.dataset
        reps = [r for r in ds.reps.values() if r.team == team and r.active]
        if not reps:
            return {}
        funnel = ds.funnel
        start = context.as_of - dt.timedelta(days=self.params.lookback_days - 1)
        names = funnel.names
        first = names[0]
        last_count = [s.name for s in funnel.stages if s.unit == "count"][-1]
        result_stage = funnel.result.name
        pace: dict[tuple[str, str], float] = {}
        for row in context.progress:
            if row.expected_to_date:
                pace[(row.rep_id, row.stage)] = min(row.actual / row.expected_to_date, 2.0)
        closed = ds.closed_counts([r.id for r in reps], start, context.as_of)  # deals export
        raw: dict[str, dict[str, float]] = {}
        shown: dict[str, list[str]] = {}
        for k, rep in enumerate(reps):
            totals = dict(zip(names, ds.activity.totals(rep.id, start, context.as_of)))
            values = {}
            shown[rep.id] = []
            for metric in self.params.metrics:
                if metric in totals:
                    values[metric] = totals[metric]
                    shown[rep.id].append(self.say("metric", metric=metric,
                                                  value=totals[metric]))
                elif metric == "conversion" and closed is not None:
                    won, n = closed.won[k], closed.closed[k]
                    values[metric] = won / n if n else 0.0
                    shown[rep.id].append(self.say("won", won=won, closed=n))
                elif metric == "conversion":
                    values[metric] = (totals[last_count] / totals[first]) if totals[first] else 0.0
                    shown[rep.id].append(self.say("conversion", low=totals[last_count],
                                                  up=totals[first], last=last_count,
                                                  first=first))
                elif metric == "attainment":
                    values[metric] = pace.get((rep.id, result_stage), 0.0)
                else:  # process
                    process = [pace.get((rep.id, s), 0.0) for s in names if s != result_stage]
                    values[metric] = sum(process) / len(process) if process else 0.0
            raw[rep.id] = values
        weights = {m: w for m, w in self.params.metrics.items() if w > 0}
        total_w = sum(weights.values())
        score = {rep.id: 0.0 for rep in reps}
        for metric, w in weights.items():
            col = [raw[r.id][metric] for r in reps]
            lo, hi = min(col), max(col)
            for rep in reps:  # normalised within the team: best 1, worst 0
                norm = (raw[rep.id][metric] - lo) / (hi - lo) if hi > lo else 0.5
                score[rep.id] += w * norm / total_w
        order = sorted(reps, key=lambda r: (-round(score[r.id], 12), r.id))
        n = len(order)
        out = {}
        for rank, rep in enumerate(order, start=1):
            tier = next(t for t in self.params.tiers if rank / n <= t.upto + 1e-12)
            out[rep.id] = Standing(rep.id, team, rank, n, score[rep.id], tier,
                                   self.say("list-sep").join(shown[rep.id]))
        return out

    # ------------------------------------------------------------ allocation

    def allocate(self, batch: AllocationBatch) -> None:
        if batch.context is None:
            raise ValueError("ranking-priority needs the run context (salesrules >= 0.1)")
        slots = [s for s in batch.reps if not s.full]
        if not slots:
            batch.skip_rest(self.say("all-full") if batch.reps else self.say("no-rep"))
            return
        standing = {}
        for team in sorted({s.rep.team for s in slots}):
            standing.update(self.standings(batch.context, team))
        # best tier first, then best rank, then best score, across the teams of the batch
        slots.sort(key=lambda s: (-standing[s.rep.id].tier.multiplier,
                                  standing[s.rep.id].rank / standing[s.rep.id].of,
                                  -standing[s.rep.id].score, s.rep.id))
        n, m = len(batch.leads), len(slots)
        base = self.params.base_share
        mult_sum = sum(standing[s.rep.id].tier.multiplier for s in slots)
        shares = [base / m + ((1 - base) * standing[s.rep.id].tier.multiplier / mult_sum
                              if mult_sum else (1 - base) / m) for s in slots]
        quota = largest_remainder(n, shares)
        share_of = {s.rep.id: q for s, q in zip(slots, quota)}
        room = {s.rep.id: s.remaining for s in slots}  # before this batch
        deal = _Dealer(slots, [q if r is None else min(q, r)
                               for q, r in zip(quota, room.values())])
        extra = deque(slots)  # after the shares: anyone with room, in rank order
        say_why = self.sayer("why")  # said once per lead: looked up once per batch
        tiers = {t.name: self.say(f"tier.{t.name}") if f"tier.{t.name}" in self.words else t.name
                 for t in self.params.tiers}
        for lead in batch.leads:
            slot = deal.next(batch, lead)
            if slot is None:
                slot = self._next(batch, lead, extra)
            if slot is None:
                if all(s.full for s in slots):
                    batch.skip_rest(self.say("all-full"))
                    return
                batch.skip(lead, self.say("recycled-only"))
                continue
            st = standing[slot.rep.id]
            q = share_of[slot.rep.id]
            given = deal.given[slot.rep.id]
            batch.assign(lead, slot, say_why(
                rank=st.rank, of=st.of, team=st.team, score=st.score,
                figures=st.figures, tier=tiers[st.tier.name], multiplier=st.tier.multiplier,
                share=_share_text(self, given, q, room[slot.rep.id], slot),
                cap=slot.cap_text()))
            deal.given[slot.rep.id] += 1

    @staticmethod
    def _next(batch: AllocationBatch, lead, queue: deque) -> RepSlot | None:
        """The next rep in rank order with room (beyond the shares, when others are full)."""
        for _ in range(len(queue)):
            slot = queue.popleft()
            if slot.full:
                continue  # drops out of the rotation
            queue.append(slot)  # back of the round: the next lead starts after this rep
            if batch.allowed(lead, slot):
                return slot
        return None


class _Dealer:
    """Deals the leads, best first, so that every prefix of the batch is shared by rank.

    Each rep's part of their share dealt so far (``given / share``) never falls
    below that of a rep ranked under them: a rep's k-th lead waits until the
    rep ranked just above has had as large a part of their own share, and is
    dealt as soon as they have (after them, at the same moment). So the
    top-ranked get first pick, their extra leads are spread over the whole batch
    rather than taken from its tail, and a higher-ranked rep's leads are never
    worse on average (by the batch's order: priority, value, age) than a
    lower-ranked rep's. Equal shares deal in rounds in rank order. A share is
    cut to the rep's room under their cap. The order is worked out once per
    batch, in time linear in the leads.
    """

    def __init__(self, slots: list[RepSlot], shares: list[int]) -> None:
        self.given = {s.rep.id: 0 for s in slots}
        keyed: list[tuple[int, int, int, RepSlot]] = []
        above: list[int] = []  # when the rep ranked just above gets each lead
        above_share = 0
        for rank, (slot, q) in enumerate(zip(slots, shares)):
            if q <= 0:
                continue
            # the k-th lead of q comes with the lead that gives the rep above a part k/q
            times = (list(range(1, q + 1)) if not above else
                     [above[-(-k * above_share // q) - 1] for k in range(1, q + 1)])
            keyed.extend((t, rank, k, slot) for k, t in enumerate(times))
            above, above_share = times, q
        keyed.sort(key=lambda x: x[:3])
        self.turns = deque(x[3] for x in keyed)

    def next(self, batch: AllocationBatch, lead) -> RepSlot | None:
        """The rep whose turn it is; a recycled lead goes to the next turn of another rep
        (that turn is used now, the skipped one kept)."""
        turns = self.turns
        while turns and turns[0].full:
            turns.popleft()
        for i, slot in enumerate(turns):
            if not slot.full and batch.allowed(lead, slot):
                del turns[i]
                return slot
        return None  # the turns are over, or left only to the reps it was recycled from


def _share_text(policy: Policy, given: int, share: int, room: int | None,
                slot: RepSlot) -> str:
    """Which lead of the rep's share this is, and the cap when the cap, not the share, binds."""
    if given >= share:
        return policy.say("beyond")
    if room is not None and room < share:
        return policy.say("capped", n=given + 1, share=share, cap=slot.capacity)
    return policy.say("share", n=given + 1, share=share)


@hookimpl
def register_policies(register):
    register(RankingPriority)
