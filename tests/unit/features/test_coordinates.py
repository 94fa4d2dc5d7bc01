"""Tests for features.coordinates: to_wgs84, input validation, re-exports.

The datum transforms are tested in ``test_gcj02.py`` and ``test_bd09.py``
against the published reference pairs of ``datum_reference.py``.
"""

import re

import pytest

from features import bd09, coordinates, gcj02
from features.bd09 import bd09_to_gcj02, bd09_to_wgs84, gcj02_to_bd09, wgs84_to_bd09
from features.coordinates import CRS, to_wgs84
from features.gcj02 import gcj02_to_wgs84, out_of_china, wgs84_to_gcj02

from .datum_reference import COORDTRANSFORM_IN, COORDTRANSFORM_WGS_TO_GCJ, GCOORD_IN


def test_crs_constant():
    assert CRS == ("WGS84", "GCJ02", "BD09")


# --------------------------------------------------------------------------
# to_wgs84
# --------------------------------------------------------------------------


def test_to_wgs84_wgs84_is_identity():
    assert to_wgs84(116.8, 40.4, "WGS84") == (116.8, 40.4)


def test_to_wgs84_gcj02():
    lon, lat = to_wgs84(*COORDTRANSFORM_WGS_TO_GCJ, crs="GCJ02")
    assert lon == pytest.approx(COORDTRANSFORM_IN[0], abs=1e-9)
    assert lat == pytest.approx(COORDTRANSFORM_IN[1], abs=1e-9)


def test_to_wgs84_bd09_matches_gcoord():
    lon, lat = to_wgs84(*GCOORD_IN, crs="BD09")
    assert lon == pytest.approx(122.98762210, abs=1e-6)
    assert lat == pytest.approx(44.99171540, abs=1e-6)


@pytest.mark.parametrize("crs", ["XYZ", "gcj02", "WGS-84", "", None])
def test_to_wgs84_rejects_unknown_crs(crs):
    expected = f"crs={crs!r} provided, but is not one of: 'WGS84', 'GCJ02', 'BD09'"
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        to_wgs84(116.8, 40.4, crs)


# --------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------

ALL_FUNCS = [
    wgs84_to_gcj02,
    gcj02_to_wgs84,
    gcj02_to_bd09,
    bd09_to_gcj02,
    wgs84_to_bd09,
    bd09_to_wgs84,
    out_of_china,
]


@pytest.mark.parametrize("func", ALL_FUNCS)
@pytest.mark.parametrize("lon", [180.5, -181.0, float("nan"), float("inf")])
def test_rejects_lon_out_of_range(func, lon):
    with pytest.raises(
        ValueError,
        match=rf"^lon={re.escape(repr(lon))} provided, but must be within "
        r"\[-180, 180\] degrees$",
    ):
        func(lon, 40.0)


@pytest.mark.parametrize("func", ALL_FUNCS)
@pytest.mark.parametrize("lat", [90.0001, -91.0, float("nan")])
def test_rejects_lat_out_of_range(func, lat):
    with pytest.raises(
        ValueError,
        match=rf"^lat={re.escape(repr(lat))} provided, but must be within "
        r"\[-90, 90\] degrees$",
    ):
        func(116.8, lat)


def test_to_wgs84_validates_range_for_every_crs():
    for crs in CRS:
        with pytest.raises(ValueError, match=r"^lat=95\.0 provided"):
            to_wgs84(116.8, 95, crs)


@pytest.mark.parametrize("bad", ["116.8", None, True])
def test_rejects_non_numbers(bad):
    with pytest.raises(
        TypeError,
        match=rf"^lon={re.escape(repr(bad))} provided, "
        r"but must be a real number",
    ):
        wgs84_to_gcj02(bad, 40.0)


def test_accepts_ints_and_returns_floats():
    lon, lat = wgs84_to_gcj02(123, 45)
    assert isinstance(lon, float) and isinstance(lat, float)
    assert to_wgs84(10, 20, "WGS84") == (10.0, 20.0)


# --------------------------------------------------------------------------
# Names callers import from features.coordinates
# --------------------------------------------------------------------------

HOMES = {
    "CRS": coordinates,
    "out_of_china": gcj02,
    "wgs84_to_gcj02": gcj02,
    "gcj02_to_wgs84": gcj02,
    "gcj02_to_bd09": bd09,
    "bd09_to_gcj02": bd09,
    "wgs84_to_bd09": bd09,
    "bd09_to_wgs84": bd09,
    "to_wgs84": coordinates,
}


def test_all_lists_exactly_the_re_exported_names():
    assert sorted(coordinates.__all__) == sorted(HOMES)


@pytest.mark.parametrize("name", sorted(HOMES))
def test_each_name_is_the_object_of_its_home_module(name):
    assert getattr(coordinates, name) is getattr(HOMES[name], name)
