"""The built-in ``balanced`` policy: each lead goes
to the least-loaded eligible rep with room today."""

from __future__ import annotations

import heapq
import statistics
from collections.abc import Sequence
from typing import Literal

import attrs
import numpy as np
import polars as pl

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
        if not batch.reps:
            batch.skip_rest(self.say("no-rep"))
        elif self.params.by == "value":
            self._by_value(batch)
        else:
            self._by_count(batch)

    def _starts(self, base: list[float], unit: float) -> list[float]:
        """Each rep's load to balance from: a new or returning rep far below the median
        starts at most ``catch_up`` leads (of ``unit`` each) below it."""
        floor = statistics.median(base) - self.params.catch_up * unit
        return [max(b, floor) for b in base]

    def _by_count(self, batch: AllocationBatch) -> None:
        """Every lead's rep at once: rep i's j-th lead of this batch comes when their load,
        start plus today's leads plus j, is the lowest (the lower index first on a tie), so
        the leads take the reps' places in that order, each skipping the rep it may not go
        back to. The same choices as a heap of the least-loaded reps, lead by lead."""
        reps, leads = batch.reps, len(batch.leads)
        base = [float(s.load) for s in reps]
        start = self._starts(base, 1.0)
        keys = np.array([b + s.today for b, s in zip(start, reps)])
        room = np.array([leads if s.remaining is None else min(s.remaining, leads)
                         for s in reps], dtype=np.int64)
        places = _places(keys, room, leads)
        walk = _walk(places.rep, leads, _barred(batch))
        taken = np.asarray(walk.places, dtype=np.int64)
        i = places.rep[taken]

        def each(values: list) -> np.ndarray:  # a per-rep figure, for each lead taken
            return np.array(values)[i]

        today = each([s.today for s in reps]) + places.nth[taken]
        held, received = each([s.held for s in reps]), each([s.received for s in reps])
        ids = each([s.rep.id for s in reps]).tolist()
        catching = each([self.say("catching") if a > b else ""
                         for a, b in zip(start, base)]).tolist()
        whys = self.say_each("why", n=[len(reps)] * len(ids), catching=catching,
                             cap=batch.cap_texts(ids, today + 1),
                             held=self.say_each("count", load=held + received + today,
                                                received=received, held=held, today=today))
        batch.assign_rows(walk.rows, ids, whys)
        for row in walk.skipped:
            batch.skip(batch.leads[row], self.say("recycled-only"))
        if walk.full:
            batch.skip_rest(self.say("all-full"))

    def _by_value(self, batch: AllocationBatch) -> None:
        """Lead by lead, each to the rep with the least lead value so far (a heap)."""
        reps = batch.reps
        base = [s.load_value for s in reps]
        unit = statistics.median([lead.value for lead in batch.leads]) or 1.0
        start = self._starts(base, unit)
        heap = [(start[i] + s.today_value, i, s) for i, s in enumerate(reps) if not s.full]
        heapq.heapify(heap)
        say_value, say_why = self.sayer("value"), self.sayer("why")  # once per batch
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
            held = say_value(value=slot.load_value + slot.today_value)
            batch.assign(lead, slot, say_why(n=len(reps), held=held, cap=slot.cap_text(),
                                             catching=catching if start[i] > base[i] else ""))
            heapq.heapreplace(heap, (load + lead.value, i, slot))
            for item in passed:
                if not item[2].full:
                    heapq.heappush(heap, item)


@attrs.frozen
class _Places:
    """Places for leads, in the order they are taken: place q is rep ``rep[q]``'s
    ``nth[q]``-th lead of the batch (from 0)."""

    rep: np.ndarray
    nth: np.ndarray


def _places(keys: np.ndarray, room: np.ndarray, leads: int) -> _Places:
    """The reps' places in order of load, then rep: rep i's j-th at load ``keys[i] + j``,
    for j below ``room[i]``. Only the lowest are made, but enough of them that every one of
    ``leads`` leads, each barred from at most one rep, finds its place among them."""

    def counts(level: float) -> np.ndarray:
        return np.clip(np.floor(level - keys) + 1, 0, room).astype(np.int64)

    def enough(level: float) -> bool:
        c = counts(level)
        return int(c.sum() - c.max()) >= leads

    has_room = room > 0
    if not has_room.any():
        return _Places(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    lo, hi = float(keys.min()), float((keys + room - 1)[has_room].max())
    if enough(hi):
        for _ in range(64):  # loads step by 1 from halves: a quarter tells them apart
            if hi - lo <= 0.25:
                break
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if enough(mid) else (mid, hi)
    c = counts(hi)
    rep = np.repeat(np.arange(len(keys)), c)
    nth = np.arange(len(rep)) - np.repeat(np.cumsum(c) - c, c)
    order = np.lexsort((rep, keys[rep] + nth))
    return _Places(rep[order], nth[order])


@attrs.frozen
class _Walk:
    """Which leads (by row) take which places, the leads left because the only reps with
    room are the ones they were recycled from, and whether the places ran out."""

    rows: Sequence[int]
    places: Sequence[int]
    skipped: list[int]
    full: bool


def _walk(order: np.ndarray, leads: int, barred: dict[int, int]) -> _Walk:
    """Each lead, in order, takes the first free place, or with ``barred[row]`` the first
    free place of another rep (a place passed over stays free for the next lead);
    ``order[q]`` is the rep of place q."""
    n = len(order)
    if not barred:
        k = min(leads, n)
        return _Walk(range(k), range(k), [], k < leads)
    rep, used = order.tolist(), [False] * n
    rows: list[int] = []
    places: list[int] = []
    skipped: list[int] = []
    # a barred rep's first free place of another rep: places are only ever taken, so it
    # never moves back, and each search goes on from where the last one for that rep ended
    other: dict[int, int] = {}
    p = 0
    for row in range(leads):
        while p < n and used[p]:
            p += 1
        if p == n:
            return _Walk(rows, places, skipped, True)
        q, barred_rep = p, barred.get(row)
        if barred_rep is not None:
            q = max(p, other.get(barred_rep, 0))
            while q < n and (used[q] or rep[q] == barred_rep):
                q += 1
            other[barred_rep] = q
            if q == n:
                skipped.append(row)
                continue
        used[q] = True
        rows.append(row)
        places.append(q)
    return _Walk(rows, places, skipped, False)


def _barred(batch: AllocationBatch) -> dict[int, int]:
    """Row -> index of the rep in the batch that the lead was recycled from."""
    if not batch.excluded:
        return {}
    index = {s.rep.id: i for i, s in enumerate(batch.reps)}
    ids = batch.frame["id"]
    hits = ids.is_in(pl.Series(list(batch.excluded), dtype=pl.String).implode()).arg_true()
    pairs = zip(hits.to_list(), ids.gather(hits).to_list())
    return {row: index[rep] for row, lead_id in pairs
            if (rep := batch.excluded[lead_id]) in index}


@hookimpl(trylast=True)
def register_policies(register):
    register(Balanced)
