"""Which leads need a rep: owners, recycling, load and duplicates, worked out on the leads frame.

Everything here is a frame operation over every lead at once; only the leads
left to route become :class:`~salesrules.model.Lead` objects, later, per batch.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

import attrs
import polars as pl

from ..load.tables import date_column
from ..model import Rep
from .batch import RepSlot
from .reasons import polars_format

#: The lead columns every leads frame has; any others are the export's own fields (text).
LEAD_COLUMNS = ("id", "created_at", "owner", "priority", "value")


@attrs.define
class Pool:
    """What allocation settles before any rule runs, from the leads, reps and history alone."""

    slots: dict[str, RepSlot]
    #: Leads staying with their owner: ``lead_id``, ``rep_id``, ``source`` (export or history).
    kept: pl.DataFrame
    #: Leads of this export an earlier run of the same day assigned: ``lead_id``, ``rep_id``.
    carried: pl.DataFrame
    #: The leads to route, in lead order (priority, value, age, id), duplicates left out.
    leads: pl.DataFrame
    #: Duplicate lead id -> (the lead id it duplicates, the field), in lead order.
    duplicates: dict[str, tuple[str, str]]
    #: Lead id -> a note that goes into its reason (recycled, previous owner inactive, ...).
    notes: dict[str, str]
    #: Lead id -> the rep it must not go back to (it was recycled from them).
    excluded: dict[str, str]
    #: Lead id -> the rep it was recycled from.
    recycled: dict[str, str]


#: A lead's owner, null where the export leaves it empty.
_no_owner = pl.when(pl.col("owner") != "").then(pl.col("owner")).alias("owner")
#: The columns leads are sorted on (:func:`lead_order`).
ORDER_KEYS = ("priority", "value", "created_at", "id")


def lead_order(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame sorted as leads are routed: highest priority, then value, then oldest, then id."""
    return frame.sort(list(ORDER_KEYS),
                      descending=[True, True, False, False], maintain_order=True)


def dates_of(frame: pl.DataFrame, field: str) -> pl.Series:
    """A text field read as dates by the loader's column reader (null where empty, missing
    or unreadable)."""
    if field not in frame.columns:
        return pl.Series(field, [None] * frame.height, dtype=pl.Date)
    return date_column(frame[field].cast(pl.String))


def settle(leads: pl.DataFrame, reps: Mapping[str, Rep], as_of: dt.date,
           prior: pl.DataFrame, load: pl.DataFrame, window: pl.DataFrame, recycle,
           dedupe_on: Sequence[str], today: pl.DataFrame | None = None,
           phone_region: str = "CN") -> Pool:
    """Settle owners, recycling, load, duplicates and lead order for every lead at once.

    ``prior`` holds each lead's latest assignment by an earlier run (``lead_id``,
    ``prior_rep``, ``prior_as_of``); ``load`` what each rep received in earlier runs
    within the load window (``rep_id``, leads ``n``, their value ``v``); ``window``
    those earlier assignments of this export's leads (``lead_id``, ``rep_id``), which
    their owners hold without counting twice; ``today`` what earlier runs of the
    as-of day assigned (``lead_id``, ``rep_id``, ``value``): those leads stay where
    they went and count against today's caps. ``recycle`` is the
    ``[allocation.recycle]`` config, or ``None``; ``phone_region`` the region phone
    numbers without a country code are dialled from.
    """
    slots = {rep_id: RepSlot(rep) for rep_id, rep in reps.items()}
    _add_load(slots, load, today=False)
    if today is None:
        today = pl.DataFrame(schema={"lead_id": pl.String, "rep_id": pl.String,
                                     "value": pl.Float64})
    _add_load(slots, today.group_by("rep_id", maintain_order=True).agg(
        n=pl.len(), v=pl.col("value").sum()), today=True)
    # the sort and join keys alone, with each lead's row (_i): the rows are taken once, at the end
    frame = _owners(leads, reps, prior, recycle, as_of, today)
    kept = frame.filter(pl.col("_kept"))
    in_window = window.filter(pl.col("rep_id").is_in(list(slots)))["lead_id"]
    held = (kept.filter(~pl.col("id").is_in(in_window.implode())
                        & (pl.col("_source") != "today"))
            .group_by("_owner", maintain_order=True)
            .agg(n=pl.len(), v=pl.col("value").sum()))
    for rep_id, n, v in held.iter_rows():
        slots[rep_id].held += n
        slots[rep_id].held_value += v
    rest = frame.filter(~pl.col("_kept"))
    pool = lead_order(rest.select("_i", *ORDER_KEYS))
    duplicates = _duplicates(dedupe_on, leads, kept["_i"], pool["_i"], phone_region)
    del rest
    if duplicates:
        pool = pool.filter(~pl.col("id").is_in(list(duplicates)))
        order = {lead_id: i for i, lead_id in enumerate(lead_order(
            frame.filter(pl.col("id").is_in(list(duplicates))))["id"])}
        duplicates = dict(sorted(duplicates.items(), key=lambda kv: order[kv[0]]))
    noted = frame.filter(pl.col("_note").is_not_null())
    recycled = noted.filter(pl.col("_recycled"))
    return Pool(
        slots,
        kept.filter(pl.col("_source") != "today").select(
            lead_id="id", rep_id="_owner", source="_source"),
        kept.filter(pl.col("_source") == "today").select(lead_id="id", rep_id="_owner"),
        leads[pool["_i"]].with_columns(_no_owner),
        duplicates,
        dict(zip(noted["id"], _notes(noted, recycle))),
        dict(zip(recycled["id"], recycled["_owner"])),
        dict(zip(recycled["id"], recycled["_owner"])))


def _add_load(slots: dict[str, RepSlot], per_rep: pl.DataFrame, today: bool) -> None:
    """Add what earlier runs gave each rep (``rep_id``, leads ``n``, value ``v``): within the
    load window (``received``), or on the as-of day itself (``today``, counted against the
    caps)."""
    for rep_id, n, v in per_rep.select("rep_id", "n", "v").iter_rows():
        slot = slots.get(rep_id)
        if slot is None:
            continue
        if today:
            slot.today += n
            slot.today_value += v
        else:
            slot.received += n
            slot.received_value += v


def _owners(leads: pl.DataFrame, reps: Mapping[str, Rep], prior: pl.DataFrame, recycle,
            as_of: dt.date, today: pl.DataFrame) -> pl.DataFrame:
    """Each lead's owner and where that comes from, whether it stays, and which note it gets
    if not (``_note``: a :data:`NOTE_KEYS` index; the words are put in by :func:`_notes`).

    An earlier run of the same day wins over everything (the rep may have called
    the lead already). Else an earlier run's assignment wins over the export's
    owner unless the CRM shows a newer one (the export is just not updated yet).
    """
    assigned_field = recycle.assigned_field if recycle is not None else "assigned_at"
    frame = leads.select(
        *ORDER_KEYS, _no_owner, _i=pl.int_range(pl.len(), dtype=pl.UInt32),
        _assigned=dates_of(leads, assigned_field),
        _touched=(dates_of(leads, recycle.follow_up_field) if recycle is not None
                  else pl.lit(None, pl.Date)),
    ).join(prior, left_on="id", right_on="lead_id", how="left", maintain_order="left")
    owner = pl.col("owner")
    take_prior = (pl.col("prior_rep").is_not_null() & (pl.col("prior_rep") != owner).fill_null(True)
                  & (owner.is_null() | pl.col("_assigned").is_null()
                     | (pl.col("_assigned") <= pl.col("prior_as_of"))))
    frame = frame.with_columns(
        _owner=pl.when(take_prior).then(pl.col("prior_rep")).otherwise(owner),
        _source=pl.when(take_prior).then(pl.lit("history")).otherwise(pl.lit("export")))
    known = pl.DataFrame({"_owner": list(reps), "_active": [r.active for r in reps.values()]},
                         schema={"_owner": pl.String, "_active": pl.Boolean})
    frame = frame.join(known, on="_owner", how="left", maintain_order="left")
    day = today.select("lead_id", _day_rep="rep_id").unique("lead_id", keep="last")
    frame = frame.join(day, left_on="id", right_on="lead_id", how="left",
                       maintain_order="left").with_columns(_since=_since(recycle))
    is_day = pl.col("_day_rep").is_not_null()
    late = _late(recycle, as_of) if recycle is not None else pl.lit(False)
    frame = frame.with_columns(
        _owner=pl.when(is_day).then(pl.col("_day_rep")).otherwise(pl.col("_owner")),
        _source=pl.when(is_day).then(pl.lit("today")).otherwise(pl.col("_source")),
        _active=pl.when(is_day).then(True).otherwise(pl.col("_active")),
        _late=pl.when(is_day).then(False).otherwise(late))
    active = pl.col("_active").fill_null(False)
    late = pl.col("_late")
    return frame.select(
        "_i", *ORDER_KEYS, "_owner", "_source", "_since",
        _kept=active & ~late,
        _recycled=active & late,
        _note=pl.when(active).then(pl.when(late).then(pl.lit(0, pl.Int8)))
        .when(pl.col("_owner").is_not_null() & pl.col("_active").is_not_null())
        .then(pl.lit(1, pl.Int8))
        .when(pl.col("_owner").is_not_null()).then(pl.lit(2, pl.Int8)))


def _since(recycle) -> pl.Expr:
    """Since when the owner has the lead, for the recycling SLA (null without one)."""
    if recycle is None:
        return pl.lit(None, pl.Date)
    return (pl.when(pl.col("_source") == "history").then(pl.col("prior_as_of"))
            .otherwise(pl.coalesce(
                pl.col("_assigned"),
                pl.when(pl.col("prior_rep") == pl.col("_owner")).then(pl.col("prior_as_of")))))


def _late(recycle, as_of: dt.date) -> pl.Expr:
    """Whether the owner has not followed the lead up within the SLA (never null)."""
    since, touched = pl.col("_since"), pl.col("_touched")
    late = ((pl.lit(as_of) - since).dt.total_days() > recycle.after_days) & (
        touched.is_null() | (touched < since))
    return late.fill_null(False)


#: The notes :func:`_owners` gives a lead, by the index in its ``_note`` column.
NOTE_KEYS = ("pool.recycled", "pool.inactive", "pool.unknown")


def _notes(noted: pl.DataFrame, recycle) -> pl.Series:
    """The words of each of these leads' notes (``_note`` set), in the run's language."""
    kind, owner = pl.col("_note"), pl.col("_owner")
    after = str(recycle.after_days) if recycle is not None else ""
    return noted.select(
        pl.when(kind == 0).then(pl.format(polars_format(NOTE_KEYS[0]), owner,
                                          pl.col("_since").dt.strftime("%Y-%m-%d"),
                                          pl.lit(after)))
        .when(kind == 1).then(pl.format(polars_format(NOTE_KEYS[1]), owner))
        .otherwise(pl.format(polars_format(NOTE_KEYS[2]), owner))).to_series()


def is_phone(field: str) -> bool:
    """Whether a contact field holds phone numbers, by its name (phone, mobile, 电话, 手机)."""
    f = field.lower()
    return "phone" in f or "mobile" in f or "电话" in field or "手机" in field


def phone_key(text: str, region: str) -> str:
    """A phone number as it compares: E.164 (``+8613800138000``) where ``phonenumbers``
    reads a possible number, dialled from ``region`` unless it carries its own
    country code; else its digits alone."""
    import phonenumbers  # here: a run whose numbers are plain mobiles never imports it

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return re.sub(r"\D", "", text)


#: A Chinese mobile number written as its 11 digits and nothing else. Dialled from CN,
#: ``phonenumbers`` reads it as itself after +86 (no national prefix or carrier code to
#: strip, a possible length), unless it starts like a call abroad through a carrier,
#: ``179xx00`` (:data:`CN_ABROAD`): :func:`plain_keys` keys the others without parsing,
#: and a test checks that against :func:`phone_key`.
CN_MOBILE = r"^1[3-9][0-9]{9}$"
#: China's international prefix through a carrier (``179xx`` then ``00``).
CN_ABROAD = r"^179[0-9]{2}00"


def plain_keys(values: pl.Series, region: str) -> pl.Series:
    """:func:`phone_key` of each (stripped) value whose key is known without
    ``phonenumbers``: a Chinese mobile written as its digits, dialled from CN; null for
    the others."""
    if region != "CN":
        return pl.Series(values.name, [None] * values.len(), dtype=pl.String)
    plain = values.str.contains(CN_MOBILE) & ~values.str.contains(CN_ABROAD)
    return pl.select(pl.when(plain).then(pl.lit("+86") + values)).to_series().alias(
        values.name)


def normalised(field: str, values: pl.Series, region: str = "CN") -> pl.Series:
    """How values of a contact field compare: a phone's :func:`phone_key`, else trimmed
    lower case. Each distinct phone number is read once."""
    values = values.cast(pl.String).str.strip_chars()
    if not is_phone(field):
        return values.str.to_lowercase()
    # Two ways of writing one number end in the same digits, so only numbers that share
    # their last 7 digits with another can be duplicates: only those are keyed as
    # phonenumbers reads them (a few thousand of 200,000); one alone keeps its digits as
    # its key. Of those, only the ones not in a plain shape (plain_keys) are parsed.
    digits = values.str.replace_all(r"\D", "")
    shared = (digits.str.tail(7).is_duplicated() & (digits != "")).fill_null(False)
    rows = shared.arg_true()
    if not len(rows):
        return digits.alias(values.name)
    some = values.gather(rows)
    plain = plain_keys(some, region)
    lookup = {v: phone_key(v, region) for v in
              some.filter(plain.is_null()).unique().drop_nulls().to_list()}
    keyed = some.replace_strict(lookup, default=None, return_dtype=pl.String)
    return digits.scatter(rows, plain.fill_null(keyed)).alias(values.name)


def _duplicates(fields: Sequence[str], contacts: pl.DataFrame, kept: pl.Series,
                order: pl.Series, region: str = "CN") -> dict[str, tuple[str, str]]:
    """Lead id -> (the lead it duplicates, the field), for pool leads sharing a contact key.

    ``contacts`` holds every lead's ``id`` and contact fields, in file order; ``kept``
    the rows of the leads that stay with their owner, ``order`` those of the pool's
    leads in lead order. Of the leads with one key, a kept one (the first in the file)
    wins, else the first in lead order. A lead is a duplicate by the first field in
    ``fields`` on which it loses.
    """
    # who wins a key: the lowest score, a kept lead's row, else 2**40 + its place in lead order
    score = pl.Series("_score", [None] * contacts.height, dtype=pl.Int64)
    score.scatter(kept, kept.cast(pl.Int64))
    score.scatter(order, pl.int_range(len(order), eager=True, dtype=pl.Int64) + 2**40)
    ids = contacts["id"]
    out: dict[str, tuple[str, str]] = {}
    for f in fields:
        if f not in contacts.columns:
            continue
        key = pl.col("_key")
        both = pl.DataFrame({"_key": normalised(f, contacts[f], region), "_score": score}
                            ).with_row_index("_row").filter(
            pl.col("_score").is_not_null() & key.is_not_null() & (key != "")
            & key.is_duplicated())
        if both.is_empty():
            continue
        winners = both.sort("_score").group_by("_key", maintain_order=True).agg(
            win=pl.col("_row").first())
        losers = (both.filter(pl.col("_score") >= 2**40).join(winners, on="_key")
                  .filter(pl.col("_row") != pl.col("win")))
        for lead_id, win in zip(ids.gather(losers["_row"]).to_list(),
                                ids.gather(losers["win"]).to_list()):
            out.setdefault(lead_id, (win, f))
    return out
