"""Tests for features.gcj02 against published reference pairs (see datum_reference.py)."""

import math

import pytest

from features.coordinates import to_wgs84
from features.gcj02 import gcj02_to_wgs84, out_of_china, wgs84_to_gcj02

from .datum_reference import (
    COORDTRANSFORM_GCJ_TO_WGS_ONE_STEP,
    COORDTRANSFORM_IN,
    COORDTRANSFORM_WGS_TO_GCJ,
    EVILTRANSFORM_PAIRS,
    GCOORD_IN,
    miyun_grid,
)

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


def test_round_trip_wgs_gcj_wgs_over_miyun_grid():
    worst = 0.0
    for lon, lat in miyun_grid():
        back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
        worst = max(worst, abs(back[0] - lon), abs(back[1] - lat))
    assert worst < 1e-9


def test_round_trip_gcj_wgs_gcj_over_miyun_grid():
    worst = 0.0
    for lon, lat in miyun_grid():
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
