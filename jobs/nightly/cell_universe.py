"""The cells the nightly statistics range over, and which of them touch.

:attr:`features.geography.District.cells` is the universe: every cell whose
centre lies in the district, with or without events. The nightly baselines
and the trend classes need, for each cell, its town and centre
(:func:`cell_places`), and a contiguity matrix over any list of cells
(:func:`queen_weights`): cells within ``radius`` rows and columns are
neighbours (queen contiguity for ``radius=1``), and cells outside the list
are not part of the study area, so they are no one's neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from features.geography import CellGrid, District

__all__ = ["cell_places", "queen_weights"]


def cell_places(district: District, cells: Sequence[str] | None = None) -> pd.DataFrame:
    """Town and centre of each cell: the jurisdiction of the cell's centre.

    Parameters
    ----------
    district : District
        The district model.
    cells : sequence of str, optional
        Cell ids; by default ``district.cells``.

    Returns
    -------
    pandas.DataFrame
        Columns ``cell_id``, ``town_code``, ``town_name``, ``lon``, ``lat``,
        one row per cell in the given order. A cell whose centre lies
        outside the district has empty town columns.
    """
    ids = list(district.cells if cells is None else cells)
    rows = []
    for cell_id in ids:
        lon, lat = district.grid.center_of(cell_id)
        place = district.locate(lon, lat)
        rows.append(
            (
                cell_id,
                place.town_code if place else None,
                place.town_name if place else None,
                lon,
                lat,
            )
        )
    return pd.DataFrame(rows, columns=["cell_id", "town_code", "town_name", "lon", "lat"])


def queen_weights(
    cells: Sequence[str], grid: CellGrid, *, radius: int = 1, self_weight: bool = True
) -> sp.csr_matrix:
    """Binary contiguity among the given cells, in their order.

    Parameters
    ----------
    cells : sequence of str
        Distinct cell ids (``r012c034``).
    grid : CellGrid
        Parses the ids.
    radius : int, default 1
        Cells within this many rows and columns are neighbours.
    self_weight : bool, default True
        Put 1 on the diagonal (as Gi* and the local smoother use it).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``len(cells)``-square matrix of 0/1 floats.

    Raises
    ------
    ValueError
        On a malformed or repeated cell id, or a negative ``radius``.

    Examples
    --------
    >>> grid = CellGrid(116.55, 40.15, 1000.0)
    >>> queen_weights(["r000c000", "r000c001", "r001c001", "r005c005"], grid).toarray()
    array([[1., 1., 1., 0.],
           [1., 1., 1., 0.],
           [1., 1., 1., 0.],
           [0., 0., 0., 1.]])
    """
    if not isinstance(radius, int) or radius < 0:
        raise ValueError(f"radius={radius!r} must be an integer >= 0")
    index: dict[tuple[int, int], int] = {}
    for i, cell_id in enumerate(cells):
        key = grid.row_col(cell_id)
        if key in index:
            raise ValueError(f"cell {cell_id!r} appears twice in cells; cell ids must be distinct")
        index[key] = i
    rows, cols = [], []
    for (row, col), i in index.items():
        for dr in range(-radius, radius + 1):
            for dc in range(-radius, radius + 1):
                if (dr, dc) == (0, 0) and not self_weight:
                    continue
                j = index.get((row + dr, col + dc))
                if j is not None:
                    rows.append(i)
                    cols.append(j)
    n = len(index)
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
