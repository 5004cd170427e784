"""The built-in ``team-rates`` funnel model: every
rep of a team gets the team's historical rates."""

from __future__ import annotations

import attrs

from salesrules.api import FunnelBatch, FunnelModel, Rate, hookimpl


@attrs.define
class TeamRatesParams:
    #: How many days of history before the as-of date the rates are measured on.
    lookback_days: int = attrs.field(default=90, validator=attrs.validators.ge(1))


class TeamRates(FunnelModel):
    """Team-level rates from the look-back window; the company's where a team has no history."""

    name = "team-rates"
    Params = TeamRatesParams
    words = {
        "name": {"en": "team-rates", "zh": "团队转化率"},
        "arpu": {"en": "ARPU", "zh": "客单价"},
        "rate": {"en": "rate", "zh": "转化率"},
        "team": {"en": "team {team} {what} {figures} from {start} to {end}",
                 "zh": "团队{team}{what} {figures}（{start} 至 {end}）"},
        "company": {"en": "company {what} {figures} from {start} to {end} (team {team} has no "
                          "history)",
                    "zh": "全公司{what} {figures}（{start} 至 {end}；团队{team}没有历史数据）"},
        "figures": {"en": "{low}/{up}", "zh": "{low}/{up}"},
        "closed-figures": {"en": "{low} won/{up} closed deals", "zh": "赢单 {low}/已结单 {up}"},
        "default": {"en": "default {what} (no history in any team)",
                    "zh": "默认{what}（所有团队都没有历史数据）"},
    }

    def rates(self, batch: FunnelBatch) -> dict[str, dict[str, Rate]]:
        window = batch.history_window(self.params.lookback_days)
        start, end = window.start, window.end
        totals = _totals(batch, batch.reps, start, end)
        company: list[float] | None = None
        team_rates: dict[str, Rate] = {}
        for i, (upper, lower) in enumerate(batch.funnel.links()):
            up, low = totals[i], totals[i + 1]
            what = self.say("arpu" if batch.funnel.link_kind(upper, lower) == "arpu" else "rate")
            said = {"team": batch.team, "what": what, "start": start, "end": end}
            of = _is_closed(batch, i)
            closed = batch.closed_counts([r.id for r in batch.reps], start, end) if of else None
            if closed is not None:  # the win rate of the deals closed: open ones left out
                up, low = sum(closed.closed), sum(closed.won)
            if up > 0 and low > 0:
                team_rates[lower.name] = Rate(
                    low / up, self.say("team", figures=self._figures(low, up, of), **said))
                continue
            if company is None:  # a team without history takes the company's rates
                company = _totals(batch, batch.everyone, start, end)
            up, low = company[i], company[i + 1]
            closed = (batch.closed_counts([r.id for r in batch.everyone], start, end) if of
                      else None)
            if closed is not None:
                up, low = sum(closed.closed), sum(closed.won)
            if up > 0 and low > 0:
                team_rates[lower.name] = Rate(
                    low / up, self.say("company", figures=self._figures(low, up, of), **said))
            elif lower.default_rate is not None:
                team_rates[lower.name] = Rate(lower.default_rate, self.say("default", **said))
        return {rep.id: team_rates for rep in batch.reps}

    def _figures(self, low: float, up: float, closed: bool) -> str:
        """The link's figures: ``low/up``, or won and closed deals."""
        return self.say("closed-figures" if closed else "figures", low=_num(low), up=_num(up))


def _is_closed(batch: FunnelBatch, link: int) -> bool:
    """Whether ``link`` goes into the win stage of a deals export (a win rate of closed deals)."""
    return batch.closed_stage == link + 1




def _totals(batch: FunnelBatch, reps, start, end) -> list[float]:
    """The stage totals of ``reps`` over ``[start, end]``."""
    totals = [0.0] * len(batch.funnel.stages)
    for rep in reps:
        for i, v in enumerate(batch.history.totals(rep.id, start, end)):
            totals[i] += v
    return totals


def _num(x: float) -> str:
    return f"{x:,.0f}" if x == int(x) else f"{x:,.2f}"


@hookimpl(trylast=True)
def register_funnels(register):
    register(TeamRates)
