"""The local equirectangular projection shared by the grid and the district.

Over a district, a point is projected to metres with x = Δlon·R·cos φ and
y = Δlat·R on a sphere of radius R = 6 371 008.8 m (the IUGG mean Earth
radius); the distortion is well under one percent at that scale.  The cell
grid, the nearest-village lookup and the synthetic district builder all use
these constants, so they agree to the last bit.
"""

from __future__ import annotations

import math

__all__ = [
    "EARTH_RADIUS_M",
    "METRES_PER_DEGREE",
    "metres_per_degree_lon",
    "offset_point",
]

#: Mean Earth radius (IUGG), metres; used by the local projections below.
EARTH_RADIUS_M = 6_371_008.8

#: Metres per degree of latitude (and of longitude on the equator).
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180.0


def metres_per_degree_lon(lat: float) -> float:
    """Return the metres per degree of longitude at latitude ``lat``.

    Parameters
    ----------
    lat : float
        Latitude, decimal degrees.

    Returns
    -------
    float
        ``METRES_PER_DEGREE · cos(lat)``.

    Examples
    --------
    >>> round(metres_per_degree_lon(60.0), 3)
    55597.54
    """
    return METRES_PER_DEGREE * math.cos(math.radians(lat))


def offset_point(lon: float, lat: float, distance_m: float, bearing: float) -> tuple[float, float]:
    """Return the point ``distance_m`` from ``(lon, lat)``, rounded to 1e-6 degrees.

    Parameters
    ----------
    lon, lat : float
        Start point, WGS-84 decimal degrees.
    distance_m : float
        Distance in metres on the local projection around ``lat``.
    bearing : float
        Direction in radians from east, anticlockwise.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` of the end point, each rounded to 6 decimals.

    Examples
    --------
    >>> offset_point(116.8, 40.4, 0.0, 1.0)
    (116.8, 40.4)
    """
    return (
        round(lon + distance_m * math.cos(bearing) / metres_per_degree_lon(lat), 6),
        round(lat + distance_m * math.sin(bearing) / METRES_PER_DEGREE, 6),
    )
