"""The cell grid: square cells of a fixed size on a local projection.

A cell is the unit of hotspot detection; stream and batch jobs must compute
it identically, so every job calls :meth:`CellGrid.cell_of`.  A cell id is
``"r{row:03d}c{col:03d}"``, rows growing northwards and columns eastwards
from the grid origin (its south-west corner).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property

from features.local_projection import METRES_PER_DEGREE

__all__ = ["CellGrid"]

_CELL_ID = re.compile(r"r(\d{3,})c(\d{3,})")


@dataclass(frozen=True)
class CellGrid:
    """Square cells of ``size_m`` metres north-east of an origin.

    Positions are projected with a local equirectangular projection around
    the origin latitude (x = Δlon·R·cos φ₀, y = Δlat·R, R = 6 371 008.8 m);
    over a district the distortion is well under one percent.  Rows grow
    northwards and columns eastwards; a cell id is ``"r{row:03d}c{col:03d}"``.

    Examples
    --------
    >>> grid = CellGrid(origin_lon=116.55, origin_lat=40.15, size_m=1000.0)
    >>> grid.cell_of(116.56, 40.16)
    'r001c000'
    >>> grid.cell_of(*grid.center_of("r012c034"))
    'r012c034'
    >>> grid.neighbours("r001c001")
    ['r000c000', 'r000c001', 'r000c002', 'r001c000', 'r001c002', 'r002c000', 'r002c001', 'r002c002']
    """

    origin_lon: float
    origin_lat: float
    size_m: float

    @cached_property
    def _metres_per_degree_lon(self) -> float:
        return METRES_PER_DEGREE * math.cos(math.radians(self.origin_lat))

    def to_metres(self, lon: float, lat: float) -> tuple[float, float]:
        """Return ``(x, y)``, metres east and north of the origin."""
        return (
            (lon - self.origin_lon) * self._metres_per_degree_lon,
            (lat - self.origin_lat) * METRES_PER_DEGREE,
        )

    def from_metres(self, x: float, y: float) -> tuple[float, float]:
        """Return ``(lon, lat)`` of the point ``x`` m east, ``y`` m north of the origin."""
        return (
            self.origin_lon + x / self._metres_per_degree_lon,
            self.origin_lat + y / METRES_PER_DEGREE,
        )

    def cell_of(self, lon: float, lat: float) -> str:
        """Return the id of the cell containing ``(lon, lat)``.

        Raises
        ------
        ValueError
            If the point lies south or west of the origin (or is not finite).
        """
        x = (lon - self.origin_lon) * self._metres_per_degree_lon
        y = (lat - self.origin_lat) * METRES_PER_DEGREE
        if not (0.0 <= x < math.inf and 0.0 <= y < math.inf):
            raise ValueError(
                f"point (lon={lon!r}, lat={lat!r}) has no cell: cells exist only "
                f"north-east of the grid origin (lon={self.origin_lon}, "
                f"lat={self.origin_lat})"
            )
        return f"r{int(y // self.size_m):03d}c{int(x // self.size_m):03d}"

    def row_col(self, cell_id: str) -> tuple[int, int]:
        """Return ``(row, col)`` of a cell id.

        Raises
        ------
        ValueError
            If ``cell_id`` is not of the form ``r012c034``.
        """
        match = _CELL_ID.fullmatch(cell_id) if isinstance(cell_id, str) else None
        if match is None:
            raise ValueError(
                f"cell_id={cell_id!r} is malformed; expected 'r<row>c<col>' with "
                "at least three digits each, e.g. 'r012c034'"
            )
        return int(match.group(1)), int(match.group(2))

    def center_of(self, cell_id: str) -> tuple[float, float]:
        """Return ``(lon, lat)`` of the centre of a cell.

        Raises
        ------
        ValueError
            If ``cell_id`` is malformed.
        """
        row, col = self.row_col(cell_id)
        return self.from_metres((col + 0.5) * self.size_m, (row + 0.5) * self.size_m)

    def bounds_m(self, cell_id: str) -> tuple[float, float, float, float]:
        """Return ``(x_min, y_min, x_max, y_max)`` of a cell in projected metres."""
        row, col = self.row_col(cell_id)
        s = self.size_m
        return col * s, row * s, (col + 1) * s, (row + 1) * s

    def neighbours(self, cell_id: str, radius: int = 1) -> list[str]:
        """Return the cells within ``radius`` rows and columns, excluding the cell.

        There are ``(2·radius + 1)² − 1`` of them, fewer along the south and
        west edges of the grid where rows or columns would be negative.  The
        list is sorted.

        Raises
        ------
        ValueError
            If ``cell_id`` is malformed or ``radius`` is negative.
        """
        if not isinstance(radius, int) or radius < 0:
            raise ValueError(f"radius={radius!r} must be an integer >= 0")
        row, col = self.row_col(cell_id)
        return sorted(
            f"r{r:03d}c{c:03d}"
            for r in range(max(row - radius, 0), row + radius + 1)
            for c in range(max(col - radius, 0), col + radius + 1)
            if (r, c) != (row, col)
        )
