"""The offline calibration: its null, its windows and its judgement of the budget."""

import numpy as np
import pytest

from models.time_scales import TimeScale
from pipelines.harness.calibration import _Buckets, law_baselines, poisson_interval, run_calibration


def test_the_garwood_interval_has_its_textbook_values():
    # Garwood (1936): 0 seen -> [0, 3.689]; 5 seen -> [1.623, 11.668].
    assert poisson_interval(0) == (0.0, pytest.approx(3.6889, abs=1e-4))
    lower, upper = poisson_interval(5)
    assert (lower, upper) == (pytest.approx(1.6235, abs=1e-4), pytest.approx(11.6683, abs=1e-4))


class _Law:
    def cell_rates(self, category):
        return {"a": {"r1": 2.0, "r2": 0.0}, "b": {"r3": 0.5}}[category]

    def week_factors(self):
        return {("grid", h): 1.0 for h in range(168)}


def test_the_law_as_baselines_keeps_only_cells_where_a_category_happens():
    baselines, cells, categories, rates = law_baselines(_Law(), ["b", "a"])
    assert (cells, categories, rates.tolist()) == (["r1", "r3"], ["a", "b"], [2.0, 0.5])
    assert baselines.rate("r1", None, "a") == (2.0, "nightly")
    # Where the law has no events, the detector expects none either.
    assert baselines.rate("r2", None, "a")[0] < 1e-8


class _Detector:
    scale, slide_min, size_min, durations_min = "hours", 60, 180, [60, 180]
    buckets = 3


def test_a_scales_window_sums_its_last_buckets_per_duration():
    buckets = _Buckets(_Detector(), n_pairs=3)
    hour = 3_600_000
    for k, counts in enumerate(([1, 0, 0], [0, 0, 0], [2, 0, 1], [4, 0, 0]), start=1):
        buckets.add(k * hour, np.array(counts))
    # Only the last three hours are kept; the look at hour 4 sums 1 h and 3 h.
    assert buckets.ends == [2 * hour, 3 * hour, 4 * hour]
    rows, values = buckets.window(4 * hour)
    assert rows.tolist() == [0, 2]
    assert values.tolist() == [[4.0, 6.0], [0.0, 1.0]]
    assert TimeScale("hours", 60, 180, (60, 180), 0.25).durations_in_buckets == [1, 3]


def test_a_short_calibration_counts_every_scales_looks_and_judges_each_against_its_share(
    short_scale_settings,
):
    report = run_calibration(short_scale_settings, town_weeks=2.0, seed=3)
    towns = report["towns"]
    hours = report["town_weeks"] * 168 / towns
    assert report["warm_up_hours"] == 3
    assert report["scales"]["minutes"]["looks"] == pytest.approx(hours * 12, abs=12)
    assert report["scales"]["hours"]["looks"] == pytest.approx(hours, abs=1)
    months = hours / 720
    for name, share in (("minutes", 0.75), ("hours", 0.25)):
        scale = report["scales"][name]
        assert scale["budget_share"] == share
        assert scale["budget"] == pytest.approx(share * towns * months, abs=1e-3)
        assert scale["clusters"] <= scale["alarming_looks"]
        # The curve: more clusters as the threshold loosens; the configured one on it.
        counts = [point["clusters"] for point in scale["curve"]]
        assert counts == sorted(counts)
        at = {point["factor"]: point["clusters"] for point in scale["curve"]}
        assert at[scale["threshold_factor"]] == scale["clusters"]
        assert scale["threshold"] == pytest.approx(
            scale["threshold_factor"] * scale["union_bound_threshold"]
        )
    assert report["total"]["clusters"] == sum(s["clusters"] for s in report["scales"].values())
    # The null's events are the law's: its intensity over the hours drawn.
    expected = report["expected_events"]
    assert expected > report["events_per_hour"] * hours / 2
    assert abs(report["events"] - expected) < 5 * expected**0.5
