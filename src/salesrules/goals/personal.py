"""The built-in ``personal`` funnel model: each rep's own rates, shrunk toward the team's (empirical Bayes)."""

from __future__ import annotations

import datetime as dt
import math

import attrs

from ..components import FunnelModel
from ..hookspecs import hookimpl
from ..model import link_kind
from .batches import FunnelBatch, Rate
from .shrinkage import beta_binomial_prior, normal_shrink, shrink


@attrs.define
class PersonalParams:
    #: Days of history before the as-of date that the rates are measured on.
    lookback_days: int = attrs.field(default=90, validator=attrs.validators.ge(1))


class Personal(FunnelModel):
    """Each rep's own rates, shrunk toward the team's by how thin their history is (不搞一刀切)."""

    name = "personal"
    Params = PersonalParams

    def rates(self, batch: FunnelBatch) -> dict[str, dict[str, Rate]]:
        start = batch.as_of - dt.timedelta(days=self.params.lookback_days)
        funnel = batch.funnel
        reps = batch.reps
        days = []
        for rep in reps:
            rows = [row for day, row in batch.history.days(rep.id).items()
                    if start <= day <= batch.as_of]
            days.append(rows)
        totals = [[sum(col) for col in zip(*rows)] if rows else [0.0] * len(funnel.stages)
                  for rows in days]
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
            binomial = (upper.unit == lower.unit == "count"
                        and all(b <= a for a, b in zip(up, low)))
            if binomial:
                mean, strength = beta_binomial_prior(low, up)
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
            daily = [[(row[i], row[i + 1]) for row in rows if row[i] > 0] for rows in days]
            team, raw, shrunk = normal_shrink(daily)
            for j, rep in enumerate(reps):
                if math.isnan(raw[j]):
                    out[rep.id][lower.name] = Rate(
                        team, f"team {batch.team} {kind} {team:.3g} (no history of their own)")
                    continue
                n = totals[j][deals] if deals is not None else 0
                out[rep.id][lower.name] = Rate(shrunk[j], (
                    f"rep {raw[j]:.3g} from {n:,.0f} {funnel.stages[deals].name if deals is not None else 'days'}"
                    f", shrunk toward team {team:.3g}"))
        return out


@hookimpl(trylast=True)
def register_funnels(register):
    register(Personal)
