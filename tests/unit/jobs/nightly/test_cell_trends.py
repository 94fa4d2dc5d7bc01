import datetime as dt

import esda
import libpysal
import numpy as np
import pandas as pd
import pytest

from jobs.nightly.cell_trends import emerging_hot_spots, space_time_cube, trend_window
from models.emerging_hotspots import classify_emerging
from models.getis_ord import grid_weights


def test_trend_window_keeps_the_held_days_of_the_last_calendar_days():
    days = ["2026-10-01", "2026-10-03", "2026-10-14", "2026-10-03", dt.date(2026, 10, 10)]
    assert trend_window(days, 14) == [
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 3),
        dt.date(2026, 10, 10),
        dt.date(2026, 10, 14),
    ]
    assert trend_window(days, 5) == [dt.date(2026, 10, 10), dt.date(2026, 10, 14)]
    assert trend_window([], 14) == []
    with pytest.raises(ValueError, match="window_days=0 must be an integer >= 1"):
        trend_window(days, 0)


def test_cube_sums_repeats_and_ignores_other_cells_and_days():
    daily = pd.DataFrame(
        {
            "cell_id": ["a", "a", "b", "x", "a"],
            "day": ["d1", "d1", "d2", "d1", "d9"],
            "events": [2, 3, 4, 7, 1],
        }
    )
    np.testing.assert_array_equal(
        space_time_cube(daily, ["b", "a"], ["d1", "d2"]), [[0, 4], [5, 0]]
    )


def test_classes_follow_gi_star_per_day_with_two_sided_p():
    # 6 x 6 grid, 12 days; cells 14 and 15 rise, cell 21 is steady, the rest Poisson noise.
    rng = np.random.default_rng(4)
    cube = rng.poisson(0.5, size=(36, 12)).astype(float)
    cube[[14, 15]] = 4 + 2 * np.arange(12)
    cube[21] = 9
    table = emerging_hot_spots(cube, grid_weights(6, 6), alpha=0.05, trend_alpha=0.05)
    # Independently: esda's Gi* per day, two-sided p, then the classifier.
    w = libpysal.weights.lat2W(6, 6, rook=False)
    z = np.column_stack(
        [
            esda.G_Local(cube[:, d], w, star=True, transform="B", permutations=0).Zs
            for d in range(12)
        ]
    )
    from scipy.stats import norm

    p = 2 * norm.sf(np.abs(z))
    expected = classify_emerging(z, p)
    assert table["pattern"].tolist() == expected.tolist()
    # Rising alone, the pair also raises the day's spread: hot every day, no
    # significant trend of z (Gi* is relative to each day).
    assert table.loc[14, "pattern"] == "persistent_hot_spot"
    assert table.loc[14, "hot_days"] == ((p[14] < 0.05) & (z[14] > 0)).sum() == 12
    np.testing.assert_allclose(table["latest_gi_z"], z[:, -1])


def test_a_day_without_spread_is_neither_hot_nor_cold():
    cube = np.zeros((16, 3))
    cube[5] = [6, 0, 7]  # day 2 has no event at all
    table = emerging_hot_spots(cube, grid_weights(4, 4))
    # By hand, day 0 (one cell of 6 among 16): mean 0.375, S = sqrt(36/16 - 0.375**2)
    # = 1.4524; cell 5 has W = 9 (self and 8 queen neighbours), so
    # z = (6 - 0.375 * 9) / (1.4524 * sqrt((16 * 9 - 81) / 15)) = 0.882, p = 0.378;
    # day 2 (7 alone) gives the same z; the lowest is an edge cell away from cell 5,
    # W = 6: z = -0.375 * 6 / (1.4524 * sqrt((96 - 36) / 15)) = -0.775, p = 0.44.
    # No cell is hot or cold on any day.
    assert table["hot_days"].max() == 0 and table["cold_days"].max() == 0
    assert np.isfinite(table[["mk_z", "mk_p", "latest_gi_z"]].to_numpy()).all()


def test_short_cube_is_refused():
    with pytest.raises(ValueError, match=r"cube has shape \(4, 1\); it must be"):
        emerging_hot_spots(np.ones((4, 1)), grid_weights(2, 2))
