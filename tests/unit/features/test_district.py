"""Tests for features.district: the jurisdiction lookup and the record lookups.

Tests marked ``shared_data`` use the ``miyun`` district of ``conftest.py``,
built from ``shared/data/miyun_towns.csv``; they skip when it is missing.
"""

import math
import random

import pytest

from features.district import Jurisdiction
from features.district_builder import build_district

from .miyun_reference import M_PER_DEG, haversine_m


def _one_village(max_distance_m=9000.0):
    rows = [{"name": "高岭镇", "kind": "镇", "approx_lat": "40.58", "approx_lon": "117.0"}]
    return build_district(
        rows,
        code="110118",
        name="密云区",
        seed=3,
        villages_per_town=1,
        cell_size_m=1000,
        origin_lon=116.55,
        origin_lat=40.15,
        max_village_distance_m=max_distance_m,
        n_cameras=1,
        n_lpr_sites=1,
        n_gas_stations=1,
    )


@pytest.mark.shared_data
def test_locate_each_village_centre_returns_that_village(miyun):
    for village in miyun.villages:
        town = miyun.town(village.town_code)
        assert miyun.locate(village.lon, village.lat) == Jurisdiction(
            "110118", "密云区", town.code, town.name, village.code, village.name
        )


@pytest.mark.shared_data
def test_locate_shanghai_is_outside(miyun):
    assert miyun.locate(121.47, 31.23) is None


@pytest.mark.shared_data
@pytest.mark.parametrize("lon, lat", [(float("nan"), 40.4), (116.8, float("inf")), (200.0, 40.0)])
def test_locate_non_coordinates_is_outside(miyun, lon, lat):
    assert miyun.locate(lon, lat) is None


def test_locate_reach_is_max_village_distance():
    district = _one_village(max_distance_m=9000.0)
    village = district.villages[0]
    north_8km = village.lat + 8000 / M_PER_DEG
    north_9_5km = village.lat + 9500 / M_PER_DEG
    east_8_9km = village.lon + 8900 / (M_PER_DEG * math.cos(math.radians(village.lat)))
    assert district.locate(village.lon, north_8km).village_code == village.code
    assert district.locate(east_8_9km, village.lat).village_code == village.code
    assert district.locate(village.lon, north_9_5km) is None


@pytest.mark.shared_data
def test_locate_agrees_with_brute_force_haversine(miyun):
    rng = random.Random(11)
    checked = 0
    for _ in range(3000):
        lon, lat = rng.uniform(116.6, 117.5), rng.uniform(40.2, 40.8)
        distances = sorted((haversine_m(lon, lat, v.lon, v.lat), v.code) for v in miyun.villages)
        (d1, nearest), (d2, _) = distances[0], distances[1]
        # Skip near-ties and points on the edge of reach, where the two
        # distance formulas (differing by centimetres) may disagree.
        if d2 - d1 < 1.0 or abs(d1 - 9000) < 1.0:
            continue
        got = miyun.locate(lon, lat)
        assert (got.village_code if got else None) == (nearest if d1 <= 9000 else None)
        checked += 1
    assert checked > 2900


@pytest.mark.shared_data
def test_lookups_name_the_bad_code(miyun):
    with pytest.raises(
        ValueError,
        match=r"town code='110118099' is not a town of 密云区; "
        r"allowed: 110118001, 110118002",
    ):
        miyun.town("110118099")
    with pytest.raises(ValueError, match=r"village code='x' is not a village of 密云区"):
        miyun.village("x")
    with pytest.raises(ValueError, match=r"site kind='bus_stop' is not one of: camera, lpr"):
        miyun.sites_of_kind("bus_stop")
