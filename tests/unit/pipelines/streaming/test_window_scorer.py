"""The hotspot job's Python side, without Flink: parsing slices and scoring one window."""

import math
from datetime import datetime

import pytest

from features.taxonomy import CATEGORIES, PLATE_READ
from models.hotspot_detector import HotspotDetector, Place
from pipelines.streaming.baseline_store import BaselineStore
from pipelines.streaming.window_scorer import WindowScorer, parse_slice, scored_categories


def test_slice_parsing_skips_and_counts_malformed_entries():
    cells, categories, counts, bad = parse_slice("r1,a,1;r2,b,x;r3,c;r4,d,2")
    assert (list(cells), list(categories), counts.tolist(), bad) == (
        ["r1", "r4"],
        ["a", "d"],
        [1, 2],
        2,
    )
    cells, categories, counts, bad = parse_slice("")
    assert (list(cells), list(categories), counts.tolist(), bad) == ([], [], [], 0)


def test_scored_categories_are_the_taxonomy_less_the_excluded():
    scored = scored_categories({"excluded_categories": [PLATE_READ]})
    assert PLATE_READ not in scored
    assert len(scored) == len(CATEGORIES) - 1
    assert scored_categories({}) == sorted(CATEGORIES)


@pytest.fixture
def district_detector_small():
    cells = [f"r{r:03d}c{c:03d}" for r in range(10) for c in range(10)]
    coords = [(c * 1000.0, r * 1000.0) for r in range(10) for c in range(10)]
    places = {cell: Place("t1", "鼓楼街道", "v1", "东关村", 116.8, 40.4) for cell in cells}
    hotspot = {
        "window_size_minutes": 30,
        "window_slide_minutes": 5,
        "scan_durations_minutes": [5, 15, 30],
        "scan_max_radius_m": 1500,
        "scan_max_cells": 9,
        "scan_replicates": 99,
        "min_observed": 5,
        "max_clusters_per_look": 3,
        "alert_budget_per_town_month": 1.0,
        "fdr_q": 0.05,
        "lifecycle": {"quiet_looks": 2, "escalation_ratio": 1.5},
        "severity_by_recurrence_days": [[365, "红色"], [30, "橙色"], [0, "黄色"]],
    }
    return HotspotDetector(
        cells, coords, places, hotspot, ["public_order.fight"], district_code="110118", towns=1
    )


def test_window_scorer_composes_durations_from_slices(district_detector_small):
    detector = district_detector_small
    scorer = WindowScorer(detector, BaselineStore(None, 0.25))
    # Window ending 10:30: slices ending 10:30 (k=0), 10:20 (k=2) and 10:05 (k=5).
    payload = [
        "2026-11-23 10:30:00#r005c005,public_order.fight,9",
        "2026-11-23 10:20:00#r005c005,public_order.fight,8;r001c001,public_order.fight,1",
        "2026-11-23 10:05:00#r005c005,public_order.fight,7",
    ]
    alerts = scorer.score(datetime(2026, 11, 23, 10, 30), payload, 0)
    assert [a["status"] for a in alerts] == ["new"]
    # 5 min: 9; 15 min: 9 + 8; 30 min: all 24 events of the cell.
    stats = alerts[0]["cell_stats"][0]
    assert (stats["cell_id"], stats["observed"]) == ("r005c005", 24)
    # The fallback 0.25 events per cell-hour (no week profile) expects
    # 0.25 * d / 60 in d minutes, and LLR = o ln(o/e) - (o - e):
    #   5 min:  9 ln(9 / 0.0208333) - 8.979   = 45.64
    #   15 min: 17 ln(17 / 0.0625) - 16.9375  = 78.36
    #   30 min: 24 ln(24 / 0.125) - 23.875    = 102.30
    # A larger cylinder only adds expected events without any (r001c001 is
    # 5.7 km away, beyond the 1.5 km radius), so the most likely cluster is
    # r005c005 alone over 30 minutes.
    assert alerts[0]["cells"] == ["r005c005"]
    assert alerts[0]["duration_minutes"] == 30
    assert (alerts[0]["observed"], alerts[0]["expected"]) == (24, 0.125)
    assert alerts[0]["llr"] == pytest.approx(24 * math.log(24 / 0.125) - (24 - 0.125), abs=1e-6)


def test_each_slice_is_held_by_exactly_the_windows_ending_at_or_after_it_and_then_dropped():
    from pipelines.streaming.window_scorer import window_slices

    slide, buckets = 300_000, 6
    kept: list[int] = []
    held_by: dict[int, list[int]] = {}
    for window_end in range(slide, 20 * slide + 1, slide):
        kept.append(window_end)  # the slice ending at this window end arrives first
        held, done = window_slices(kept, window_end, slide, buckets)
        for end in held:
            held_by.setdefault(end, []).append(window_end)
        kept = [end for end in kept if end not in done]
    for end, windows in held_by.items():
        assert windows == [end + k * slide for k in range(buckets) if end + k * slide <= 20 * slide]
    # What is left is what later windows (past the last one here) still need.
    assert kept == [end for end in range(16 * slide, 20 * slide + 1, slide)]
