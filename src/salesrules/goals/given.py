"""The targets set directly: level targets × tier, team targets shared whole, and per-rep rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from ..config import RulesConfig
from ..errors import DataError, Problem
from ..load import Dataset
from ..model import GoalOverride, Rep
from ..warning_words import warning
from .split import largest_remainder
from .trace_words import trace


@attrs.frozen
class Given:
    """One directly set target of one rep for one stage."""

    amount: float
    #: Where it came from, in words.
    how: str
    #: Already lowered for the rep's hire date, ramp and leave (a share of a
    #: team target is: the team's target is shared over what members can do).
    prorated: bool = False
    #: The goals-file row it came from, for a per-rep row ("" otherwise).
    where: str = ""


def reps_file(dataset: Dataset) -> str:
    """The reps file as the run's manifest names it, for messages."""
    return next((i.path for i in dataset.inputs if i.name == "reps"), "reps file")


def tier_multipliers(cfg: RulesConfig, dataset: Dataset, reps: Sequence[Rep]) -> dict[str, float]:
    """Each rep's tier multiplier (1.0 without a tier); an unknown tier name is a data error."""
    tiers = {t.name: t.multiplier for t in cfg.goals.tiers}
    out: dict[str, float] = {}
    problems = []
    for rep in reps:
        tier = str(rep.fields.get("tier", "") or "").strip()
        if tier and tier not in tiers:
            problems.append(Problem(
                f"{reps_file(dataset)}: rep {rep.id!r}: column 'tier'",
                f"unknown tier {tier!r}; the tiers are {', '.join(tiers)} (goals.tiers)"))
        out[rep.id] = tiers.get(tier, 1.0)
    if problems:
        raise DataError(problems)
    return out


def given_targets(cfg: RulesConfig, dataset: Dataset, reps: Sequence[Rep],
                  factors: Mapping[str, float], warnings: list[str]) -> dict[str, dict[str, Given]]:
    """Each active rep's directly set targets by stage.

    Level targets (times the rep's tier multiplier), then team targets from the
    goals file shared among the team's reps, then per-rep targets from the goals
    file, each replacing the one before for its stage. ``factors`` are each
    rep's target shares (hire date, ramp, leave) that a team target's shares follow.
    """
    mult = tier_multipliers(cfg, dataset, reps)
    out: dict[str, dict[str, Given]] = {}
    missing: dict[str, int] = {}
    for rep in reps:
        level = cfg.goals.levels.get(rep.level)
        if level is None:
            missing[rep.level] = missing.get(rep.level, 0) + 1
            out[rep.id] = {}
            continue
        tier = str(rep.fields.get("tier", "") or "").strip()
        m = mult[rep.id]
        how = trace("level", level=rep.level) + (trace("tier", m=m, tier=tier) if m != 1.0 else "")
        out[rep.id] = {stage: Given(amount * m, how) for stage, amount in level.items()}
    for name, n in sorted(missing.items()):
        warnings.append(warning("no-level", n=n, level=name))
    overrides: list[GoalOverride] = dataset.goal_overrides
    active = {r.id for r in reps}
    own = {(o.rep_id, o.stage): o for o in overrides if o.rep_id and o.rep_id in active}
    by_team: dict[str, list[Rep]] = {}
    for rep in reps:
        by_team.setdefault(rep.team, []).append(rep)
    for o in (o for o in overrides if o.team):
        members = by_team.get(o.team, [])
        if not members:
            warnings.append(warning("team-empty", where=o.where, team=o.team))
            continue
        _share_team_target(cfg, dataset, o, members, mult, factors, own, out, warnings)
    for o in (o for o in overrides if o.rep_id):
        if o.rep_id not in active:
            warnings.append(warning("rep-inactive", where=o.where, rep=o.rep_id))
            continue
        out[o.rep_id][o.stage] = Given(o.amount, f"goals file ({o.where})", where=o.where)
    return out


def _share_team_target(cfg: RulesConfig, dataset: Dataset, o: GoalOverride, members: list[Rep],
                       mult: Mapping[str, float], factors: Mapping[str, float],
                       own: Mapping[tuple[str, str], GoalOverride],
                       out: dict[str, dict[str, Given]], warnings: list[str]) -> None:
    """A team target shared whole: members with their own row keep it and the rest of the
    target is shared by the others, in proportion to their level target (or evenly) ×
    tier × the share of the period they work."""
    mine = [r for r in members if (r.id, o.stage) in own]
    others = [r for r in members if (r.id, o.stage) not in own]
    rest = o.amount - sum(own[r.id, o.stage].amount * factors.get(r.id, 1.0) for r in mine)
    if rest < 0:
        warnings.append(warning("team-below-own", where=o.where, team=o.team, stage=o.stage,
                                amount=o.amount, own=o.amount - rest))
        rest = 0.0
    if not others:
        return
    base = [1.0] * len(others)
    if cfg.goals.cascade == "level":
        level = [cfg.goals.levels.get(r.level, {}).get(o.stage, 0.0) for r in others]
        base = level if any(level) else base
    weights = [b * mult[r.id] * factors.get(r.id, 1.0) for b, r in zip(base, others)]
    if not any(weights):
        weights = [1.0] * len(others)
    scale = dataset.funnel.stage(o.stage).scale
    shares = largest_remainder(round(rest * scale), weights)
    how = trace("shared", team=o.team, amount=o.amount,
                cascade=trace(f"cascade.{cfg.goals.cascade}"))
    if mine:
        how += trace("less-own", n=len(mine))
    for rep, share in zip(others, shares):
        out[rep.id][o.stage] = Given(share / scale, how, prorated=True)
