"""GCJ-02 <-> BD-09, Baidu's datum, and WGS84 <-> BD-09 through GCJ-02.

BD-09 is GCJ-02 with an additional rotation/scale perturbation.  The
GCJ02 <-> BD09 formulas are the de-facto public ones (``x_pi = pi * 3000 /
180``); they apply everywhere, with no bounding-box check.  The closed-form
BD09 -> GCJ02 inverse round-trips to within about 2e-6 degrees (~0.2 m).

All functions take and return ``(lon, lat)`` in decimal degrees, in that
order.
"""

from __future__ import annotations

import math

from features.gcj02 import check_lon_lat, gcj02_to_wgs84, wgs84_to_gcj02

__all__ = [
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
]

# Baidu's angular factor.
_X_PI = math.pi * 3000.0 / 180.0


def _gcj02_to_bd09(lon, lat):
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _bd09_to_gcj02(lon, lat):
    x = lon - 0.0065
    y = lat - 0.006
    z = math.hypot(x, y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def gcj02_to_bd09(lon, lat):
    """Convert GCJ-02 coordinates to Baidu BD-09.

    Uses the public Baidu formula with ``x_pi = pi * 3000 / 180``.  The
    transform is applied everywhere (no bounding-box check).

    Parameters
    ----------
    lon, lat : float
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` in BD-09.

    Raises
    ------
    ValueError
        If ``lon`` or ``lat`` is out of range.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> round(lon, 9), round(lat, 9)
    (116.410369494, 39.921336994)
    """
    lon, lat = check_lon_lat(lon, lat)
    return _gcj02_to_bd09(lon, lat)


def bd09_to_gcj02(lon, lat):
    """Convert Baidu BD-09 coordinates to GCJ-02.

    Uses the public closed-form Baidu inverse.  It is the customary
    counterpart of :func:`gcj02_to_bd09`; it is not an exact inverse, but
    round-trips to within about 2e-6 degrees (~0.2 m).

    Parameters
    ----------
    lon, lat : float
        BD-09 longitude and latitude, degrees.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` in GCJ-02.

    Raises
    ------
    ValueError
        If ``lon`` or ``lat`` is out of range.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(116.404, 39.915)
    >>> round(lon, 9), round(lat, 9)
    (116.397627291, 39.90865674)
    """
    lon, lat = check_lon_lat(lon, lat)
    return _bd09_to_gcj02(lon, lat)


def wgs84_to_bd09(lon, lat):
    """Convert WGS84 coordinates to Baidu BD-09 (via GCJ-02).

    Parameters
    ----------
    lon, lat : float
        WGS84 longitude and latitude, degrees.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` in BD-09.

    Raises
    ------
    ValueError
        If ``lon`` or ``lat`` is out of range.

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(123.0, 45.0)
    >>> round(lon, 6), round(lat, 6)
    (123.012449, 45.008329)
    """
    lon, lat = wgs84_to_gcj02(lon, lat)
    return _gcj02_to_bd09(lon, lat)


def bd09_to_wgs84(lon, lat):
    """Convert Baidu BD-09 coordinates to WGS84 (via GCJ-02).

    The GCJ-02 -> WGS84 leg is the exact iterative inverse.

    Parameters
    ----------
    lon, lat : float
        BD-09 longitude and latitude, degrees.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` in WGS84.

    Raises
    ------
    ValueError
        If ``lon`` or ``lat`` is out of range.

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(123.0, 45.0)
    >>> round(lon, 6), round(lat, 6)
    (122.987622, 44.991715)
    """
    lon, lat = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(lon, lat)
