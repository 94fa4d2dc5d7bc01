"""Circular zones of the space-time scan (时空扫描统计量): each cell with its nearest cells.

The prospective space-time scan (:mod:`models.cylinder_scan`) looks at
cylinders: a circle of cells × a stretch of time ending now. The circles
are the zones here, as in SaTScan (Kulldorff 2001, "Prospective time
periodic geographical disease surveillance using a scan statistic", JRSS A
164(1)): each cell with its nearest cells out to ``max_radius_m``, at most
``max_cells`` of them. Zone ``(i, k)`` is centre ``i`` with its ``k``
nearest other cells, numbered ``i * max_cells + k``; ties in distance go
by cell index, so the zones do not depend on the order a tree returns them.
A sparse membership matrix turns per-cell values into zone sums with one
product.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

__all__ = ["CylinderZones"]


class CylinderZones:
    """Circular zones of a set of cells: each centre with its nearest cells.

    Parameters
    ----------
    coords : array_like of shape (n, 2)
        Cell centres in metres (any planar projection).
    max_radius_m : float
        A zone holds the cells whose centre lies within this distance of the
        zone's centre cell.
    max_cells : int
        And at most this many cells.

    Attributes
    ----------
    neighbours : numpy.ndarray of shape (n, max_cells)
        Row ``i`` lists cell ``i`` and then its nearest cells by distance
        (ties by index); ``-1`` pads rows with fewer cells in reach. Zone
        ``(i, k)`` is the first ``k + 1`` entries of row ``i``.
    membership : scipy.sparse.csr_matrix of shape (n, n * max_cells)
        ``membership[j, i * max_cells + k] = 1`` when cell ``j`` is in zone
        ``(i, k)``; zone sums of per-cell values ``v`` are ``v @ membership``.

    Examples
    --------
    >>> zones = CylinderZones([[0, 0], [1000, 0], [3000, 0]], max_radius_m=1500, max_cells=3)
    >>> zones.neighbours
    array([[ 0,  1, -1],
           [ 1,  0, -1],
           [ 2, -1, -1]])
    >>> zones.n_zones   # {0}, {0, 1}, {1}, {1, 0}, {2}
    5
    """

    def __init__(self, coords, max_radius_m: float, max_cells: int):
        xy = np.asarray(coords, dtype=float)
        if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) == 0:
            raise ValueError(f"coords has shape {xy.shape}; it must be (n, 2) with n >= 1")
        if not (math.isfinite(max_radius_m) and max_radius_m >= 0):
            raise ValueError(f"max_radius_m={max_radius_m!r} must be a finite number >= 0")
        if isinstance(max_cells, bool) or not isinstance(max_cells, int) or max_cells < 1:
            raise ValueError(f"max_cells={max_cells!r} must be an integer >= 1")
        from scipy.spatial import cKDTree

        n = len(xy)
        k = min(max_cells, n)
        distances, index = cKDTree(xy).query(xy, k=k)
        distances = distances.reshape(n, k)
        index = index.reshape(n, k)
        # Stable order by (distance, index): cKDTree breaks ties arbitrarily.
        order = np.lexsort((index, np.round(distances, 6)), axis=1)
        index = np.take_along_axis(index, order, axis=1)
        distances = np.take_along_axis(distances, order, axis=1)
        index[distances > max_radius_m + 1e-9] = -1
        if k < max_cells:
            index = np.hstack([index, np.full((n, max_cells - k), -1)])
        self.neighbours = index
        self.n_cells = n
        self.max_cells = max_cells
        rows, cols = [], []
        for depth in range(max_cells):
            members = index[:, depth]
            valid = members >= 0
            centres = np.nonzero(valid)[0]
            for k_zone in range(depth, max_cells):
                zone_valid = index[centres, k_zone] >= 0
                rows.append(members[centres][zone_valid])
                cols.append(centres[zone_valid] * max_cells + k_zone)
        rows = np.concatenate(rows)
        cols = np.concatenate(cols)
        self.membership = sp.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(n, n * max_cells)
        )
        #: The transpose, zones by cells: zone sums are ``by_zone @ values``.
        self.by_zone = self.membership.T.tocsr()
        self.valid_zone = (index >= 0).reshape(-1)

    @property
    def n_zones(self) -> int:
        """Number of zones: pairs ``(i, k)`` with ``k + 1`` cells in reach of ``i``."""
        return int(self.valid_zone.sum())

    def cells_of(self, zone: int) -> np.ndarray:
        """Cell indices of zone number ``zone`` (``centre * max_cells + k``)."""
        centre, k = divmod(int(zone), self.max_cells)
        return self.neighbours[centre, : k + 1].copy()
