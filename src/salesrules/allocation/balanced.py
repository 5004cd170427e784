"""The built-in ``balanced`` policy: each lead goes
to the least-loaded eligible rep with room today."""

from __future__ import annotations

import heapq
import statistics
from typing import Literal

import attrs

from salesrules.api import AllocationBatch, Policy, RepSlot, hookimpl


@attrs.define
class BalancedParams:
    #: Balance the number of leads (``count``) or their total value (``value``).
    by: Literal["count", "value"] = "count"
    #: How far below the median load a new or returning rep may start, in leads:
    #: they catch up by at most this many leads beyond an equal share, not in one burst.
    catch_up: int = attrs.field(default=5, validator=attrs.validators.ge(0))


class Balanced(Policy):
    """Least-loaded first (雨露均沾): counts leads received in the window
    and held, respects caps, skips inactive reps and reps on leave."""

    name = "balanced"
    Params = BalancedParams
    words = {
        "name": {"en": "balanced", "zh": "雨露均沾"},
        "no-rep": {"en": "no active rep is eligible (inactive, on leave or in another team)",
                   "zh": "没有可分配的在职销售（离职、请假或不在该团队）"},
        "all-full": {"en": "every eligible rep is at their daily capacity",
                     "zh": "所有可分配的销售今日都已满额"},
        "recycled-only": {"en": "the only reps with room are the ones it was recycled from",
                          "zh": "还有余量的只有该线索被回收前的负责人"},
        "value": {"en": "{value:,.2f} in lead value", "zh": "线索价值 {value:,.2f}"},
        "count": {"en": "{load} lead(s): {received} received in the window, {held} held, "
                        "{today} today",
                  "zh": "共 {load} 条线索：窗口期内收到 {received} 条，在手 {held} 条，"
                        "今日 {today} 条"},
        "catching": {"en": " (new or returning, catching up)", "zh": "（新人或回归，逐步补齐）"},
        "why": {"en": "least loaded of {n} rep(s) with {held}{catching}; {cap}",
                "zh": "{n} 名销售中负载最低（{held}）{catching}；{cap}"},
    }

    def allocate(self, batch: AllocationBatch) -> None:
        by_value = self.params.by == "value"
        reps = batch.reps
        n = len(reps)
        if not n:
            batch.skip_rest(self.say("no-rep"))
            return
        base = [s.load_value if by_value else float(s.load) for s in reps]
        unit = (statistics.median([lead.value for lead in batch.leads]) or 1.0) if by_value else 1.0
        floor = statistics.median(base) - self.params.catch_up * unit
        start = [max(b, floor) for b in base]
        heap = [(start[i] + (s.today_value if by_value else s.today), i, s)
                for i, s in enumerate(reps) if not s.full]
        heapq.heapify(heap)
        # said once per lead: looked up once per batch
        say_value, say_count, say_why = self.sayer("value"), self.sayer("count"), self.sayer("why")
        catching = self.say("catching")
        for lead in batch.leads:
            while heap and heap[0][2].full:
                heapq.heappop(heap)
            passed: list[tuple[float, int, RepSlot]] = []
            while heap and not batch.allowed(lead, heap[0][2]):
                passed.append(heapq.heappop(heap))  # recycled from this rep, or full
            if not heap:
                for item in passed:
                    if not item[2].full:
                        heapq.heappush(heap, item)
                if not heap:
                    batch.skip_rest(self.say("all-full"))
                    return
                batch.skip(lead, self.say("recycled-only"))
                continue
            load, i, slot = heap[0]
            held = (say_value(value=slot.load_value + slot.today_value) if by_value
                    else say_count(load=slot.load + slot.today, received=slot.received,
                                   held=slot.held, today=slot.today))
            batch.assign(lead, slot, say_why(n=n, held=held, cap=slot.cap_text(),
                                             catching=catching if start[i] > base[i] else ""))
            heapq.heapreplace(heap, (load + (lead.value if by_value else 1.0), i, slot))
            for item in passed:
                if not item[2].full:
                    heapq.heappush(heap, item)


@hookimpl(trylast=True)
def register_policies(register):
    register(Balanced)
