"""The built-in ``personal`` funnel model: each rep's own rates, shrunk toward the team's (empirical Bayes)."""

from __future__ import annotations

import datetime as dt
import math
from operator import itemgetter

import attrs

from ..components import FunnelModel
from ..hookspecs import hookimpl
from ..model import ActivityTable, Funnel, Rep, link_kind
from .batches import FunnelBatch, Rate
from .shrinkage import (
    beta_binomial_prior,
    normal_shrink,
    pooled_between,
    ratio_stats,
    shrink,
)


@attrs.define
class PersonalParams:
    #: Days of history before the as-of date that the rates are measured on
    #: (two quarters by default: a quarter of revenue is too few deals to trust).
    lookback_days: int = attrs.field(default=180, validator=attrs.validators.ge(1))


def _days(history: ActivityTable, rep_id: str, start: dt.date, end: dt.date) -> list[list[float]]:
    return [row for day, row in history.days(rep_id).items() if start <= day <= end]


class Personal(FunnelModel):
    """Each rep's own rates, shrunk toward the team's by how thin their history is (不搞一刀切).

    Two levels: each team's rate is first pulled toward the company's (a small
    team's rate is noisy too), then each rep's toward their team's.
    """

    name = "personal"
    Params = PersonalParams

    def __init__(self, params: PersonalParams | None = None) -> None:
        super().__init__(params)
        self._teams: dict[tuple, tuple] = {}

    def team_means(self, batch: FunnelBatch) -> dict[str, dict[str, float]]:
        """Per team, per link (by lower stage): the team's rate pulled toward the company's."""
        return self._pooled(batch)[0]

    def _pooled(self, batch: FunnelBatch) -> tuple[dict[str, dict[str, float]], dict, dict, dict]:
        """:meth:`team_means`, with each rep's history rows, totals and ratio statistics.

        Computed once per run (the batches of one run share the as-of date and
        reps), so that each team's batch reuses what the company-wide pooling
        measured rep by rep.
        """
        everyone = batch.everyone or batch.reps
        start, end = batch.history_window(self.params.lookback_days)
        key = (start, end)
        cached = self._teams.get(key)
        # the same run passes the same reps and history objects to every team's batch
        if cached is not None and cached[0] is everyone and cached[1] is batch.history:
            return cached[2]
        teams: dict[str, list[Rep]] = {}
        for rep in everyone:
            teams.setdefault(rep.team, []).append(rep)
        names = sorted(teams)
        n = len(batch.funnel.stages)
        rep_rows = {rep.id: _days(batch.history, rep.id, start, end) for rep in everyone}
        rep_tot = {rep_id: ([sum(col) for col in zip(*rows)] if rows else [0.0] * n)
                   for rep_id, rows in rep_rows.items()}
        rep_ratio: dict[tuple[str, int], tuple[float, float]] = {}
        team_days: list[dict[dt.date, list[float]]] = []
        for t in names:
            by_day: dict[dt.date, list[list[float]]] = {}
            for rep in teams[t]:
                for day, row in batch.history.days(rep.id).items():
                    if start <= day <= end:
                        rows = by_day.get(day)
                        if rows is None:
                            by_day[day] = [row]
                        else:
                            rows.append(row)
            team_days.append({day: [sum(col) for col in zip(*rows)]
                              for day, rows in by_day.items()})
        totals = [[sum(col) for col in zip(*d.values())] if d else [0.0] * n for d in team_days]
        out: dict[str, dict[str, float]] = {t: {} for t in names}
        for i, (upper, lower) in enumerate(batch.funnel.links()):
            up = [t[i] for t in totals]
            low = [t[i + 1] for t in totals]
            if sum(up) <= 0 or sum(low) <= 0:
                continue
            if upper.unit == lower.unit == "count" and all(b <= a for a, b in zip(up, low)):
                mean, strength = beta_binomial_prior(low, up)
                for t, a, b in zip(names, up, low):
                    out[t][lower.name] = shrink(b, a, mean, strength) if a > 0 else mean
                # the reps' real spread around their team's rate, pooled over the company,
                # gives each rep's prior strength (a handful of reps per team is too few)
                groups, centers = [], []
                for t in names:
                    stats = []
                    for rep in teams[t]:
                        tot = rep_tot[rep.id]
                        if tot[i] > 0:
                            r = min(tot[i + 1], tot[i]) / tot[i]
                            m = out[t][lower.name]
                            stats.append((r, m * (1 - m) / tot[i]))
                    groups.append(stats)
                    centers.append(out[t][lower.name])
                tau2 = pooled_between(groups, centers)
                company = sum(low) / sum(up)
                out.setdefault("_strength", {})[lower.name] = (
                    max(company * (1 - company) / tau2 - 1, 0.0) if tau2 > 0 else math.inf)
            else:
                daily = [[(row[i], row[i + 1]) for row in d.values() if row[i] > 0 or row[i + 1] > 0]
                         for d in team_days]
                _, _, shrunk = normal_shrink(daily)
                for t, v in zip(names, shrunk):
                    out[t][lower.name] = v
                # the reps' real spread around their teams, pooled over the company
                pair = itemgetter(i, i + 1)
                groups, centers = [], []
                for t in names:
                    stats = []
                    for rep in teams[t]:
                        rs = rep_ratio[rep.id, i] = ratio_stats(
                            [p for p in map(pair, rep_rows[rep.id]) if p[0] > 0 or p[1] > 0])
                        stats.append(rs)
                    groups.append(stats)
                    centers.append(out[t][lower.name])
                out.setdefault("_tau2", {})[lower.name] = pooled_between(groups, centers)
        result = (out, rep_rows, rep_tot, rep_ratio)
        self._teams[key] = (everyone, batch.history, result)
        return result

    def rates(self, batch: FunnelBatch) -> dict[str, dict[str, Rate]]:
        start, end = batch.history_window(self.params.lookback_days)
        funnel: Funnel = batch.funnel
        reps = batch.reps
        pooled, rep_rows, rep_tot, rep_ratio = self._pooled(batch)
        n = len(funnel.stages)
        days = [rep_rows.get(rep.id) for rep in reps]
        days = [rows if rows is not None else _days(batch.history, rep.id, start, end)
                for rep, rows in zip(reps, days)]
        totals = [rep_tot.get(rep.id) or ([sum(col) for col in zip(*rows)] if rows else [0.0] * n)
                  for rep, rows in zip(reps, days)]
        team_means = pooled.get(batch.team, {})
        count_idx = [i for i, s in enumerate(funnel.stages) if s.unit == "count"]
        deals = count_idx[-1] if count_idx else None
        out: dict[str, dict[str, Rate]] = {rep.id: {} for rep in reps}
        for i, (upper, lower) in enumerate(funnel.links()):
            up = [t[i] for t in totals]
            low = [t[i + 1] for t in totals]
            kind = "ARPU" if link_kind(upper, lower) == "arpu" else "rate"
            if sum(up) <= 0 or sum(low) <= 0:
                if lower.default_rate is None:
                    continue
                for rep in reps:
                    out[rep.id][lower.name] = Rate(
                        lower.default_rate, f"default {kind} (team {batch.team} has no history)")
                continue
            team = team_means.get(lower.name)
            binomial = (upper.unit == lower.unit == "count"
                        and all(b <= a for a, b in zip(up, low)))
            if binomial:
                raw_team, strength = beta_binomial_prior(low, up)
                strength = pooled.get("_strength", {}).get(lower.name, strength)
                mean = team if team is not None else raw_team
                for rep, a, b in zip(reps, up, low):
                    if a <= 0:
                        out[rep.id][lower.name] = Rate(
                            mean, f"team {batch.team} {mean:.3g} (no {upper.name} of their own)")
                        continue
                    est = shrink(b, a, mean, strength)
                    out[rep.id][lower.name] = Rate(est, (
                        f"rep {b / a:.3g} from {a:,.0f} {upper.name}, shrunk toward team "
                        f"{mean:.3g}" + ("" if math.isinf(strength)
                                         else f" with prior strength {strength:,.0f}")))
                continue
            mean = team if team is not None else sum(low) / sum(up)
            tau2 = pooled.get("_tau2", {}).get(lower.name, 0.0)
            unit = funnel.stages[deals].name if deals is not None else "days"
            for j, rep in enumerate(reps):
                stats = rep_ratio.get((rep.id, i))
                raw, noise = stats if stats is not None else ratio_stats(
                    [(r[i], r[i + 1]) for r in days[j] if r[i] > 0 or r[i + 1] > 0])
                if math.isnan(raw):
                    out[rep.id][lower.name] = Rate(
                        mean, f"team {batch.team} {kind} {mean:.3g} (no history of their own)")
                    continue
                # the share of the rep's variance that is noise pulls them to the team
                b = 1.0 if tau2 == 0 or math.isnan(noise) else noise / (noise + tau2)
                n = totals[j][deals] if deals is not None else 0
                out[rep.id][lower.name] = Rate(b * mean + (1 - b) * raw, (
                    f"rep {raw:.3g} from {n:,.0f} {unit}, shrunk toward team {mean:.3g}"))
        return out


@hookimpl(trylast=True)
def register_funnels(register):
    register(Personal)
