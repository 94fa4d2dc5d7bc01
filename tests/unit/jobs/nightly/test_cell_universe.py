import numpy as np
import pytest

from features.geography import CellGrid, build_district
from jobs.nightly.cell_universe import cell_places, queen_weights

GRID = CellGrid(116.55, 40.15, 1000.0)


def test_queen_weights_link_cells_within_one_row_and_column_only():
    cells = ["r001c001", "r000c000", "r002c002", "r003c003", "r001c003"]
    w = queen_weights(cells, GRID).toarray()
    expected = np.array(
        [
            [1, 1, 1, 0, 0],
            [1, 1, 0, 0, 0],
            [1, 0, 1, 1, 1],
            [0, 0, 1, 1, 0],
            [0, 0, 1, 0, 1],
        ]
    )
    np.testing.assert_array_equal(w, expected)
    np.testing.assert_array_equal(
        queen_weights(cells, GRID, self_weight=False).diagonal(), np.zeros(5)
    )
    assert queen_weights(cells, GRID, radius=2).toarray()[1, 2] == 1


@pytest.mark.parametrize(
    "cells, radius, message",
    [
        (["r001c001", "r001c001"], 1, "cell 'r001c001' appears twice"),
        (["x1"], 1, "cell_id='x1' is malformed"),
        (["r001c001"], -1, "radius=-1 must be an integer >= 0"),
    ],
)
def test_bad_cells_are_named(cells, radius, message):
    with pytest.raises(ValueError, match=message):
        queen_weights(cells, GRID, radius=radius)


def test_cell_places_give_the_town_of_each_cell_centre():
    rows = [{"name": "鼓楼街道", "kind": "街道", "approx_lat": "40.376", "approx_lon": "116.845"}]
    district = build_district(
        rows,
        code="110118",
        name="密云区",
        seed=1,
        villages_per_town=2,
        cell_size_m=1000,
        origin_lon=116.55,
        origin_lat=40.15,
        max_village_distance_m=2000,
        n_cameras=1,
        n_lpr_sites=1,
        n_gas_stations=1,
    )
    places = cell_places(district)
    assert places["cell_id"].tolist() == list(district.cells)
    assert set(places["town_code"]) == {"110118001"} and set(places["town_name"]) == {"鼓楼街道"}
    lon, lat = places.loc[0, ["lon", "lat"]]
    assert GRID.cell_of(lon, lat) == places.loc[0, "cell_id"]
    far = cell_places(district, ["r000c000"])
    assert far["town_code"].isna().all()
