"""``crm_import.csv``: the run's assignments in the import format of the CRM the leads came from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from ..model import Assignment, Rep
from ..warning_words import warning
from .csvfile import write_csv

#: Format -> the header of its two columns (the lead's record id, its new owner).
#: Salesforce's Data Loader updates ``OwnerId`` by record ``Id``; HubSpot's import
#: matches ``Record ID`` (as in its exports, see ``load.deal_presets``) and takes the
#: owner's name or email in a column headed "[Object] owner", the owner property of
#: the object imported: ``Deal owner`` for deals (the ``hubspot`` deals preset's leads),
#: ``Contact owner`` for contacts. Source: HubSpot Knowledge Base, "Assign ownership of
#: records" (https://knowledge.hubspot.com/records/how-to-set-a-record-owner, formerly
#: /crm-setup/how-to-set-an-owner): to set owners in an import, the file has a column
#: headed "[Object] owner" holding each user's name or email address; with the record ID
#: the import updates the existing records.
HEADERS: Mapping[str, tuple[str, str]] = {
    "salesforce": ("Id", "OwnerId"),
    "hubspot": ("Record ID", "{object} owner"),
    "generic": ("lead_id", "owner"),
}

FILE = "crm_import.csv"


@attrs.frozen
class CrmImport:
    """The rows written to ``crm_import.csv``, and the warnings about reps left out."""

    rows: int
    warnings: list[str]


def header(fmt: str, hubspot_object: str = "deal") -> list[str]:
    """The header row of ``fmt``; HubSpot's owner column names the object."""
    return [h.format(object=hubspot_object.capitalize()) for h in HEADERS[fmt]]


def write_crm_import(assignments: Sequence[Assignment], reps: Mapping[str, Rep],
                     fmt: str, user_field: str, folder: Path,
                     hubspot_object: str = "deal") -> CrmImport:
    """Write ``crm_import.csv``: each assignment's lead id and its rep's CRM user, taken
    from the reps file's ``user_field`` column. Returns the rows written and the
    warnings: a rep without a CRM user is named, and their leads are left out."""
    users = {rep_id: rep.fields.get(user_field, "").strip() for rep_id, rep in reps.items()}
    rows = [a for a in assignments if users.get(a.rep_id)]
    write_csv(folder / FILE, header(fmt, hubspot_object),
              [[a.lead_id for a in rows], [users[a.rep_id] for a in rows]])
    missing = sorted({a.rep_id for a in assignments if not users.get(a.rep_id)})
    if not missing:
        return CrmImport(len(rows), [])
    left_out = len(assignments) - len(rows)
    return CrmImport(len(rows), [warning("crm", file=FILE, n=len(missing), field=user_field,
                                         shown=", ".join(missing), left_out=left_out)])
