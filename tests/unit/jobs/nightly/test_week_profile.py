import numpy as np
import pandas as pd
import pytest

from jobs.nightly.week_profile import week_profile

# Two weeks of slots at Monday 09:00 (h = 9) and one at Tuesday 09:00 (h = 33);
# Monday 10:00 (h = 10) observed twice too.
SLOTS = pd.DataFrame({"hour_of_week": [9, 33, 10], "slots": [2, 1, 2]})
COUNTS = pd.DataFrame(
    {
        "source": ["grid", "grid", "grid", "hotline"],
        "hour_of_week": [9, 33, 10, 10],
        "events": [8, 1, 1, 4],
    }
)


def _grid(prior):
    profile = week_profile(COUNTS, SLOTS, prior_slots=prior)
    return profile[profile["source"] == "grid"].set_index("hour_of_week")


def test_factor_by_hand():
    # grid: N = 10 events in S = 5 slots, lambda = 2. Hour of day 9: 9 events in 3
    # slots -> f = 1.5; hour 10: 1 in 2 -> f = 0.25. Own factors: g9 = 8/2/2 = 2,
    # g33 = 1/1/2 = 0.5, g10 = 0.25. Weights S/(S+2): 0.5, 1/3, 0.5.
    raw = {9: 0.5 * 2 + 0.5 * 1.5, 33: 0.5 / 3 + 1.5 * 2 / 3, 10: 0.25}
    scale = 5 / (2 * raw[9] + 1 * raw[33] + 2 * raw[10])
    grid = _grid(2.0)
    for hour, value in raw.items():
        assert grid.loc[hour, "factor"] == pytest.approx(value * scale)
    # Never observed: Wednesday 09:00 takes hour 9's factor, 03:00 takes 1 (both scaled).
    assert grid.loc[57, "factor"] == pytest.approx(1.5 * scale)
    assert grid.loc[3, "factor"] == pytest.approx(1.0 * scale)
    assert grid.loc[9, "events"] == 8 and grid.loc[33, "slots"] == 1 and grid.loc[3, "slots"] == 0


def test_slot_weighted_mean_is_one_and_shapes_follow_the_contract():
    profile = week_profile(COUNTS, SLOTS, prior_slots=3.0)
    assert profile.groupby("source").size().to_dict() == {"grid": 168, "hotline": 168}
    assert profile["hour_of_week"].dtype == np.int32
    assert profile["events"].dtype == np.int64 and profile["slots"].dtype == np.int64
    for _, rows in profile.groupby("source"):
        assert np.dot(rows["slots"], rows["factor"]) == pytest.approx(rows["slots"].sum())


def test_no_prior_gives_the_raw_hour_of_week_and_a_huge_prior_the_hour_of_day():
    assert _grid(0.0).loc[[9, 33, 10], "factor"].tolist() == pytest.approx([2.0, 0.5, 0.25])
    assert _grid(1e12).loc[[9, 33, 10], "factor"].tolist() == pytest.approx([1.5, 1.5, 0.25])


@pytest.mark.parametrize(
    "counts, prior, message",
    [
        (COUNTS, -1.0, r"prior_slots=-1.0 must be a finite number >= 0"),
        (
            COUNTS.assign(hour_of_week=168),
            1.0,
            r"counts has hour_of_week=168; it must lie in 0..167",
        ),
        (
            pd.DataFrame({"source": ["grid"], "hour_of_week": [50], "events": [1]}),
            1.0,
            r"source 'grid' has events at hour_of_week=50, which slots never observed",
        ),
    ],
)
def test_bad_input_is_named(counts, prior, message):
    with pytest.raises(ValueError, match=message):
        week_profile(counts, SLOTS, prior)
