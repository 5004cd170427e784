"""The built-in ``weighted`` policy: shares in proportion to weights per rep, level or team."""

from __future__ import annotations

import heapq
import statistics
from typing import Literal

import attrs

from ..components import Policy
from ..hookspecs import hookimpl
from .batch import AllocationBatch, RepSlot


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


class Weighted(Policy):
    """Shares in proportion to weights (rep, then level, then team), counting load so far; deterministic."""

    name = "weighted"
    Params = WeightedParams

    def weight(self, slot: RepSlot) -> tuple[float, str]:
        p, rep = self.params, slot.rep
        if rep.id in p.rep:
            return p.rep[rep.id], f"rep {rep.id}"
        if rep.level in p.level:
            return p.level[rep.level], f"level {rep.level}"
        if rep.team in p.team:
            return p.team[rep.team], f"team {rep.team}"
        return p.default, "default"

    def allocate(self, batch: AllocationBatch) -> None:
        by_value = self.params.by == "value"
        unit = (statistics.median([lead.value for lead in batch.leads]) or 1.0) if by_value else 1.0
        weights = [self.weight(s) for s in batch.reps]
        # the next lead goes to the rep whose load per unit of weight, after taking it,
        # is lowest: shares stay proportional to the weights at every step
        heap = []
        for i, (s, (w, _)) in enumerate(zip(batch.reps, weights)):
            if w > 0 and not s.full:
                load = (s.load_value + s.today_value) if by_value else float(s.load + s.today)
                heap.append(((load + unit) / w, i, load))
        heapq.heapify(heap)
        if not heap:
            batch.skip_rest("no eligible rep has a weight above 0 and room today")
            return
        for lead in batch.leads:
            passed = []
            while heap and not batch.allowed(lead, batch.reps[heap[0][1]]):
                passed.append(heapq.heappop(heap))
            if not heap:
                heap = [x for x in passed if not batch.reps[x[1]].full]
                heapq.heapify(heap)
                if not heap:
                    batch.skip_rest("every rep with a weight is at their daily capacity")
                    return
                batch.skip(lead, "the only reps with room are the ones it was recycled from")
                continue
            key, i, load = heap[0]
            slot = batch.reps[i]
            w, source = weights[i]
            shown = f"{load:,.2f} in value" if by_value else f"{load:.0f} lead(s)"
            batch.assign(lead, slot, f"weight {w:g} ({source}), lowest share per weight with "
                                     f"{shown} so far; {slot.cap_text()}")
            load += lead.value if by_value else 1.0
            if slot.full:
                heapq.heappop(heap)
            else:
                heapq.heapreplace(heap, ((load + unit) / w, i, load))
            for x in passed:
                if not batch.reps[x[1]].full:
                    heapq.heappush(heap, x)


@hookimpl(trylast=True)
def register_policies(register):
    register(Weighted)
