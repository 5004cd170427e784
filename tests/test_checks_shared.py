"""What the checks work out once and share gives exactly what working it out each time gives:
the Poisson CDF's fast path bit for bit, and a diagnosis measured once and judged under
another check's tolerances."""

from __future__ import annotations

import math

import pytest
from check_runs import staged
from hypothesis import given, settings
from hypothesis import strategies as st

from salesrules.checks.rates import poisson_cdf
from salesrules.testing import make_export


def plain_poisson_cdf(x: float, mean: float) -> float:
    """The straightforward loop: P(X ≤ x) for X ~ Poisson(mean), summed in log space."""
    if mean <= 0 or x >= 50 * mean + 50:
        return 1.0
    if x < 0:
        return 0.0
    total, log_pmf = 0.0, -mean
    for k in range(0, int(x) + 1):
        if k:
            log_pmf += math.log(mean) - math.log(k)
        total += math.exp(log_pmf)
    return min(total, 1.0)


means = st.one_of(st.floats(-1, 5), st.floats(0, 300), st.floats(300, 3000),
                  st.integers(0, 200).map(float))


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(means, st.one_of(st.floats(-2, 1.2), st.floats(0, 4)), st.booleans())
def test_poisson_cdf_is_the_plain_loop_to_the_last_bit(mean, share, whole):
    """Counts (whole numbers) and amounts around the mean, far below and far above it."""
    x = share * (abs(mean) + 1)
    x = float(math.floor(x)) if whole else x
    assert poisson_cdf(x, mean) == plain_poisson_cdf(x, mean)


def test_poisson_cdf_after_a_long_sum_then_a_short_one():
    """The table of log k grows on a long sum; shorter sums after it read the same values."""
    for x, mean in ((900.0, 850.5), (3.0, 2.5), (40.0, 61.25), (0.0, 0.3), (1.0, 1e-9)):
        assert poisson_cdf(x, mean) == plain_poisson_cdf(x, mean)


@pytest.fixture(scope="module")
def contexts(tmp_path_factory):
    """Two check contexts of one sample run: the first call's axes differ between them."""
    from salesrules.checks import CheckContext

    folder = tmp_path_factory.mktemp("shared")
    make_export(folder, reps=40, days=180, leads=5, seed=13)
    c = staged(folder).context
    return c, CheckContext(c.dataset, c.goals, c.progress, c.as_of)


axes = st.tuples(st.sampled_from([0.5, 0.8, 0.9, 1.0, 1.2]),
                 st.sampled_from([0.5, 0.85, 1.0, 1.3]),
                 st.sampled_from([0.001, 0.01, 0.05, 0.5]))


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(first=axes, then=axes, quantile=st.sampled_from([0.5, 0.9]))
def test_a_diagnosis_judged_under_other_axes_is_the_one_measured_under_them(
        contexts, first, then, quantile):
    """``shared`` measured every rep under ``first`` and judges them under ``then``;
    ``fresh`` measures them under ``then`` alone."""
    shared, fresh = contexts
    reps = list(shared.dataset.reps)
    causes = set()
    for rep in reps:
        shared.diagnosis(rep, "", quantile, *first)
    fresh.cache.pop("diagnosis", None)
    for rep in reps:
        got, want = shared.diagnosis(rep, "", quantile, *then), fresh.diagnosis(
            rep, "", quantile, *then)
        assert got == want, rep
        causes.update(want.causes if want is not None else ())
    shared.cache.pop("diagnosis", None)
    assert causes or then[0] <= 0.5  # the sample has reps under the norm
