import math

import pytest

from features.geography import CellGrid, District, Site
from features.sensitive_sites import sensitive_checkpoints
from pipelines.io.platform_state import load_district
from pipelines.settings import load_settings


def _district(*sites):
    return District("1", "d", (), (), tuple(sites), CellGrid(116.55, 40.15, 1000.0), 9000.0)


def test_a_checkpoint_is_sensitive_within_the_radius_of_a_sensitive_kind_only():
    grid = CellGrid(116.55, 40.15, 1000.0)
    school_lon, school_lat = grid.from_metres(5500.0, 5500.0)
    near_lon, near_lat = grid.from_metres(5500.0 + 800.0, 5500.0)
    far_lon, far_lat = grid.from_metres(5500.0 + 2500.0, 5500.0)
    gas_lon, gas_lat = grid.from_metres(5500.0 + 2400.0, 5500.0)
    found = sensitive_checkpoints(
        _district(
            Site("LPR-near", "lpr", "近卡口", near_lon, near_lat, "t", lanes=2),
            Site("LPR-far", "lpr", "远卡口", far_lon, far_lat, "t", lanes=2),
            Site("SCH-1", "school", "中心小学", school_lon, school_lat, "t"),
            Site("GAS-1", "gas_station", "加油站", gas_lon, gas_lat, "t"),
        ),
        ["school"],
        1000.0,
    )
    assert list(found) == ["LPR-near"]
    near = found["LPR-near"]
    assert (near.place_id, near.place_kind_label, near.site_name) == ("SCH-1", "学校", "近卡口")
    assert near.distance_m == pytest.approx(800.0, abs=1.0)
    assert near.cell_id == grid.cell_of(near_lon, near_lat)


def test_the_nearest_sensitive_place_names_the_checkpoint():
    grid = CellGrid(116.55, 40.15, 1000.0)
    at = grid.from_metres(5000.0, 5000.0)
    market = grid.from_metres(5300.0, 5000.0)
    school = grid.from_metres(5000.0, 5900.0)
    found = sensitive_checkpoints(
        _district(
            Site("LPR-1", "lpr", "卡口", *at, "t", lanes=2),
            Site("SCH-1", "school", "小学", *school, "t"),
            Site("MKT-1", "market", "农贸市场", *market, "t"),
        ),
        ["school", "market"],
        1000.0,
    )
    assert found["LPR-1"].place_name == "农贸市场"


def test_bad_kinds_and_radii_are_named():
    with pytest.raises(ValueError, match=r"\['temple'\] are not site kinds; allowed: camera"):
        sensitive_checkpoints(_district(), ["temple"], 1000)
    with pytest.raises(ValueError, match="radius_m=-5 must be a number > 0"):
        sensitive_checkpoints(_district(), ["school"], -5)
    with pytest.raises(ValueError, match="radius_m=nan"):
        sensitive_checkpoints(_district(), ["school"], math.nan)


def test_the_configured_district_has_sensitive_checkpoints_named_in_chinese():
    settings = load_settings()
    found = sensitive_checkpoints(
        load_district(settings), ["school", "railway", "reservoir_shore", "market"], 2000
    )
    lprs = load_district(settings).sites_of_kind("lpr")
    assert 0 < len(found) < len(lprs)
    assert all(c.town_name and c.village_name and c.distance_m <= 2000 for c in found.values())
    assert any(c.place_kind == "reservoir_shore" for c in found.values())
