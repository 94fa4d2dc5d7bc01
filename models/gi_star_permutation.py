"""Conditional-permutation pseudo p-values of local Getis-Ord Gi* (热点分析).

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

The pseudo p-value of a cell is ``(m + 1) / (n_permutations + 1)``, with
``m`` the permutations whose neighbourhood sum is at least as extreme as the
observed one (Getis and Ord 1995 for the statistic; the z-scores are in
:mod:`models.getis_ord`). Cells are numbered in C order, as
``counts_2d.ravel()`` numbers them.
"""

from __future__ import annotations

import numpy as np

from models.gi_star_inputs import (
    as_cell_values,
    as_weights,
    check_alternative,
    check_self_weights,
    check_weight_values,
)

__all__ = ["gi_star_permutation_p", "ordered_samples"]

# Upper bound on permutations x cells held in memory at once (float64s).
_SIMULATION_BLOCK = 4_000_000


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
        The Gi* weights, self-weights included (as for :func:`models.getis_ord.gi_star`).
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
        For bad counts or weights (see :func:`models.getis_ord.gi_star`), ``n_permutations``
        below 1, or an unknown ``alternative``.

    Notes
    -----
    All cells share the random draws of a permutation, so their p-values are
    dependent; each cell's own null distribution is exact. The random draws
    differ from esda's, so p-values agree with esda in distribution only.

    Examples
    --------
    >>> from models.spatial_weights import grid_weights
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
    y, shape = as_cell_values(counts)
    matrix = as_weights(weights, y.size)
    check_alternative(alternative)
    if (
        isinstance(n_permutations, bool)
        or not isinstance(n_permutations, (int, np.integer))
        or n_permutations < 1
    ):
        raise ValueError(
            f"n_permutations={n_permutations!r} provided, but it must be an integer >= 1"
        )
    if not np.all(matrix.data == 1):
        check_weight_values(matrix.data)
    check_self_weights(matrix)
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
        draws = ordered_samples(rng, n, k_max + 1, min(block, n_permutations - start))
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


def ordered_samples(rng, n, size, n_samples):
    """``n_samples`` rows of ``size`` distinct cells, uniform and ordered.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the random draws.
    n : int
        Number of cells to draw from (``0 .. n - 1``).
    size : int
        Cells per row, at most ``n``.
    n_samples : int
        Number of rows.

    Returns
    -------
    numpy.ndarray of int, shape (n_samples, size)
        Each row is an ordered sample without repetition, every ordered
        sample equally likely.
    """
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
