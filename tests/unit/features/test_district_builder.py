"""Tests for features.district_builder (and the sites it places).

Tests marked ``shared_data`` use the ``town_rows`` and ``miyun`` fixtures of
``conftest.py``, read from ``shared/data/miyun_towns.csv``; they skip when it
is missing.
"""

import pytest

from features.district_builder import build_district

from .miyun_reference import MIYUN_ARGS, haversine_m


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
            distance = haversine_m(town.lon, town.lat, v.lon, v.lat)
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
