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


@pytest.mark.parametrize("shape", [math.inf, 2.0])
def test_the_single_cell_floor_is_the_chance_that_some_cell_reaches_the_llr(shape):
    """Exact for single cells, and below the largest LLR's p-value over all cylinders."""
    from models.cylinder_scan import log_likelihood_ratio
    from models.hotspot_scoring import single_cell_floor

    coords = [(c * 1000.0, r * 1000.0) for r in range(6) for c in range(6)]
    zones = CylinderZones(coords, max_radius_m=1500, max_cells=9)
    rates = np.linspace(0.2, 2.0, 36)
    shapes = np.full(36, shape)
    llr = 3.0
    floor = single_cell_floor(llr, rates, shapes, min_observed=3)
    rng = np.random.default_rng(11)
    draws = 20_000
    means = np.tile(rates, (draws, 1))
    if math.isfinite(shape):
        means = means * rng.gamma(shape, 1.0 / shape, size=means.shape)
    counts = rng.poisson(means)
    cell_llr = np.where(counts >= 3, log_likelihood_ratio(counts, rates[None, :]), 0.0)
    reached = (cell_llr >= llr).any(axis=1).mean()
    assert floor == pytest.approx(reached, abs=4 * math.sqrt(floor * (1 - floor) / draws))
    null = simulate_null_maxima(
        rates,
        [1.0],
        [1],
        zones,
        min_observed=3,
        replicates=4000,
        rng=np.random.default_rng(12),
        shapes=shapes,
    )
    assert (null.maxima >= llr).mean() >= floor - 4 * math.sqrt(floor / 4000)


def test_a_cluster_many_cells_could_match_by_chance_is_rejected_without_a_null():
    from models.cylinder_scan import ScanCluster, log_likelihood_ratio
    from models.hotspot_scoring import cluster_p_value, single_cell_floor

    # A cell expecting 1 with 7 events: its own tail (8.3e-5) is below the
    # threshold, but 3,000 such cells reach its LLR with chance 0.22.
    llr = float(log_likelihood_ratio([7.0], [1.0])[0])
    cluster = ScanCluster(0, (0,), 0, 7.0, 1.0, llr)

    def no_null():
        raise AssertionError("the null was drawn")

    floor = lambda c: single_cell_floor(c.llr, np.ones(3000), min_observed=5)  # noqa: E731
    p, method = cluster_p_value(cluster, 1e-3, no_null, None, min_observed=5, cell_floor=floor)
    assert method == "cell tails"
    assert p == pytest.approx(1 - (1 - poisson.sf(6, 1.0)) ** 3000)
    # One cell alone: the floor is its own tail, and the null decides.
    drawn = []
    one = lambda c: single_cell_floor(c.llr, np.ones(1), min_observed=5)  # noqa: E731

    def null():
        drawn.append(1)
        return simulate_null_maxima(
            [1.0],
            [1.0],
            [1],
            CylinderZones([(0.0, 0.0)], max_radius_m=1500, max_cells=1),
            min_observed=5,
            replicates=99,
            rng=np.random.default_rng(1),
        )

    cluster_p_value(
        cluster, 1e-3, null, lambda: (np.ones((1, 1)), None), min_observed=5, cell_floor=one
    )
    assert drawn == [1]
