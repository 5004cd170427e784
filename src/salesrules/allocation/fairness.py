"""The fairness figure: how evenly leads went to the reps who could receive them (Gini)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .batch import RepSlot


def gini(values: Sequence[float]) -> float:
    """Gini coefficient: 0 is a perfectly even spread, 1 is everything to one rep."""
    xs = sorted(values)
    n = len(xs)
    total = sum(xs)
    if n == 0 or total == 0:
        return 0.0
    weighted = sum((i + 1) * x for i, x in enumerate(xs))
    return (2 * weighted) / (n * total) - (n + 1) / n


def fairness(slots: Mapping[str, RepSlot], eligible: Sequence[str]) -> dict[str, float]:
    """The Gini of count and of value over the ``eligible`` reps, two ways.

    ``today``: the leads the as-of day gave them (earlier runs of the day
    included). ``window``: their load over the allocation window as well
    (held, received within ``allocation.window_days``, and today's).
    """
    s = [slots[r] for r in eligible if r in slots]
    return {
        "gini_count": round(gini([x.today for x in s]), 4),
        "gini_value": round(gini([x.today_value for x in s]), 4),
        "gini_count_window": round(gini([x.load + x.today for x in s]), 4),
        "gini_value_window": round(gini([x.load_value + x.today_value for x in s]), 4),
    }
