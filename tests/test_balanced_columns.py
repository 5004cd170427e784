"""The balanced policy's count mode decides a batch as columns: the same choices, reasons
and order as the heap of least-loaded reps it replaced, which this module keeps as the
reference, and `AllocationBatch.assign_rows` refuses what `assign` refuses."""

from __future__ import annotations

import datetime as dt
import heapq
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesrules.allocation.balanced import Balanced, BalancedParams
from salesrules.api import AllocationBatch, RepSlot
from salesrules.leads import LeadList
from salesrules.model import Lead, Rep


def heap_reference(policy: Balanced, batch: AllocationBatch) -> None:
    """The count mode as it was before it went to columns: lead by lead, a heap of reps."""
    reps = batch.reps
    n = len(reps)
    if not n:
        batch.skip_rest(policy.say("no-rep"))
        return
    base = [float(s.load) for s in reps]
    floor = statistics.median(base) - policy.params.catch_up * 1.0
    start = [max(b, floor) for b in base]
    heap = [(start[i] + s.today, i, s) for i, s in enumerate(reps) if not s.full]
    heapq.heapify(heap)
    say_count, say_why = policy.sayer("count"), policy.sayer("why")
    for lead in batch.leads:
        while heap and heap[0][2].full:
            heapq.heappop(heap)
        passed = []
        while heap and not batch.allowed(lead, heap[0][2]):
            passed.append(heapq.heappop(heap))
        if not heap:
            for item in passed:
                if not item[2].full:
                    heapq.heappush(heap, item)
            if not heap:
                batch.skip_rest(policy.say("all-full"))
                return
            batch.skip(lead, policy.say("recycled-only"))
            continue
        load, i, slot = heap[0]
        held = say_count(load=slot.load + slot.today, received=slot.received,
                         held=slot.held, today=slot.today)
        batch.assign(lead, slot, say_why(n=n, held=held, cap=slot.cap_text(),
                                         catching=policy.say("catching")
                                         if start[i] > base[i] else ""))
        heapq.heapreplace(heap, (load + 1.0, i, slot))
        for item in passed:
            if not item[2].full:
                heapq.heappush(heap, item)


slot_st = st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 4),
                    st.one_of(st.none(), st.integers(0, 8)))


def make_batch(slots, n_leads, excluded, notes, frame: bool) -> AllocationBatch:
    reps = [RepSlot(Rep(f"R{i}", f"Rep {i}", "East", "P1", capacity=cap), held=held,
                    held_value=10.0 * held, received=received, received_value=5.0 * received,
                    today=min(today, cap) if cap is not None else today,
                    today_value=1.5 * today)
            for i, (held, received, today, cap) in enumerate(slots)]
    leads = [Lead(f"L{k}", dt.datetime(2026, 11, 24, 9), None, 0, 100.0 + k)
             for k in range(n_leads)]
    return AllocationBatch("all leads", "balanced", LeadList.of(leads) if frame else leads,
                           reps, dt.date(2026, 11, 24), 1,
                           notes={f"L{k}": note for k, note in notes.items()},
                           excluded={f"L{k}": f"R{r}" for k, r in excluded.items()})


def outcome(batch: AllocationBatch):
    return (batch.assignments, list(batch.unassigned),
            [(s.today, s.today_value) for s in batch.reps])


@settings(max_examples=300, deadline=None)
@given(slots=st.lists(slot_st, max_size=7), n_leads=st.integers(0, 40),
       excluded=st.dictionaries(st.integers(0, 45), st.integers(0, 8), max_size=15),
       notes=st.dictionaries(st.integers(0, 45), st.sampled_from(["back from R1"]), max_size=3),
       catch_up=st.integers(0, 6), frame=st.booleans())
def test_count_mode_makes_the_heap_choices(slots, n_leads, excluded, notes, catch_up, frame):
    policy = Balanced(BalancedParams(catch_up=catch_up))
    ours = make_batch(slots, n_leads, excluded, notes, frame)
    theirs = make_batch(slots, n_leads, excluded, notes, frame)
    policy.allocate(ours)
    ours.finish()
    heap_reference(policy, theirs)
    theirs.finish()
    assert outcome(ours) == outcome(theirs)
    assert ours.decided == theirs.decided == n_leads


def test_a_lead_recycled_from_the_only_rep_with_room_waits():
    # R0 is least loaded, R1 is full: L0 came back from R0 and may not go to them
    batch = make_batch([(0, 0, 0, None), (5, 0, 1, 1)], 2, {0: 0}, {}, True)
    Balanced(BalancedParams()).allocate(batch)
    assert [(a.lead_id, a.rep_id) for a in batch.assignments] == [("L1", "R0")]
    assert [u.reason.endswith("the ones it was recycled from") for u in batch.unassigned] \
        == [True]


def test_many_leads_recycled_from_one_rep():
    # most leads may not go back to R0, the least loaded: each such lead passes over R0's
    # places, which stay free for the leads that may go to R0
    barred = {k: 0 for k in range(3000) if k % 10}
    policy = Balanced(BalancedParams())
    ours = make_batch([(0, 0, 0, None), (2, 0, 0, None), (2, 0, 0, 50)], 3000, barred, {}, True)
    theirs = make_batch([(0, 0, 0, None), (2, 0, 0, None), (2, 0, 0, 50)], 3000, barred, {},
                        True)
    policy.allocate(ours)
    heap_reference(policy, theirs)
    assert outcome(ours) == outcome(theirs)
    assert ours.reps[0].today == 300


def test_uncapped_reps_get_only_the_places_they_need():
    # 3 uncapped reps, 10,000 leads: places are made up to the load the leads reach
    batch = make_batch([(0, 0, 0, None)] * 3, 10_000, {}, {}, True)
    Balanced(BalancedParams()).allocate(batch)
    counts = [s.today for s in batch.reps]
    assert sum(counts) == 10_000 and max(counts) - min(counts) <= 1


@pytest.mark.parametrize("rows, reps, message", [
    ([0], ["R9"], "rep 'R9' is not eligible"),
    ([0, 1], ["R0", "R0"], "room for 1 more lead"),
    ([2], ["R1"], "lead 'L2' was recycled from rep 'R1'"),
    ([0, 0], ["R1", "R1"], "lead 'L0' was already decided"),
    ([5], ["R1"], "outside the batch's 3 leads"),
    ([0], ["R1", "R1"], "as many reps and reasons as rows"),
])
def test_assign_rows_refuses_what_assign_refuses(rows, reps, message):
    batch = make_batch([(0, 0, 0, 1), (0, 0, 0, None)], 3, {2: 1}, {}, True)
    with pytest.raises(ValueError, match=message):
        batch.assign_rows(rows, reps, ["why"] * 2 if len(reps) != len(rows) else
                          ["why"] * len(rows))
    assert batch.assignments == [] and batch.decided == 0
    assert [s.today for s in batch.reps] == [0, 0]


def test_assign_rows_refuses_a_reason_that_is_not_text_and_a_row_that_is_not_whole():
    batch = make_batch([(0, 0, 0, None)], 3, {}, {}, True)
    with pytest.raises(TypeError):
        batch.assign_rows([0], ["R0"], [None])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        batch.assign_rows([1.7], ["R0"], ["why"])  # type: ignore[list-item]
    assert batch.decided == 0 and batch.reps[0].today == 0 and batch.assignments == []


def test_assign_rows_writes_a_note_as_assign_does():
    one = make_batch([(0, 0, 0, None)], 2, {}, {0: "", 1: "back from R1"}, True)
    many = make_batch([(0, 0, 0, None)], 2, {}, {0: "", 1: "back from R1"}, True)
    one.assign(one.leads[0], "R0", "a")
    one.assign(one.leads[1], "R0", "b")
    many.assign_rows([0, 1], ["R0", "R0"], ["a", "b"])
    assert one.assignments == many.assignments
    assert [a.reason.startswith("back from R1; ") for a in many.assignments] == [False, True]


def test_assign_rows_then_assign_in_any_order():
    batch = make_batch([(0, 0, 0, None)], 4, {}, {1: "note"}, True)
    batch.assign_rows([2, 1], ["R0", "R0"], ["a", "b"])
    batch.assign(batch.leads[0], "R0", "c")
    with pytest.raises(ValueError, match="already decided"):
        batch.assign_rows([3, 1], ["R0", "R0"], ["d", "e"])
    batch.finish()
    assert [(a.lead_id, a.reason[-1]) for a in batch.assignments] == [
        ("L2", "a"), ("L1", "b"), ("L0", "c")]
    assert batch.assignments[1].reason.startswith("note; ")
    assert [u.lead_id for u in batch.unassigned] == ["L3"]
    assert batch.reps[0].today == 3 and batch.reps[0].today_value == 100 + 101 + 102
