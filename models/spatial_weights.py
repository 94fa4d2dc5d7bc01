"""A square grid of cells for Gi*: point counts per cell and binary spatial weights.

Gi* (:mod:`models.getis_ord`) compares each cell's neighbourhood with the
study area, so it needs the counts on a grid and the weights ``w_ij`` that
say which cells are neighbours. :func:`aggregate_points_to_grid` counts
projected points into square cells; :func:`grid_weights` gives contiguity
(queen or rook) weights and :func:`grid_distance_band_weights` marks all
cells whose centres lie within a distance band. All weights are 0/1; Gi*
needs the self-weight ``w_ii = 1``, which is on by default.

Cells are numbered in C order (row-major) of an ``(n_rows, n_cols)`` grid,
as ``counts_2d.ravel()`` numbers them.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

__all__ = [
    "grid_weights",
    "grid_distance_band_weights",
    "aggregate_points_to_grid",
]


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
