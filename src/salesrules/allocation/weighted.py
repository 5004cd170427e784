"""The built-in ``weighted`` policy: shares in proportion to weights per rep, level or team."""

from __future__ import annotations

import heapq
import math
import statistics
from typing import Literal

import attrs

from salesrules.api import (
    AllocationBatch,
    ConfigError,
    Policy,
    RepSlot,
    hookimpl,
    largest_remainder,
)

#: The reps file column a manager uses to correct a rep's starting load, in leads.
CALIBRATION = "calibration"


def _non_negative(instance: object, attribute: attrs.Attribute, value: dict) -> None:
    for k, w in value.items():
        if w < 0:
            raise ValueError(f"'{attribute.name}' must be >= 0: {k} = {w}")


@attrs.define
class WeightedParams:
    #: Share the number of leads (``count``) or their value (``value``).
    by: Literal["count", "value"] = "count"
    #: Weight per rep id; wins over ``level`` and ``team``.
    rep: dict[str, float] = attrs.field(factory=dict, validator=_non_negative)
    #: Weight per level, e.g. ``{ P1 = 1, P2 = 1.5 }``; wins over ``team``.
    level: dict[str, float] = attrs.field(factory=dict, validator=_non_negative)
    #: Weight per team.
    team: dict[str, float] = attrs.field(factory=dict, validator=_non_negative)
    #: Weight of a rep matched by none of the above.
    default: float = attrs.field(default=1.0, validator=attrs.validators.ge(0))
    #: How far below the load their weight would have given them over the window a new or
    #: returning rep may start, in leads (as ``balanced``'s ``catch_up``).
    catch_up: int = attrs.field(default=5, validator=attrs.validators.ge(0))


def calibration(slot: RepSlot) -> float:
    """The reps file's ``calibration`` for the rep: leads added to their starting load."""
    text = (slot.rep.fields.get(CALIBRATION) or "").strip()
    if not text:
        return 0.0
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"reps file, column {CALIBRATION!r}: rep {slot.rep.id}'s value "
                          f"{text!r} is not a number of leads (e.g. 3 or -2)") from None


@attrs.frozen
class Weight:
    """A rep's weight, and where it came from (e.g. "level P2")."""

    value: float
    source: str


@attrs.frozen
class Starts:
    """Each rep's starting load, and whether they are catching up."""

    loads: list[float]
    catching: list[bool]


class Weighted(Policy):
    """Shares in proportion to weights (rep, then level,
    then team), counting load so far; deterministic."""

    name = "weighted"
    Params = WeightedParams
    words = {
        "name": {"en": "weighted", "zh": "按权重分配"},
        "by-rep": {"en": "rep {rep}", "zh": "销售 {rep}"},
        "by-level": {"en": "level {level}", "zh": "职级 {level}"},
        "by-team": {"en": "team {team}", "zh": "团队 {team}"},
        "by-default": {"en": "default", "zh": "默认"},
        "all-full": {"en": "no rep with a weight above 0 has room today",
                     "zh": "权重大于 0 的销售今日都已满额"},
        "recycled-only": {"en": "the only reps with room are the ones it was recycled from",
                          "zh": "还有余量的只有该线索被回收前的负责人"},
        "value": {"en": "{value:,.2f} in lead value so far", "zh": "目前线索价值 {value:,.2f}"},
        "count": {"en": "{load:.0f} lead(s) so far, {n} of a share of {quota}",
                  "zh": "目前 {load:.0f} 条线索，份额 {quota} 条中的第 {n} 条"},
        "catching": {"en": " (new or returning, catching up)", "zh": "（新人或回归，逐步补齐）"},
        "why": {"en": "weight {w:g} ({source}), {rest}; {cap}",
                "zh": "权重 {w:g}（{source}），{rest}；{cap}"},
    }

    def weight(self, slot: RepSlot) -> Weight:
        p, rep = self.params, slot.rep
        if rep.id in p.rep:
            return Weight(p.rep[rep.id], self.say("by-rep", rep=rep.id))
        if rep.level in p.level:
            return Weight(p.level[rep.level], self.say("by-level", level=rep.level))
        if rep.team in p.team:
            return Weight(p.team[rep.team], self.say("by-team", team=rep.team))
        return Weight(p.default, self.say("by-default"))

    def starts(self, reps: list[RepSlot], weights: list[float], unit: float,
               by_value: bool) -> Starts:
        """Each rep's starting load, and whether they are catching up.

        A rep far below what their weight would have given them over the window
        (new, or back from leave) starts at that share less ``catch_up`` leads,
        not at zero; the reps file's ``calibration`` (leads) is added to it.
        """
        base = [s.load_value if by_value else float(s.load) for s in reps]
        per_weight = [b / w for b, w in zip(base, weights) if w > 0]
        level = statistics.median(per_weight) if per_weight else 0.0
        starts, catching = [], []
        for b, w, s in zip(base, weights, reps):
            floor = level * w - self.params.catch_up * unit
            starts.append(max(b, floor) + calibration(s) * unit
                          + (s.today_value if by_value else s.today))
            catching.append(floor > b)
        return Starts(starts, catching)

    def allocate(self, batch: AllocationBatch) -> None:
        reps = batch.reps
        weights = [self.weight(s) for s in reps]
        values = [w.value for w in weights]
        by_value = self.params.by == "value"
        unit = (statistics.median([lead.value for lead in batch.leads]) or 1.0) if by_value \
            else 1.0
        start = self.starts(reps, values, unit, by_value)
        loads, catching = start.loads, start.catching
        if by_value:
            # greedy: the rep whose value per unit of weight, after one more typical lead, is lowest
            keys = [(loads[i] + unit) / w if w > 0 else math.inf
                    for i, w in enumerate(values)]
        else:
            quotas = self._quotas(loads, values, len(batch.leads))
            given = [0] * len(reps)
            keys = [0.5 / q if q else math.inf for q in quotas]
        heap = [(k, i) for i, k in enumerate(keys) if values[i] > 0 and not reps[i].full]
        heapq.heapify(heap)
        # said once per lead: looked up once per batch
        say_value, say_count, say_why = self.sayer("value"), self.sayer("count"), self.sayer("why")
        catching_text = self.say("catching")
        for lead in batch.leads:
            passed = []
            while heap and not batch.allowed(lead, reps[heap[0][1]]):
                passed.append(heapq.heappop(heap))
            if not heap:
                heap = [x for x in passed if not reps[x[1]].full]
                heapq.heapify(heap)
                if not heap:
                    batch.skip_rest(self.say("all-full"))
                    return
                batch.skip(lead, self.say("recycled-only"))
                continue
            _, i = heap[0]
            slot = reps[i]
            w, source = weights[i].value, weights[i].source
            if by_value:
                why = say_value(value=loads[i])
                loads[i] += lead.value
                key = (loads[i] + unit) / w
            else:
                why = say_count(load=loads[i], n=given[i] + 1, quota=quotas[i])
                given[i] += 1
                loads[i] += 1
                key = (given[i] + 0.5) / quotas[i] if quotas[i] else math.inf
            why += catching_text if catching[i] else ""
            batch.assign(lead, slot, say_why(w=w, source=source, rest=why, cap=slot.cap_text()))
            if slot.full:
                heapq.heappop(heap)
            else:
                heapq.heapreplace(heap, (key, i))
            for x in passed:
                if not reps[x[1]].full:
                    heapq.heappush(heap, x)

    @staticmethod
    def _quotas(loads: list[float], weights: list[float], n: int) -> list[int]:
        """Each rep's share of ``n`` leads, so that load plus
        share is as proportional to weight as it can be."""
        total_w = sum(weights)
        if not total_w:
            return [0] * len(weights)
        after = sum(loads) + n
        need = [max(0.0, after * w / total_w - load) for load, w in zip(loads, weights)]
        return largest_remainder(n, need) if sum(need) > 0 else [0] * len(weights)


@hookimpl(trylast=True)
def register_policies(register):
    register(Weighted)
