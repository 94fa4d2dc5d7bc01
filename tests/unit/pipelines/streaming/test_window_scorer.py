"""The hotspot job's Python side, without Flink: parsing slices and scoring one window."""

import math
from datetime import datetime

import numpy as np
import pytest

from features.taxonomy import CATEGORIES, PLATE_READ
from models.hotspot_detector import HotspotDetector, Place
from pipelines.streaming import window_scorer
from pipelines.streaming.baseline_store import BaselineStore
from pipelines.streaming.window_scorer import (
    WindowScorer,
    compact_entries,
    compose_window,
    parse_slice,
    scored_categories,
)


def test_slice_parsing_skips_and_counts_malformed_entries():
    cells, categories, counts, minutes, bad = parse_slice("r1,a,1;r2,b,x;r3,c;r4,d,2,60;r5,e,1,-5")
    assert (list(cells), list(categories), counts.tolist(), minutes.tolist(), bad) == (
        ["r1", "r4"],
        ["a", "d"],
        [1, 2],
        [0, 60],
        3,
    )
    cells, categories, counts, minutes, bad = parse_slice("")
    assert (list(cells), list(categories), counts.tolist(), minutes.tolist(), bad) == (
        [],
        [],
        [],
        [],
        0,
    )


def _random_slices(rng, n_slices: int, entries: int):
    keys = [(f"r{c:03d}", f"cat{g}") for c in range(40) for g in range(3)]
    slices = []
    for _ in range(n_slices):
        picked = [keys[i] for i in rng.integers(0, len(keys), entries)]
        slices.append(
            (
                int(rng.integers(0, 8)),
                np.array([c for c, _ in picked], dtype=object),
                np.array([g for _, g in picked], dtype=object),
                rng.integers(1, 5, entries),
            )
        )
    return slices


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_small_windows_compose_in_python_as_pandas_does(seed, monkeypatch):
    # Below PANDAS_FROM_ENTRIES plain Python composes a window; pandas above.
    # Both give the same rows, in the same order, with the same sums; a key
    # whose slices fall outside every duration (k = 6, 7) keeps its zeros.
    rng = np.random.default_rng(seed)
    slices = _random_slices(rng, 6, 30)
    durations = [1, 3, 6]
    python = compose_window(slices, durations)
    monkeypatch.setattr(window_scorer, "PANDAS_FROM_ENTRIES", 0)
    pandas = compose_window(slices, durations)
    assert python[0].tolist() == pandas[0].tolist()
    assert python[1].tolist() == pandas[1].tolist()
    assert python[2].tolist() == pandas[2].tolist()
    assert python[2].shape == (len(python[0]), 3)


def test_small_slices_parse_in_python_as_pandas_does(monkeypatch):
    text = "r1,a,1;r2,b,3,60;r1,a,2;r3,c,0,1440"
    python = parse_slice(text)
    monkeypatch.setattr(window_scorer, "PANDAS_FROM_ENTRIES", 0)
    pandas = parse_slice(text)
    for ours, theirs in zip(python[:4], pandas[:4]):
        assert ours.tolist() == theirs.tolist()
    assert python[4] == pandas[4] == 0
    # Malformed entries: the same skips and count either way.
    bad = "r1,a,1;r2,b,x;r3,c;r4,d,2,60;r5,e,1,-5"
    monkeypatch.setattr(window_scorer, "PANDAS_FROM_ENTRIES", 2000)
    small = parse_slice(bad)
    monkeypatch.setattr(window_scorer, "PANDAS_FROM_ENTRIES", 0)
    large = parse_slice(bad)
    assert [a.tolist() for a in small[:4]] == [a.tolist() for a in large[:4]]
    assert small[4] == large[4] == 3


def test_compacted_bucket_sums_each_key_and_keeps_resolutions_apart():
    assert compact_entries("r1,a,1;r1,a,2;r1,a,4,1440;r0,b,1") == "r0,b,1;r1,a,3;r1,a,4,1440"
    assert compact_entries("") == ""


def test_scored_categories_are_the_taxonomy_less_the_excluded():
    scored = scored_categories({"excluded_categories": [PLATE_READ]})
    assert PLATE_READ not in scored
    assert len(scored) == len(CATEGORIES) - 1
    assert scored_categories({}) == sorted(CATEGORIES)


def small_detector(slide=5, size=30, durations=(5, 15, 30), scale="minutes", share=1.0):
    cells = [f"r{r:03d}c{c:03d}" for r in range(10) for c in range(10)]
    coords = [(c * 1000.0, r * 1000.0) for r in range(10) for c in range(10)]
    places = {cell: Place("t1", "鼓楼街道", "v1", "东关村", 116.8, 40.4) for cell in cells}
    hotspot = {
        "window_size_minutes": size,
        "window_slide_minutes": slide,
        "scan_durations_minutes": list(durations),
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
        cells,
        coords,
        places,
        hotspot,
        ["public_order.fight"],
        district_code="110118",
        towns=1,
        scale=scale,
        budget_share=share,
    )


@pytest.fixture
def district_detector_small():
    return small_detector()


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


def test_a_longer_scale_scores_its_buckets_and_admits_only_events_known_to_its_slide():
    days = small_detector(1440, 4320, (1440, 4320), scale="days", share=0.25)
    hours = small_detector(60, 180, (60, 180), scale="hours", share=0.25)
    scorer = WindowScorer(
        small_detector(share=0.5), BaselineStore(None, 0.25), longer=[hours, days]
    )
    day_ms = 86_400_000
    end_ms = 1_795_622_400_000  # 2026-11-26 00:00 district time
    # 40 fights known to the day in r005c005 on the last day, 2 to the minute
    # the day before: the fallback expects 0.25 * 24 = 6 a day per cell.
    buckets = [
        (end_ms - day_ms, "r005c005,public_order.fight,2"),
        (end_ms, "r005c005,public_order.fight,40,1440;r001c001,public_order.fight,1"),
    ]
    alerts = scorer.score_scale(days, end_ms, buckets, 0)
    assert [(a["scale"], a["budget_share"], a["status"]) for a in alerts] == [("days", 0.25, "new")]
    assert alerts[0]["cells"] == ["r005c005"]
    # One day: 40 observed against 6 expected; three days: 42 against 18.
    assert (alerts[0]["duration_minutes"], alerts[0]["observed"]) == (1440, 40)
    assert alerts[0]["expected"] == pytest.approx(6.0)
    assert alerts[0]["threshold"] == pytest.approx(0.25 / (30 * 1))
    # The hours scale does not admit events known only to the day.
    assert scorer.score_scale(hours, end_ms, buckets[1:], 0) == []
