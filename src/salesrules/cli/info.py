"""``salesrules plugins``, ``compare`` and ``history``:
what is installed, what-ifs, what was done."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import attrs
import click

from .. import HOOK_CONTRACT
from ..errors import UserError
from .common import (
    DATE_HELP,
    EXIT_INTERNAL,
    count,
    date_option,
    fail,
    handle_errors,
    print_table,
    rules_option,
    strict_option,
    warn_plugins,
)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--check", is_flag=True,
              help="Verify every plugin loads and matches the hook contract; exit 1 if not.")
@strict_option
@handle_errors
def plugins(as_json: bool, check: bool, strict: bool) -> None:
    """List installed plugins, their versions and their components with params."""
    from ..plugins import health, load_registry

    registry = load_registry(strict=strict and not check)
    if check:
        problems = health(registry)
        for p in problems:
            click.echo(f"problem: {p}", err=True)
        n = len(registry.plugins)
        if problems:
            fail(f"{len(problems)} problem(s) in {n} plugin(s)", EXIT_INTERNAL)
        click.echo(f"{n} plugin(s) ok")
        return
    listing = plugin_listing(registry)
    if as_json:
        click.echo(json.dumps(listing, indent=2, ensure_ascii=False))
        return
    warn_plugins(registry.problems + registry.deprecations)
    click.echo(f"hook contract {HOOK_CONTRACT}")
    for p in listing["plugins"]:
        click.echo(f"{p['name']} {p['version']} ({p['distribution']})")
        if not p["components"] and p["hooks"]:  # an output plugin, say: what it hooks into
            click.echo(f"  hooks   {', '.join(p['hooks'])}")
        for c in p["components"]:
            click.echo(f"  {c['kind']:<7} {c['name']}: {c['summary']}")
            for prm in c["params"]:
                default = ("" if prm["default"] is None else
                           f" = {json.dumps(prm['default'], ensure_ascii=False)}")
                click.echo(f"            {prm['name']}: {prm['type']}{default}")
                if prm["doc"]:
                    click.echo(f"              {prm['doc']}")


def plugin_listing(registry: Any) -> dict[str, Any]:
    """The installed plugins and their components with params, as ``plugins --json`` prints."""
    import attrs

    from ..config import converter
    from ..config.comments import field_comments

    comps: dict[str, list[dict[str, Any]]] = {}
    for kind, entries in registry.components.items():
        for name, reg in sorted(entries.items()):
            params, docs = [], field_comments(reg.cls.Params)
            for a in attrs.fields(reg.cls.Params):
                default = a.default
                if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                    default = default.factory()  # type: ignore[union-attr]
                elif default is attrs.NOTHING:
                    default = None
                default = converter.unstructure(default)
                tp = a.type if isinstance(a.type, str) else getattr(a.type, "__name__", str(a.type))
                params.append({"name": a.name, "type": str(tp), "default": default,
                               "doc": docs.get(a.name, "")})
            comps.setdefault(reg.plugin, []).append(
                {"kind": kind, "name": name, "summary": reg.cls.summary(), "params": params})
    return {
        "hook_contract": HOOK_CONTRACT,
        "plugins": [{"name": p.name, "distribution": p.distribution, "version": p.version,
                     "builtin": p.builtin, "hooks": list(p.hooks),
                     "components": comps.get(p.name, [])} for p in registry.plugins],
        "problems": [str(p) for p in registry.problems],
    }


@click.command(name="compare")
@click.argument("rules_a", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("rules_b", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--data", type=click.Path(path_type=Path, file_okay=False),
              help="Export folder (default: RULES_A's data.dir).")
@click.option("--as-of", "as_of", callback=date_option, metavar="DATE", help=DATE_HELP)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def compare_cmd(rules_a: Path, rules_b: Path, data: Path | None, as_of: dt.date | None,
                seed: int, as_json: bool) -> None:
    """Allocate the same leads under two rule sets and compare them side by side.

    Uses RULES_A's export for both; writes no outputs and no history.
    """
    from ..compare import GINI_LEGEND, compare, summary_rows

    out = compare(rules_a, rules_b, data, as_of, seed)
    if as_json:
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    click.echo(f"{count(out['leads'], 'lead')} as of {out['as_of']}")
    click.echo(f"  A = {out['a']['rules']}\n  B = {out['b']['rules']}\n")
    print_table(["", "A", "B"], summary_rows(out), right=(1, 2))
    click.echo(GINI_LEGEND)
    click.echo()
    print_table(["rep", "team", "A leads", "A value", "B leads", "B value", "conv."],
                [[r["rep_id"], r["team"], f"{r['a_leads']:,}", f"{r['a_value']:,.0f}",
                  f"{r['b_leads']:,}", f"{r['b_value']:,.0f}", f"{r['conversion_rate']:.1%}"]
                 for r in out["reps"]], right=(2, 3, 4, 5, 6))


def rep_names(cfg: Any) -> dict[str, str]:
    """Each rep's name from the reps file of ``cfg``'s data; empty when it cannot be read."""
    from ..errors import PluginError
    from ..load import data_dir, load_dataset
    from ..run import plan_run

    try:
        plan = plan_run(cfg)
        reps = [(name, bound) for name, bound in plan.sources if bound.name == "reps"]
        if not reps:
            return {}
        dataset = load_dataset(cfg, reps, data_dir(cfg, None))
    except (UserError, PluginError, OSError):  # names are a courtesy: history is shown without them
        return {}
    return {r.id: r.name for r in dataset.reps.values() if r.name}


@click.command()
@rules_option
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 10_000),
              help="How many recent runs to show.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def history(rules: Path, limit: int, as_json: bool) -> None:
    """Show recent runs and each rep's load (leads received) in the balance window."""
    from ..config import load_config
    from ..history import open_history

    cfg = load_config(rules)
    path = cfg.base_dir / cfg.history.path
    if not cfg.history.enabled:
        raise UserError("history.enabled is false in rules.toml: there is no run history")
    if not path.exists():
        click.echo(f"no runs recorded yet ({path} does not exist)")
        return
    h = open_history(path, readonly=True)
    try:
        runs = h.runs(limit)
        latest = dt.date.fromisoformat(runs[0].as_of) if runs else None
        loads = h.load_by_rep(latest, cfg.allocation.window_days) if latest else {}
    finally:
        h.close()
    names = rep_names(cfg) if loads else {}
    if as_json:
        click.echo(json.dumps({
            "runs": [{"run_id": r.run_id, "as_of": r.as_of, "committed_at": r.committed_at,
                      "assigned": r.assigned, "unassigned": r.unassigned} for r in runs],
            "window_days": cfg.allocation.window_days,
            "as_of": latest.isoformat() if latest else None,
            "load": {rep: {"name": names.get(rep), "leads": n, "value": round(v, 2)}
                     for rep, (n, v) in loads.items()},
        }, indent=2, ensure_ascii=False))
        return
    print_table(["as of", "run", "assigned", "unassigned", "committed"],
                [[r.as_of, r.run_id, f"{r.assigned:,}", f"{r.unassigned:,}", r.committed_at]
                 for r in runs], right=(2, 3))
    if latest:
        click.echo(f"\nload per rep, {count(cfg.allocation.window_days, 'day')} to {latest}:")
        named = 1 if names else 0  # without the reps file, no empty name column
        print_table(["rep", "name"][:1 + named] + ["leads", "value"],
                    [[x.rep_id, x.name or ""][:1 + named] + [f"{x.leads:,}", f"{x.value:,.2f}"]
                     for x in load_listing(loads, names)], right=(1 + named, 2 + named))


@attrs.frozen
class RepLoad:
    """One rep's line in ``salesrules history``: who, and what they received in the window."""

    rep_id: str
    #: From the reps file; ``None`` when it could not be read or names nobody.
    name: str | None
    leads: int
    value: float


def load_listing(loads: dict[str, tuple[int, float]], names: dict[str, str]) -> list[RepLoad]:
    """:meth:`~salesrules.history.History.load_by_rep` with each rep's name, most leads first
    (then by rep id)."""
    rows = [RepLoad(rep, names.get(rep), n, v) for rep, (n, v) in loads.items()]
    return sorted(rows, key=lambda r: (-r.leads, r.rep_id))
