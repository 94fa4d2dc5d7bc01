"""Tests for features.cell_grid."""

import pytest

from features.cell_grid import CellGrid

from .miyun_reference import COS_ORIGIN, M_PER_DEG


@pytest.fixture
def grid():
    return CellGrid(origin_lon=116.55, origin_lat=40.15, size_m=1000.0)


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
