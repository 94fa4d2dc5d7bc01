import math

import numpy as np
import pytest
from scipy.stats import ks_2samp, poisson

from models.space_time_scan import (
    CylinderZones,
    NullMaxima,
    iter_clusters,
    log_likelihood_ratio,
    recurrence_interval_days,
    scan,
    simulate_null_maxima,
    union_bound_p,
)


def _grid(n_side, size=1000.0):
    return np.array([[c * size, r * size] for r in range(n_side) for c in range(n_side)])


def _brute_force_zones(xy, radius, max_cells):
    zones = set()
    for centre in xy:
        d = np.hypot(*(xy - centre).T)
        order = sorted(range(len(xy)), key=lambda j: (round(d[j], 6), j))
        members = [j for j in order if d[j] <= radius + 1e-9][:max_cells]
        for k in range(1, len(members) + 1):
            zones.add(frozenset(members[:k]))
    return zones


def test_zones_are_the_nearest_cells_within_the_radius():
    xy = _grid(4)
    zones = CylinderZones(xy, 1500, 9)
    found = {frozenset(zones.cells_of(z).tolist()) - {-1} for z in np.flatnonzero(zones.valid_zone)}
    assert found == _brute_force_zones(xy, 1500, 9)
    # A corner cell reaches itself and 3 neighbours; an inner cell all 9.
    assert (zones.neighbours[0] >= 0).sum() == 4
    assert (zones.neighbours[5] >= 0).sum() == 9


def test_scan_finds_the_zone_a_brute_force_search_finds():
    rng = np.random.default_rng(7)
    xy = _grid(6)
    expected = rng.uniform(0.2, 2.0, size=(36, 1)) * np.array([[0.25, 0.5, 1.0]])
    observed = rng.poisson(expected * 1.0).astype(float)
    observed[14] += [4, 6, 9]
    observed[15] += [3, 5, 7]
    zones = CylinderZones(xy, 1500, 9)
    best = scan(observed, expected, zones, min_observed=3)[0]
    brute = max(
        (float(log_likelihood_ratio(observed[list(z), d].sum(), expected[list(z), d].sum())), d, z)
        for z in _brute_force_zones(xy, 1500, 9)
        for d in range(3)
        if observed[list(z), d].sum() >= 3
    )
    assert best.llr == pytest.approx(brute[0], rel=1e-12)
    assert (frozenset(best.cells), best.duration_index) == (brute[2], brute[1])


def test_secondary_clusters_share_no_cell():
    xy = _grid(8)
    expected = np.full((64, 1), 0.5)
    observed = np.zeros((64, 1))
    observed[0], observed[63] = 9, 7
    clusters = scan(observed, expected, CylinderZones(xy, 1500, 9), min_observed=5)
    assert [c.cells[0] for c in clusters[:2]] == [0, 63]
    assert all(not set(a.cells) & set(b.cells) for a in clusters for b in clusters if a is not b)


def test_min_observed_applies():
    zones = CylinderZones(_grid(2), 0, 1)
    assert (
        scan(np.array([[4.0], [0], [0], [0]]), np.full((4, 1), 0.01), zones, min_observed=5) == []
    )


def test_union_bound_is_the_sum_of_exact_tails():
    # Two cylinders expecting 1 and 3; LLR >= 10 first at 8 (LLR(7,1) = 7.62,
    # LLR(8,1) = 9.64, LLR(9,1) = 11.78) and at 13 (LLR(12,3) = 7.64 ... LLR(13,3) = 9.06,
    # LLR(14,3) = 10.57).
    assert log_likelihood_ratio(8, 1) < 10 <= log_likelihood_ratio(9, 1)
    assert log_likelihood_ratio(13, 3) < 10 <= log_likelihood_ratio(14, 3)
    assert union_bound_p(10.0, [1.0, 3.0]) == pytest.approx(poisson.sf(8, 1) + poisson.sf(13, 3))
    # min_observed raises the first count that counts.
    assert union_bound_p(0.5, [0.1], min_observed=5) == pytest.approx(poisson.sf(4, 0.1))


def test_null_p_values_are_calibrated_on_null_data():
    """Under the baselines, P(p <= 0.1) is about 0.1 (Monte Carlo validity)."""
    xy = _grid(5)
    rates = np.linspace(0.5, 3.0, 25)
    weights = np.array([0.25, 0.25])
    zones = CylinderZones(xy, 1500, 9)
    null = simulate_null_maxima(
        rates, weights, [1, 2], zones, min_observed=2, replicates=999, rng=np.random.default_rng(1)
    )
    rng = np.random.default_rng(2)
    small = 0
    trials = 300
    for _ in range(trials):
        buckets = rng.poisson(np.outer(rates, weights))
        observed = np.stack([buckets[:, 1], buckets.sum(axis=1)], axis=1).astype(float)
        expected = np.outer(rates, [0.25, 0.5])
        clusters = scan(observed, expected, zones, min_observed=2, max_clusters=1)
        p = null.p_value(clusters[0].llr)[0] if clusters else 1.0
        small += p <= 0.1
    assert 0.05 <= small / trials <= 0.15


def test_null_maxima_match_a_dense_simulation():
    """Thinning each cell's window count to the shorter durations gives the law of Poisson buckets."""
    xy = _grid(3)
    rates = np.full(9, 2.0)
    zones = CylinderZones(xy, 1500, 9)
    null = simulate_null_maxima(
        rates,
        [0.5, 0.5],
        [1, 2],
        zones,
        min_observed=1,
        replicates=4000,
        rng=np.random.default_rng(3),
    )
    rng = np.random.default_rng(4)
    dense = []
    for _ in range(4000):
        b = rng.poisson(np.outer(rates, [0.5, 0.5]))
        o = np.stack([b[:, 1], b.sum(axis=1)], axis=1).astype(float)
        clusters = scan(o, np.outer(rates, [0.5, 1.0]), zones, min_observed=1, max_clusters=1)
        dense.append(clusters[0].llr if clusters else 0.0)
    assert np.mean(null.maxima) == pytest.approx(np.mean(dense), rel=0.05)
    # Same law: a two-sample Kolmogorov-Smirnov test does not tell them apart.
    assert ks_2samp(null.maxima, dense).pvalue > 0.01


def test_nested_durations_thinned_from_the_window_keep_the_bucket_law():
    """Six unequal buckets, durations 1, 3 and 6: every maximum's law is the per-bucket one."""
    xy = _grid(3)
    rates = np.linspace(0.5, 2.5, 9)
    weights = np.array([0.3, 0.1, 0.4, 0.2, 0.5, 0.25])
    zones = CylinderZones(xy, 1500, 9)
    null = simulate_null_maxima(
        rates,
        weights,
        [1, 3, 6],
        zones,
        min_observed=1,
        replicates=3000,
        rng=np.random.default_rng(5),
    )
    tail = np.cumsum(weights[::-1])[[0, 2, 5]]
    rng = np.random.default_rng(6)
    dense = []
    for _ in range(3000):
        b = rng.poisson(np.outer(rates, weights))[:, ::-1].cumsum(axis=1)[:, [0, 2, 5]]
        clusters = scan(
            b.astype(float), np.outer(rates, tail), zones, min_observed=1, max_clusters=1
        )
        dense.append(clusters[0].llr if clusters else 0.0)
    assert np.mean(null.maxima) == pytest.approx(np.mean(dense), rel=0.05)
    assert ks_2samp(null.maxima, dense).pvalue > 0.01


@pytest.mark.parametrize("weighted", [False, True])
def test_dense_and_sparse_scans_of_the_same_draws_give_the_same_maxima(monkeypatch, weighted):
    """Busy replicates are scanned as dense float32 arrays, screened, then scored in float64."""
    import models.scan_significance as significance

    xy = _grid(12)
    zones = CylinderZones(xy, 1500, 9)
    rates = np.random.default_rng(7).gamma(0.5, 0.05, 144)
    log_weights = (
        np.log(np.random.default_rng(8).gamma(2.0, 0.5, zones.membership.shape[1]))
        if weighted
        else None
    )
    maxima = {}
    for share in (0.0, 2.0):  # every draw dense, then none
        monkeypatch.setattr(significance, "DENSE_SHARE", share)
        maxima[share] = simulate_null_maxima(
            rates,
            [0.5, 1.0, 1.5, 1.0],
            [1, 2, 4],
            zones,
            min_observed=5,
            replicates=300,
            rng=np.random.default_rng(9),
            log_weights=log_weights,
        ).maxima
    # Replicates without any zone of 5 events stay at 0 in both.
    assert 0 < (maxima[0.0] > 0).mean() < 1
    np.testing.assert_array_equal(maxima[0.0], maxima[2.0])


def test_gumbel_p_is_capped_by_the_bound_and_falls_back_without_a_tail():
    maxima = NullMaxima(np.linspace(1, 8, 99), n_cylinders=10)
    assert maxima.p_value(15.0, bound=1e-6) == (1e-6, "union bound")
    assert NullMaxima(np.zeros(50), 10).p_value(3.0, bound=0.2) == (0.2, "union bound")


def test_recurrence_interval():
    assert recurrence_interval_days(1 / 288, 288) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="p_value=0 must lie in"):
        recurrence_interval_days(0, 288)


def test_bad_inputs_name_the_value():
    with pytest.raises(ValueError, match="max_cells=0 must be an integer >= 1"):
        CylinderZones(_grid(2), 1000, 0)
    zones = CylinderZones(_grid(2), 1000, 4)
    with pytest.raises(ValueError, match="durations=\\[3\\] must lie between 1 and 2 buckets"):
        simulate_null_maxima(np.ones(4), [1, 1], [3], zones)
    assert math.isfinite(union_bound_p(5.0, [0.5]))


# ------------------------------------------------------------ the weighted scan
def _weighted_setup():
    from models.hotspot_scoring import zone_log_weights

    xy = _grid(5)
    rates = np.linspace(0.05, 3.0, 25)
    zones = CylinderZones(xy, 1500, 9)
    log_weights = zone_log_weights(rates @ zones.membership, zones.valid_zone, 1.0)
    return rates, zones, log_weights


def test_zero_log_weights_change_nothing():
    rates, zones, _ = _weighted_setup()
    zeros = np.zeros(zones.membership.shape[1])
    observed = np.random.default_rng(5).poisson(np.outer(rates, [0.5, 1.0])).astype(float)
    expected = np.outer(rates, [0.5, 1.0])
    plain = list(iter_clusters(observed, expected, zones, min_observed=2))
    weighted = list(iter_clusters(observed, expected, zones, min_observed=2, log_weights=zeros))
    assert [(c.zone, c.llr) for c in plain] == [(c.zone, c.score) for c in weighted]
    common = dict(min_observed=2, replicates=200)
    a = simulate_null_maxima(
        rates, [0.5, 0.5], [1, 2], zones, rng=np.random.default_rng(6), **common
    )
    b = simulate_null_maxima(
        rates, [0.5, 0.5], [1, 2], zones, rng=np.random.default_rng(6), log_weights=zeros, **common
    )
    assert np.array_equal(a.maxima, b.maxima)


def test_weights_rank_a_busy_zone_above_a_sparser_higher_llr():
    rates, zones, log_weights = _weighted_setup()
    expected = np.outer(rates, [1.0])
    observed = np.zeros((25, 1))
    observed[0] = 4.0  # the sparsest cell (0.05 expected): LLR 13.58
    observed[24] = 15.0  # the busiest (3 expected): LLR 12.14
    sparse_llr = float(log_likelihood_ratio(4.0, 0.05))
    busy_llr = float(log_likelihood_ratio(15.0, 3.0))
    assert sparse_llr > busy_llr
    first = next(iter_clusters(observed, expected, zones, min_observed=2, log_weights=log_weights))
    assert first.cells == (24,) and first.llr == pytest.approx(busy_llr)
    assert first.score == pytest.approx(busy_llr + log_weights[first.zone])
    plain = next(iter_clusters(observed, expected, zones, min_observed=2))
    assert plain.cells == (0,) and plain.statistic == plain.llr


def test_weighted_null_p_values_are_calibrated_on_null_data():
    """The weighted scan's null is drawn with its weights: P(p <= 0.1) stays about 0.1."""
    rates, zones, log_weights = _weighted_setup()
    weights = np.array([0.25, 0.25])
    null = simulate_null_maxima(
        rates,
        weights,
        [1, 2],
        zones,
        min_observed=2,
        replicates=999,
        rng=np.random.default_rng(1),
        log_weights=log_weights,
    )
    rng = np.random.default_rng(2)
    small, trials = 0, 300
    for _ in range(trials):
        buckets = rng.poisson(np.outer(rates, weights))
        observed = np.stack([buckets[:, 1], buckets.sum(axis=1)], axis=1).astype(float)
        clusters = iter_clusters(
            observed, np.outer(rates, [0.25, 0.5]), zones, min_observed=2, log_weights=log_weights
        )
        top = next(clusters, None)
        small += (null.p_value(top.statistic)[0] if top else 1.0) <= 0.1
    assert 0.05 <= small / trials <= 0.15


def test_the_union_bound_lowers_each_cylinders_bar_by_its_log_weight():
    # Expecting 1 and 3; weights 1 and e: LLR >= 10 at 1 (first count 9),
    # LLR >= 9 at 3 (LLR(13, 3) = 9.06, first count 13).
    assert log_likelihood_ratio(12, 3) < 9 <= log_likelihood_ratio(13, 3)
    bound = union_bound_p(10.0, [[1.0], [3.0]], log_weights=[0.0, 1.0])
    assert bound == pytest.approx(poisson.sf(8, 1) + poisson.sf(12, 3))
    assert union_bound_p(10.0, [[1.0], [3.0]], log_weights=[0.0, 0.0]) == pytest.approx(
        union_bound_p(10.0, [1.0, 3.0])
    )
