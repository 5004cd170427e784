"""Back into the CRM: ``[output.crm_import]`` writes ``crm_import.csv`` in its import shape."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from conftest import edit_rules, invoke, read_csv

NO_USER = ("R0003", "R0007")


def set_up(folder: Path, fmt: str | None, **extra) -> dict[str, str]:
    """Give every rep but NO_USER a CRM user in the reps file; return rep -> user."""
    path = folder / "reps.csv"
    reps = pl.read_csv(path, infer_schema=False)
    reps = reps.with_columns(crm_user=pl.when(pl.col("rep_id").is_in(NO_USER))
                             .then(pl.lit("")).otherwise(pl.format("{}@acme.cn", pl.col("rep_id"))))
    reps.write_csv(path)
    if fmt is not None:
        edit_rules(folder / "rules.toml", lambda r: r["output"].__setitem__(
            "crm_import", {"format": fmt, **extra}))
    return dict(zip(reps["rep_id"], reps["crm_user"]))


def run(folder: Path):
    return invoke("run", "--rules", str(folder / "rules.toml"), "--as-of", "2026-11-25")


@pytest.mark.slow
@pytest.mark.parametrize("fmt, extra, header", [
    ("salesforce", {}, ["Id", "OwnerId"]),
    # HubSpot's importer matches an "[Object] owner" header to the object's owner property
    # (knowledge.hubspot.com/records/how-to-set-a-record-owner): deals by default
    ("hubspot", {}, ["Record ID", "Deal owner"]),
    ("hubspot", {"hubspot_object": "contact"}, ["Record ID", "Contact owner"]),
    ("generic", {}, ["lead_id", "owner"])])
def test_each_assignment_goes_back_as_the_lead_and_its_reps_crm_user(export, fmt, extra, header):
    users = set_up(export, fmt, **extra)
    assert run(export).exit_code == 0
    out = export / "out"
    rows = read_csv(out / "crm_import.csv")
    assert list(rows[0]) == header
    want = [(a["lead_id"], users[a["rep_id"]]) for a in read_csv(out / "assignments.csv")
            if a["rep_id"] not in NO_USER]
    assert [(r[header[0]], r[header[1]]) for r in rows] == want and want
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert {"file": "crm_import.csv", "rows": len(want)} == {
        k: v for e in manifest["outputs"] if e["file"] == "crm_import.csv"
        for k, v in e.items() if k != "digest"}


def test_reps_without_a_crm_user_are_named_and_their_leads_left_out(export):
    set_up(export, "salesforce")
    res = run(export)
    assert res.exit_code == 0
    left = [a for a in read_csv(export / "out" / "assignments.csv") if a["rep_id"] in NO_USER]
    assert left, "the generated export gives these reps leads"
    message = (f"crm_import.csv: 2 rep(s) without a CRM user in the reps file's 'crm_user' "
               f"column: R0003, R0007; their {len(left)} assignment(s) are left out")
    assert message in " ".join(res.output.split())
    ids = {r["Id"] for r in read_csv(export / "out" / "crm_import.csv")}
    assert not ids & {a["lead_id"] for a in left}
    manifest = json.loads((export / "out" / "run.json").read_text(encoding="utf-8"))
    assert any(w.startswith("crm_import.csv: 2 rep(s)") for w in manifest["warnings"])


def test_user_field_names_the_reps_column(export):
    set_up(export, "hubspot", user_field="owner_email")
    res = run(export)
    assert res.exit_code == 0
    assert read_csv(export / "out" / "crm_import.csv") == []
    assert "in the reps file's 'owner_email' column" in " ".join(res.output.split())


@pytest.mark.slow
def test_no_table_no_file_and_reruns_are_byte_identical(export):
    set_up(export, None)
    assert run(export).exit_code == 0
    assert not (export / "out" / "crm_import.csv").exists()
    set_up(export, "generic")
    assert run(export).exit_code == 0
    first = (export / "out" / "crm_import.csv").read_bytes()
    assert run(export).exit_code == 0
    assert (export / "out" / "crm_import.csv").read_bytes() == first


def test_an_unknown_format_is_refused_with_its_key_path(export):
    set_up(export, "pipedrive")
    res = run(export)
    assert res.exit_code == 2
    assert "output.crm_import.format" in res.output and "Traceback" not in res.output
