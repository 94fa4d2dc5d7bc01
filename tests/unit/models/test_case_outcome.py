"""Tests for models.case_outcome: the cooling verdict is a one-sided Poisson test."""

from __future__ import annotations

import pytest
from scipy.stats import poisson

from models.case_outcome import cooling_verdict


def test_a_count_at_or_below_expectation_is_cooled():
    verdict = cooling_verdict(observed=0, expected=3.2, alpha=0.05)
    assert (verdict.cooled, verdict.p_value, verdict.ratio) == (True, 1.0, 0.0)


def test_the_p_value_is_the_chance_of_at_least_as_many():
    verdict = cooling_verdict(observed=6, expected=2.0, alpha=0.05)
    assert verdict.p_value == pytest.approx(poisson.sf(5, 2.0))
    assert verdict.p_value == pytest.approx(0.016563608480614434)
    assert not verdict.cooled


def test_with_no_baseline_any_event_is_still_hot():
    assert cooling_verdict(observed=0, expected=0.0, alpha=0.05).cooled
    verdict = cooling_verdict(observed=1, expected=0.0, alpha=0.05)
    assert (verdict.cooled, verdict.ratio) == (False, None)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="alpha=1.5 in"):
        cooling_verdict(observed=1, expected=1.0, alpha=1.5)
