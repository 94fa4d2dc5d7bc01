from fractions import Fraction

import numpy as np
import pytest
from scipy.stats import false_discovery_control

from models.alert_budget import (
    achieved_false_alarm_rate,
    benjamini_hochberg,
    bh_threshold,
    per_window_threshold,
)

# Benjamini & Hochberg (1995), section 4.1: 15 p-values from a clinical trial.
BH_1995 = [
    0.0001,
    0.0004,
    0.0019,
    0.0095,
    0.0201,
    0.0278,
    0.0298,
    0.0344,
    0.0459,
    0.3240,
    0.4262,
    0.5719,
    0.6528,
    0.7590,
    1.0000,
]


@pytest.mark.parametrize(
    "budget, cells, categories, slide, days, looks",
    [
        # 30 days = 43,200 minutes; every 5 min -> 8,640 windows; x 400 x 10.
        (2.0, 400, 10, 5.0, 30.0, 34_560_000),
        # 31 days = 44,640 minutes; every 15 min -> 2,976 windows; x 50 x 3.
        (1.0, 50, 3, 15.0, 31.0, 446_400),
        # 1 day, one cell, one category, hourly windows: 24 looks.
        (6.0, 1, 1, 60.0, 1.0, 24),
    ],
)
def test_threshold_spreads_the_budget_over_the_looks(budget, cells, categories, slide, days, looks):
    expected = float(Fraction(budget) / looks)
    assert per_window_threshold(
        budget, cells, categories, slide, days_per_month=days
    ) == pytest.approx(expected, rel=1e-12)


def test_threshold_times_looks_gives_back_the_budget():
    threshold = per_window_threshold(3.0, 120, 7, 10.0)
    assert threshold * 120 * 7 * (30 * 1440 / 10) == pytest.approx(3.0, rel=1e-12)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(budget_per_town_month=0.0), r"budget_per_town_month=0.0 must be a positive finite"),
        (dict(budget_per_town_month=float("nan")), r"budget_per_town_month=nan must be a positive"),
        (dict(cells_per_town=0), r"cells_per_town=0 must be a positive integer"),
        (dict(cells_per_town=2.5), r"cells_per_town=2.5 must be a positive integer"),
        (dict(categories=True), r"categories=True must be a positive integer"),
        (dict(slide_minutes=-5), r"slide_minutes=-5 must be a positive finite number"),
        (dict(days_per_month=float("inf")), r"days_per_month=inf must be a positive finite"),
        (dict(budget_per_town_month=25.0), r"budget_per_town_month=25.0 exceeds the 24 looks"),
    ],
)
def test_threshold_refuses_bad_arguments(kwargs, message):
    arguments = dict(
        budget_per_town_month=1.0,
        cells_per_town=1,
        categories=1,
        slide_minutes=60.0,
        days_per_month=1.0,
    )
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        per_window_threshold(**arguments)


def test_bh_on_the_1995_example():
    # Lines i * 0.05 / 15: p_(4)=0.0095 <= 0.01333 but p_(5..15) all exceed
    # theirs (0.0201 > 0.01667, 0.0278 > 0.02, ..., 0.0459 > 0.03), so k = 4.
    rejected = benjamini_hochberg(BH_1995, q=0.05)
    assert rejected.tolist() == [True] * 4 + [False] * 11
    assert bh_threshold(BH_1995, q=0.05) == 0.0095


def test_bh_is_step_up_and_keeps_shape_and_order():
    # m = 6, q = 0.3: lines 0.05, 0.1, 0.15, 0.2, 0.25, 0.3. Sorted p:
    # 0.04 ok, 0.12 misses 0.1, 0.14 ok at 0.15, 0.21 misses 0.2,
    # 0.26 misses 0.25, 0.9 misses 0.3 -> k = 3, cut at 0.14.
    p = np.array([[0.21, 0.04, 0.9], [0.14, 0.26, 0.12]])
    expected = np.array([[False, True, False], [True, False, True]])
    np.testing.assert_array_equal(benjamini_hochberg(p, q=0.3), expected)
    assert bh_threshold(p, q=0.3) == 0.14


def test_bh_ties_at_the_cut_are_all_rejected():
    # m = 4, q = 0.2: lines 0.05, 0.1, 0.15, 0.2; 0.1, 0.1, 0.1 meet line 3.
    p = [0.1, 0.5, 0.1, 0.1]
    assert benjamini_hochberg(p, q=0.2).tolist() == [True, False, True, True]
    assert bh_threshold(p, q=0.2) == 0.1


def test_bh_ignores_nan_and_does_not_count_it():
    # Three tested values -> lines 0.0167, 0.0333, 0.05 at q = 0.05. Were
    # the two NaN counted (m = 5), 0.03 would miss its line 0.02 and 0.045
    # its line 0.03, and only 0.01 would be rejected.
    p = [0.01, np.nan, 0.045, 0.03, np.nan]
    assert benjamini_hochberg(p, q=0.05).tolist() == [True, False, True, True, False]
    assert bh_threshold(p, q=0.05) == 0.045


def test_bh_with_nothing_to_reject():
    assert benjamini_hochberg([0.3, 0.6], q=0.1).tolist() == [False, False]
    assert bh_threshold([0.3, 0.6], q=0.1) == 0.0
    assert benjamini_hochberg([np.nan, np.nan], q=0.1).tolist() == [False, False]
    assert bh_threshold([], q=0.1) == 0.0


@pytest.mark.parametrize("seed, q", [(0, 0.05), (1, 0.1), (2, 0.2), (3, 0.01)])
def test_bh_agrees_with_scipy_adjusted_p_values(seed, q):
    rng = np.random.default_rng(seed)
    # A mix of nulls and strong signals so that some, not all, are rejected.
    p = np.concatenate([rng.uniform(size=200), rng.uniform(size=40) * 1e-3])
    rng.shuffle(p)
    reference = false_discovery_control(p, method="bh") <= q
    assert 0 < reference.sum() < p.size
    np.testing.assert_array_equal(benjamini_hochberg(p, q=q), reference)
    assert bh_threshold(p, q=q) == p[reference].max()


@pytest.mark.parametrize(
    "p, q, message",
    [
        ([0.1, 1.5], 0.05, r"p_values contain 1.5; p-values must lie in \[0, 1\] or be NaN"),
        ([-0.1], 0.05, r"p_values contain -0.1; p-values must lie in \[0, 1\]"),
        ([0.1], 0.0, r"q=0.0 must lie in \(0, 1\]"),
        ([0.1], 1.2, r"q=1.2 must lie in \(0, 1\]"),
        ([0.1], "x", r"q='x' must lie in \(0, 1\]"),
    ],
)
def test_bh_refuses_bad_arguments(p, q, message):
    with pytest.raises(ValueError, match=message):
        benjamini_hochberg(p, q)
    with pytest.raises(ValueError, match=message):
        bh_threshold(p, q)


def test_achieved_rate():
    assert achieved_false_alarm_rate(36, towns=12, months=1.5) == 2.0
    assert achieved_false_alarm_rate(0, towns=3, months=1) == 0.0


@pytest.mark.parametrize(
    "alarms, towns, months, message",
    [
        (-1, 3, 1, r"alarm_count=-1 must be a non-negative finite number"),
        (5, 0, 1, r"towns=0 must be a positive finite number"),
        (5, 3, float("nan"), r"months=nan must be a positive finite number"),
    ],
)
def test_achieved_rate_refuses_bad_arguments(alarms, towns, months, message):
    with pytest.raises(ValueError, match=message):
        achieved_false_alarm_rate(alarms, towns, months)
