from fractions import Fraction as F

import numpy as np
import pytest
from esda import smoothing
from sklearn.exceptions import NotFittedError

from models.empirical_bayes import PoissonGammaSmoother

# Town A: four cells, events and hours observed.
A_COUNTS = [0, 2, 10, 4]
A_HOURS = [10, 10, 20, 10]


def _moments_by_hand():
    # m = 16/50; raw rates 0, 1/5, 1/2, 2/5.
    m = F(16, 50)
    rates = [F(0), F(1, 5), F(1, 2), F(2, 5)]
    s2 = sum(e * (r - m) ** 2 for e, r in zip(A_HOURS, rates)) / 50  # = 1.88 / 50
    variance = s2 - m / F(50, 4)  # 0.0376 - 0.0256 = 0.012
    return m, variance, m**2 / variance, m / variance


def test_method_of_moments_matches_the_hand_computation():
    m, variance, alpha, beta = _moments_by_hand()
    assert variance == F(3, 250)
    smoother = PoissonGammaSmoother().fit(A_COUNTS, A_HOURS, ["A"] * 4)
    assert smoother.groups_.tolist() == ["A"]
    assert smoother.prior_mean_[0] == pytest.approx(float(m), rel=1e-12)
    assert smoother.prior_variance_[0] == pytest.approx(float(variance), rel=1e-12)
    assert smoother.alpha_[0] == pytest.approx(float(alpha), rel=1e-12)  # 128/15
    assert smoother.beta_[0] == pytest.approx(float(beta), rel=1e-12)  # 80/3
    expected = [float((y + alpha) / (e + beta)) for y, e in zip(A_COUNTS, A_HOURS)]
    np.testing.assert_allclose(smoother.smoothed_rates_, expected, rtol=1e-12)


def test_matches_esda_global_empirical_bayes_for_one_town():
    # esda's aspatial Empirical_Bayes is Marshall's global estimator, written
    # as a weighted mix of raw rate and mean; the gamma form must agree.
    rng = np.random.default_rng(7)
    hours = rng.integers(1, 200, size=30).astype(float)
    counts = rng.poisson(hours * rng.gamma(2.0, 0.05, size=30)).astype(float)
    reference = smoothing.Empirical_Bayes(counts.reshape(-1, 1), hours.reshape(-1, 1)).r.ravel()
    smoother = PoissonGammaSmoother().fit(counts, hours, np.zeros(30, dtype=int))
    assert smoother.prior_variance_[0] > 0
    np.testing.assert_allclose(smoother.smoothed_rates_, reference, rtol=1e-10)


def test_zero_count_cell_is_positive_and_below_the_town_mean():
    smoother = PoissonGammaSmoother().fit(A_COUNTS, A_HOURS, ["A"] * 4)
    zero_cell = smoother.smoothed_rates_[0]
    assert 0 < zero_cell < smoother.prior_mean_[0]
    _, _, alpha, beta = _moments_by_hand()
    assert zero_cell == pytest.approx(float(alpha / (10 + beta)), rel=1e-12)


def test_dense_cell_keeps_its_raw_rate_and_sparse_cells_borrow_strength():
    # Eight cells seen 20 hours each with rates from 0.05 to 2 per hour, and
    # one cell seen 1000 hours at 2 per hour.
    counts = np.array([2, 4, 10, 20, 40, 6, 1, 30, 2000])
    hours = np.array([20] * 8 + [1000])
    smoother = PoissonGammaSmoother().fit(counts, hours, ["T"] * 9)
    raw = counts / hours
    beta = smoother.beta_[0]
    assert 0 < beta < 20  # prior worth under 20 hours of observation
    assert smoother.smoothed_rates_[8] == pytest.approx(raw[8], rel=2e-3)
    # Weight on a cell's own rate is e / (e + beta): much less for 20 hours.
    weights = hours / (hours + beta)
    mix = weights * raw + (1 - weights) * smoother.prior_mean_[0]
    np.testing.assert_allclose(smoother.smoothed_rates_, mix, rtol=1e-12)
    sparse_moves = np.abs(smoother.smoothed_rates_[:8] - raw[:8])
    assert sparse_moves.min() > 20 * abs(smoother.smoothed_rates_[8] - raw[8])


def test_towns_are_fitted_independently():
    b_counts, b_hours = [5, 0, 1], [4.0, 8.0, 2.0]
    alone_a = PoissonGammaSmoother().fit(A_COUNTS, A_HOURS, ["A"] * 4)
    alone_b = PoissonGammaSmoother().fit(b_counts, b_hours, ["B"] * 3)
    # Interleave the two towns; each must come out as if fitted alone.
    order = [4, 0, 5, 1, 2, 6, 3]
    counts = np.array(A_COUNTS + b_counts)[order]
    hours = np.array(A_HOURS + b_hours)[order]
    towns = np.array(["A"] * 4 + ["B"] * 3)[order]
    together = PoissonGammaSmoother().fit(counts, hours, towns)
    assert together.groups_.tolist() == ["A", "B"]
    np.testing.assert_allclose(together.alpha_, [alone_a.alpha_[0], alone_b.alpha_[0]])
    np.testing.assert_allclose(together.beta_, [alone_a.beta_[0], alone_b.beta_[0]])
    expected = np.concatenate([alone_a.smoothed_rates_, alone_b.smoothed_rates_])[order]
    np.testing.assert_allclose(together.smoothed_rates_, expected, rtol=1e-12)


def test_no_extra_poisson_variation_shrinks_fully_to_the_mean():
    # m = 0.1; s2 = (10*0.01 + 0 + 10*0.01)/30 = 1/150 < m / ebar = 0.01.
    smoother = PoissonGammaSmoother().fit([0, 1, 2], [10, 10, 10], [7, 7, 7])
    assert smoother.prior_variance_[0] == 0.0
    assert np.isinf(smoother.alpha_[0]) and np.isinf(smoother.beta_[0])
    np.testing.assert_allclose(smoother.smoothed_rates_, [0.1, 0.1, 0.1], rtol=1e-12)
    np.testing.assert_allclose(smoother.transform([9], [1], [7]), [0.1], rtol=1e-12)


def test_variance_floor_keeps_weight_on_each_cell():
    # Floor 0.02: beta = 0.1 / 0.02 = 5, alpha = 0.01 / 0.02 = 0.5.
    smoother = PoissonGammaSmoother(min_prior_variance=0.02).fit([0, 1, 2], [10, 10, 10], [7, 7, 7])
    assert smoother.alpha_[0] == pytest.approx(0.5) and smoother.beta_[0] == pytest.approx(5.0)
    np.testing.assert_allclose(smoother.smoothed_rates_, [0.5 / 15, 1.5 / 15, 2.5 / 15], rtol=1e-12)


def test_town_without_events_stays_at_zero():
    smoother = PoissonGammaSmoother(min_prior_variance=0.01).fit([0, 0], [3, 4], ["Z", "Z"])
    assert smoother.prior_mean_[0] == 0.0
    np.testing.assert_array_equal(smoother.smoothed_rates_, [0.0, 0.0])


def test_transform_uses_the_fitted_prior_and_fit_transform_agrees():
    _, _, alpha, beta = _moments_by_hand()
    smoother = PoissonGammaSmoother()
    np.testing.assert_allclose(
        smoother.fit_transform(A_COUNTS, A_HOURS, ["A"] * 4), smoother.smoothed_rates_
    )
    np.testing.assert_allclose(
        smoother.transform([3, 0], [1.5, 100], ["A", "A"]),
        [float((3 + alpha) / (F(3, 2) + beta)), float(alpha / (100 + beta))],
        rtol=1e-12,
    )


def test_fit_does_not_touch_its_inputs_and_init_stores_only():
    counts, hours = np.array(A_COUNTS, dtype=float), np.array(A_HOURS, dtype=float)
    PoissonGammaSmoother().fit(counts, hours, ["A"] * 4)
    np.testing.assert_array_equal(counts, A_COUNTS)
    smoother = PoissonGammaSmoother(min_prior_variance=-1.0)  # checked only in fit
    assert smoother.get_params() == {"min_prior_variance": -1.0, "min_prior_mean": 0.0}


def test_mean_floor_gives_a_town_without_events_a_positive_rate():
    # Town Z saw nothing; with the floor 0.05 its mean is 0.05 and the spread
    # around it is 0.05^2, below the Poisson part 0.05 / 3.5: full shrinkage.
    smoother = PoissonGammaSmoother(min_prior_mean=0.05).fit(
        A_COUNTS + [0, 0], A_HOURS + [3, 4], ["A"] * 4 + ["Z", "Z"]
    )
    assert smoother.prior_mean_.tolist() == [pytest.approx(0.32), 0.05]
    assert np.isinf(smoother.beta_[1])
    np.testing.assert_allclose(smoother.smoothed_rates_[4:], [0.05, 0.05])
    # Town A's mean is above the floor, so A is smoothed as without it.
    unfloored = PoissonGammaSmoother().fit(A_COUNTS, A_HOURS, ["A"] * 4)
    np.testing.assert_allclose(smoother.smoothed_rates_[:4], unfloored.smoothed_rates_, rtol=1e-12)


def test_mean_floor_above_the_mean_moves_the_spread_centre():
    # m = max(1/20, 0.1) = 0.1; s2 = (10 (0 - 0.1)^2 + 10 (0.1 - 0.1)^2) / 20 = 0.005;
    # A = max(0.005 - 0.1 / 10, 0.002) = 0.002 (the variance floor).
    smoother = PoissonGammaSmoother(min_prior_variance=0.002, min_prior_mean=0.1).fit(
        [0, 1], [10, 10], ["A", "A"]
    )
    assert smoother.prior_mean_[0] == pytest.approx(0.1)
    assert smoother.prior_variance_[0] == pytest.approx(0.002)
    alpha, beta = 0.1**2 / 0.002, 0.1 / 0.002
    np.testing.assert_allclose(
        smoother.smoothed_rates_, [alpha / (10 + beta), (1 + alpha) / (10 + beta)], rtol=1e-12
    )


@pytest.mark.parametrize("floor", [-0.1, float("nan"), True])
def test_bad_mean_floor_is_named(floor):
    with pytest.raises(ValueError, match=r"min_prior_mean=.* must be a non-negative finite"):
        PoissonGammaSmoother(min_prior_mean=floor).fit([1], [1], ["A"])


def test_unfitted_transform_raises():
    with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
        PoissonGammaSmoother().transform([1], [1], ["A"])


@pytest.mark.parametrize(
    "counts, hours, towns, message",
    [
        ([1, -2], [1, 1], ["A", "A"], r"counts contain -2.0; counts must be non-negative"),
        ([1, np.nan], [1, 1], ["A", "A"], r"counts contain nan; counts must be non-negative"),
        ([1, 2], [1, 0], ["A", "A"], r"exposure contains 0.0; exposure must be positive"),
        ([1, 2], [1, 1], ["A"], r"lengths 2, 2 and 1; they must be equal"),
        ([[1, 2]], [[1, 1]], [["A", "A"]], r"counts has shape \(1, 2\); it must be 1-D"),
        ([], [], [], r"no cells given"),
    ],
)
def test_fit_refuses_bad_cells(counts, hours, towns, message):
    with pytest.raises(ValueError, match=message):
        PoissonGammaSmoother().fit(counts, hours, towns)


@pytest.mark.parametrize("floor", [-0.1, float("inf"), "0.1", True])
def test_fit_refuses_bad_variance_floor(floor):
    with pytest.raises(ValueError, match=r"min_prior_variance=.* must be a non-negative finite"):
        PoissonGammaSmoother(min_prior_variance=floor).fit([1], [1], ["A"])


def test_transform_refuses_unknown_town():
    smoother = PoissonGammaSmoother().fit(A_COUNTS, A_HOURS, ["A"] * 4)
    with pytest.raises(ValueError, match=r"group 'Q' was not seen in fit; known groups: 'A'"):
        smoother.transform([1, 1], [1, 1], ["A", "Q"])
