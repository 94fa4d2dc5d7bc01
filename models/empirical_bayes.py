"""Empirical-Bayes smoothing (经验贝叶斯平滑) of cell rates toward their town.

A cell seen for a few hours with no events has a raw rate of zero, and one
with a single event may look like a hotspot; neither says much. The
Poisson-gamma model lets sparse cells borrow strength from their town while
dense cells keep their own rate (Clayton & Kaldor 1987):

.. math::

    y_j \\mid \\theta_j \\sim \\mathrm{Poisson}(e_j \\theta_j), \\qquad
    \\theta_j \\sim \\mathrm{Gamma}(\\alpha, \\beta)
    \\;\\Rightarrow\\;
    \\hat\\theta_j = E[\\theta_j \\mid y_j] = \\frac{y_j + \\alpha}{e_j + \\beta},

with ``y_j`` the events in cell ``j`` and ``e_j`` its exposure (hours
observed). Per town (group), the prior is fitted by the method of moments
of Marshall (1991), "Mapping disease and mortality rates using empirical
Bayes estimators", *Applied Statistics* 40(2), 283-294:

.. math::

    m = \\frac{\\sum_j y_j}{\\sum_j e_j}, \\quad
    s^2 = \\frac{\\sum_j e_j (y_j / e_j - m)^2}{\\sum_j e_j}, \\quad
    A = s^2 - \\frac{m}{\\bar e}, \\quad \\bar e = \\frac{1}{n}\\sum_j e_j,

where ``m`` is the prior mean and ``A`` the prior variance (the spread of
the raw rates beyond what Poisson noise explains), so that
``beta = m / A`` and ``alpha = m^2 / A``. Equivalently the smoothed rate is
``w_j * y_j / e_j + (1 - w_j) * m`` with weight ``w_j = e_j / (e_j + beta)``:
the more hours a cell was observed, the closer it stays to its raw rate.

When ``A <= 0`` the raw rates vary no more than Poisson noise alone would
make them, the prior collapses to a point at ``m``, and every cell of the
town shrinks fully to the town mean (Marshall sets ``A = 0`` here). The
same holds for a town with no events (``m = 0``). Such towns have
``alpha_ = beta_ = inf``.

A town that saw no events (or very few) would give its cells a rate of
zero, which no expected count may be. ``min_prior_mean`` floors ``m``
before ``A`` is estimated: ``m = max(sum y / sum e, min_prior_mean)``, and
the spread is measured around the floored mean.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

__all__ = ["PoissonGammaSmoother", "check_non_negative", "validate_cells"]


def check_non_negative(value, name: str) -> float:
    """Return a non-negative finite parameter as a float, or raise naming it.

    Parameters
    ----------
    value : int or float
        The parameter's value; a bool is refused.
    name : str
        The parameter's name, for the error message.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``value`` is not a finite real number >= 0.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.number))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name}={value!r} must be a non-negative finite number")
    return float(value)


def validate_cells(counts, exposure, groups):
    """Validate one table of cells and return it as three 1-D arrays.

    Parameters
    ----------
    counts : array_like of shape (n_cells,)
        Events per cell, non-negative and finite.
    exposure : array_like of shape (n_cells,)
        Hours each cell was observed, positive and finite.
    groups : array_like of shape (n_cells,)
        Group (town) label of each cell.

    Returns
    -------
    y, e : numpy.ndarray of float
        Counts and exposure.
    g : numpy.ndarray
        Group labels.

    Raises
    ------
    ValueError
        If the arrays are not 1-D of one non-zero length, a count is
        negative or not finite, or an exposure is not positive and finite.
    """
    y = np.asarray(counts, dtype=float)
    e = np.asarray(exposure, dtype=float)
    g = np.asarray(groups)
    for name, values in (("counts", y), ("exposure", e), ("groups", g)):
        if values.ndim != 1:
            raise ValueError(f"{name} has shape {values.shape}; it must be 1-D, one value per cell")
    if not len(y) == len(e) == len(g):
        raise ValueError(
            f"counts, exposure and groups have lengths {len(y)}, {len(e)} and {len(g)}; "
            "they must be equal"
        )
    if len(y) == 0:
        raise ValueError("no cells given; at least one cell is needed")
    bad = ~np.isfinite(y) | (y < 0)
    if bad.any():
        raise ValueError(
            f"counts contain {float(y[bad][0])!r}; counts must be non-negative and finite"
        )
    bad = ~np.isfinite(e) | (e <= 0)
    if bad.any():
        raise ValueError(
            f"exposure contains {float(e[bad][0])!r}; exposure must be positive and finite"
        )
    return y, e, g


class PoissonGammaSmoother(BaseEstimator):
    """Shrink each cell's Poisson rate toward its town's rate (global EB per town).

    Not a standard scikit-learn estimator (``fit`` takes counts, exposure
    and group labels rather than ``X, y``), but it keeps the contract:
    ``__init__`` only stores parameters, ``fit`` validates and learns
    attributes ending in an underscore, and ``transform`` before ``fit``
    raises :class:`sklearn.exceptions.NotFittedError`.

    Parameters
    ----------
    min_prior_variance : float, default 0.0
        Floor for the moment estimate ``A`` of the prior variance (rate
        units squared, e.g. (events/hour)^2). With the default, a town whose
        ``A <= 0`` shrinks fully to its mean; a positive floor keeps some
        weight on every cell's own rate instead.
    min_prior_mean : float, default 0.0
        Floor for the prior mean ``m`` of every group (rate units). A
        positive floor keeps every smoothed rate positive, also in a group
        with no events.

    Attributes
    ----------
    groups_ : numpy.ndarray
        Sorted distinct group labels seen in ``fit``.
    prior_mean_ : numpy.ndarray of float
        ``m`` per group, aligned with ``groups_``.
    prior_variance_ : numpy.ndarray of float
        ``max(A, min_prior_variance)`` per group.
    alpha_, beta_ : numpy.ndarray of float
        Gamma prior shape and rate per group; ``inf`` where the group
        shrinks fully to its mean.
    smoothed_rates_ : numpy.ndarray of float
        Smoothed rate of every cell passed to ``fit``, in input order.

    Examples
    --------
    >>> smoother = PoissonGammaSmoother().fit(
    ...     counts=[0, 2, 10, 4], exposure=[10, 10, 20, 10], groups=["A"] * 4)
    >>> smoother.prior_mean_, smoother.prior_variance_.round(6)
    (array([0.32]), array([0.012]))
    >>> smoother.smoothed_rates_.round(4)
    array([0.2327, 0.2873, 0.3971, 0.3418])
    """

    def __init__(self, min_prior_variance: float = 0.0, min_prior_mean: float = 0.0):
        self.min_prior_variance = min_prior_variance
        self.min_prior_mean = min_prior_mean

    def fit(self, counts, exposure, groups):
        """Fit one gamma prior per group by the method of moments.

        Parameters
        ----------
        counts : array_like of shape (n_cells,)
            Events per cell, non-negative and finite.
        exposure : array_like of shape (n_cells,)
            Hours each cell was observed, positive and finite.
        groups : array_like of shape (n_cells,)
            Town (or other group) label of each cell.

        Returns
        -------
        PoissonGammaSmoother
            The fitted smoother.

        Raises
        ------
        ValueError
            If the arrays are not 1-D of one length, a count is negative,
            an exposure is not positive, or ``min_prior_variance`` or
            ``min_prior_mean`` is negative or not finite.
        """
        floor = check_non_negative(self.min_prior_variance, "min_prior_variance")
        mean_floor = check_non_negative(self.min_prior_mean, "min_prior_mean")
        y, e, g = validate_cells(counts, exposure, groups)
        labels, group_of = np.unique(g, return_inverse=True)
        n_groups = len(labels)

        exposure_sum = np.bincount(group_of, weights=e, minlength=n_groups)
        mean = np.maximum(
            np.bincount(group_of, weights=y, minlength=n_groups) / exposure_sum, mean_floor
        )
        raw_rate = y / e
        spread = (
            np.bincount(group_of, weights=e * (raw_rate - mean[group_of]) ** 2, minlength=n_groups)
            / exposure_sum
        )
        mean_exposure = exposure_sum / np.bincount(group_of, minlength=n_groups)
        variance = np.maximum(spread - mean / mean_exposure, float(floor))

        degenerate = (variance <= 0) | (mean <= 0)
        safe_variance = np.where(degenerate, 1.0, variance)
        self.groups_ = labels
        self.prior_mean_ = mean
        self.prior_variance_ = variance
        self.alpha_ = np.where(degenerate, np.inf, mean**2 / safe_variance)
        self.beta_ = np.where(degenerate, np.inf, mean / safe_variance)
        self.smoothed_rates_ = self._smooth(y, e, group_of)
        return self

    def _smooth(self, y, e, group_of):
        alpha = self.alpha_[group_of]
        beta = self.beta_[group_of]
        full = np.isinf(beta)
        # inf/inf would be NaN; a point-mass prior gives the group mean.
        return np.where(
            full,
            self.prior_mean_[group_of],
            (y + np.where(full, 0.0, alpha)) / (e + np.where(full, 0.0, beta)),
        )

    def transform(self, counts, exposure, groups):
        """Smoothed rates of cells under the priors learned in ``fit``.

        Parameters
        ----------
        counts, exposure, groups : array_like of shape (n_cells,)
            As in :meth:`fit`; every group must have been seen in ``fit``.

        Returns
        -------
        numpy.ndarray of float
            ``(counts + alpha) / (exposure + beta)`` per cell, or the group
            mean where the group shrinks fully.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If called before :meth:`fit`.
        ValueError
            On invalid cells or a group label not seen in ``fit``.
        """
        if not hasattr(self, "alpha_"):
            raise NotFittedError(
                "This PoissonGammaSmoother is not fitted yet; call fit(counts, exposure, groups) "
                "before transform"
            )
        y, e, g = validate_cells(counts, exposure, groups)
        position = np.clip(np.searchsorted(self.groups_, g), 0, len(self.groups_) - 1)
        unseen = self.groups_[position] != g
        if unseen.any():
            known = ", ".join(repr(label) for label in self.groups_[:10].tolist())
            raise ValueError(
                f"group {g[unseen].tolist()[0]!r} was not seen in fit; known groups: {known}"
                + (", ..." if len(self.groups_) > 10 else "")
            )
        return self._smooth(y, e, position)

    def fit_transform(self, counts, exposure, groups):
        """Fit, then return ``smoothed_rates_`` of the same cells."""
        return self.fit(counts, exposure, groups).smoothed_rates_
