"""The commented starter ``rules.toml`` that ``salesrules init`` writes."""

from __future__ import annotations

import tomli_w

from .config import _default_stages

SECTIONS: list[tuple[str, dict]] = [
    (
        "Where the CRM export is. Paths are relative to this file. Map each of our\n"
        "field names to your file's header under `columns`, e.g. name = \"姓名\".\n"
        "encoding: auto (UTF-8, UTF-8 with BOM or GB18030), or name one.",
        {"data": {
            "dir": "data", "encoding": "auto",
            "reps": {"file": "reps.csv", "columns": {"id": "rep_id"}},
            "leads": {"file": "leads.csv", "columns": {"id": "lead_id"}},
            "activity": {"file": "activity.csv"},
        }},
    ),
    (
        "The funnel, from the first touch down to the result. default_rate is the\n"
        "ratio of a stage to the one above it when there is no history: a\n"
        "conversion rate, or for count -> amount the amount per customer (ARPU).",
        {"funnel": {"stages": [
            {k: v for k, v in (("name", s.name), ("label", s.label), ("unit", s.unit),
                               ("default_rate", s.default_rate)) if v is not None}
            for s in _default_stages()]}},
    ),
    (
        "Level targets (职级任务) for one period, pushed back down the funnel and\n"
        "split over months (split), weeks and working days.",
        {"goals": {
            "period": "quarter", "split": "even", "funnel": "team-rates",
            "levels": {"P1": {"revenue": 60000}, "P2": {"revenue": 90000},
                       "P3": {"revenue": 120000}},
            "calendar": {"weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri"],
                         "holidays": [], "workdays": []},
        }},
    ),
    (
        "Routing rules, first match wins. `when` is a condition on lead columns;\n"
        "`teams` / `reps` limit who is eligible; `policy` shares the leads.",
        {"allocation": {
            "self_sourced_teams": [],
            "rules": [
                {"name": "A-grade", "when": "grade == 'A'", "policy": "balanced",
                 "params": {"by": "value"}},
                {"name": "everything else", "policy": "balanced"},
            ],
        }},
    ),
    (
        "Checks: a [checks.NAME] table switches one on; its keys are the check's params.",
        {"checks": {"behind-pace": {"warn_gap": 0.165, "critical_gap": 0.33}}},
    ),
    ("Where outputs go.", {"output": {"dir": "out"}}),
]


def starter_toml() -> str:
    parts = ["# salesrules rules file. `salesrules validate` checks it; "
             "`salesrules plugins` lists what can be named here.\n"]
    for comment, section in SECTIONS:
        lines = "\n".join("# " + c for c in comment.splitlines())
        parts.append(f"{lines}\n{tomli_w.dumps(section)}")
    return "\n".join(parts)
