import pytest

from features.baselines import FALLBACK, NIGHTLY, ExpectedCounts


def test_rate_times_hour_factor_times_window():
    counts = ExpectedCounts({("r1", "hotline.transport"): 0.4}, 0.1,
                            {("hotline", 10): 1.5, ("grid", 10): 3.0})
    # The hotline profile applies to a hotline category, not the grid's.
    assert counts.expected("r1", "hotline.transport", 0.5, 10) == (pytest.approx(0.3), NIGHTLY)


def test_unknown_cell_uses_the_fallback_rate():
    counts = ExpectedCounts({}, 0.25, {("grid", 10): 3.0})
    assert counts.expected("r9", "public_order.fight", 0.5, 10) == (0.125, FALLBACK)


def test_missing_hour_profile_is_said():
    counts = ExpectedCounts({("r1", "public_order.fight"): 2.0}, 0.25)
    assert counts.expected("r1", "public_order.fight", 0.5, 4) == (1.0, "nightly, no hour profile")


def test_fallback_must_be_positive():
    with pytest.raises(ValueError, match="fallback_rate_per_hour=0 must be > 0"):
        ExpectedCounts({}, 0)
