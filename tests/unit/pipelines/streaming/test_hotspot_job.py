"""The hotspot job's Python side, without Flink: baselines from the lake, one window."""

import os
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.baselines import FALLBACK, NIGHTLY, TOWN_PRIOR
from pipelines.streaming.hotspot_job import (
    BaselineStore,
    WindowScorer,
    cell_slices_sql,
    parse_slice,
)

MONDAY_10 = datetime.fromisoformat("2026-11-23T10:00:00+08:00").timestamp()


def _write(folder, cells_rate=2.0):
    pq.write_table(
        pa.table(
            {
                "cell_id": ["r001c001"],
                "category": ["public_order.fight"],
                "rate_per_hour": [cells_rate],
            }
        ),
        folder / "cell_baselines.parquet",
    )
    pq.write_table(
        pa.table(
            {"town_code": ["t1"], "category": ["public_order.fight"], "rate_per_cell_hour": [0.1]}
        ),
        folder / "town_baselines.parquet",
    )
    pq.write_table(
        pa.table({"source": ["grid"], "hour_of_week": pa.array([10], pa.int32()), "factor": [2.0]}),
        folder / "week_profile.parquet",
    )


def test_baselines_are_read_from_the_lake_and_reloaded_when_replaced(tmp_path):
    _write(tmp_path)
    store = BaselineStore(tmp_path, 0.25)
    b = store.current()
    assert b.expected("r001c001", "t1", "public_order.fight", MONDAY_10, MONDAY_10 + 1800) == (
        pytest.approx(2.0),
        NIGHTLY,
    )
    assert b.rate("r002c002", "t1", "public_order.fight") == (0.1, TOWN_PRIOR)
    assert store.current() is b  # unchanged files: no re-read
    _write(tmp_path, cells_rate=0.5)
    path = tmp_path / "cell_baselines.parquet"
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert store.current().rate("r001c001", "t1", "public_order.fight") == (0.5, NIGHTLY)


def test_missing_or_corrupt_tables_fall_back_and_the_job_goes_on(tmp_path):
    store = BaselineStore(tmp_path / "absent", 0.25)
    assert store.current().rate("r001c001", "t1", "public_order.fight") == (0.25, FALLBACK)
    _write(tmp_path)
    (tmp_path / "cell_baselines.parquet").write_bytes(b"not parquet")
    b = BaselineStore(tmp_path, 0.25).current()
    # The corrupt cell table is skipped; the town priors and profile still apply.
    assert b.rate("r001c001", "t1", "public_order.fight") == (0.1, TOWN_PRIOR)
    assert b.week_factors == {("grid", 10): 2.0}


def test_slice_parsing_skips_and_counts_malformed_entries():
    cells, categories, counts, bad = parse_slice("r1,a,1;r2,b,x;r3,c;r4,d,2")
    assert (list(cells), list(categories), counts.tolist(), bad) == (
        ["r1", "r4"],
        ["a", "d"],
        [1, 2],
        2,
    )
    assert parse_slice("")[3] == 0


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
    assert alerts[0]["duration_minutes"] in (5, 15, 30)


def test_the_sql_counts_one_slice_per_event_and_skips_excluded_categories():
    hotspot = {"window_slide_minutes": 5, "excluded_categories": ["video.plate_read"]}
    slices = cell_slices_sql(hotspot)
    assert "TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '5' MINUTE)" in slices
    assert "COUNT(*) AS n" in slices
    assert "category NOT IN ('video.plate_read')" in slices


@pytest.fixture
def district_detector_small():
    from models.hotspot_detector import HotspotDetector, Place

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


def test_a_fixed_store_answers_its_baselines():
    from features.baselines import Baselines

    baselines = Baselines({("r001c001", "public_order.fight"): 2.0}, fallback_rate_per_hour=0.5)
    store = BaselineStore.fixed(baselines)
    assert store.current() is baselines and store.current() is baselines
