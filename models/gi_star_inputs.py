"""Validation of the inputs of Gi* (热点分析): counts, weights and the tested tail.

:func:`models.getis_ord.gi_star`, :class:`models.getis_ord.GiStar` and
:func:`models.gi_star_permutation.gi_star_permutation_p` take the same
counts and weights and refuse the same bad values with the same messages;
these checks are that shared part. Counts are read in C order (row-major)
of an ``(n_rows, n_cols)`` grid, as ``counts_2d.ravel()`` numbers them, and
weights are a square matrix over those cells, self-weights included.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

__all__ = [
    "ALTERNATIVES",
    "as_cell_values",
    "as_weights",
    "check_weight_values",
    "check_self_weights",
    "check_alternative",
]

ALTERNATIVES = ("directed", "greater", "lesser")


def as_cell_values(counts):
    """Counts as a flat float vector in C order, and the shape they came in.

    Parameters
    ----------
    counts : array_like of shape (n,) or (n_rows, n_cols)
        Real, finite, non-negative value per cell; at least 2 cells.

    Returns
    -------
    y : numpy.ndarray of float64, shape (n,)
    shape : tuple of int
        The shape of ``counts``, to reshape results back.

    Raises
    ------
    ValueError
        For counts of another dimension, fewer than 2 cells, a non-real
        dtype, or a value that is negative or not finite (named by flat index).
    """
    values = np.asarray(counts)
    if values.ndim not in (1, 2) or values.size < 2:
        raise ValueError(
            f"counts of shape {values.shape} provided, but it must be 1-D or 2-D "
            f"with at least 2 cells"
        )
    if values.dtype.kind not in "iuf":
        raise ValueError(f"counts of dtype {values.dtype} provided, but it must be real numbers")
    y = values.astype(np.float64).ravel()
    # Two reductions are cheaper than a mask; NaN fails the first test.
    if not (y.min() >= 0 and y.max() < math.inf):
        bad = np.flatnonzero(~np.isfinite(y) | (y < 0))
        raise ValueError(
            f"counts[{bad[0]}]={y[bad[0]]} (flat index) provided, but counts must be "
            f"finite and >= 0"
        )
    return y, values.shape


def as_weights(weights, n):
    """Weights as a canonical CSR matrix of shape ``(n, n)``.

    Parameters
    ----------
    weights : scipy.sparse matrix or array_like of shape (n, n)
    n : int
        Number of cells.

    Returns
    -------
    scipy.sparse.csr_matrix
        The input itself when it already is canonical CSR; otherwise a copy
        with repeated ``(i, j)`` entries summed.

    Raises
    ------
    ValueError
        For a matrix of another shape.
    """
    if sp.issparse(weights):
        matrix = weights if weights.format == "csr" else weights.tocsr()
    else:
        matrix = sp.csr_matrix(np.asarray(weights, dtype=np.float64))
    if matrix.shape != (n, n):
        raise ValueError(
            f"weights of shape {matrix.shape} provided, but {n} cells need shape ({n}, {n})"
        )
    if not matrix.has_canonical_format:
        # Repeated (i, j) entries would count twice in S1 and in the draws.
        matrix = matrix.copy()
        matrix.sum_duplicates()
    return matrix


def check_weight_values(data):
    """Raise ``ValueError`` naming the first weight that is negative or not finite.

    Parameters
    ----------
    data : numpy.ndarray
        The stored values of a sparse weights matrix.
    """
    if data.size and not (data.min() >= 0 and data.max() < math.inf):
        bad = np.flatnonzero(~np.isfinite(data) | (data < 0))
        raise ValueError(
            f"weights hold the value {data[bad[0]]}, but weights must be finite and >= 0"
        )


def check_self_weights(matrix):
    """Raise ``ValueError`` naming the first cell without a self-weight ``w_ii > 0``.

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix
        Square weights matrix.
    """
    missing = np.flatnonzero(matrix.diagonal() <= 0)
    if missing.size:
        raise ValueError(
            f"weights[{missing[0]}, {missing[0]}]=0 provided, but Gi* needs a self-weight "
            f"w_ii > 0 for every cell; build weights with self_weight=True"
        )


def check_alternative(alternative):
    """Raise ``ValueError`` unless ``alternative`` is one of :data:`ALTERNATIVES`.

    Parameters
    ----------
    alternative : str
        ``'directed'``, ``'greater'`` or ``'lesser'``.
    """
    if alternative not in ALTERNATIVES:
        raise ValueError(
            f"alternative={alternative!r} provided, but is not one of: "
            + ", ".join(repr(option) for option in ALTERNATIVES)
        )
