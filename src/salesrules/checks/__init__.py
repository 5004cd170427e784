"""Checks: run every enabled check once over the run's progress and collect their findings."""

from __future__ import annotations

from ..components import Check
from ..errors import PluginError
from ..model import CAUSES, SEVERITIES, Finding
from ..resolve import Bound
from .context import CheckContext

__all__ = ["CheckContext", "run_checks"]


def run_checks(checks: list[Bound], ctx: CheckContext) -> list[Finding]:
    """Findings of all checks, most severe first, then by check and subject."""
    findings: list[Finding] = []
    for bound in checks:
        out = bound.call(_findings, bound, ctx)
        for f in out:
            problem = _malformed(f, bound.name)
            if problem:
                raise PluginError(bound.plugin, f"check {bound.name!r}", ValueError(problem))
        findings.extend(out)
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (-rank[f.severity], f.check, f.subject_kind, f.subject))


def _findings(bound: Bound, ctx: CheckContext) -> list[Finding]:
    check = bound.component
    assert isinstance(check, Check)  # resolved as a check, so registered as one
    return list(check.run(ctx))


def _malformed(f: object, check: str) -> str | None:
    if not isinstance(f, Finding):
        return f"run() must yield Finding objects, got {type(f).__name__}"
    if f.severity not in SEVERITIES:
        return f"finding on {f.subject!r} has severity {f.severity!r}; use one of {SEVERITIES}"
    if f.subject_kind not in ("rep", "team"):
        return f"finding on {f.subject!r} has subject_kind {f.subject_kind!r}; use rep or team"
    if f.cause not in CAUSES:
        return f"finding on {f.subject!r} has cause {f.cause!r}; use one of {CAUSES}"
    if f.check != check:
        return f"finding on {f.subject!r} names check {f.check!r}, expected {check!r}"
    if not f.message:
        return f"finding on {f.subject!r} has no message"
    return None
