"""Local empirical-Bayes smoothing (局部经验贝叶斯平滑): neighbourhood, then town.

:class:`~models.empirical_bayes.PoissonGammaSmoother` shrinks every cell of
a town toward one town mean. Incidents cluster below the town scale, so a
quiet cell beside a busy one should borrow more from its neighbours than
from the town as a whole. Marshall (1991, "Mapping disease and mortality
rates using empirical Bayes estimators", *Applied Statistics* 40(2),
283-294) gives each cell ``j`` a prior of its own, estimated by the method
of moments over its neighbourhood ``N(j)`` (the cell and its neighbours):

.. math::

    m_j = \\frac{Y_j}{E_j}, \\quad
    A_j = \\frac{\\sum_{k \\in N(j)} e_k (y_k / e_k - m_j)^2}{E_j}
          - \\frac{m_j}{E_j / |N(j)|}, \\quad
    Y_j = \\sum_{k \\in N(j)} y_k, \\; E_j = \\sum_{k \\in N(j)} e_k,

and the smoothed rate ``m_j + (y_j / e_j - m_j) A_j / (A_j + m_j / e_j)``
(``A_j`` floored at 0). With ``borrow_from_town=False`` this is esda's
``Spatial_Empirical_Bayes`` (esda 2.9) exactly.

A neighbourhood of nine cells is itself sparse: for a rare category all
nine are often zero (``m_j = 0``), and a local variance from nine values
is noisy; where ``m_j`` is small and ``A_j`` large, Marshall's prior has a
tiny shape ``m_j^2 / A_j`` and an empty cell's rate collapses toward 0.
With ``borrow_from_town=True`` (the default) the two moments are taken from
two levels instead. The town's global Poisson-gamma prior
``Gamma(alpha_t, beta_t)`` (Marshall's global estimator per town, fitted
with :class:`PoissonGammaSmoother`) first smooths the neighbourhood's pooled
rate, as if the neighbourhood were one cell of the town:

.. math::

    m_j = \\frac{Y_j + \\alpha_t}{E_j + \\beta_t}
        = w_j \\frac{Y_j}{E_j} + (1 - w_j) m_t, \\qquad
    w_j = \\frac{E_j}{E_j + \\beta_t};

and the cell's prior keeps the town's shape (its relative heterogeneity,
``CV^2 = 1 / alpha_t``) around that local mean:
``theta_j ~ Gamma(alpha_t, alpha_t / m_j)``, so ``A_j = m_j^2 / alpha_t``.
The smoothed rate is ``(y_j + alpha_t) / (e_j + alpha_t / m_j)``: how much a
cell keeps of its own rate is decided by its town's heterogeneity, what it
shrinks toward by its neighbourhood. A town whose rates vary no more than
Poisson noise (``A_t <= 0``, ``alpha_t = beta_t = inf``) has point priors:
its cells take ``m_t``, since the data show no structure to borrow from.
``min_prior_mean`` floors the town means ``m_t`` (see
:class:`PoissonGammaSmoother`), so that with a positive floor every prior
mean and every smoothed rate is positive.

The moment estimate ``A_t`` is fragile where one cell stands out among
many Poisson-quiet ones: the outlier's excess may drown in the sampling
noise of the rest, ``A_t <= 0``, and the outlier would be shrunk all the way
to its neighbourhood. ``max_prior_events`` caps the town's shape,
``alpha_t' = min(alpha_t, max_prior_events)`` with the mean kept
(``beta_t' = alpha_t' / m_t``): the prior is never worth more than that many
events of the cell's own, so a cell with many more events than its prior
expects keeps most of its own rate. The cap applies to both levels (and to
:meth:`LocalPoissonGammaSmoother.unseen_rate`); ``town_`` keeps the
uncapped fit.

In both forms the posterior of cell ``j`` is
``Gamma(y_j + alpha_j, e_j + beta_j)`` with ``alpha_j = m_j^2 / A_j`` and
``beta_j = m_j / A_j``; where ``A_j = 0`` or ``m_j = 0`` the prior is a
point mass and the cell takes ``m_j``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from models.empirical_bayes import PoissonGammaSmoother, check_non_negative, validate_cells

__all__ = ["LocalPoissonGammaSmoother"]


def _neighbourhoods(neighbours, n: int) -> sp.csr_matrix:
    """Binary ``n x n`` neighbourhood matrix with every cell in its own neighbourhood."""
    matrix = sp.csr_matrix(neighbours, dtype=float)
    if matrix.shape != (n, n):
        raise ValueError(
            f"neighbours has shape {matrix.shape}; it must be ({n}, {n}), one row and one "
            "column per cell"
        )
    matrix.eliminate_zeros()
    if matrix.nnz and (not np.isfinite(matrix.data).all() or (matrix.data < 0).any()):
        bad = matrix.data[~np.isfinite(matrix.data) | (matrix.data < 0)][0]
        raise ValueError(
            f"neighbours contains the weight {float(bad)!r}; weights must be non-negative "
            "(any positive weight marks a neighbour)"
        )
    matrix.data[:] = 1.0
    return ((matrix + sp.identity(n, format="csr")) > 0).astype(float).tocsr()


class LocalPoissonGammaSmoother(BaseEstimator):
    """Shrink each cell's Poisson rate toward its neighbourhood, itself shrunk toward its town.

    Like :class:`PoissonGammaSmoother` this is transductive: ``fit`` takes
    the counts, exposure, group (town) and neighbourhood of every cell and
    learns the smoothed rate of each; only the town level carries over to
    new cells (:meth:`unseen_rate`).

    Parameters
    ----------
    borrow_from_town : bool, default True
        Smooth each neighbourhood's pooled rate toward its town's rate
        before using it as the cell's prior mean. False gives Marshall's
        local estimator (esda's ``Spatial_Empirical_Bayes``).
    min_prior_variance : float, default 0.0
        Floor for every prior variance, town and cell (rate units squared).
    min_prior_mean : float, default 0.0
        Floor for the town prior means (rate units); with a positive floor
        and ``borrow_from_town`` every smoothed rate is positive.
    max_prior_events : float, default inf
        Cap on the town priors' shape ``alpha_t`` (in events), > 0; only
        used with ``borrow_from_town``.

    Attributes
    ----------
    town_ : PoissonGammaSmoother
        The fitted town-level (global, per group) smoother, uncapped.
    town_alpha_, town_beta_ : numpy.ndarray of float
        The town priors in use, after ``max_prior_events``, aligned with
        ``town_.groups_``; ``inf`` for a point mass.
    prior_mean_, prior_variance_ : numpy.ndarray of float
        ``m_j`` and ``A_j`` of every cell, in input order.
    alpha_, beta_ : numpy.ndarray of float
        Gamma prior of every cell; ``inf`` where it is a point mass.
    smoothed_rates_ : numpy.ndarray of float
        Posterior mean rate of every cell.

    Examples
    --------
    Five cells in a row, one town; the middle cell is busy:

    >>> chain = sp.diags([1.0, 1.0], [-1, 1], shape=(5, 5))
    >>> smoother = LocalPoissonGammaSmoother().fit(
    ...     counts=[0, 1, 12, 2, 0], exposure=[10] * 5, groups=["A"] * 5, neighbours=chain)
    >>> smoother.prior_mean_.round(4)
    array([0.0694, 0.4262, 0.4894, 0.4578, 0.1155])
    >>> smoother.smoothed_rates_.round(4)
    array([0.0293, 0.1346, 1.1335, 0.2256, 0.0352])
    """

    def __init__(
        self,
        borrow_from_town: bool = True,
        min_prior_variance: float = 0.0,
        min_prior_mean: float = 0.0,
        max_prior_events: float = np.inf,
    ):
        self.borrow_from_town = borrow_from_town
        self.min_prior_variance = min_prior_variance
        self.min_prior_mean = min_prior_mean
        self.max_prior_events = max_prior_events

    def fit(self, counts, exposure, groups, neighbours):
        """Fit the town priors, then every cell's local prior and posterior.

        Parameters
        ----------
        counts : array_like of shape (n_cells,)
            Events per cell, non-negative and finite.
        exposure : array_like of shape (n_cells,)
            Exposure of each cell (e.g. hours observed), positive and finite.
        groups : array_like of shape (n_cells,)
            Town of each cell.
        neighbours : scipy.sparse matrix or array of shape (n_cells, n_cells)
            Positive entry ``[j, k]`` where ``k`` neighbours ``j`` (any
            positive weight counts as 1). The diagonal is added if missing.

        Returns
        -------
        LocalPoissonGammaSmoother

        Raises
        ------
        ValueError
            On invalid cells (see :class:`PoissonGammaSmoother`), a
            neighbour matrix of the wrong shape or with a negative weight,
            a non-boolean ``borrow_from_town`` or a negative floor.
        """
        if not isinstance(self.borrow_from_town, (bool, np.bool_)):
            raise ValueError(f"borrow_from_town={self.borrow_from_town!r} must be True or False")
        variance_floor = check_non_negative(self.min_prior_variance, "min_prior_variance")
        check_non_negative(self.min_prior_mean, "min_prior_mean")
        cap = self.max_prior_events
        if (
            isinstance(cap, bool)
            or not isinstance(cap, (int, float, np.number))
            or np.isnan(cap)
            or cap <= 0
        ):
            raise ValueError(f"max_prior_events={cap!r} must be a number > 0 (inf: no cap)")
        y, e, g = validate_cells(counts, exposure, groups)
        within = _neighbourhoods(neighbours, len(y))

        town = PoissonGammaSmoother(
            min_prior_variance=self.min_prior_variance, min_prior_mean=self.min_prior_mean
        ).fit(y, e, g)
        group_of = np.searchsorted(town.groups_, g)
        pooled_counts = within @ y
        pooled_exposure = within @ e
        town_mean = town.prior_mean_
        town_alpha = np.where(town_mean > 0, np.minimum(town.alpha_, float(cap)), np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            town_beta = np.where(np.isinf(town_alpha), np.inf, town_alpha / town_mean)
        self.town_alpha_, self.town_beta_ = town_alpha, town_beta
        if self.borrow_from_town:
            alpha = town_alpha[group_of]
            point = np.isinf(alpha)
            finite_alpha = np.where(point, 0.0, alpha)
            mean = np.where(
                point,
                town_mean[group_of],
                (pooled_counts + finite_alpha)
                / (pooled_exposure + np.where(point, 0.0, town_beta[group_of])),
            )
            with np.errstate(divide="ignore", invalid="ignore"):
                variance = np.where(point, 0.0, mean * mean / np.where(point, 1.0, alpha))
            variance = np.maximum(variance, variance_floor)
        else:
            mean = pooled_counts / pooled_exposure
            # sum_k e_k (r_k - m)^2 = sum y^2/e - 2 m sum y + m^2 sum e, over N(j).
            spread = (
                within @ (y * y / e) - 2.0 * mean * pooled_counts + mean * mean * pooled_exposure
            ) / pooled_exposure
            size = np.diff(within.indptr).astype(float)
            variance = np.maximum(spread - mean * size / pooled_exposure, variance_floor)
            variance = np.maximum(variance, 0.0)  # rounding must not make it negative

        point = (variance <= 0) | (mean <= 0)
        safe = np.where(point, 1.0, variance)
        self.town_ = town
        self.prior_mean_ = mean
        self.prior_variance_ = variance
        self.alpha_ = np.where(point, np.inf, mean * mean / safe)
        self.beta_ = np.where(point, np.inf, mean / safe)
        self.smoothed_rates_ = np.where(
            point,
            mean,
            (y + np.where(point, 0.0, self.alpha_)) / (e + np.where(point, 0.0, self.beta_)),
        )
        return self

    def unseen_rate(self, exposure, groups):
        """Posterior rate of a cell with no events, from its town's prior only.

        For a cell that ``fit`` did not see: ``alpha_t' / (exposure +
        beta_t')``, or the town mean where the town's prior is a point mass.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If called before :meth:`fit`.
        ValueError
            On invalid exposure or a town not seen in ``fit``.
        """
        if not hasattr(self, "town_"):
            raise NotFittedError(
                "This LocalPoissonGammaSmoother is not fitted yet; call "
                "fit(counts, exposure, groups, neighbours) before unseen_rate"
            )
        e = np.asarray(exposure, dtype=float)
        # Validates the cells and the towns; the capped prior then replaces it.
        self.town_.transform(np.zeros(e.shape), e, groups)
        position = np.searchsorted(self.town_.groups_, np.asarray(groups))
        alpha, beta = self.town_alpha_[position], self.town_beta_[position]
        point = np.isinf(alpha)
        return np.where(
            point,
            self.town_.prior_mean_[position],
            np.where(point, 0.0, alpha) / (e + np.where(point, 0.0, beta)),
        )

    def fit_transform(self, counts, exposure, groups, neighbours):
        """Fit, then return ``smoothed_rates_``."""
        return self.fit(counts, exposure, groups, neighbours).smoothed_rates_
