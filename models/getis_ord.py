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

Conditional permutation (as esda's ``permutations=999``) keeps ``y_i`` in
its cell and deals the other ``n - 1`` values at random to the cell's
neighbours. :func:`gi_star_permutation_p` does this for all cells at once:
each permutation draws one ordered sample of ``k_max + 1`` distinct cells
shared by all cells (esda shares its permuted ids across cells too); a
cell with ``k`` neighbours takes the first ``k`` of them, and if it drew
itself it takes draw number ``k + 1`` in its place. That gives every cell
an exactly uniform ordered sample of ``k`` of the other cells, and the
whole step is one gather, a prefix sum (or a small matrix product for
non-binary weights) and a sparse correction.

Cells are numbered in C order (row-major) of an ``(n_rows, n_cols)`` grid,
as ``counts_2d.ravel()`` numbers them.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtr

__all__ = [
    "GiStarResult",
    "gi_star",
    "GiStar",
    "gi_star_permutation_p",
    "grid_weights",
    "grid_distance_band_weights",
    "aggregate_points_to_grid",
]

ALTERNATIVES = ("directed", "greater", "lesser")

# Upper bound on permutations x cells held in memory at once (float64s).
_SIMULATION_BLOCK = 4_000_000


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
    y, shape = _as_cell_values(counts)
    _check_alternative(alternative)
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
        matrix = _as_weights(weights, n)
        binary = bool(np.all(matrix.data == 1))
        if not binary:
            _check_weight_values(matrix.data)
        _check_self_weights(matrix)
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
            y, _ = _as_cell_values(counts)  # raises, naming the bad value
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


def gi_star_permutation_p(
    counts,
    weights,
    n_permutations: int = 999,
    random_state=None,
    *,
    alternative: str = "directed",
) -> np.ndarray:
    """Conditional-permutation pseudo p-values of Gi* for every cell.

    For each cell ``i`` the value ``y_i`` stays in place and the other
    ``n - 1`` values are dealt at random to its ``k_i`` neighbours; the
    pseudo p-value is ``(m + 1) / (n_permutations + 1)`` where ``m`` counts
    the permutations at least as extreme as the observed neighbourhood sum.
    Ties count as "at least as large", as in esda.

    Parameters
    ----------
    counts : array_like of shape (n,) or (n_rows, n_cols)
        Non-negative, finite value per cell, read in C order.
    weights : scipy.sparse matrix or array of shape (n, n)
        The Gi* weights, self-weights included (as for :func:`gi_star`).
        The self-weight only shifts observed and permuted sums alike, so it
        does not change the p-values.
    n_permutations : int, default 999
        Number of random permutations, at least 1.
    random_state : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Seed for ``numpy.random.default_rng``; a fixed seed gives identical
        p-values on every run.
    alternative : {'directed', 'greater', 'lesser'}, default 'directed'
        ``'greater'``: ``m`` counts sums >= observed (hot spots);
        ``'lesser'``: sums <= observed (cold spots); ``'directed'``: the
        smaller of the two tails, counted as esda's ``G_Local.p_sim`` does.

    Returns
    -------
    numpy.ndarray
        Pseudo p-values shaped like ``counts``; NaN for a cell with no
        neighbour other than itself.

    Raises
    ------
    ValueError
        For bad counts or weights (see :func:`gi_star`), ``n_permutations``
        below 1, or an unknown ``alternative``.

    Notes
    -----
    All cells share the random draws of a permutation, so their p-values are
    dependent; each cell's own null distribution is exact. The random draws
    differ from esda's, so p-values agree with esda in distribution only.

    Examples
    --------
    >>> counts = np.array([[0, 1, 0, 0, 1],
    ...                    [1, 0, 0, 1, 0],
    ...                    [0, 0, 1, 0, 0],
    ...                    [0, 1, 0, 6, 5],
    ...                    [1, 0, 0, 7, 9]])
    >>> p = gi_star_permutation_p(counts, grid_weights(5, 5), 999,
    ...                           random_state=7, alternative="greater")
    >>> bool(p[4, 4] < 0.01), bool(p[0, 0] > 0.5)
    (True, True)
    """
    y, shape = _as_cell_values(counts)
    matrix = _as_weights(weights, y.size)
    _check_alternative(alternative)
    if (
        isinstance(n_permutations, bool)
        or not isinstance(n_permutations, (int, np.integer))
        or n_permutations < 1
    ):
        raise ValueError(
            f"n_permutations={n_permutations!r} provided, but it must be an integer >= 1"
        )
    if not np.all(matrix.data == 1):
        _check_weight_values(matrix.data)
    _check_self_weights(matrix)
    rng = np.random.default_rng(random_state)

    n = y.size
    rows = np.repeat(np.arange(n), np.diff(matrix.indptr))
    others = (matrix.indices != rows) & (matrix.data != 0)
    other_rows, other_cols = rows[others], matrix.indices[others]
    other_weights = matrix.data[others].astype(np.float64)
    n_neighbours = np.bincount(other_rows, minlength=n)
    k_max = int(n_neighbours.max())
    p_values = np.full(n, np.nan)
    if k_max == 0:
        return p_values.reshape(shape)

    observed = np.bincount(other_rows, weights=other_weights * y[other_cols], minlength=n)
    # Slot m of a cell's padded weight row takes the m-th random draw.
    slot = np.arange(other_rows.size) - (np.cumsum(n_neighbours) - n_neighbours)[other_rows]
    padded_weights = np.zeros((n, k_max))
    padded_weights[other_rows, slot] = other_weights
    binary = bool(np.all(other_weights == 1))
    # Sums of different float orderings can differ in the last bits; ties
    # must still count as ties.
    tolerance = 1e-10 * np.abs(padded_weights).sum(axis=1) * max(float(y.max()), 1e-300)

    at_least = np.zeros(n, dtype=np.int64)
    block = max(1, min(n_permutations, _SIMULATION_BLOCK // n))
    for start in range(0, n_permutations, block):
        draws = _ordered_samples(rng, n, k_max + 1, min(block, n_permutations - start))
        simulated = _permuted_sums(y, draws, n_neighbours, padded_weights, binary)
        if alternative == "lesser":
            at_least += np.count_nonzero(simulated <= observed + tolerance, axis=0)
        else:
            at_least += np.count_nonzero(simulated >= observed - tolerance, axis=0)

    if alternative == "directed":
        at_least = np.minimum(at_least, n_permutations - at_least)
    has_neighbours = n_neighbours > 0
    p_values[has_neighbours] = (at_least[has_neighbours] + 1) / (n_permutations + 1)
    return p_values.reshape(shape)


def grid_weights(
    n_rows: int, n_cols: int, *, rook: bool = False, self_weight: bool = True
) -> sp.csr_matrix:
    """Binary contiguity weights of a rectangular grid, cells in C order.

    Parameters
    ----------
    n_rows, n_cols : int
        Grid shape, each at least 1.
    rook : bool, default False
        Neighbours share an edge (rook, up to 4) instead of an edge or a
        corner (queen, up to 8).
    self_weight : bool, default True
        Put 1 on the diagonal, as Gi* needs. Use False for esda's ``W``
        (``G_Local(..., star=True)`` adds the diagonal itself).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(n_rows * n_cols)``-square float matrix of 0/1 weights.

    Examples
    --------
    >>> w = grid_weights(2, 3)
    >>> w.toarray().astype(int)
    array([[1, 1, 0, 1, 1, 0],
           [1, 1, 1, 1, 1, 1],
           [0, 1, 1, 0, 1, 1],
           [1, 1, 0, 1, 1, 0],
           [1, 1, 1, 1, 1, 1],
           [0, 1, 1, 0, 1, 1]])
    >>> np.diff(grid_weights(3, 3, rook=True, self_weight=False).indptr)
    array([2, 3, 2, 3, 4, 3, 2, 3, 2], dtype=int32)
    """
    _check_grid_shape(n_rows, n_cols)
    if rook:
        offsets = [(-1, 0), (0, -1), (0, 1), (1, 0)]
    else:
        offsets = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)]
    if self_weight:
        offsets.append((0, 0))
    return _weights_from_offsets(n_rows, n_cols, offsets)


def grid_distance_band_weights(
    n_rows: int, n_cols: int, threshold: float, *, self_weight: bool = True
) -> sp.csr_matrix:
    """Binary distance-band weights of a grid: centres within ``threshold``.

    Parameters
    ----------
    n_rows, n_cols : int
        Grid shape, each at least 1.
    threshold : float
        Band radius in cell widths, > 0. ``1`` gives rook and ``1.5`` queen
        contiguity; ``2`` adds the cells two steps away along a row or column.
    self_weight : bool, default True
        Put 1 on the diagonal, as Gi* needs.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(n_rows * n_cols)``-square float matrix of 0/1 weights.

    Examples
    --------
    >>> w = grid_distance_band_weights(5, 5, 2.0)
    >>> int(w[12].sum())   # the centre cell: itself, 4 + 4 + 4 neighbours
    13
    """
    _check_grid_shape(n_rows, n_cols)
    if not (isinstance(threshold, (int, float, np.number)) and 0 < threshold < math.inf):
        raise ValueError(f"threshold={threshold!r} provided, but it must be a finite number > 0")
    reach = int(math.floor(threshold))
    # A hair of slack so that e.g. threshold=math.sqrt(2) keeps the corners.
    limit = threshold * threshold * (1 + 1e-9)
    offsets = [
        (dr, dc)
        for dr in range(-reach, reach + 1)
        for dc in range(-reach, reach + 1)
        if dr * dr + dc * dc <= limit and ((dr, dc) != (0, 0) or self_weight)
    ]
    return _weights_from_offsets(n_rows, n_cols, offsets)


def aggregate_points_to_grid(x, y, cell_size: float, origin=None):
    """Count points per square cell of a grid in metric coordinates.

    Parameters
    ----------
    x, y : array_like of shape (m,)
        Point coordinates in metres (a projected system such as UTM).
    cell_size : float
        Cell edge in the same unit, > 0.
    origin : tuple of float, optional
        Lower-left corner ``(x0, y0)`` of the grid. By default the minimum
        coordinates, snapped down to a multiple of ``cell_size`` so that
        grids of different point sets line up.

    Returns
    -------
    counts_2d : numpy.ndarray of int64, shape (n_rows, n_cols)
        ``counts_2d[r, c]`` counts the points with
        ``y0 + r * cell_size <= y < y0 + (r + 1) * cell_size`` and likewise
        ``c`` along ``x``: row 0 is the southern edge. The grid reaches just
        past the largest coordinates.
    origin : tuple of float
        The ``(x0, y0)`` used.

    Raises
    ------
    ValueError
        For coordinates of different lengths, empty or not finite, a bad
        ``cell_size``, or an ``origin`` above or right of some point.

    Examples
    --------
    >>> counts, origin = aggregate_points_to_grid(
    ...     [1010.0, 1020.0, 1260.0, 1499.0], [2990.0, 2995.0, 3010.0, 3400.0], 250.0)
    >>> counts
    array([[2, 0],
           [0, 1],
           [0, 1]])
    >>> origin
    (1000.0, 2750.0)
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(
            f"x and y must be 1-D and of equal length; got shapes {x.shape} and {y.shape}"
        )
    if x.size == 0:
        raise ValueError("x and y are empty; at least one point is needed")
    for name, values in (("x", x), ("y", y)):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ValueError(f"{name}[{bad[0]}]={values[bad[0]]} is not a finite coordinate")
    if not (isinstance(cell_size, (int, float, np.number)) and 0 < cell_size < math.inf):
        raise ValueError(f"cell_size={cell_size!r} provided, but it must be a finite number > 0")
    if origin is None:
        x0 = math.floor(x.min() / cell_size) * cell_size
        y0 = math.floor(y.min() / cell_size) * cell_size
    else:
        try:
            x0, y0 = (float(value) for value in origin)
        except (TypeError, ValueError):
            raise ValueError(
                f"origin={origin!r} provided, but it must be a pair (x0, y0) of numbers"
            ) from None
        if not (math.isfinite(x0) and math.isfinite(y0)):
            raise ValueError(f"origin={origin!r} provided, but both coordinates must be finite")
        if x.min() < x0 or y.min() < y0:
            raise ValueError(
                f"origin={origin!r} lies above or right of the point "
                f"({x.min()}, {y.min()}) (minimum x, minimum y); it must be the lower-left corner"
            )
    cols = np.floor((x - x0) / cell_size).astype(np.int64)
    rows = np.floor((y - y0) / cell_size).astype(np.int64)
    n_rows, n_cols = int(rows.max()) + 1, int(cols.max()) + 1
    counts = np.bincount(rows * n_cols + cols, minlength=n_rows * n_cols)
    return counts.reshape(n_rows, n_cols).astype(np.int64), (float(x0), float(y0))


def _permuted_sums(y, draws, n_neighbours, padded_weights, binary):
    """Neighbourhood sums (without the cell itself) for each draw and cell."""
    k_max = padded_weights.shape[1]
    drawn = y[draws]
    if binary:
        prefix = np.zeros((drawn.shape[0], k_max + 1))
        np.cumsum(drawn[:, :k_max], axis=1, out=prefix[:, 1:])
        simulated = prefix[:, n_neighbours]
    else:
        simulated = drawn[:, :k_max] @ padded_weights.T
    # A cell that drew itself among its first k uses draw k + 1 instead.
    cells = draws[:, :k_max]
    draw_rows, slots = np.nonzero(np.arange(k_max) < n_neighbours[cells])
    hit = cells[draw_rows, slots]
    replacement = y[draws[draw_rows, n_neighbours[hit]]]
    simulated[draw_rows, hit] += padded_weights[hit, slots] * (replacement - y[hit])
    return simulated


def _ordered_samples(rng, n, size, n_samples):
    """``n_samples`` rows of ``size`` distinct cells, uniform and ordered."""
    if size * size > n:
        # Small grids: duplicates would be common, so rank random keys.
        return np.argsort(rng.random((n_samples, n)), axis=1)[:, :size]
    # Large grids: draw with replacement and redraw the rare rows with a
    # repeat, which leaves each row uniform over the distinct ordered samples.
    draws = rng.integers(0, n, size=(n_samples, size))
    redraw = np.arange(n_samples)
    while redraw.size:
        ordered = np.sort(draws[redraw], axis=1)
        redraw = redraw[(ordered[:, 1:] == ordered[:, :-1]).any(axis=1)]
        draws[redraw] = rng.integers(0, n, size=(redraw.size, size))
    return draws


def _normal_p(z, alternative):
    if alternative == "greater":
        return ndtr(-z)
    if alternative == "lesser":
        return ndtr(z)
    return ndtr(-np.abs(z))


def _as_cell_values(counts):
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


def _as_weights(weights, n):
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


def _check_weight_values(data):
    if data.size and not (data.min() >= 0 and data.max() < math.inf):
        bad = np.flatnonzero(~np.isfinite(data) | (data < 0))
        raise ValueError(
            f"weights hold the value {data[bad[0]]}, but weights must be finite and >= 0"
        )


def _check_self_weights(matrix):
    missing = np.flatnonzero(matrix.diagonal() <= 0)
    if missing.size:
        raise ValueError(
            f"weights[{missing[0]}, {missing[0]}]=0 provided, but Gi* needs a self-weight "
            f"w_ii > 0 for every cell; build weights with self_weight=True"
        )


def _check_alternative(alternative):
    if alternative not in ALTERNATIVES:
        raise ValueError(
            f"alternative={alternative!r} provided, but is not one of: "
            + ", ".join(repr(option) for option in ALTERNATIVES)
        )


def _check_grid_shape(n_rows, n_cols):
    for name, value in (("n_rows", n_rows), ("n_cols", n_cols)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}={value!r} provided, but it must be an integer >= 1")


def _weights_from_offsets(n_rows, n_cols, offsets):
    cell = np.arange(n_rows * n_cols).reshape(n_rows, n_cols)
    sources, targets = [], []
    for dr, dc in offsets:
        # Source cells whose neighbour at (dr, dc) is still on the grid.
        row_start, row_stop = max(0, -dr), max(0, n_rows - max(0, dr))
        col_start, col_stop = max(0, -dc), max(0, n_cols - max(0, dc))
        if row_start >= row_stop or col_start >= col_stop:
            continue
        sources.append(cell[row_start:row_stop, col_start:col_stop].ravel())
        targets.append(cell[row_start + dr : row_stop + dr, col_start + dc : col_stop + dc].ravel())
    source = np.concatenate(sources) if sources else np.zeros(0, dtype=np.int64)
    target = np.concatenate(targets) if targets else np.zeros(0, dtype=np.int64)
    n = n_rows * n_cols
    matrix = sp.csr_matrix((np.ones(source.size), (source, target)), shape=(n, n))
    matrix.sort_indices()
    return matrix
