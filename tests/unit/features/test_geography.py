"""Tests for features.geography."""

import csv
import math
import random
from pathlib import Path

import pytest

from features.geography import CellGrid, Jurisdiction, build_district

TOWNS_CSV = Path(__file__).resolve().parents[4] / "shared" / "data" / "miyun_towns.csv"

# Metres per degree of latitude on the sphere of radius 6 371 008.8 m, and
# the cosine of the grid origin latitude, worked out by hand:
#   6371008.8 * pi / 180 = 111195.0802...;  cos(40.15 deg) = 0.7643590...
M_PER_DEG = 111195.08023353292
COS_ORIGIN = 0.7643590058228538

MIYUN_ARGS = dict(
    code="110118",
    name="密云区",
    seed=20180601,
    villages_per_town=6,
    cell_size_m=1000,
    origin_lon=116.55,
    origin_lat=40.15,
    max_village_distance_m=9000,
)


@pytest.fixture(scope="module")
def town_rows():
    if not TOWNS_CSV.exists():
        pytest.skip(f"shared reference data not found at {TOWNS_CSV}")
    with TOWNS_CSV.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def miyun(town_rows):
    return build_district(town_rows, **MIYUN_ARGS)


@pytest.fixture
def grid():
    return CellGrid(origin_lon=116.55, origin_lat=40.15, size_m=1000.0)


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


def _haversine_m(lon1, lat1, lon2, lat2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(a))


# ---------------------------------------------------------------- cells


def test_cell_of_hand_computed_points(grid):
    # (116.9, 40.4): y = 0.25 * 111195.08 = 27798.8 m -> row 27;
    #                x = 0.35 * 111195.08 * 0.764359 = 29747.5 m -> col 29.
    assert grid.cell_of(116.9, 40.4) == "r027c029"
    # 1500 m east and 2500 m north of the origin -> row 2, col 1.
    lon = 116.55 + 1500 / (M_PER_DEG * COS_ORIGIN)
    lat = 40.15 + 2500 / M_PER_DEG
    assert grid.cell_of(lon, lat) == "r002c001"
    # Just inside the south-west corner.
    assert grid.cell_of(116.55, 40.15) == "r000c000"
    # 999 m and 1001 m north straddle the first row boundary.
    assert grid.cell_of(116.55, 40.15 + 999 / M_PER_DEG) == "r000c000"
    assert grid.cell_of(116.55, 40.15 + 1001 / M_PER_DEG) == "r001c000"


@pytest.mark.parametrize("lon, lat", [(116.54, 40.2), (116.6, 40.14), (121.47, 31.23)])
def test_cell_of_refuses_points_south_or_west_of_origin(grid, lon, lat):
    with pytest.raises(ValueError, match=rf"point \(lon={lon}, lat={lat}\) has no cell"):
        grid.cell_of(lon, lat)


def test_center_of_is_half_a_cell_from_the_corner(grid):
    lon, lat = grid.center_of("r000c000")
    assert lon == pytest.approx(116.55 + 500 / (M_PER_DEG * COS_ORIGIN), abs=1e-12)
    assert lat == pytest.approx(40.15 + 500 / M_PER_DEG, abs=1e-12)
    lon, lat = grid.center_of("r027c029")
    assert lon == pytest.approx(116.55 + 29500 / (M_PER_DEG * COS_ORIGIN), abs=1e-12)
    assert lat == pytest.approx(40.15 + 27500 / M_PER_DEG, abs=1e-12)


@pytest.mark.parametrize("cell_id", ["r000c000", "r012c034", "r099c007", "r1000c012"])
def test_center_of_round_trips_through_cell_of(grid, cell_id):
    assert grid.cell_of(*grid.center_of(cell_id)) == cell_id


@pytest.mark.parametrize("bad", ["r1c1", "r012c34", "c012r034", "R012C034", "r012c034 ", "", 12])
def test_center_of_names_a_malformed_id(grid, bad):
    with pytest.raises(ValueError, match=rf"cell_id={bad!r} is malformed"):
        grid.center_of(bad)


def test_neighbours_radius_one(grid):
    assert grid.neighbours("r010c020") == [
        "r009c019",
        "r009c020",
        "r009c021",
        "r010c019",
        "r010c021",
        "r011c019",
        "r011c020",
        "r011c021",
    ]


def test_neighbours_radius_two_has_24_cells(grid):
    got = grid.neighbours("r010c020", radius=2)
    expected = {f"r{r:03d}c{c:03d}" for r in range(8, 13) for c in range(18, 23)} - {"r010c020"}
    assert len(got) == 24
    assert set(got) == expected
    assert got == sorted(got)


def test_neighbours_stop_at_the_grid_edge(grid):
    assert grid.neighbours("r000c000") == ["r000c001", "r001c000", "r001c001"]


def test_neighbours_refuse_negative_radius(grid):
    with pytest.raises(ValueError, match=r"radius=-1 must be an integer >= 0"):
        grid.neighbours("r001c001", radius=-1)


# ---------------------------------------------------------------- locate


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
        distances = sorted((_haversine_m(lon, lat, v.lon, v.lat), v.code) for v in miyun.villages)
        (d1, nearest), (d2, _) = distances[0], distances[1]
        # Skip near-ties and points on the edge of reach, where the two
        # distance formulas (differing by centimetres) may disagree.
        if d2 - d1 < 1.0 or abs(d1 - 9000) < 1.0:
            continue
        got = miyun.locate(lon, lat)
        assert (got.village_code if got else None) == (nearest if d1 <= 9000 else None)
        checked += 1
    assert checked > 2900


# ---------------------------------------------------------------- district


@pytest.mark.shared_data
def test_build_district_is_deterministic(town_rows, miyun):
    assert build_district(town_rows, **MIYUN_ARGS) == miyun
    other = build_district(town_rows, **{**MIYUN_ARGS, "seed": 1})
    assert other.towns == miyun.towns
    assert other.villages != miyun.villages
    assert other.sites != miyun.sites


@pytest.mark.shared_data
def test_towns_follow_the_csv(town_rows, miyun):
    assert len(miyun.towns) == 20
    assert [t.name for t in miyun.towns] == [row["name"] for row in town_rows]
    assert [t.code for t in miyun.towns] == [f"110118{i:03d}" for i in range(1, 21)]
    assert miyun.towns[0].code == "110118001"
    assert (miyun.towns[6].name, miyun.towns[6].kind) == ("十里堡镇", "镇")
    assert (miyun.towns[6].lon, miyun.towns[6].lat) == (116.840, 40.330)
    assert miyun.town("110118015").name == "古北口镇"


@pytest.mark.shared_data
def test_villages_codes_kinds_and_distances(miyun):
    assert len(miyun.villages) == 120
    for town in miyun.towns:
        villages = miyun.villages_of(town.code)
        assert [v.code for v in villages] == [f"{town.code}{j:03d}" for j in range(1, 7)]
        assert len({v.name for v in villages}) == 6
        for j, v in enumerate(villages):
            distance = _haversine_m(town.lon, town.lat, v.lon, v.lat)
            community = town.kind == "街道" or (town.kind == "地区" and j % 2 == 0)
            assert v.kind == ("社区" if community else "村")
            assert v.name.endswith(v.kind)
            low, high = (300, 1500) if community else (1000, 4000)
            assert low - 5 <= distance <= high + 5


@pytest.mark.shared_data
def test_site_counts(miyun):
    kinds = [s.kind for s in miyun.sites]
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "camera": 200,
        "lpr": 75,
        "gas_station": 39,
        "school": 22,
        "market": 20,
        "railway": 1,
        "reservoir_shore": 8,
    }
    assert len({s.site_id for s in miyun.sites}) == len(miyun.sites)
    assert [s.town_code for s in miyun.sites_of_kind("railway")] == ["110118015"]
    shore_towns = {miyun.town(s.town_code).name for s in miyun.sites_of_kind("reservoir_shore")}
    assert shore_towns == {"溪翁庄镇", "不老屯镇", "高岭镇", "太师屯镇"}
    assert all(2 <= s.lanes <= 4 for s in miyun.sites_of_kind("lpr"))
    assert all(s.lanes == 0 for s in miyun.sites if s.kind != "lpr")


@pytest.mark.shared_data
def test_sites_are_split_by_town_weight(miyun):
    # Weights 街道 2, 地区 1.5, 镇 1 sum to 22.5 over the 20 towns (2 街道,
    # 1 地区, 17 镇); largest remainders go first, ties to the earlier town.
    #   cameras 200: quotas 17.78 / 13.33 / 8.89 -> 17, 17, 13, then 9 each.
    #   LPR 75: quotas 6.67 / 5 / 3.33 -> 7, 7, 5; 4 for the first five 镇, 3 after.
    #   gas 39: quotas 3.47 / 2.6 / 1.73 -> 3, 3, 2; 2 for the first fourteen 镇, 1 after.
    def per_town(kind):
        codes = [s.town_code for s in miyun.sites_of_kind(kind)]
        return [codes.count(t.code) for t in miyun.towns]

    assert per_town("camera") == [17, 17, 13] + [9] * 17
    assert per_town("lpr") == [7, 7, 5] + [4] * 5 + [3] * 12
    assert per_town("gas_station") == [3, 3, 2] + [2] * 14 + [1] * 3


@pytest.mark.shared_data
def test_every_site_is_inside_the_district(miyun):
    assert [s.site_id for s in miyun.sites if miyun.locate(s.lon, s.lat) is None] == []


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


@pytest.mark.parametrize(
    "row, message",
    [
        ({"name": "甲镇", "kind": "镇", "approx_lat": "40.1"}, r"lacks approx_lon"),
        (
            {"name": "甲镇", "kind": "乡", "approx_lat": "40.1", "approx_lon": "116.9"},
            r"kind='乡' is not one of: 街道, 地区, 镇",
        ),
        (
            {"name": "甲镇", "kind": "镇", "approx_lat": "north", "approx_lon": "116.9"},
            r"approx_lat='north'",
        ),
    ],
)
def test_build_district_names_bad_rows(row, message):
    with pytest.raises(ValueError, match=message):
        build_district([row], **MIYUN_ARGS)


@pytest.mark.shared_data
def test_build_district_refuses_non_positive_sizes(town_rows):
    with pytest.raises(ValueError, match=r"cell_size_m=0 must be > 0"):
        build_district(town_rows, **{**MIYUN_ARGS, "cell_size_m": 0})
    with pytest.raises(ValueError, match=r"villages_per_town=0 must be an integer in 1..999"):
        build_district(town_rows, **{**MIYUN_ARGS, "villages_per_town": 0})
