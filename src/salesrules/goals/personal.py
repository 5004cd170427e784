"""The built-in ``personal`` funnel model: each rep's own rates, shrunk toward the team's (empirical Bayes)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import attrs
import numpy as np

from ..components import FunnelModel
from ..hookspecs import hookimpl
from ..model import ActivityTable, Funnel, Rep, link_kind
from .batches import FunnelBatch, Rate
from .shrinkage import (
    beta_binomial_prior,
    normal_shrink,
    pooled_between,
    shrink,
)


@attrs.define
class PersonalParams:
    #: Days of history before the as-of date that the rates are measured on
    #: (two quarters by default: a quarter of revenue is too few deals to trust).
    lookback_days: int = attrs.field(default=180, validator=attrs.validators.ge(1))


def _measure(history: ActivityTable, reps: Sequence[Rep], start: dt.date, end: dt.date
             ) -> tuple[dict[str, list[float]], dict[tuple[str, int], tuple[float, float]]]:
    """Each rep's stage totals over ``[start, end]``, and per link their ratio statistics.

    The ratio statistics are :func:`ratio_stats` over the rep's days, computed
    for every rep at once over the table's arrays: per link ``i`` (stage ``i``
    to ``i + 1``), the ratio of the sums and its delta-method variance.
    """
    rows = history.rows(start, end, reps=[rep.id for rep in reps])
    v = rows.values
    width = v.shape[1]
    tot = (np.stack([rows.per_rep(v[:, j]) for j in range(width)], axis=1) if width
           else np.zeros((len(reps), 0)))
    ratio: dict[tuple[str, int], tuple[float, float]] = {}
    ids = rows.reps
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i in range(width - 1):
            u, low = v[:, i], v[:, i + 1]
            k = rows.per_rep(((u > 0) | (low > 0)).astype(np.float64))
            up_sum, low_sum = tot[:, i], tot[:, i + 1]
            none = (k == 0) | (up_sum == 0)
            r = np.where(none, 0.0, low_sum / np.where(none, 1.0, up_sum))
            resid = rows.per_rep((low - r[rows.rep] * u) ** 2)
            noise = np.where(k > 1, resid / (up_sum * up_sum) * k / np.maximum(k - 1, 1), np.nan)
            r[none], noise[none] = np.nan, np.inf
            ratio.update(zip(((rep_id, i) for rep_id in ids), zip(r.tolist(), noise.tolist())))
    return dict(zip(ids, tot.tolist())), ratio


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

    def _pooled(self, batch: FunnelBatch) -> tuple[dict[str, dict[str, float]], dict, dict]:
        """:meth:`team_means`, with each rep's totals and ratio statistics.

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
        rep_tot, rep_ratio = _measure(batch.history, everyone, start, end)
        # each team's activity per day (days where one of its reps has a row), in date order
        team_of = np.array([names.index(rep.team) for rep in everyone], dtype=np.int64)
        rows = batch.history.rows(start, end, reps=[rep.id for rep in everyone])
        first = int(rows.day.min()) if len(rows) else 0
        n_days = int(rows.day.max()) - first + 1 if len(rows) else 0
        slot = team_of[rows.rep] * n_days + (rows.day - first)
        size = len(names) * n_days
        present = np.bincount(slot, minlength=size).reshape(len(names), n_days) > 0
        by_day = np.stack([np.bincount(slot, weights=rows.values[:, j], minlength=size)
                           for j in range(rows.values.shape[1])], axis=1
                          ).reshape(len(names), n_days, len(batch.funnel.stages))
        team_days = [by_day[t][present[t]] for t in range(len(names))]
        totals = [d.sum(axis=0).tolist() for d in team_days]
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
                daily = [list(zip(d[moved, i].tolist(), d[moved, i + 1].tolist()))
                         for d in team_days
                         for moved in [(d[:, i] > 0) | (d[:, i + 1] > 0)]]
                _, _, shrunk = normal_shrink(daily)
                for t, v in zip(names, shrunk):
                    out[t][lower.name] = v
                # the reps' real spread around their teams, pooled over the company
                groups = [[rep_ratio[rep.id, i] for rep in teams[t]] for t in names]
                centers = [out[t][lower.name] for t in names]
                out.setdefault("_tau2", {})[lower.name] = pooled_between(groups, centers)
        result = (out, rep_tot, rep_ratio)
        self._teams[key] = (everyone, batch.history, result)
        return result

    def rates(self, batch: FunnelBatch) -> dict[str, dict[str, Rate]]:
        start, end = batch.history_window(self.params.lookback_days)
        funnel: Funnel = batch.funnel
        reps = batch.reps
        pooled, rep_tot, rep_ratio = self._pooled(batch)
        missing = [rep for rep in reps if rep.id not in rep_tot]
        if missing:  # reps the pooling did not see: measured the same way
            more_tot, more_ratio = _measure(batch.history, missing, start, end)
            rep_tot, rep_ratio = {**rep_tot, **more_tot}, {**rep_ratio, **more_ratio}
        totals = [rep_tot[rep.id] for rep in reps]
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
                raw, noise = rep_ratio[rep.id, i]
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
