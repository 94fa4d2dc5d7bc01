from datetime import datetime

import numpy as np
import pytest

from features.baselines import Baselines
from features.local_time import DISTRICT_TZ
from models.hotspot_detector import HotspotDetector, Place, budget_threshold

HOTSPOT = {
    "window_size_minutes": 30,
    "window_slide_minutes": 5,
    "scan_durations_minutes": [5, 15, 30],
    "scan_max_radius_m": 1500,
    "scan_max_cells": 9,
    "scan_replicates": 199,
    "min_observed": 5,
    "max_clusters_per_look": 3,
    "alert_budget_per_town_month": 1.0,
    "fdr_q": 0.05,
    "lifecycle": {"quiet_looks": 2, "escalation_ratio": 1.5},
    "severity_by_recurrence_days": [[365, "红色"], [30, "橙色"], [0, "黄色"]],
}
FIGHT = "public_order.fight"
END = int(datetime(2026, 11, 23, 10, 0, tzinfo=DISTRICT_TZ).timestamp())  # a Monday


def _detector(n_side=10, null_store=None, **overrides):
    cells = [f"r{r:03d}c{c:03d}" for r in range(n_side) for c in range(n_side)]
    coords = [(c * 1000.0, r * 1000.0) for r in range(n_side) for c in range(n_side)]
    places = {cell: Place("t1", "鼓楼街道", "v1", "东关村", 116.8, 40.4) for cell in cells}
    return HotspotDetector(
        cells,
        coords,
        places,
        {**HOTSPOT, **overrides},
        [FIGHT, "public_order.petty_theft"],
        district_code="110118",
        towns=1,
        null_store=null_store,
    )


def _baselines(detector, rate=0.4):
    return Baselines({(c, FIGHT): rate for c in detector.cells}, {}, {}, 0.25)


def test_budget_threshold_spreads_the_budget_over_looks_and_categories():
    # 2 per town-month x 10 towns over 8,640 looks x 4 categories.
    assert budget_threshold(2.0, 10, 4, 5) == pytest.approx(20 / (8640 * 4))
    with pytest.raises(ValueError, match="towns=0 must be a positive number"):
        budget_threshold(1.0, 0, 4, 5)


def test_a_quiet_window_raises_nothing():
    detector = _detector()
    rng = np.random.default_rng(5)
    counts = {}
    for cell in detector.cells:
        n30 = rng.poisson(0.4 * 0.5)
        if n30:
            counts[(cell, FIGHT)] = [0, 0, n30]
    assert detector.look(END, counts, _baselines(detector)) == []


def test_a_surge_is_one_cluster_through_its_lifecycle():
    detector = _detector()
    baselines = _baselines(detector)
    surge = {("r005c005", FIGHT): [4, 8, 12], ("r005c006", FIGHT): [3, 6, 9]}
    first = detector.look(END, surge, baselines, now_ms=1)
    assert [a["status"] for a in first] == ["new"]
    alert = first[0]
    # Zones are circles with ties broken by cell order, so both surge cells are
    # first together in the 3-cell zone around r005c006 (its nearest cells at
    # 1 km are r004c006, then r005c005): over 30 min, 21 events where
    # 3 x 0.4 x 0.5 = 0.6 are expected.
    assert alert["cells"] == ["r005c006", "r004c006", "r005c005"]
    assert alert["duration_minutes"] == 30
    assert (alert["observed"], alert["expected"]) == (21, pytest.approx(0.6))
    assert alert["llr"] == pytest.approx(21 * np.log(21 / 0.6) - (21 - 0.6))
    assert alert["p_value"] <= detector.threshold
    assert alert["severity"] == "红色"
    assert alert["baseline_source"] == "nightly, no week profile"
    assert alert["window_start"] == "2026-11-23T09:30:00+08:00"
    assert alert["window_end"] == "2026-11-23T10:00:00+08:00"
    assert alert["town_name"] == "鼓楼街道" and alert["village_name"] == "东关村"
    stats = {s["cell_id"]: s for s in alert["cell_stats"]}
    assert stats["r005c005"]["observed"] == 12
    assert stats["r005c005"]["q_value"] <= 0.05
    assert stats["r005c005"]["gi_star_z"] > 3
    later = detector.look(END + 300, surge, baselines)
    assert [(a["status"], a["alert_id"]) for a in later] == [("ongoing", alert["alert_id"])]
    assert detector.look(END + 600, {}, baselines) == []
    ended = detector.look(END + 900, {}, baselines)
    assert [(a["status"], a["alert_id"], a["looks"]) for a in ended] == [
        ("ended", alert["alert_id"], 2)
    ]


def test_null_maxima_are_drawn_once_and_loaded_by_the_next_detector():
    store = {}
    surge = {("r005c005", FIGHT): [4, 8, 12], ("r005c006", FIGHT): [3, 6, 9]}
    first = _detector(null_store=store)
    drawn = first.look(END, surge, _baselines(first))
    assert (first.stats["null_simulations"], first.stats["nulls_loaded"], len(store)) == (1, 0, 1)
    second = _detector(null_store=store)
    loaded = second.look(END, surge, _baselines(second))
    assert (second.stats["null_simulations"], second.stats["nulls_loaded"]) == (0, 1)
    assert [a["p_value"] for a in loaded] == [a["p_value"] for a in drawn]
    # Other replicates, other rates: other draws, under keys of their own.
    fewer = _detector(null_store=store, scan_replicates=99)
    fewer.look(END, surge, _baselines(fewer))
    busier = _detector(null_store=store)
    busier.look(END, surge, _baselines(busier, rate=0.5))
    assert (fewer.stats["null_simulations"], busier.stats["null_simulations"], len(store)) == (
        1,
        1,
        3,
    )


def test_prepare_nulls_draws_every_category_ahead_of_the_looks():
    detector = _detector()
    detector.prepare_nulls(_baselines(detector), END)
    assert detector.stats["null_simulations"] == 2
    surge = {("r005c005", FIGHT): [4, 8, 12], ("r005c006", FIGHT): [3, 6, 9]}
    detector.look(END, surge, _baselines(detector))
    assert detector.stats["null_simulations"] == 2


def test_cells_outside_the_universe_are_counted_and_left_out():
    detector = _detector()
    assert detector.look(END, {("r099c099", FIGHT): [9, 9, 9]}, _baselines(detector)) == []
    assert detector.stats["unknown_cells"] == 1


def test_without_baselines_the_fallback_is_used_and_said():
    detector = _detector()
    alerts = detector.look(END, {("r005c005", FIGHT): [20, 25, 30]}, Baselines())
    assert alerts and alerts[0]["baseline_source"] == "fallback, no week profile"
    # 0.25 per hour per cell over 30 minutes.
    assert alerts[0]["cell_stats"][0]["expected"] == pytest.approx(0.125)


def test_durations_must_fit_the_window():
    with pytest.raises(ValueError, match=r"scan_durations_minutes \[7\] must be multiples"):
        _detector(scan_durations_minutes=[7, 30])


def test_an_uncertain_rate_makes_a_modest_excess_no_alarm():
    # 6 events in 30 min where a single cell expects 0.2: an alarm when the
    # rate is known; when the rate was learnt from 2 events (shape 2: the
    # true rate may well be three times it), the same count is no surprise.
    modest = {("r005c005", FIGHT): [2, 4, 6]}
    known = _detector().look(END, modest, _baselines(detector=_detector()))
    assert [a["status"] for a in known] == ["new"]
    detector = _detector()
    uncertain = Baselines(
        {(c, FIGHT): 0.4 for c in detector.cells},
        {},
        {},
        0.25,
        {(c, FIGHT): 2.0 for c in detector.cells},
    )
    assert detector.look(END, modest, uncertain) == []


def test_a_weighted_scan_favours_busy_zones_and_draws_its_own_null():
    store = {}
    cells = [f"r{r:03d}c{c:03d}" for r in range(10) for c in range(10)]
    # The left half is ten times busier than the right.
    rates = {(c, FIGHT): (1.0 if int(c[-3:]) < 5 else 0.1) for c in cells}
    baselines = Baselines(rates, {}, {}, 0.25)
    # An excess in a busy and in a quiet cell, over 30 min, more than any single
    # cell reaches by chance (single_cell_floor): both scans draw a null.
    busy = {("r005c002", FIGHT): [4, 8, 12]}
    quiet = {("r005c007", FIGHT): [0, 1, 1]}
    plain = _detector(null_store=store)
    weighted = _detector(null_store=store, zone_weight_power=1.0)
    weights = weighted.zone_weights(
        baselines, FIGHT, weighted.expectation.rate_vector(baselines, FIGHT)[0]
    )
    zone_of = {cell: i * 9 for i, cell in enumerate(cells)}  # each cell alone
    assert weights[zone_of["r005c002"]] == pytest.approx(weights[zone_of["r005c007"]] + np.log(10))
    assert plain.zone_weights(baselines, FIGHT, None) is None
    for detector in (plain, weighted):
        detector.look(END, {**busy, **quiet}, baselines)
    # Each drew its own null, under its own key.
    assert (plain.stats["null_simulations"], weighted.stats["null_simulations"], len(store)) == (
        1,
        1,
        2,
    )
    with pytest.raises(ValueError, match=r"zone_weight_power=-1.0 must be >= 0"):
        _detector(zone_weight_power=-1)
