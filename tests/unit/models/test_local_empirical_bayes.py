from fractions import Fraction as F

import libpysal
import numpy as np
import pytest
import scipy.sparse as sp
from esda import smoothing
from sklearn.exceptions import NotFittedError

from models.empirical_bayes import PoissonGammaSmoother
from models.local_empirical_bayes import LocalPoissonGammaSmoother

# Five cells in a row, ten hours each; neighbours are the cells either side.
CHAIN = sp.diags([1.0, 1.0], [-1, 1], shape=(5, 5))
COUNTS = [0, 1, 12, 2, 0]
HOURS = [10] * 5


def test_two_level_prior_matches_the_hand_computation():
    # Town: m = 15/50, s2 = 10 (0.3^2 + 0.2^2 + 0.9^2 + 0.1^2 + 0.3^2) / 50 = 0.208,
    # A = 0.208 - 0.3/10 = 0.178; alpha = m^2/A, beta = m/A.
    m_t, a_t = F(3, 10), F(178, 1000)
    alpha_t, beta_t = m_t**2 / a_t, m_t / a_t
    neighbourhoods = [[0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4]]
    means = [(sum(COUNTS[k] for k in n) + alpha_t) / (10 * len(n) + beta_t) for n in neighbourhoods]
    # Each cell: Gamma(alpha_t, alpha_t / m_j) prior, then y = COUNTS[j] in 10 hours.
    rates = [(y + alpha_t) / (10 + alpha_t / m) for y, m in zip(COUNTS, means)]
    smoother = LocalPoissonGammaSmoother().fit(COUNTS, HOURS, ["A"] * 5, CHAIN)
    assert smoother.town_.prior_mean_[0] == pytest.approx(0.3)
    assert smoother.town_.prior_variance_[0] == pytest.approx(0.178)
    np.testing.assert_allclose(smoother.prior_mean_, [float(m) for m in means], rtol=1e-12)
    np.testing.assert_allclose(
        smoother.prior_variance_, [float(m**2 / alpha_t) for m in means], rtol=1e-12
    )
    np.testing.assert_allclose(smoother.alpha_, float(alpha_t), rtol=1e-12)
    np.testing.assert_allclose(smoother.smoothed_rates_, [float(r) for r in rates], rtol=1e-12)
    # Cell 0 saw nothing, but its neighbour did: it sits between 0 and the town's rate.
    assert 0 < rates[0] < means[0] < m_t


def test_without_the_town_equals_esda_spatial_empirical_bayes():
    rng = np.random.default_rng(3)
    w = libpysal.weights.lat2W(6, 7, rook=False)
    hours = rng.integers(5, 100, w.n).astype(float)
    counts = rng.poisson(hours * rng.gamma(2.0, 0.05, w.n)).astype(float)
    reference = smoothing.Spatial_Empirical_Bayes(counts, hours, w).r.ravel()
    smoother = LocalPoissonGammaSmoother(borrow_from_town=False).fit(
        counts, hours, np.zeros(w.n), w.sparse
    )
    assert (smoother.prior_variance_ > 0).sum() > w.n // 2  # both branches are exercised
    assert (smoother.prior_variance_ == 0).any()
    np.testing.assert_allclose(smoother.smoothed_rates_, reference, rtol=1e-10)


def test_quiet_cell_beside_a_busy_one_borrows_more_than_a_quiet_cell_far_away():
    # Seven cells in a row, one town; cell 1 is busy, cells 0 and 5 are both empty.
    chain = sp.diags([1.0, 1.0], [-1, 1], shape=(7, 7))
    counts, hours = [0, 8, 3, 1, 1, 0, 1], [20] * 7
    smoother = LocalPoissonGammaSmoother().fit(counts, hours, ["T"] * 7, chain)
    rates = smoother.smoothed_rates_
    town = PoissonGammaSmoother().fit(counts, hours, ["T"] * 7).smoothed_rates_
    assert smoother.prior_mean_[0] > 4 * smoother.prior_mean_[5]
    assert rates[0] > 1.5 * rates[5]
    # The town-only smoother cannot tell the two empty cells apart.
    assert town[0] == pytest.approx(town[5])
    # The busy cell, 20 hours at 0.4 per hour, keeps most of its own rate.
    assert 0.3 < rates[1] < 0.4


def test_neighbourhood_mean_uses_the_cells_own_town_prior():
    # Cells 0-2 in town A, 3-5 in town B, in a row; cells 2 and 3 neighbour across the border.
    chain = sp.diags([1.0, 1.0], [-1, 1], shape=(6, 6))
    counts, hours, towns = [4, 6, 5, 0, 1, 0], [10] * 6, ["A"] * 3 + ["B"] * 3
    smoother = LocalPoissonGammaSmoother().fit(counts, hours, towns, chain)
    town = PoissonGammaSmoother().fit(counts, hours, towns)
    assert smoother.town_.prior_mean_.tolist() == pytest.approx(town.prior_mean_.tolist())
    # Both towns' rates vary less than Poisson noise: point priors, so every cell
    # takes its own town's mean whatever its neighbours across the border saw.
    assert np.isinf(town.beta_).all()
    np.testing.assert_allclose(smoother.prior_mean_, [0.5] * 3 + [1 / 30] * 3, rtol=1e-12)
    np.testing.assert_allclose(smoother.smoothed_rates_, smoother.prior_mean_)


def test_mean_floor_keeps_an_empty_town_positive():
    # Town B saw nothing: with the floor its prior is a point at 0.01, and its
    # cells take it even beside town A's busy cell.
    chain = sp.diags([1.0, 1.0], [-1, 1], shape=(4, 4))
    smoother = LocalPoissonGammaSmoother(min_prior_mean=0.01).fit(
        [3, 9, 0, 0], [10] * 4, ["A", "A", "B", "B"], chain
    )
    assert smoother.town_.prior_mean_[1] == 0.01
    np.testing.assert_allclose(smoother.smoothed_rates_[2:], [0.01, 0.01])
    assert (smoother.smoothed_rates_ > 0).all()


def test_unseen_rate_is_the_town_posterior_of_an_empty_cell():
    smoother = LocalPoissonGammaSmoother().fit(COUNTS, HOURS, ["A"] * 5, CHAIN)
    alpha, beta = 0.3**2 / 0.178, 0.3 / 0.178
    np.testing.assert_allclose(
        smoother.unseen_rate([10, 40], ["A", "A"]),
        [alpha / (10 + beta), alpha / (40 + beta)],
        rtol=1e-12,
    )
    with pytest.raises(ValueError, match="group 'B' was not seen in fit"):
        smoother.unseen_rate([10], ["B"])


def test_unfitted_unseen_rate_raises_and_init_only_stores():
    smoother = LocalPoissonGammaSmoother(borrow_from_town="yes")
    assert smoother.get_params() == {
        "borrow_from_town": "yes",
        "min_prior_variance": 0.0,
        "min_prior_mean": 0.0,
        "max_prior_events": np.inf,
    }
    with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
        smoother.unseen_rate([1], ["A"])
    with pytest.raises(ValueError, match="borrow_from_town='yes' must be True or False"):
        smoother.fit([1], [1], ["A"], [[0]])


@pytest.mark.parametrize(
    "neighbours, message",
    [
        (np.zeros((2, 2)), r"neighbours has shape \(2, 2\); it must be \(3, 3\)"),
        (np.diag([1.0, -1.0, 1.0]), r"neighbours contains the weight -1.0; weights must be"),
    ],
)
def test_bad_neighbours_are_named(neighbours, message):
    with pytest.raises(ValueError, match=message):
        LocalPoissonGammaSmoother().fit([1, 2, 3], [1, 1, 1], ["A"] * 3, neighbours)


def test_fit_leaves_its_inputs_alone():
    counts = np.array(COUNTS, dtype=float)
    neighbours = CHAIN.tocsr()
    before = neighbours.toarray().copy()
    LocalPoissonGammaSmoother().fit(counts, HOURS, ["A"] * 5, neighbours)
    np.testing.assert_array_equal(counts, COUNTS)
    np.testing.assert_array_equal(neighbours.toarray(), before)


def test_capped_shape_lets_an_outlier_keep_its_rate_where_the_town_looks_homogeneous():
    # Town A (cells 0-2) varies less than Poisson noise: a point prior at 0.5,
    # under which cell 1 (6 events) would take its town mean. Capped at one
    # event: alpha' = 1, beta' = 1 / 0.5 = 2.
    chain = sp.diags([1.0, 1.0], [-1, 1], shape=(6, 6))
    counts, hours, towns = [4, 6, 5, 0, 1, 0], [10] * 6, ["A"] * 3 + ["B"] * 3
    capped = LocalPoissonGammaSmoother(max_prior_events=1.0).fit(counts, hours, towns, chain)
    assert np.isinf(capped.town_.alpha_).all()  # the uncapped fit is kept
    np.testing.assert_allclose(capped.town_alpha_, [1.0, 1.0])
    np.testing.assert_allclose(capped.town_beta_, [2.0, 30.0])
    # Cell 1: neighbourhood {0, 1, 2} with 15 events in 30 hours.
    m1 = (15 + 1) / (30 + 2)
    assert capped.prior_mean_[1] == pytest.approx(m1)
    assert capped.smoothed_rates_[1] == pytest.approx((6 + 1) / (10 + 1 / m1))
    # Cell 3, town B (1 event in 30 hours: m = 1/30): neighbours 2 (town A) and 4.
    m3 = (5 + 0 + 1 + 1) / (30 + 30)
    assert capped.prior_mean_[3] == pytest.approx(m3)
    assert capped.smoothed_rates_[3] == pytest.approx(1 / (10 + 1 / m3))
    np.testing.assert_allclose(
        capped.unseen_rate([10, 10], ["A", "B"]), [1 / (10 + 2), 1 / (10 + 30)]
    )


@pytest.mark.parametrize("cap", [0, -1.0, float("nan"), True])
def test_bad_cap_is_named(cap):
    with pytest.raises(ValueError, match=r"max_prior_events=.* must be a number > 0"):
        LocalPoissonGammaSmoother(max_prior_events=cap).fit([1], [1], ["A"], [[0]])
