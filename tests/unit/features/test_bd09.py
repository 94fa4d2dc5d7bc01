"""Tests for features.bd09 against published reference pairs (see datum_reference.py)."""

import pytest

from features.bd09 import bd09_to_gcj02, bd09_to_wgs84, gcj02_to_bd09, wgs84_to_bd09

from .datum_reference import (
    COORDTRANSFORM_BD_TO_GCJ,
    COORDTRANSFORM_GCJ_TO_BD,
    COORDTRANSFORM_IN,
    GCOORD_IN,
    miyun_grid,
)


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
    for lon, lat in miyun_grid():
        back = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
        worst = max(worst, abs(back[0] - lon), abs(back[1] - lat))
    assert worst < 2e-6


def test_bd09_offset_is_roughly_the_known_shift():
    # BD09 sits about 0.0065 deg east and 0.006 deg north of GCJ02.
    lon, lat = gcj02_to_bd09(116.8, 40.4)
    assert lon - 116.8 == pytest.approx(0.0065, abs=5e-4)
    assert lat - 40.4 == pytest.approx(0.006, abs=5e-4)
