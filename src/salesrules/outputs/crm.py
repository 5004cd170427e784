"""``crm_import.csv``: the run's assignments in the import format of the CRM the leads came from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from ..model import Assignment, Rep
from .csvfile import write_csv

#: Format -> the header of its two columns (the lead's record id, its new owner).
#: Salesforce's Data Loader updates ``OwnerId`` by record ``Id``; HubSpot's import
#: matches ``Record ID`` (as in its exports, see ``load.deal_presets``) and takes the
#: owner's email in ``Contact owner``.
HEADERS: Mapping[str, tuple[str, str]] = {
    "salesforce": ("Id", "OwnerId"),
    "hubspot": ("Record ID", "Contact owner"),
    "generic": ("lead_id", "owner"),
}

FILE = "crm_import.csv"


@attrs.frozen
class CrmImport:
    """The rows written to ``crm_import.csv``, and the warnings about reps left out."""

    rows: int
    warnings: list[str]


def write_crm_import(assignments: Sequence[Assignment], reps: Mapping[str, Rep],
                     fmt: str, user_field: str, folder: Path) -> CrmImport:
    """Write ``crm_import.csv``: each assignment's lead id and its rep's CRM user, taken
    from the reps file's ``user_field`` column. Returns the rows written and the
    warnings: a rep without a CRM user is named, and their leads are left out."""
    users = {rep_id: rep.fields.get(user_field, "").strip() for rep_id, rep in reps.items()}
    rows = [a for a in assignments if users.get(a.rep_id)]
    write_csv(folder / FILE, HEADERS[fmt],
              [[a.lead_id for a in rows], [users[a.rep_id] for a in rows]])
    missing = sorted({a.rep_id for a in assignments if not users.get(a.rep_id)})
    if not missing:
        return CrmImport(len(rows), [])
    left_out = len(assignments) - len(rows)
    return CrmImport(len(rows), [
        f"{FILE}: {len(missing)} rep(s) without a CRM user in the reps file's "
        f"{user_field!r} column: {', '.join(missing)}; their {left_out} assignment(s) are "
        f"left out of {FILE} (assign them in the CRM by hand, or fill in the column)"])
