"""The built-in ``balanced`` policy: each lead goes to the least-loaded eligible rep with room today."""

from __future__ import annotations

import heapq
from typing import Literal

import attrs

from ..components import Policy
from ..hookspecs import hookimpl
from .batch import AllocationBatch


@attrs.define
class BalancedParams:
    #: Balance the number of leads (``count``) or their total value (``value``).
    by: Literal["count", "value"] = "count"


class Balanced(Policy):
    """Least-loaded first (雨露均沾): counts open leads already held, respects daily caps, skips inactive reps."""

    name = "balanced"
    Params = BalancedParams

    def allocate(self, batch: AllocationBatch) -> None:
        by_value = self.params.by == "value"
        heap = []
        for order, slot in enumerate(batch.reps):
            if not slot.full:
                load = slot.load_value + slot.today_value if by_value else slot.load + slot.today
                heap.append((load, order, slot))
        heapq.heapify(heap)
        n = len(batch.reps)
        for lead in batch.leads:
            while heap and heap[0][2].full:
                heapq.heappop(heap)
            if not heap:
                batch.skip_rest("every eligible rep is at their daily capacity" if n
                                else "no active rep is eligible")
                break
            load, order, slot = heap[0]
            held = (f"holding {slot.load_value + slot.today_value:,.2f} in lead value"
                    if by_value else f"holding {slot.load + slot.today} open lead(s)")
            batch.assign(lead, slot, f"least loaded of {n} rep(s) ({held}), {slot.cap_text()}")
            load += lead.value if by_value else 1
            heapq.heapreplace(heap, (load, order, slot))


@hookimpl(trylast=True)
def register_policies(register):
    register(Balanced)
