"""Tests for features.coordinates.

Reference pairs come from other public implementations of the same de-facto
formulas; each is annotated with its source:

* [coordtransform] wandergis/coordtransform, ``test/app.js`` (the same
  numbers are asserted in hutool's ``CoordinateUtilTest``), input
  (116.404, 39.915), results printed to full double precision.
* [eviltransform] googollee/eviltransform, ``python/test.py`` /
  ``go/transform_test.go`` ``TESTS``: WGS84 -> GCJ02 pairs for Shanghai,
  Shenzhen and Beijing (given there as lat, lng; reordered to lon, lat).
* [gcoord] hujiulong/gcoord, ``test/unit/crs/{WGS84,GCJ02,BD09}.spec.ts``,
  input (123, 45), values given to 7-8 decimals.  gcoord's GCJ02 -> WGS84
  iterates only to a 1e-6 degree residual, so those comparisons use 1e-6.
"""

import math
import re

import pytest

from features.coordinates import (
    CRS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# --------------------------------------------------------------------------
# Published reference pairs
# --------------------------------------------------------------------------

# [coordtransform] test/app.js, input (116.404, 39.915).
COORDTRANSFORM_IN = (116.404, 39.915)
COORDTRANSFORM_WGS_TO_GCJ = (116.41024449916938, 39.91640428150164)
COORDTRANSFORM_GCJ_TO_BD = (116.41036949371029, 39.92133699351021)
COORDTRANSFORM_BD_TO_GCJ = (116.39762729119315, 39.90865673957631)
# coordtransform's gcj02towgs84 is the one-step approximation g - delta(g).
COORDTRANSFORM_GCJ_TO_WGS_ONE_STEP = (116.39775550083061, 39.91359571849836)

# [eviltransform] TESTS: (wgs lon, wgs lat, gcj lon, gcj lat).
EVILTRANSFORM_PAIRS = [
    pytest.param(121.5272106, 31.1774276, 121.531541859215, 31.17530398364597, id="shanghai"),
    pytest.param(113.912316, 22.543847, 113.9171764808363, 22.540796131694766, id="shenzhen"),
    pytest.param(116.377817, 39.911954, 116.38404722455657, 39.91334545536069, id="beijing"),
]

# [gcoord] input (123, 45).
GCOORD_IN = (123.0, 45.0)


def test_crs_constant():
    assert CRS == ("WGS84", "GCJ02", "BD09")


# --------------------------------------------------------------------------
# WGS84 <-> GCJ02
# --------------------------------------------------------------------------


def test_wgs84_to_gcj02_matches_coordtransform():
    lon, lat = wgs84_to_gcj02(*COORDTRANSFORM_IN)
    assert lon == pytest.approx(COORDTRANSFORM_WGS_TO_GCJ[0], abs=1e-12)
    assert lat == pytest.approx(COORDTRANSFORM_WGS_TO_GCJ[1], abs=1e-12)


@pytest.mark.parametrize("wlon, wlat, glon, glat", EVILTRANSFORM_PAIRS)
def test_wgs84_to_gcj02_matches_eviltransform(wlon, wlat, glon, glat):
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-12)
    assert lat == pytest.approx(glat, abs=1e-12)


@pytest.mark.parametrize("wlon, wlat, glon, glat", EVILTRANSFORM_PAIRS)
def test_gcj02_to_wgs84_exact_inverts_eviltransform_pairs(wlon, wlat, glon, glat):
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert lon == pytest.approx(wlon, abs=1e-9)
    assert lat == pytest.approx(wlat, abs=1e-9)


def test_gcj02_to_wgs84_exact_inverts_coordtransform_pair():
    lon, lat = gcj02_to_wgs84(*COORDTRANSFORM_WGS_TO_GCJ)
    assert lon == pytest.approx(COORDTRANSFORM_IN[0], abs=1e-9)
    assert lat == pytest.approx(COORDTRANSFORM_IN[1], abs=1e-9)


def test_gcj02_to_wgs84_beats_one_step_approximation():
    g = COORDTRANSFORM_IN
    exact = gcj02_to_wgs84(*g)
    approx = COORDTRANSFORM_GCJ_TO_WGS_ONE_STEP
    # Same neighbourhood as the published one-step value (~5e-7 deg apart)...
    assert exact[0] == pytest.approx(approx[0], abs=1e-6)
    assert exact[1] == pytest.approx(approx[1], abs=1e-6)
    # ...but only the exact inverse maps back onto the input.
    back_exact = wgs84_to_gcj02(*exact)
    back_approx = wgs84_to_gcj02(*approx)
    assert max(abs(back_exact[0] - g[0]), abs(back_exact[1] - g[1])) < 1e-9
    assert max(abs(back_approx[0] - g[0]), abs(back_approx[1] - g[1])) > 1e-7


def test_wgs84_to_gcj02_matches_gcoord():
    lon, lat = wgs84_to_gcj02(*GCOORD_IN)
    # Values truncated to 8 decimals in the source.
    assert lon == pytest.approx(123.00607541, abs=1e-8)
    assert lat == pytest.approx(45.00197815, abs=1e-8)


def test_gcj02_to_wgs84_matches_gcoord():
    lon, lat = gcj02_to_wgs84(*GCOORD_IN)
    assert lon == pytest.approx(122.99395597, abs=1e-6)
    assert lat == pytest.approx(44.99804071, abs=1e-6)


def _miyun_grid():
    # 21 x 21 points, 0.05 deg apart, centred on Miyun (116.8, 40.4).
    return [(116.3 + 0.05 * i, 39.9 + 0.05 * j) for i in range(21) for j in range(21)]


def test_round_trip_wgs_gcj_wgs_over_miyun_grid():
    worst = 0.0
    for lon, lat in _miyun_grid():
        back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
        worst = max(worst, abs(back[0] - lon), abs(back[1] - lat))
    assert worst < 1e-9


def test_round_trip_gcj_wgs_gcj_over_miyun_grid():
    worst = 0.0
    for lon, lat in _miyun_grid():
        back = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
        worst = max(worst, abs(back[0] - lon), abs(back[1] - lat))
    assert worst < 1e-9


def test_gcj02_offset_near_miyun_is_a_few_hundred_metres():
    lon, lat = wgs84_to_gcj02(116.8, 40.4)
    dx_m = (lon - 116.8) * 111_320 * math.cos(math.radians(40.4))
    dy_m = (lat - 40.4) * 110_574
    assert 100 < math.hypot(dx_m, dy_m) < 1000


# --------------------------------------------------------------------------
# Out-of-China passthrough and the bounding box
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lon, lat",
    [
        (2.3522, 48.8566),  # Paris
        (-74.006, 40.7128),  # New York
        (72.003, 30.0),  # just west of the box
        (137.8348, 40.0),  # just east of the box
        (110.0, 0.8292),  # just south of the box
        (110.0, 55.8272),  # just north of the box
        (180.0, 90.0),  # range limits are accepted
        (-180.0, -90.0),
    ],
)
def test_out_of_china_passthrough(lon, lat):
    assert out_of_china(lon, lat) is True
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)
    assert to_wgs84(lon, lat, "GCJ02") == (lon, lat)


@pytest.mark.parametrize("lon, lat", [(116.8, 40.4), (72.004, 0.8293), (137.8347, 55.8271)])
def test_inside_china_box(lon, lat):
    assert out_of_china(lon, lat) is False
    assert wgs84_to_gcj02(lon, lat) != (lon, lat)


# --------------------------------------------------------------------------
# BD09
# --------------------------------------------------------------------------


def test_gcj02_to_bd09_matches_coordtransform():
    lon, lat = gcj02_to_bd09(*COORDTRANSFORM_IN)
    assert lon == pytest.approx(COORDTRANSFORM_GCJ_TO_BD[0], abs=1e-12)
    assert lat == pytest.approx(COORDTRANSFORM_GCJ_TO_BD[1], abs=1e-12)


def test_bd09_to_gcj02_matches_coordtransform():
    lon, lat = bd09_to_gcj02(*COORDTRANSFORM_IN)
    assert lon == pytest.approx(COORDTRANSFORM_BD_TO_GCJ[0], abs=1e-12)
    assert lat == pytest.approx(COORDTRANSFORM_BD_TO_GCJ[1], abs=1e-12)


def test_gcj02_to_bd09_matches_gcoord():
    lon, lat = gcj02_to_bd09(*GCOORD_IN)
    assert lon == pytest.approx(123.00636499, abs=1e-8)
    assert lat == pytest.approx(45.00636899, abs=1e-8)


def test_bd09_to_gcj02_matches_gcoord():
    lon, lat = bd09_to_gcj02(*GCOORD_IN)
    assert lon == pytest.approx(122.99363304, abs=1e-8)
    assert lat == pytest.approx(44.99365430, abs=1e-8)


def test_wgs84_to_bd09_matches_gcoord():
    lon, lat = wgs84_to_bd09(*GCOORD_IN)
    assert lon == pytest.approx(123.0124491, abs=1e-7)
    assert lat == pytest.approx(45.0083293, abs=1e-7)


def test_bd09_to_wgs84_matches_gcoord():
    lon, lat = bd09_to_wgs84(*GCOORD_IN)
    assert lon == pytest.approx(122.98762210, abs=1e-6)
    assert lat == pytest.approx(44.99171540, abs=1e-6)


def test_bd09_round_trip_over_miyun_grid():
    # The closed-form Baidu inverse is approximate (documented ~2e-6 deg).
    worst = 0.0
    for lon, lat in _miyun_grid():
        back = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
        worst = max(worst, abs(back[0] - lon), abs(back[1] - lat))
    assert worst < 2e-6


def test_bd09_offset_is_roughly_the_known_shift():
    # BD09 sits about 0.0065 deg east and 0.006 deg north of GCJ02.
    lon, lat = gcj02_to_bd09(116.8, 40.4)
    assert lon - 116.8 == pytest.approx(0.0065, abs=5e-4)
    assert lat - 40.4 == pytest.approx(0.006, abs=5e-4)


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
