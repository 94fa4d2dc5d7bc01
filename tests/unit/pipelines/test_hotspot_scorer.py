"""The hotspot job's Python scoring of one window (no Flink needed)."""
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.geography import build_district
from pipelines.hotspot_job import AlertScorer

HOTSPOT = {"window_size_minutes": 30, "p_value_threshold": 1e-6,
           "fallback_rate_per_cell_hour": 0.25,
           "severity_levels": [[1e-9, "红色"], [1e-7, "橙色"], [1e-6, "黄色"]]}
TOWNS = [{"name": "鼓楼街道", "kind": "街道", "approx_lat": 40.376, "approx_lon": 116.845}]
START = datetime.fromisoformat("2026-11-27T09:00:00+08:00")
END = datetime.fromisoformat("2026-11-27T09:30:00+08:00")


@pytest.fixture(scope="module")
def district():
    return build_district(TOWNS, code="110118", name="密云区", seed=3, villages_per_town=2,
                          cell_size_m=1000, origin_lon=116.55, origin_lat=40.15,
                          max_village_distance_m=5000, n_cameras=1, n_lpr_sites=1,
                          n_gas_stations=1)


def test_fallback_scores_and_alert_fields(district):
    village = district.villages[0]
    cell = district.grid.cell_of(village.lon, village.lat)
    scorer = AlertScorer(district, HOTSPOT, baselines_dir=None)
    assert scorer.score(cell, "public_order.fight", START, END, 4, 0) is None
    alert = scorer.score(cell, "public_order.fight", START, END, 6, 1_000)
    # Expected 0.25/h × 0.5 h; P(N >= 6 | 0.125) = 4.7604532844e-09 (series by hand).
    assert alert["expected"] == 0.125
    assert alert["p_value"] == pytest.approx(4.7604532844e-09, rel=1e-8)
    assert alert["severity"] == "橙色"
    assert alert["baseline_source"] == "fallback"
    assert alert["window_end"] == "2026-11-27T09:30:00+08:00"
    assert alert["town_name"] == "鼓楼街道"
    assert alert["emitted_at_ms"] == 1_000
    # The id depends on the window only, so a replay upserts the same alert.
    assert scorer.score(cell, "public_order.fight", START, END, 9, 2_000)["alert_id"] == alert["alert_id"]


def test_nightly_baselines_are_read_and_reloaded(district, tmp_path):
    cell = district.grid.cell_of(district.villages[0].lon, district.villages[0].lat)
    pq.write_table(pa.table({"cell_id": [cell], "category": ["public_order.fight"],
                             "rate_per_hour": [2.0]}), tmp_path / "cell_baselines.parquet")
    pq.write_table(pa.table({"source": ["grid"], "hour_of_day": [9], "factor": [2.0]}),
                   tmp_path / "hour_profile.parquet")
    scorer = AlertScorer(district, HOTSPOT, baselines_dir=tmp_path)
    # Expected 2.0/h × 2.0 (09:15 is in hour 9) × 0.5 h = 2.0: 6 events are not surprising.
    assert scorer.score(cell, "public_order.fight", START, END, 6, 0) is None
    alert = scorer.score(cell, "public_order.fight", START, END, 13, 0)
    assert (alert["expected"], alert["baseline_source"]) == (2.0, "nightly")

    import os
    pq.write_table(pa.table({"cell_id": [cell], "category": ["public_order.fight"],
                             "rate_per_hour": [0.5]}), tmp_path / "cell_baselines.parquet")
    stat = os.stat(tmp_path / "cell_baselines.parquet")
    os.utime(tmp_path / "cell_baselines.parquet", (stat.st_atime, stat.st_mtime + 5))
    # 0.5/h × 2.0 × 0.5 h
    assert scorer.score(cell, "public_order.fight", START, END, 9, 0)["expected"] == 0.5


def test_corrupt_baselines_fall_back(district, tmp_path):
    (tmp_path / "cell_baselines.parquet").write_bytes(b"not parquet")
    cell = district.grid.cell_of(district.villages[0].lon, district.villages[0].lat)
    scorer = AlertScorer(district, HOTSPOT, baselines_dir=tmp_path)
    assert scorer.score(cell, "public_order.fight", START, END, 6, 0)["baseline_source"] == "fallback"
