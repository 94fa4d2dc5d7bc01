"""Gamma–Poisson tails: an uncertain rate makes a count less surprising, never more."""

import math

import numpy as np
import pytest
from scipy.stats import poisson

from models.cylinder_zones import CylinderZones
from models.hotspot_scoring import count_tail, zone_shape
from models.scan_significance import simulate_null_maxima


def test_the_gamma_poisson_tail_is_heavier_and_tends_to_poisson():
    assert count_tail(10, 4.0) == pytest.approx(poisson.sf(9, 4.0))
    assert count_tail(10, 4.0, 2.0) > count_tail(10, 4.0, 20.0) > count_tail(10, 4.0)
    assert count_tail(10, 4.0, 1e9) == pytest.approx(count_tail(10, 4.0), rel=1e-6)


def test_a_zones_shape_matches_the_variance_of_its_sum():
    # Two cells expecting 2 and 1, shapes 4 and 1: excess variance 4/4 + 1/1 = 2.
    assert zone_shape([2.0, 1.0], [4.0, 1.0]) == pytest.approx(9 / 2)
    assert zone_shape([2.0, 1.0], [math.inf, math.inf]) == math.inf


def test_uncertain_rates_give_larger_null_maxima():
    coords = [(c * 1000.0, r * 1000.0) for r in range(6) for c in range(6)]
    zones = CylinderZones(coords, max_radius_m=1500, max_cells=9)
    rates = np.full(36, 0.5)
    common = dict(min_observed=3, replicates=400)
    known = simulate_null_maxima(
        rates, [1.0, 1.0], [1, 2], zones, rng=np.random.default_rng(1), **common
    )
    uncertain = simulate_null_maxima(
        rates,
        [1.0, 1.0],
        [1, 2],
        zones,
        rng=np.random.default_rng(1),
        shapes=np.full(36, 2.0),
        **common,
    )
    assert uncertain.maxima.mean() > known.maxima.mean() * 1.2
    # Infinite shapes are Poisson: the same draws as none.
    same = simulate_null_maxima(
        rates,
        [1.0, 1.0],
        [1, 2],
        zones,
        rng=np.random.default_rng(1),
        shapes=np.full(36, np.inf),
        **common,
    )
    assert np.array_equal(same.maxima, known.maxima)


def test_zone_weights_average_one_and_follow_the_rate():
    from models.hotspot_scoring import zone_log_weights

    rates = np.array([1.0, 4.0, 9.0, 0.0])
    valid = np.array([True, True, True, False])
    log_w = zone_log_weights(rates, valid, 0.5)
    # sqrt rates 1, 2, 3 scaled to mean 1 over the three valid zones.
    assert np.exp(log_w[:3]) == pytest.approx([0.5, 1.0, 1.5])
    assert log_w[3] == pytest.approx(math.log(1e-6))
    assert zone_log_weights(rates, valid, 0.0)[:3] == pytest.approx([0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"power=-1 must be >= 0"):
        zone_log_weights(rates, valid, -1)
