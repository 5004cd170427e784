"""Allocation's lead pool: reps on leave, duplicates, recycled leads, the frame's order."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from alloc_runs import AS_OF, dataset, run_alloc
from hypothesis import given, settings
from hypothesis import strategies as st

from salesrules.allocation import allocate
from salesrules.config import parse_config
from salesrules.model import Lead, Rep
from salesrules.run import plan_run


def test_reps_on_leave_get_no_leads():
    cfg = parse_config("")
    plan = plan_run(cfg, entry_points=False)
    reps = [Rep("R1", "a", "East", "P1"), Rep("R2", "b", "East", "P1")]
    leads = [Lead(f"N{i}", dt.datetime(2026, 11, 24)) for i in range(5)]
    ds = dataset(reps, leads, cfg)
    ds.leave = {"R1": [(dt.date(2026, 11, 20), dt.date(2026, 11, 27))]}
    res = allocate(cfg, plan.routes, ds, AS_OF, 0)
    assert {a.rep_id for a in res.assignments} == {"R2"}


def test_duplicates_are_handled_once_and_listed():
    reps = [Rep("R1", "a", "East", "P1"), Rep("R2", "b", "East", "P1")]
    leads = [Lead("L1", dt.datetime(2026, 11, 24, 9),
                  fields={"phone": "+86 138-0013-8000", "email": ""}),
             Lead("L2", dt.datetime(2026, 11, 24, 10),
                  fields={"phone": "13800138000", "email": ""}),
             Lead("L3", dt.datetime(2026, 11, 24, 11), fields={"phone": "", "email": "A@x.com"}),
             Lead("L4", dt.datetime(2026, 11, 24, 12), fields={"phone": "", "email": "a@X.com "})]
    res = run_alloc(reps, leads)
    assert sorted(a.lead_id for a in res.assignments) == ["L1", "L3"]
    reasons = {u.lead_id: u.reason for u in res.unassigned}
    went = {a.lead_id: a.rep_id for a in res.assignments}
    assert reasons["L2"] == (f"duplicate of L1 (same phone), which went to {went['L1']}; "
                             "handled once")
    assert reasons["L4"].startswith("duplicate of L3 (same email)")
    assert res.duplicates == {"L2": "L1", "L4": "L3"}


def _key(field, value):
    """The rule for comparing contact fields, written plainly: a phone's digits (a leading 86 of a
    13-digit number dropped), anything else trimmed and in lower case."""
    value = (value or "").strip()
    if not value:
        return ""
    if "phone" in field:
        digits = "".join(c for c in value if c.isdigit())
        return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits
    return value.lower()


def _order(lead):
    return (-lead.priority, -lead.value, lead.created_at, lead.id)


def reference_duplicates(fields, kept, pool):
    """The rule as stated, lead by lead: kept leads claim their keys first, then leads in lead
    order."""
    seen, out = {}, {}
    for lead in kept:
        for f in fields:
            key = _key(f, lead.fields.get(f, ""))
            if key:
                seen.setdefault((f, key), lead.id)
    for lead in sorted(pool, key=_order):
        for f in fields:
            key = _key(f, lead.fields.get(f, ""))
            if key:
                first = seen.setdefault((f, key), lead.id)
                if first != lead.id:
                    out.setdefault(lead.id, (first, f))
    return out


@settings(deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["", "138 0013 8000", "+8613800138000", "139", "139 "]),
                          st.sampled_from(["", "a@x.com", "A@X.COM ", "b@x.com"]),
                          st.integers(0, 2), st.sampled_from([0.0, 5.0]), st.integers(0, 3),
                          st.booleans()), max_size=25))
@pytest.mark.slow
def test_duplicates_found_on_the_frame_follow_the_rule(rows):
    """The frame operations find the duplicates the rule, applied lead by lead, finds."""
    from salesrules.allocation.pool import _duplicates, lead_order
    from salesrules.leads import frame_of

    leads = [Lead(f"L{i}", dt.datetime(2026, 11, 24, 8 + hour), None, prio, value,
                  {"phone": phone, "email": email})
             for i, (phone, email, prio, value, hour, _) in enumerate(rows)]
    kept = [lead for lead, row in zip(leads, rows) if row[5]]
    pool = [lead for lead, row in zip(leads, rows) if not row[5]]
    fields = ["phone", "email"]
    frame = frame_of(leads) if leads else frame_of([]).with_columns(
        phone=pl.lit("", pl.String), email=pl.lit("", pl.String)).clear()
    is_kept = pl.Series([row[5] for row in rows], dtype=pl.Boolean)
    rows_of = frame.with_row_index("_i")
    order = lead_order(rows_of.filter(~is_kept))["_i"]
    got = _duplicates(fields, frame, rows_of.filter(is_kept)["_i"], order)
    assert got == reference_duplicates(fields, kept, pool)


def test_dedupe_can_be_switched_off():
    reps = [Rep("R1", "a", "East", "P1")]
    leads = [Lead(f"L{i}", dt.datetime(2026, 11, 24), fields={"phone": "1", "email": ""})
             for i in range(3)]
    res = run_alloc(reps, leads, "[allocation]\ndedupe_on = []")
    assert len(res.assignments) == 3


def test_recycled_lead_goes_to_someone_else():
    reps = [Rep("R1", "a", "East", "P1"), Rep("R2", "b", "East", "P1")]
    stale = Lead("L1", dt.datetime(2026, 11, 1), "R1",
                 fields={"assigned_at": "2026-11-02", "last_contact": ""})
    fresh = Lead("L2", dt.datetime(2026, 11, 1), "R1",
                 fields={"assigned_at": "2026-11-20", "last_contact": ""})
    touched = Lead("L3", dt.datetime(2026, 11, 1), "R1",
                   fields={"assigned_at": "2026-11-02", "last_contact": "2026-11-05"})
    res = run_alloc(reps, [stale, fresh, touched], "[allocation.recycle]\nafter_days = 7")
    (a,) = res.assignments
    assert (a.lead_id, a.rep_id) == ("L1", "R2")
    assert a.reason.startswith("recycled from R1 (assigned 2026-11-02, no follow-up within 7 days)")
    assert sorted(res.kept["lead_id"]) == ["L2", "L3"]
    assert res.recycled == {"L1": "R1"}


def test_recycled_lead_with_only_its_old_owner_eligible_stays_unassigned():
    reps = [Rep("R1", "a", "East", "P1")]
    stale = Lead("L1", dt.datetime(2026, 11, 1), "R1", fields={"assigned_at": "2026-11-02"})
    res = run_alloc(reps, [stale], "[allocation.recycle]\nafter_days = 7")
    (u,) = res.unassigned
    assert "the only reps with room are the ones it was recycled from" in u.reason


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 8), moves=st.lists(
    st.tuples(st.sampled_from(["assign", "skip", "rest"]),
              st.one_of(st.just("next"), st.integers(-1, 9))), max_size=12))
@pytest.mark.slow
def test_batch_bookkeeping_matches_a_set_of_decided_ids(n, moves):
    """In order or not, twice or from outside: the batch decides as a plain set of ids would."""
    from salesrules.allocation.batch import AllocationBatch, RepSlot

    leads = [Lead(f"L{i}", dt.datetime(2026, 11, 2)) for i in range(n)]
    stranger = Lead("X", dt.datetime(2026, 11, 2))
    notes = {x.id: f"note {x.id}" for x in leads[::2]}  # reasons start with a lead's note
    batch = AllocationBatch("r", "p", leads, [RepSlot(Rep("R1", "A", "T", "L"))],
                            dt.date(2026, 11, 2), 0, notes)
    decided: list[str] = []
    rested: list[str] = []
    for how, i in moves:
        if how == "rest":
            rest = [x.id for x in leads if x.id not in decided]
            batch.skip_rest("later")
            decided += rest
            rested += rest
            continue
        if i == "next":  # the first lead not yet decided (the usual, in-order case)
            lead = next((x for x in leads if x.id not in decided), stranger)
        else:
            lead = leads[i] if 0 <= i < n else stranger
        decide = batch.assign if how == "assign" else batch.skip
        args = (lead, "R1", "why") if how == "assign" else (lead, "why")
        if lead is stranger or lead.id in decided:
            with pytest.raises(ValueError, match="not in this batch|already decided"):
                decide(*args)
            continue
        decide(*args)
        decided.append(lead.id)
    assert batch.decided == len(decided)
    batch.finish()
    got = [a.lead_id for a in batch.assignments] + [u.lead_id for u in batch.unassigned]
    assert sorted(got) == sorted(x.id for x in leads)
    assert [u.lead_id for u in batch.unassigned if u.reason.endswith("later")] == rested
    for u in batch.unassigned:
        assert u.reason.startswith(f"note {u.lead_id}; " if u.lead_id in notes else "rule 'r'")


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.sampled_from([0.0, 10.0, 99.5]),
                          st.integers(0, 3), st.text("ab", max_size=2)), max_size=30))
def test_the_frame_is_sorted_in_lead_order(rows):
    """Highest priority, then value, then oldest, then id: as the rule says, lead by lead."""
    from salesrules.allocation.pool import lead_order
    from salesrules.leads import LeadList

    leads = [Lead(f"{name}{i}", dt.datetime(2026, 11, 1, hour), None, prio, value)
             for i, (prio, value, hour, name) in enumerate(rows)]
    got = LeadList.of(lead_order(LeadList.of(leads).frame)).ids
    assert got == [lead.id for lead in sorted(leads, key=_order)]


def _stays_or_note(lead, reps, as_of, after_days):
    """Whether a lead stays with its owner, and its note if not, the rule written lead by lead
    (no history): an active owner keeps it unless it is past the SLA with no follow-up."""
    owner = lead.owner or None
    if owner is None:
        return False, None
    if owner not in reps:
        return False, f"previous owner {owner} is not in the reps file"
    if not reps[owner].active:
        return False, f"previous owner {owner} is inactive"
    assigned = dt.date.fromisoformat(lead.fields["assigned_at"]) if lead.fields[
        "assigned_at"] else None
    touched = dt.date.fromisoformat(lead.fields["last_contact"]) if lead.fields[
        "last_contact"] else None
    if assigned is not None and (as_of - assigned).days > after_days and (
            touched is None or touched < assigned):
        return False, (f"recycled from {owner} (assigned {assigned.isoformat()}, "
                       f"no follow-up within {after_days} days)")
    return True, None


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["", "R1", "R2", "R9"]), st.integers(0, 2),
                          st.sampled_from([0.0, 5.0]), st.sampled_from(["", "2026-11-02",
                                                                         "2026-11-20"]),
                          st.sampled_from(["", "2026-11-01", "2026-11-05"]),
                          st.sampled_from(["", "138 0013 8000", "+8613800138000"])),
                max_size=20))
def test_settle_takes_the_pool_leads_as_they_were_read(rows):
    """The pool's leads are the export's rows in lead order, every column and no helper
    column (even where the export has columns named like them); kept leads and notes follow
    the rule lead by lead."""
    from salesrules.allocation.pool import lead_order, settle
    from salesrules.config.schema import RecycleConfig
    from salesrules.leads import frame_of

    reps = {"R1": Rep("R1", "a", "East", "P1"), "R2": Rep("R2", "b", "East", "P1", active=False)}
    leads = [Lead(f"L{i}", dt.datetime(2026, 11, 1 + i % 3), owner, prio, value,
                  {"assigned_at": assigned, "last_contact": touched, "phone": phone,
                   "prior_rep": "X", "_kept": "no"})
             for i, (owner, prio, value, assigned, touched, phone) in enumerate(rows)]
    frame = frame_of(leads) if leads else frame_of([]).with_columns(
        **{c: pl.lit("", pl.String) for c in ("assigned_at", "last_contact", "phone",
                                              "prior_rep", "_kept")}).clear()
    no_load = pl.DataFrame(schema={"rep_id": pl.String, "n": pl.Int64, "v": pl.Float64})
    nothing = pl.DataFrame(schema={"lead_id": pl.String, "rep_id": pl.String})
    prior = pl.DataFrame(schema={"lead_id": pl.String, "prior_rep": pl.String,
                                 "prior_as_of": pl.Date})
    pool = settle(frame, reps, AS_OF, prior, no_load, nothing, RecycleConfig(after_days=7),
                  ["phone"])
    rule = {lead.id: _stays_or_note(lead, reps, AS_OF, 7) for lead in leads}
    assert sorted(pool.kept["lead_id"]) == sorted(i for i, (kept, _) in rule.items() if kept)
    assert pool.notes == {i: note for i, (_, note) in rule.items() if note}
    routed = [lead.id for lead in leads if not rule[lead.id][0]
              and lead.id not in pool.duplicates]
    expected = lead_order(frame.filter(pl.col("id").is_in(routed)))
    assert pool.leads.columns == frame.columns
    assert pool.leads.to_dicts() == expected.to_dicts()


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["one", "add", "extend"]),
                          st.lists(st.tuples(st.sampled_from(["L1", "L2", "L3"]),
                                             st.sampled_from(["why", "full"])), max_size=4)),
                max_size=6),
       st.integers(-8, 8), st.integers(-8, 8))
def test_unassigned_list_is_a_list_of_unassigned(moves, i, j):
    """Held as two columns, it reads, compares and grows as a list of Unassigned does."""
    from salesrules.model import Unassigned, UnassignedList

    got, want = UnassignedList(), []
    for how, items in moves:
        objects = [Unassigned(lead_id, why) for lead_id, why in items]
        if how == "one":
            for u in objects:
                got.append(u)
        elif how == "add":
            got.add([u.lead_id for u in objects], [u.reason for u in objects])
        else:
            got.extend(UnassignedList(objects) if len(objects) % 2 else objects)
        want.extend(objects)
    assert len(got) == len(want) and list(got) == want and got == want
    assert got == UnassignedList(want) and got != [*want, Unassigned("L9", "x")]
    assert got[i:j] == want[i:j]
    if -len(want) <= i < len(want):
        assert got[i] == want[i]
    else:
        with pytest.raises(IndexError):
            got[i]
    assert (got.lead_ids, got.reasons) == ([u.lead_id for u in want], [u.reason for u in want])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["L1", "L2", "L3", "L4"]),
                          st.sampled_from(["why", "full"])), max_size=6),
       st.lists(st.sampled_from(["pop", "insert", "del", "set", "remove", "sort", "add",
                                 "iadd", "radd", "slice", "clear", "reverse"]), max_size=6),
       st.integers(-6, 6))
def test_unassigned_list_changes_as_a_list_does(items, ops, i):
    """What a policy or an output plugin may do to ``unassigned`` with a list: each change
    leaves it equal to a list given the same change."""
    from salesrules.model import Unassigned, UnassignedList

    want = [Unassigned(a, b) for a, b in items]
    got = UnassignedList(want)
    extra = Unassigned("L9", "late")
    for op in ops:
        k = i % len(want) if want else 0
        if op == "pop" and want:
            assert got.pop(k) == want.pop(k)
        elif op == "insert":
            got.insert(i, extra)
            want.insert(i, extra)
        elif op == "del" and want:
            del got[k]
            del want[k]
        elif op == "set" and want:
            got[k] = extra
            want[k] = extra
        elif op == "remove" and want:
            got.remove(want[k])
            want.remove(want[k])
        elif op == "sort":
            got.sort(key=lambda u: u.reason, reverse=True)
            want.sort(key=lambda u: u.reason, reverse=True)
        elif op == "add":
            got, want = got + [extra], want + [extra]
            assert isinstance(got, UnassignedList)
        elif op == "iadd":
            got += [extra]
            want += [extra]
        elif op == "radd":
            got, want = [extra] + got, [extra] + want
        elif op == "slice":
            got[1:3] = [extra]
            want[1:3] = [extra]
        elif op == "clear":
            got.clear()
            want.clear()
        elif op == "reverse":
            got.reverse()
            want.reverse()
        assert list(got) == want


def test_a_lead_its_owner_got_within_the_window_counts_once_in_their_load():
    """A kept lead an earlier run gave its owner within the load window is in the rep's
    ``received`` already, so it is not counted again as ``held``; one it holds from before
    the window, or that went within the window to a rep no longer in the reps file, is."""
    from salesrules.allocation.pool import settle
    from salesrules.leads import frame_of

    reps = {"R1": Rep("R1", "a", "East", "P1"), "R2": Rep("R2", "b", "East", "P1")}
    at = dt.datetime(2026, 11, 20)
    leads = [Lead("L1", at, "R1", 1, 10.0), Lead("L2", at, "R1", 1, 20.0),
             Lead("L3", at, "R2", 1, 40.0), Lead("L4", at, None, 1, 80.0)]
    load = pl.DataFrame({"rep_id": ["R1", "GONE"], "n": [1, 1], "v": [10.0, 40.0]})
    window = pl.DataFrame({"lead_id": ["L1", "L3"], "rep_id": ["R1", "GONE"]})
    prior = pl.DataFrame(schema={"lead_id": pl.String, "prior_rep": pl.String,
                                 "prior_as_of": pl.Date})
    pool = settle(frame_of(leads), reps, AS_OF, prior, load, window, None, [])
    r1, r2 = pool.slots["R1"], pool.slots["R2"]
    assert (r1.received, r1.received_value, r1.held, r1.held_value) == (1, 10.0, 1, 20.0)
    assert (r2.received, r2.held, r2.held_value) == (0, 1, 40.0)
    assert pool.leads["id"].to_list() == ["L4"]
