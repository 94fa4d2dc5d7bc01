import math

import pytest

from models.poisson_surprise import poisson_upper_tail, severity_for, surprise_score


def _tail_by_hand(k: int, mu: float) -> float:
    return 1.0 - sum(math.exp(-mu) * mu**i / math.factorial(i) for i in range(k))


@pytest.mark.parametrize("k, mu", [(1, 0.5), (5, 0.125), (7, 0.3), (12, 4.0), (20, 9.5)])
def test_upper_tail_matches_the_series(k, mu):
    assert poisson_upper_tail(k, mu) == pytest.approx(_tail_by_hand(k, mu), rel=1e-9)


def test_upper_tail_of_zero_is_one():
    assert poisson_upper_tail(0, 3.0) == 1.0


@pytest.mark.parametrize(
    "k, mu, message",
    [
        (-1, 1.0, "observed=-1 must be >= 0"),
        (3, 0.0, "expected=0.0 must be a positive finite number"),
        (3, float("inf"), "expected=inf must be a positive finite number"),
    ],
)
def test_upper_tail_refuses_bad_arguments(k, mu, message):
    with pytest.raises(ValueError, match=message):
        poisson_upper_tail(k, mu)


def test_surprise_score_and_cap():
    assert surprise_score(0.01) == pytest.approx(2.0)
    assert surprise_score(0.0) == 300.0
    with pytest.raises(ValueError, match=r"p_value=1.5 must lie in \[0, 1\]"):
        surprise_score(1.5)


def test_severity_takes_the_strictest_bound_beaten():
    levels = [(1e-9, "红色"), (1e-7, "橙色"), (1e-6, "黄色")]
    assert severity_for(1e-10, levels) == "红色"
    assert severity_for(1e-8, levels) == "橙色"
    assert severity_for(5e-7, levels) == "黄色"
    assert severity_for(1e-6, levels) is None
