"""Account affinity: a new lead of an account a rep already owns goes to that rep, before any rule.

A rep owns an account when they hold a lead of it that stays with them (kept
from the export or an earlier run, or given by an earlier run of the same day).
The accounts are matched on the leads frame, once per run.
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from ..config import format_path
from ..errors import ConfigError
from ..model import Assignment
from .batch import RepSlot
from .pool import Pool
from .reasons import reason

#: The lead columns taken as the account when ``allocation.account_field`` is not set.
ACCOUNT_COLUMNS = ("account", "company")
#: The rule and policy an assignment by account affinity names.
RULE = "account affinity"
POLICY = "account"


def account_column(field: str | None, columns: Collection[str]) -> str | None:
    """The lead column holding the account: ``field`` if set, else the first of
    :data:`ACCOUNT_COLUMNS` the leads have; ``None`` when ``field`` is ``""`` (off) or
    no such column exists. A ``field`` the leads do not have is a config error."""
    if field is None:
        return next((c for c in ACCOUNT_COLUMNS if c in columns), None)
    if field and field not in columns:
        raise ConfigError(
            f"{format_path(['allocation', 'account_field'])}: the leads have no column "
            f"{field!r} (they have {', '.join(sorted(columns))}); map it under "
            f"[data.leads.columns], or set account_field = \"\" to turn affinity off")
    return field or None


def _key(column: str) -> pl.Expr:
    """An account as it compares: trimmed, in lower case."""
    return pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase()


def account_owners(pool: Pool, leads: pl.DataFrame, column: str,
                   reps: Collection[str]) -> pl.DataFrame:
    """Each account's owner among ``reps``: ``_account`` (its key), ``_owner``. An account
    held by several reps goes with the one holding the most of its leads, then the first
    rep id."""
    held = pl.concat([pool.kept.select("lead_id", "rep_id"),
                      pool.carried.select("lead_id", "rep_id")])
    held = held.filter(pl.col("rep_id").is_in(list(reps)))
    accounts = leads.select(lead_id="id", _account=_key(column))
    return (held.join(accounts, on="lead_id", maintain_order="left")
            .filter(pl.col("_account").is_not_null() & (pl.col("_account") != ""))
            .group_by("_account", "rep_id").agg(n=pl.len())
            .sort(["_account", "n", "rep_id"], descending=[False, True, False])
            .group_by("_account", maintain_order=True)
            .agg(_owner=pl.col("rep_id").first()))


def keep_with_accounts(pool: Pool, leads: pl.DataFrame, column: str,
                       slots: dict[str, RepSlot], reps: Collection[str]) -> list[Assignment]:
    """Give each pool lead of an owned account to its owner, in lead order, within the
    owner's cap and never back to a rep it was recycled from; take those leads out of
    ``pool.leads``. A lead whose owner is full today stays in the pool, with a note."""
    owners = account_owners(pool, leads, column, reps)
    if owners.is_empty():
        return []
    wanted = (pool.leads.select("id", "value", _account=_key(column),
                                _shown=pl.col(column).cast(pl.String).str.strip_chars())
              .join(owners, on="_account", maintain_order="left"))
    out: list[Assignment] = []
    for lead_id, value, _, shown, owner in wanted.iter_rows():
        slot = slots[owner]
        if pool.excluded.get(lead_id) == owner:
            continue
        if slot.full:
            note = reason("account-full", account=shown, owner=owner)
            pool.notes[lead_id] = (reason("note", note=pool.notes[lead_id], rest=note)
                                   if lead_id in pool.notes else note)
            continue
        before = pool.notes.get(lead_id)
        why = reason("account", account=shown, owner=owner, cap=slot.cap_text())
        slot.today += 1
        slot.today_value += value
        out.append(Assignment(lead_id, owner, slot.rep.team, POLICY, RULE,
                              reason("note", note=before, rest=why) if before else why))
    if out:
        pool.leads = pool.leads.filter(~pl.col("id").is_in([a.lead_id for a in out]))
    return out
