"""The reverse funnel: result targets pushed back up the funnel, each step in words."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import attrs

from ..model import Funnel, link_kind
from ..words import sayer
from .batches import Rate
from .feasible import Cap, Limit
from .trace_words import TRACE, trace


@attrs.frozen
class StageTargets:
    """What :func:`push_back` gives: every stage's unrounded target, and how each was computed."""

    #: Stage name -> target (the given ones and those pushed back from them).
    values: dict[str, float]
    #: Stage name -> the computation in words, for the stages pushed back.
    traces: dict[str, str]
    #: Stage name -> its cap, for the activity stages capped at a feasible level.
    caps: dict[str, Cap] = attrs.Factory(dict)


@attrs.frozen
class _Step:
    """One link of the funnel, as :func:`push_back` walks it (lowest first)."""

    upper: str
    lower: str
    #: Both stages are counts: a rate above 1 is taken as 1.
    counts: bool
    #: The link's words in the trace: ``ARPU``, or ``upper→lower``.
    what: str
    #: How its rate is written: two decimals for an ARPU, else four significant digits.
    rate: Callable[[float], str]
    #: How each stage's value is written (:func:`fmt` of its unit).
    lower_value: Callable[[float], str]
    upper_value: Callable[[float], str]


class PushWords:
    """A funnel's steps and the trace's words for them, in the run's language: looked up
    once for every rep's :func:`push_back` (made inside the run's ``speaking``)."""

    def __init__(self, funnel: Funnel) -> None:
        self.funnel = funnel
        self.push = sayer("push", TRACE)
        stages = funnel.stages
        self.steps: list[_Step] = []
        for i in range(len(stages) - 1, 0, -1):
            upper, lower = stages[i - 1], stages[i]
            arpu = link_kind(upper, lower) == "arpu"
            self.steps.append(_Step(
                upper.name, lower.name, upper.unit == lower.unit == "count",
                trace("arpu") if arpu else trace("step", upper=upper.name, lower=lower.name),
                "{:,.2f}".format if arpu else "{:.4g}".format,
                _FORMATS[lower.unit == "amount"], _FORMATS[upper.unit == "amount"]))


#: Above 1 for two counts: more of a count out of fewer of the one above.
ABOVE_ONE = Rate(1.0, "the funnel model's rate is above 1, which a conversion cannot be: "
                      "taken as 1")


def push_back(funnel: Funnel, given: dict[str, float], rates: dict[str, Rate],
              limits: Mapping[str, Limit] | None = None,
              words: PushWords | None = None) -> StageTargets:
    """Push result targets back up the funnel: ``upper = lower / rate(lower)``.

    ``given`` holds the targets set directly (usually only revenue). Returns
    every stage's unrounded value, and its computation in words. A stage in
    ``limits`` asked for more than its limit is capped at it (see
    :class:`~salesrules.goals.feasible.Cap`), and the stages above are pushed
    back from the capped value. ``words``, made once for many calls on ``funnel``,
    saves looking the words up again.
    """
    if words is None or words.funnel is not funnel:
        words = PushWords(funnel)
    push = words.push
    values = dict(given)
    traces: dict[str, str] = {}
    caps: dict[str, Cap] = {}
    for step in words.steps:
        upper, lower = step.upper, step.lower
        if upper in values or lower not in values:
            continue
        rate = rates.get(lower)
        if rate is None or not rate.value > 0:
            continue
        if step.counts and rate.value > 1:
            rate = ABOVE_ONE  # more of a count out of fewer of the one above: never a rate
        below = values[lower]
        value = values[upper] = below / rate.value
        traces[upper] = push(lower=lower, lower_value=step.lower_value(below), what=step.what,
                             rate=step.rate(rate.value), why=rate.trace,
                             upper_value=step.upper_value(value), upper=upper)
        limit = limits.get(upper) if limits else None
        if limit is not None and value > limit.value > 0:
            cap = Cap(upper, limit, value, lower, rate.value, below / limit.value)
            caps[upper] = cap
            values[upper] = limit.value
            traces[upper] += cap.words()
    return StageTargets(values, traces, caps)


def to_units(value: float, unit: str) -> int:
    """Counts round up (you cannot make 0.3 of a call); amounts keep cents."""
    if unit == "amount":
        return round(value * 100)
    return math.ceil(value - 1e-9)


def fmt(value: float, unit: str) -> str:
    """A stage's value in the trace: an amount with cents, a count with one decimal."""
    return _FORMATS[unit == "amount"](value)


#: :func:`fmt` by whether the unit is an amount.
_FORMATS: dict[bool, Callable[[float], str]] = {True: "{:,.2f}".format,
                                               False: "{:,.1f}".format}
