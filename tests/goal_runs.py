"""Helpers for the goal tests: run an export through the goal stage and pick rows of targets.csv."""

from __future__ import annotations

from conftest import edit_rules, invoke, read_csv


def run_goals(export, tweak=None):
    """Run the export (after ``tweak`` edits its rules.toml) and return targets.csv's rows."""
    if tweak:
        edit_rules(export / "rules.toml", tweak)
    res = invoke("run", "--rules", str(export / "rules.toml"), "-q")
    assert res.exit_code == 0, res.output
    return read_csv(export / "out" / "targets.csv")


def quarter(rows, rep, stage="revenue"):
    """A rep's quarter target for a stage."""
    return next(float(r["target"]) for r in rows if r["rep_id"] == rep and r["stage"] == stage
                and r["grain"] == "quarter")


def rows_of(rows, rep, stage, grain):
    """A rep's target rows for one stage at one grain."""
    return [r for r in rows if r["rep_id"] == rep and r["stage"] == stage and r["grain"] == grain]


def set_rep_column(export, rep, column, value):
    """Set one rep's cell in reps.csv, adding the column if it is not there."""
    text = (export / "reps.csv").read_text(encoding="utf-8-sig").splitlines()
    head = text[0].split(",")
    if column not in head:
        text = [text[0] + f",{column}"] + [line + "," for line in text[1:]]
        head.append(column)
    k = head.index(column)
    for i, line in enumerate(text):
        cells = line.split(",")
        if cells[0] == rep:
            cells[k] = value
            text[i] = ",".join(cells)
    (export / "reps.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
