"""Local Getis-Ord Gi* (热点分析) for every cell of a grid, as sparse algebra.

Gi* asks, cell by cell, whether the counts in a cell *and* its neighbours
are higher (hot spot) or lower (cold spot) than the study-area average
would give them. With weights ``w_ij`` that include the cell itself
(``w_ii > 0``), ``n`` cells, mean ``ybar`` and population standard
deviation ``s`` of the counts, Getis and Ord (1995) standardise the
neighbourhood sum as

.. math::

    z_i = \\frac{\\sum_j w_{ij} y_j - \\bar y \\, W_i}
               {s \\sqrt{(n S_{1i} - W_i^2) / (n - 1)}},
    \\qquad W_i = \\sum_j w_{ij}, \\quad S_{1i} = \\sum_j w_{ij}^2 .

The mean and the variance use all ``n`` values, the cell's own included.
For binary weights ``S_1i = W_i`` and ``z`` equals
``esda.G_Local(y, w, star=True, transform='B').Zs`` (esda 2.9) exactly;
esda always binarises with ``transform='B'``, while here non-binary weights
are used as given, with the general formula above.

Conditional-permutation p-values (as esda's ``permutations=999``) are in
:mod:`models.gi_star_permutation`, the grid's weights and point counts in
:mod:`models.spatial_weights`; this module re-exports them, so that
``from models.getis_ord import gi_star_permutation_p, grid_weights`` works.

Cells are numbered in C order (row-major) of an ``(n_rows, n_cols)`` grid,
as ``counts_2d.ravel()`` numbers them.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtr

from models.gi_star_inputs import (
    as_cell_values,
    as_weights,
    check_alternative,
    check_self_weights,
    check_weight_values,
)
from models.gi_star_permutation import gi_star_permutation_p
from models.spatial_weights import (
    aggregate_points_to_grid,
    grid_distance_band_weights,
    grid_weights,
)

__all__ = [
    "GiStarResult",
    "gi_star",
    "GiStar",
    "gi_star_permutation_p",
    "grid_weights",
    "grid_distance_band_weights",
    "aggregate_points_to_grid",
]


class GiStarResult(NamedTuple):
    """Gi* z-scores and their normal p-values, shaped like the counts."""

    z: np.ndarray
    p_norm: np.ndarray


def gi_star(counts, weights, *, alternative: str = "directed") -> GiStarResult:
    """Local Getis-Ord Gi* z-score and normal p-value of every cell.

    Parameters
    ----------
    counts : array_like of shape (n,) or (n_rows, n_cols)
        Non-negative, finite value per cell (event counts). A 2-D grid is
        read in C order, matching :func:`grid_weights`.
    weights : scipy.sparse matrix or array of shape (n, n)
        Non-negative spatial weights **including the self-weight**
        ``w_ii > 0`` of every cell, e.g. ``grid_weights(n_rows, n_cols)``.
    alternative : {'directed', 'greater', 'lesser'}, default 'directed'
        ``'greater'`` tests for hot spots, ``'lesser'`` for cold spots;
        ``'directed'`` takes the tail the z-score lies in, ``P(Z > |z|)``,
        which is esda's ``p_norm`` (double it for a two-sided test).

    Returns
    -------
    GiStarResult
        ``z`` and ``p_norm``, each shaped like ``counts``. Both are NaN when
        the counts are constant (``s = 0``) and for a cell whose weights
        cover every cell equally (its variance is zero).

    Raises
    ------
    ValueError
        For counts that are not finite and non-negative, weights of the wrong
        shape or with a negative, non-finite or zero self-weight, or an
        unknown ``alternative``.

    Examples
    --------
    A hot corner in a quiet 5 x 5 grid, queen contiguity with self-weights:

    >>> counts = np.array([[0, 1, 0, 0, 1],
    ...                    [1, 0, 0, 1, 0],
    ...                    [0, 0, 1, 0, 0],
    ...                    [0, 1, 0, 6, 5],
    ...                    [1, 0, 0, 7, 9]])
    >>> result = gi_star(counts, grid_weights(5, 5))
    >>> result.z.round(2)
    array([[-0.75, -1.15, -1.15, -1.15, -0.75],
           [-1.15, -1.53, -1.53, -1.53, -1.15],
           [-1.15, -1.53, -0.54,  0.13,  0.72],
           [-1.15, -1.53,  0.46,  2.61,  3.51],
           [-0.75, -1.15,  1.09,  3.51,  4.68]])
    >>> result.p_norm[3:, 3:].round(4)
    array([[0.0045, 0.0002],
           [0.0002, 0.    ]])
    """
    y, shape = as_cell_values(counts)
    check_alternative(alternative)
    z = GiStar(weights, n=y.size).z_scores(y)
    return GiStarResult(z.reshape(shape), _normal_p(z, alternative).reshape(shape))


class GiStar:
    """Gi* with the weights' part computed once, for many count vectors on one grid.

    ``W_i`` and ``sqrt(n S_1i - W_i^2)`` depend on the weights only; the
    streaming detector scores a new count vector every window on the same
    grid, so what is left per vector is one sparse product, the mean and
    the variance, and two vector operations.

    Examples
    --------
    >>> w = grid_weights(5, 5)
    >>> counts = np.arange(25.0)
    >>> np.allclose(GiStar(w).z_scores(counts), gi_star(counts, w).z.ravel())
    True
    """

    def __init__(self, weights, n: int | None = None):
        if n is None:
            n = weights.shape[0]
        matrix = as_weights(weights, n)
        binary = bool(np.all(matrix.data == 1))
        if not binary:
            check_weight_values(matrix.data)
        check_self_weights(matrix)
        if binary:
            # No explicit zeros can hide among ones, so the row sums are the row
            # lengths and S1 = W: n S1 - W^2 = W (n - W).
            row_sum = np.diff(matrix.indptr).astype(np.float64)
            scale = (n - row_sum) * row_sum
        else:
            squared = sp.csr_matrix(
                (matrix.data * matrix.data, matrix.indices, matrix.indptr), shape=matrix.shape
            )
            ones = np.ones(n)
            row_sum = matrix @ ones
            scale = squared @ ones * n - row_sum * row_sum
        self.degenerate = scale <= 1e-12 * n * row_sum
        scale[self.degenerate] = 1.0
        self.matrix = matrix
        self.n = n
        self.row_sum = row_sum
        self.inverse_scale = 1.0 / np.sqrt(scale)
        self.inverse_scale[self.degenerate] = np.nan
        self._centre = row_sum * self.inverse_scale
        self._buffer = np.empty(n)

    def z_scores(self, counts) -> np.ndarray:
        """Gi* z of every cell for one count vector (validated as :func:`gi_star` does).

        Written for speed: besides the sparse product, a few passes over
        the cells (sum, minimum, sum of squares; then two scalings and a
        subtraction on the result, in place).
        """
        y = np.asarray(counts, dtype=np.float64).reshape(-1)
        total = float(y.sum()) if y.size else math.nan
        if y.size != self.n or not (math.isfinite(total) and y.min() >= 0):
            y, _ = as_cell_values(counts)  # raises, naming the bad value
            if y.size != self.n:
                raise ValueError(f"counts have {y.size} cells, but the weights {self.n}")
        n = self.n
        mean = total / n
        variance = float(np.dot(y, y)) / n - mean * mean
        # Below this the variance is cancellation noise of constant counts.
        spread = math.sqrt(variance) if variance > 1e-14 * mean * mean else 0.0
        if spread == 0:
            return np.full(n, np.nan)
        factor = math.sqrt(n - 1) / spread
        # z = factor * inverse_scale * lag - factor * mean * row_sum * inverse_scale
        z = self.matrix @ y
        z *= self.inverse_scale
        # A preallocated buffer: a fresh temporary this large costs page faults.
        np.multiply(self._centre, mean, out=self._buffer)
        z -= self._buffer
        z *= factor
        return z


def _normal_p(z, alternative):
    if alternative == "greater":
        return ndtr(-z)
    if alternative == "lesser":
        return ndtr(z)
    return ndtr(-np.abs(z))
