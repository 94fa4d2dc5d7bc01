"""Conversions between the map coordinate systems used in mainland China.

Three geographic coordinate systems are in everyday use:

``WGS84``
    The GPS / international datum (EPSG:4326).
``GCJ02``
    The obfuscated "Mars" datum mandated for published maps in mainland
    China (AMap/Gaode, Tencent, Google China).  It is WGS84 plus a
    nonlinear, position-dependent offset of a few hundred metres.
``BD09``
    Baidu's datum: GCJ02 with an additional rotation/scale perturbation.

All functions take and return ``(lon, lat)`` in decimal degrees, in that
order.  The GCJ02 offset is only applied inside a rough bounding box of
mainland China (see :func:`out_of_china`); points outside it are returned
unchanged by the WGS84 <-> GCJ02 conversions.

The WGS84 -> GCJ02 and GCJ02 <-> BD09 formulas are the de-facto public
ones (Krasovsky 1940 ellipsoid constants).  GCJ02 -> WGS84 has no closed
form; :func:`gcj02_to_wgs84` inverts the forward transform by fixed-point
iteration to better than 1e-9 degrees, instead of the common one-step
approximation which can be off by a metre or more.

This module converts any of them to WGS84 (:func:`to_wgs84`) and gathers the
public names of the datum modules: :mod:`features.gcj02` and
:mod:`features.bd09`.
"""

from __future__ import annotations

from features.bd09 import bd09_to_gcj02, bd09_to_wgs84, gcj02_to_bd09, wgs84_to_bd09
from features.gcj02 import check_lon_lat, gcj02_to_wgs84, out_of_china, wgs84_to_gcj02

__all__ = [
    "CRS",
    "out_of_china",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "to_wgs84",
]

#: Coordinate reference systems understood by :func:`to_wgs84`.
CRS = ("WGS84", "GCJ02", "BD09")


def to_wgs84(lon, lat, crs):
    """Convert a point given in any of :data:`CRS` to WGS84.

    Parameters
    ----------
    lon, lat : float
        Longitude in [-180, 180] and latitude in [-90, 90], degrees.
    crs : {'WGS84', 'GCJ02', 'BD09'}
        Coordinate system of the input point (exact spelling).

    Returns
    -------
    tuple of float
        ``(lon, lat)`` in WGS84.

    Raises
    ------
    ValueError
        If ``crs`` is not one of :data:`CRS`, or the point is out of range.

    Examples
    --------
    >>> to_wgs84(116.8, 40.4, "WGS84")
    (116.8, 40.4)
    >>> lon, lat = to_wgs84(116.41024449916938, 39.91640428150164, "GCJ02")
    >>> round(lon, 9), round(lat, 9)
    (116.404, 39.915)
    >>> to_wgs84(116.8, 40.4, "XYZ")
    Traceback (most recent call last):
    ...
    ValueError: crs='XYZ' provided, but is not one of: 'WGS84', 'GCJ02', 'BD09'
    """
    if crs not in CRS:
        allowed = ", ".join(repr(c) for c in CRS)
        raise ValueError(f"crs={crs!r} provided, but is not one of: {allowed}")
    if crs == "GCJ02":
        return gcj02_to_wgs84(lon, lat)
    if crs == "BD09":
        return bd09_to_wgs84(lon, lat)
    return check_lon_lat(lon, lat)
