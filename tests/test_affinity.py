"""Account affinity: a new lead of an account a rep already owns goes to that rep, within caps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import polars as pl
import pytest
from conftest import edit_rules, invoke, read_csv

from salesrules.allocation import allocate
from salesrules.config import load_config
from salesrules.load import data_dir, load_dataset
from salesrules.run import plan_run

AS_OF = dt.date(2026, 11, 25)


def allocate_export(folder: Path, capacity: dict[str, int] | None = None):
    """Allocate the export in ``folder`` as ``run`` would, without history."""
    cfg = load_config(folder / "rules.toml")
    plan = plan_run(cfg, entry_points=False)
    ds = load_dataset(cfg, plan.sources, data_dir(cfg, None))
    for rep_id, cap in (capacity or {}).items():
        ds.reps[rep_id] = attrs.evolve(ds.reps[rep_id], capacity=cap)
    return allocate(cfg, plan.routes, ds, AS_OF, 0)


def add_accounts(folder: Path, column: str = "account") -> tuple[dict[str, str], dict[str, str]]:
    """Give two kept leads (of two eligible reps) an account each, and five new leads the
    same accounts as they might be typed. Returns new lead -> owner, and owner -> account."""
    before = allocate_export(folder)
    kept = before.kept.filter(pl.col("rep_id").is_in(list(before.eligible)))
    kept = kept.unique("rep_id", keep="first", maintain_order=True).head(2)
    (k1, r1), (k2, r2) = kept.select("lead_id", "rep_id").iter_rows()
    new = [a.lead_id for a in before.assignments][:5]
    accounts = {k1: "Acme 有限公司", k2: "Globex", new[0]: " acme 有限公司",
                new[1]: "ACME 有限公司", new[2]: "Acme 有限公司", new[3]: "Globex",
                new[4]: "globex "}
    path = folder / "leads.csv"
    leads = pl.read_csv(path, infer_schema=False)
    leads = leads.with_columns(pl.col("lead_id").replace_strict(
        accounts, default=pl.format("Solo {}", pl.col("lead_id"))).alias(column))
    leads.write_csv(path)
    return ({**dict.fromkeys(new[:3], r1), **dict.fromkeys(new[3:], r2)},
            {r1: "Acme 有限公司", r2: "Globex"})


@pytest.mark.slow
@pytest.mark.parametrize("column", ["account", "company"])
def test_a_new_lead_of_an_owned_account_goes_to_its_rep(export, column):
    want, accounts = add_accounts(export, column)
    res = allocate_export(export)
    got = {a.lead_id: a for a in res.assignments}
    for lead_id, rep_id in want.items():
        assert got[lead_id].rep_id == rep_id
        assert (got[lead_id].rule, got[lead_id].policy) == ("account affinity", "account")
        assert f"is owned by {rep_id}; kept with the account's rep;" in got[lead_id].reason
    first = next(iter(want))
    assert f"account acme 有限公司 is owned by {want[first]}" in got[first].reason
    others = [a for a in res.assignments if a.lead_id not in want]
    assert others and all(a.rule != "account affinity" for a in others)


def test_an_owner_at_their_cap_leaves_the_lead_to_the_rules(export):
    want, _ = add_accounts(export)
    acme = [lead for lead, rep in want.items() if rep == want[next(iter(want))]]
    owner = want[acme[0]]
    res = allocate_export(export, {owner: 1})
    got = {a.lead_id: a for a in res.assignments}
    by_affinity = [i for i in acme if got[i].rule == "account affinity"]
    assert by_affinity == acme[:1] and got[acme[0]].rep_id == owner
    assert "1 of cap 1 today" in got[acme[0]].reason
    for lead_id in acme[1:]:
        assert got[lead_id].rep_id != owner
        assert f"is owned by {owner}, who is at their cap today; rule 'all leads'" \
            in got[lead_id].reason
    assert sum(a.rep_id == owner for a in res.assignments) == 1


def test_an_empty_account_field_turns_affinity_off(export):
    add_accounts(export)
    edit_rules(export / "rules.toml",
               lambda r: r["allocation"].__setitem__("account_field", ""))
    res = allocate_export(export)
    assert res.assignments and all(a.rule != "account affinity" for a in res.assignments)


@pytest.mark.slow
def test_run_writes_affinity_assignments_and_validate_refuses_an_unknown_column(export):
    want, _ = add_accounts(export)
    rules = str(export / "rules.toml")
    assert invoke("run", "--rules", rules, "--as-of", "2026-11-25", "-q").exit_code == 0
    rows = {r["lead_id"]: r for r in read_csv(export / "out" / "assignments.csv")}
    assert {i: rows[i]["rep_id"] for i in want} == want
    edit_rules(export / "rules.toml",
               lambda r: r["allocation"].__setitem__("account_field", "客户"))
    for command in ("validate", "run"):
        res = invoke(command, "--rules", rules)
        assert res.exit_code == 2, res.output
        assert "allocation.account_field: the leads have no column '客户'" in res.output
        assert "Traceback" not in res.output
