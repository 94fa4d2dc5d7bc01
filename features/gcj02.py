"""WGS84 <-> GCJ-02, the obfuscated datum of published maps in mainland China.

GCJ-02 (the "Mars" datum of AMap/Gaode, Tencent and Google China) is WGS84
plus a nonlinear, position-dependent offset of a few hundred metres.  The
offset is only applied inside a rough bounding box of mainland China (see
:func:`out_of_china`); points outside it are returned unchanged.

The WGS84 -> GCJ02 formula is the de-facto public one (Krasovsky 1940
ellipsoid constants).  GCJ02 -> WGS84 has no closed form;
:func:`gcj02_to_wgs84` inverts the forward transform by fixed-point
iteration to better than 1e-9 degrees, instead of the common one-step
approximation which can be off by a metre or more.

All functions take and return ``(lon, lat)`` in decimal degrees, in that
order.
"""

from __future__ import annotations

import math
from numbers import Real

__all__ = [
    "check_lon_lat",
    "out_of_china",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
]

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323

# Rough bounding box of mainland China used by the GCJ-02 algorithm.
_CHINA_LON_MIN, _CHINA_LON_MAX = 72.004, 137.8347
_CHINA_LAT_MIN, _CHINA_LAT_MAX = 0.8293, 55.8271

# Fixed-point inversion of GCJ-02: stop when the forward residual is below
# this (degrees); the transform is a contraction with a tiny Lipschitz
# constant, so a handful of iterations suffice.
_INVERSE_TOL = 1e-12
_INVERSE_MAX_ITER = 50


def check_lon_lat(lon, lat):
    """Validate a coordinate pair and return it as floats.

    Parameters
    ----------
    lon, lat : float
        Longitude in [-180, 180] and latitude in [-90, 90], decimal degrees;
        any real number type except bool.

    Returns
    -------
    tuple of float
        ``(lon, lat)``.

    Raises
    ------
    TypeError
        If ``lon`` or ``lat`` is not a real number.
    ValueError
        If ``lon`` or ``lat`` is out of range (or not finite).

    Examples
    --------
    >>> check_lon_lat(116, 40)
    (116.0, 40.0)
    """
    for name, value in (("lon", lon), ("lat", lat)):
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(
                f"{name}={value!r} provided, but must be a real number (decimal degrees)"
            )
    lon = float(lon)
    lat = float(lat)
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"lon={lon!r} provided, but must be within [-180, 180] degrees")
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"lat={lat!r} provided, but must be within [-90, 90] degrees")
    return lon, lat


def out_of_china(lon, lat):
    """Return True if a point lies outside the GCJ-02 bounding box.

    The box (lon 72.004..137.8347, lat 0.8293..55.8271) is the rough
    rectangle conventionally used to decide whether the GCJ-02 offset
    applies.  It is not the national border.

    Parameters
    ----------
    lon, lat : float
        Longitude and latitude in decimal degrees.

    Returns
    -------
    bool

    Examples
    --------
    >>> out_of_china(116.8, 40.4)
    False
    >>> out_of_china(2.35, 48.85)
    True
    """
    lon, lat = check_lon_lat(lon, lat)
    return _outside_box(lon, lat)


def _outside_box(lon: float, lat: float) -> bool:
    """:func:`out_of_china` of a pair already checked (the inverse's iterates are)."""
    return not (_CHINA_LON_MIN <= lon <= _CHINA_LON_MAX and _CHINA_LAT_MIN <= lat <= _CHINA_LAT_MAX)


def _gcj_offset(lon, lat):
    """GCJ-02 offset (dlon, dlat) in degrees at a WGS84 point."""
    x = lon - 105.0
    y = lat - 35.0
    # Shared periodic term of both components.
    wave = (20.0 * math.sin(6.0 * math.pi * x) + 20.0 * math.sin(2.0 * math.pi * x)) * 2.0 / 3.0
    raw_lat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * math.sqrt(abs(x))
        + wave
        + (20.0 * math.sin(math.pi * y) + 40.0 * math.sin(math.pi * y / 3.0)) * 2.0 / 3.0
        + (160.0 * math.sin(math.pi * y / 12.0) + 320.0 * math.sin(math.pi * y / 30.0)) * 2.0 / 3.0
    )
    raw_lon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * math.sqrt(abs(x))
        + wave
        + (20.0 * math.sin(math.pi * x) + 40.0 * math.sin(math.pi * x / 3.0)) * 2.0 / 3.0
        + (150.0 * math.sin(math.pi * x / 12.0) + 300.0 * math.sin(math.pi * x / 30.0)) * 2.0 / 3.0
    )
    # The raw values are metres-like; scale by the radii of curvature of the
    # Krasovsky ellipsoid to obtain degrees.
    phi = math.radians(lat)
    w2 = 1.0 - _EE * math.sin(phi) ** 2
    w = math.sqrt(w2)
    meridian_radius = _A * (1.0 - _EE) / (w2 * w)
    parallel_radius = _A / w * math.cos(phi)
    dlat = raw_lat * 180.0 / (meridian_radius * math.pi)
    dlon = raw_lon * 180.0 / (parallel_radius * math.pi)
    return dlon, dlat


def _wgs84_to_gcj02(lon, lat):
    if _outside_box(lon, lat):
        return lon, lat
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def wgs84_to_gcj02(lon, lat):
    """Convert WGS84 coordinates to GCJ-02.

    Parameters
    ----------
    lon, lat : float
        WGS84 longitude in [-180, 180] and latitude in [-90, 90], degrees.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` in GCJ-02.  Points outside the mainland-China
        bounding box are returned unchanged.

    Raises
    ------
    ValueError
        If ``lon`` or ``lat`` is out of range.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
    >>> round(lon, 9), round(lat, 9)
    (116.410244499, 39.916404282)
    >>> wgs84_to_gcj02(2.35, 48.85)
    (2.35, 48.85)
    """
    lon, lat = check_lon_lat(lon, lat)
    return _wgs84_to_gcj02(lon, lat)


def gcj02_to_wgs84(lon, lat):
    """Convert GCJ-02 coordinates to WGS84 (exact inverse).

    Solves ``wgs84_to_gcj02(w) == (lon, lat)`` by fixed-point iteration
    ``w <- w + (g - wgs84_to_gcj02(w))`` until the residual is below
    1e-12 degrees, so the result round-trips to well under 1e-9 degrees.

    Parameters
    ----------
    lon, lat : float
        GCJ-02 longitude in [-180, 180] and latitude in [-90, 90], degrees.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` in WGS84.  Points outside the mainland-China
        bounding box are returned unchanged.

    Raises
    ------
    ValueError
        If ``lon`` or ``lat`` is out of range.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(116.41024449916938, 39.91640428150164)
    >>> round(lon, 9), round(lat, 9)
    (116.404, 39.915)
    """
    lon, lat = check_lon_lat(lon, lat)
    if _outside_box(lon, lat):
        return lon, lat
    # Start from the one-step approximation, then refine.
    dlon, dlat = _gcj_offset(lon, lat)
    w_lon, w_lat = lon - dlon, lat - dlat
    for _ in range(_INVERSE_MAX_ITER):
        g_lon, g_lat = _wgs84_to_gcj02(w_lon, w_lat)
        r_lon, r_lat = lon - g_lon, lat - g_lat
        w_lon += r_lon
        w_lat += r_lat
        if abs(r_lon) < _INVERSE_TOL and abs(r_lat) < _INVERSE_TOL:
            break
    return w_lon, w_lat
