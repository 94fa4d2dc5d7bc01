import numpy as np
import pandas as pd
import pytest

from features.geography import CellGrid
from jobs.nightly.cell_rates import CELL_RATE_COLUMNS, complete_cell_counts, smoothed_cell_rates
from jobs.nightly.reporting_effort import reporting_effort
from models.local_empirical_bayes import LocalPoissonGammaSmoother

GRID = CellGrid(116.55, 40.15, 1000.0)
# A row of four cells in town T and two in town U; fights and thefts.
PLACES = pd.DataFrame(
    {"cell_id": [f"r000c00{i}" for i in range(6)], "town_code": ["T"] * 4 + ["U"] * 2}
)
ACTIVE = pd.DataFrame(
    {
        "cell_id": ["r000c000", "r000c001", "r000c001", "r000c004"],
        "category": [
            "public_order.fight",
            "public_order.fight",
            "public_order.petty_theft",
            "public_order.fight",
        ],
        "town_code": ["T", "T", "T", "U"],
        "events": [6, 2, 5, 1],
    }
)
HOURS = 48.0


def test_complete_table_has_every_cell_and_category():
    table = complete_cell_counts(ACTIVE, PLACES)
    assert len(table) == 6 * 2
    assert table.groupby("category")["events"].sum().to_dict() == {
        "public_order.fight": 9,
        "public_order.petty_theft": 5,
    }
    assert set(table.loc[table["active"], "cell_id"]) == {"r000c000", "r000c001", "r000c004"}


def test_rates_equal_the_local_smoother_on_effort_weighted_exposure():
    cells, towns = smoothed_cell_rates(
        ACTIVE,
        PLACES,
        HOURS,
        GRID,
        effort_prior_events=2.0,
        town_floor_fraction=0.1,
        max_prior_events=1.0,
    )
    assert list(cells.columns) == list(CELL_RATE_COLUMNS)
    # Three active cells times two categories.
    assert len(cells) == 6 and set(cells["cell_id"]) == {"r000c000", "r000c001", "r000c004"}
    # Recompute the fights independently: effort, chain neighbours, the smoother.
    table = reporting_effort(complete_cell_counts(ACTIVE, PLACES), 2.0)
    fights = table[table["category"] == "public_order.fight"].sort_values("cell_id")
    effort = fights["effort"].to_numpy()
    # Fights' "other" channel events are the thefts: cell 1 has 5, town T's mean 5/4.
    np.testing.assert_allclose(effort, [2 / 3.25, 7 / 3.25, 2 / 3.25, 2 / 3.25, 1.0, 1.0])
    chain = np.eye(6, k=1) + np.eye(6, k=-1)
    y = fights["events"].to_numpy(dtype=float)
    floor = 0.1 * y.sum() / (HOURS * effort).sum()
    smoother = LocalPoissonGammaSmoother(min_prior_mean=floor, max_prior_events=1.0).fit(
        y, HOURS * effort, fights["town_code"].to_numpy(), chain
    )
    got = cells[cells["category"] == "public_order.fight"].set_index("cell_id")
    for i in (0, 1, 4):
        row = got.loc[f"r000c00{i}"]
        assert row["events"] == y[i]
        assert row["exposure_hours"] == HOURS
        assert row["raw_rate_per_hour"] == pytest.approx(y[i] / HOURS)
        assert row["rate_per_hour"] == pytest.approx(effort[i] * smoother.smoothed_rates_[i])
        assert row["prior_rate_per_hour"] == pytest.approx(effort[i] * smoother.prior_mean_[i])
    # An active cell with no theft still gets a positive theft rate.
    theft = cells[cells["category"] == "public_order.petty_theft"].set_index("cell_id")
    assert theft.loc["r000c004", "events"] == 0 and theft.loc["r000c004", "rate_per_hour"] > 0
    # Town U never saw a theft: its prior mean is the floor (efforts average 1
    # per town, so the exposure is 6 cells x 48 hours), capped at one event:
    # Gamma(1, 1 / floor). A cell of U with no report has effort 2 / (0.5 + 2),
    # U's cells having 1 and 0 fights.
    theft_floor = 0.1 * 5 / (HOURS * 6)
    unseen = 2 / 2.5
    u_theft = towns[(towns["town_code"] == "U") & (towns["category"] == "public_order.petty_theft")]
    assert u_theft["rate_per_cell_hour"].item() == pytest.approx(
        unseen * 1.0 / (HOURS * unseen + 1 / theft_floor), rel=1e-9
    )


def test_town_rates_are_positive_for_every_town_and_category():
    _, towns = smoothed_cell_rates(
        ACTIVE, PLACES, HOURS, GRID, effort_prior_events=2.0, town_floor_fraction=0.1
    )
    assert len(towns) == 4 and (towns["rate_per_cell_hour"] > 0).all()


@pytest.mark.parametrize(
    "hours, fraction, active, message",
    [
        (0.0, 0.1, ACTIVE, r"observed_hours=0.0 must be a finite number > 0"),
        (HOURS, 0.0, ACTIVE, r"town_floor_fraction=0.0 must lie in \(0, 1\]"),
        (HOURS, 0.1, ACTIVE.iloc[:0], "active holds no events"),
    ],
)
def test_bad_input_is_named(hours, fraction, active, message):
    with pytest.raises(ValueError, match=message):
        smoothed_cell_rates(
            active, PLACES, hours, GRID, effort_prior_events=2.0, town_floor_fraction=fraction
        )
