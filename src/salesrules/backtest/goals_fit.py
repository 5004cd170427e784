"""Goals: each funnel model's rates on a date against the rates reps then achieved.

For each as-of date and funnel link, every rep's rate as each model estimated
it from what was known that day, against the rate the rep achieved over the
:data:`HORIZON_DAYS` after it. The error is volume-weighted (by the rep's
volume of the link's upper stage over those days) and relative (divided by the
volume-weighted realised rate): ``Σ v·|est − real| / Σ v·real``.

Both sides measure a link the same way, as the run does
(:class:`~salesrules.estimate.Estimate`): on the activity without the rows
that contradict themselves, and, with a deals export, the win stage's rate
(``FunnelBatch.closed_stage``) as won ÷ closed of the deals closed in the
window, open deals left out (the volume is then the deals closed). The
estimates are the run's own: each day's models get the run's estimate of
that day (:func:`~salesrules.estimate.estimate_of`).

Models: ``personal`` and ``team-rates`` (the built-in funnel models, the rules'
own params where the rules use that model), and ``standard``, one fixed rate
for everyone: the company's rate over the 90 days before the period, measured
as above (each stage's ``default_rate`` where the company has no history of a
link).
"""

from __future__ import annotations

import datetime as dt
import math

import attrs

from ..components import FunnelModel
from ..config import Use
from ..errors import Problems
from ..estimate import Estimate, estimate_of
from ..goals import Rate
from ..goals.batches import FunnelBatch
from ..goals.calendar import period_of
from ..load import Dataset
from ..load.deal_presets import CLOSED_KEY, ClosedDeals
from ..model import ActivityTable, Period
from ..resolve import Bound, resolve
from ..run import Plan
from .rows import ALL, Row, Span, after

HORIZON_DAYS = 28
MODELS = ("personal", "team-rates", "standard")
STANDARD_LOOKBACK = 90

Estimates = dict[str, dict[str, Rate]]  # rep id -> lower stage -> rate


@attrs.frozen
class Fit:
    """One model's error on one link, summed over dates: ``error = num / den``."""

    model: str
    link: str
    num: float
    den: float
    inside: int = 0
    stated: int = 0

    @property
    def error(self) -> float:
        return self.num / self.den if self.den > 0 else math.nan


def _models(plan: Plan) -> dict[str, Bound]:
    out: dict[str, Bound] = {}
    for name in MODELS[:2]:
        if plan.funnel.name == name:
            out[name] = plan.funnel
            continue
        bound = resolve(plan.registry, "funnel", Use(name, {}), ["backtest"], Problems())
        if bound is not None:
            out[name] = bound
    return out


def _standard(est: Estimate, batch: FunnelBatch) -> dict[str, Rate]:
    window = batch.history_window(STANDARD_LOOKBACK)
    start, end = window.start, window.end
    funnel = est.funnel
    totals = [0.0] * len(funnel.stages)
    for rep in batch.everyone:
        for i, v in enumerate(est.history.totals(rep.id, start, end)):
            totals[i] += v
    closed = batch.closed_counts([r.id for r in batch.everyone], start, end)
    if closed is not None and batch.closed_stage is not None:  # won ÷ closed, as the run's
        k = batch.closed_stage
        totals[k - 1], totals[k] = float(sum(closed.closed)), float(sum(closed.won))
    out: dict[str, Rate] = {}
    for i, (_, lower) in enumerate(funnel.links()):
        if totals[i] > 0 and totals[i + 1] > 0:
            out[lower.name] = Rate(totals[i + 1] / totals[i], "the company's rate")
        elif lower.default_rate is not None:
            out[lower.name] = Rate(lower.default_rate, "the funnel's default_rate")
    return out


def estimates(plan: Plan, known: Dataset, as_of: dt.date) -> dict[str, Estimates]:
    """Per model, every active rep's rates as estimated on ``as_of`` from ``known``, on the
    run's estimate of that day (the same rates the run's goals use)."""
    g = plan.config.goals
    period = period_of(as_of, g.period, g.fiscal_year_start)
    est = estimate_of(known, period, as_of)
    everyone = tuple(r for r in known.reps.values() if r.active)
    closed = known.extra.get(CLOSED_KEY)
    out: dict[str, Estimates] = {m: {} for m in MODELS}
    for name, bound in _models(plan).items():
        model = bound.component
        assert isinstance(model, FunnelModel)
        for team, reps in known.teams().items():
            active = tuple(r for r in reps if r.active)
            if active:
                batch = FunnelBatch(team, active, known.funnel, est.history, as_of, period,
                                    everyone, est, closed)
                out[name].update(bound.call(model.rates, batch))
    batch = FunnelBatch("", everyone, known.funnel, est.history, as_of, period, everyone, est,
                        closed)
    standard = _standard(est, batch)
    out["standard"] = {r.id: standard for r in everyone}
    return out


def clean_history(dataset: Dataset) -> ActivityTable:
    """The loaded activity without the rows that contradict themselves (as the run's estimate
    leaves them out)."""
    span = dataset.activity.span()
    if not dataset.contradicting or span.first is None or span.last is None:
        return dataset.activity
    return estimate_of(dataset, Period("day", span.first, span.last), span.last).history


def _win_stage(dataset: Dataset, history: ActivityTable,
               closed: ClosedDeals | None) -> int | None:
    """The stage whose rate is won ÷ closed of the deals closed, as the funnel models see it
    (``FunnelBatch.closed_stage``); ``None`` without a deals export."""
    if closed is None:
        return None
    day = dataset.activity.last_day() or dt.date.min
    batch = FunnelBatch("", (), dataset.funnel, history, day, Period("day", day, day),
                        closed=closed)
    k = batch.closed_stage
    return k if k else None


@attrs.frozen
class Achieved:
    """What a rep achieved on a link over the horizon: the volume and the rate."""

    volume: float
    rate: float


def _inside(rate: Rate, achieved: float) -> bool | None:
    """Whether ``achieved`` fell inside the model's stated uncertainty about the rate (its
    ``low`` and ``high``); ``None`` where the model states none."""
    low, high = getattr(rate, "low", None), getattr(rate, "high", None)
    if isinstance(low, (int, float)) and isinstance(high, (int, float)):
        return low <= achieved <= high
    return None


class GoalsFit:
    """Adds up each model's error per link over the dates it is given."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        #: What reps achieved is read from the activity without the rows that contradict
        #: themselves, and with a deals export the win stage from the deals closed.
        self.history = clean_history(dataset)
        self.closed = dataset.extra.get(CLOSED_KEY)
        self.win = _win_stage(dataset, self.history, self.closed)
        self.fits: dict[tuple[str, str], list[float]] = {}
        self.rows: list[Row] = []
        self.dates = 0

    def achieved(self, rep_ids: list[str], window: Span) -> dict[str, list[Achieved | None]]:
        """Per rep, per link: the volume and rate achieved over ``window`` (``None`` without
        volume), measured as the estimates are."""
        real = self.history.window_totals(window.start, window.end)
        closed = (self.closed.window(rep_ids, window.start, window.end)
                  if self.closed is not None and self.win is not None else None)
        links = len(self.dataset.funnel.stages) - 1
        out: dict[str, list[Achieved | None]] = {}
        for k, rep_id in enumerate(rep_ids):
            tot = real.get(rep_id)
            row: list[Achieved | None] = [None] * links
            if tot is not None:
                row = [Achieved(tot[i], tot[i + 1] / tot[i]) if tot[i] > 0 else None
                       for i in range(links)]
            if closed is not None and self.win is not None:
                n = closed.closed[k]
                row[self.win - 1] = Achieved(n, closed.won[k] / n) if n else None
            out[rep_id] = row
        return out

    def add(self, as_of: dt.date, est: dict[str, Estimates]) -> None:
        window = after(self.dataset, as_of, HORIZON_DAYS)
        if window is None:
            return
        self.dates += 1
        rep_ids = sorted({r for reps in est.values() for r in reps})
        real = self.achieved(rep_ids, window)
        for i, (upper, lower) in enumerate(self.dataset.funnel.links()):
            link = f"{upper.name}>{lower.name}"
            for model, reps in est.items():
                num = den = 0.0
                inside = stated = 0
                for rep_id, rates in reps.items():
                    got = real[rep_id][i]
                    rate = rates.get(lower.name)
                    if got is None or rate is None:
                        continue
                    num += got.volume * abs(rate.value - got.rate)
                    den += got.volume * got.rate
                    within = _inside(rate, got.rate)
                    if within is not None:
                        stated += 1
                        inside += within
                if den > 0:
                    self.rows.append(Row(as_of.isoformat(), f"goals.error.{model}", link,
                                         num / den))
                acc = self.fits.setdefault((model, link), [0.0, 0.0, 0, 0])
                acc[0] += num
                acc[1] += den
                acc[2] += inside
                acc[3] += stated

    def summary(self) -> list[Fit]:
        return [Fit(m, link, a[0], a[1], int(a[2]), int(a[3]))
                for (m, link), a in self.fits.items()]

    def overall(self) -> dict[str, float]:
        """Per model, the mean of its per-link errors (the links every model estimated)."""
        fits = self.summary()
        links = sorted({f.link for f in fits if not math.isnan(f.error)})
        links = [lk for lk in links if all(
            not math.isnan(f.error) for f in fits if f.link == lk)]
        out = {}
        for m in MODELS:
            errs = [f.error for f in fits if f.model == m and f.link in links]
            if errs and len(errs) == len(links):
                out[m] = sum(errs) / len(errs)
        return out

    def total_rows(self) -> list[Row]:
        out = [Row(ALL, f"goals.error.{f.model}", f.link, f.error) for f in self.summary()
               if not math.isnan(f.error)]
        out += [Row(ALL, f"goals.inside.{f.model}", f.link, f.inside / f.stated)
                for f in self.summary() if f.stated]
        out += [Row(ALL, f"goals.error.{m}", "all links", e) for m, e in self.overall().items()]
        return out
