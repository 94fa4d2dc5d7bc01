"""The hotspot job's Python side, without Flink: baselines from the lake, one window."""
import os
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.baselines import FALLBACK, NIGHTLY, TOWN_PRIOR
from pipelines.hotspot_job import BaselineStore, cell_windows_sql, parse_window_counts

MONDAY_10 = datetime.fromisoformat("2026-11-23T10:00:00+08:00").timestamp()


def _write(folder, cells_rate=2.0):
    pq.write_table(pa.table({"cell_id": ["r001c001"], "category": ["public_order.fight"],
                             "rate_per_hour": [cells_rate]}), folder / "cell_baselines.parquet")
    pq.write_table(pa.table({"town_code": ["t1"], "category": ["public_order.fight"],
                             "rate_per_cell_hour": [0.1]}), folder / "town_baselines.parquet")
    pq.write_table(pa.table({"source": ["grid"], "hour_of_week": pa.array([10], pa.int32()),
                             "factor": [2.0]}), folder / "week_profile.parquet")


def test_baselines_are_read_from_the_lake_and_reloaded_when_replaced(tmp_path):
    _write(tmp_path)
    store = BaselineStore(tmp_path, 0.25)
    b = store.current()
    assert b.expected("r001c001", "t1", "public_order.fight", MONDAY_10, MONDAY_10 + 1800) == (
        pytest.approx(2.0), NIGHTLY)
    assert b.rate("r002c002", "t1", "public_order.fight") == (0.1, TOWN_PRIOR)
    assert store.current() is b          # unchanged files: no re-read
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


def test_window_payload_parsing():
    assert parse_window_counts("", 2) == {}
    assert parse_window_counts("r1,a,1,2;r2,b,0,x;r3,c,1", 2) == {("r1", "a"): [1, 2], None: 2}


def test_the_sql_counts_each_duration_and_skips_excluded_categories():
    sql = cell_windows_sql({"window_slide_minutes": 5, "window_size_minutes": 30,
                            "scan_durations_minutes": [30, 10, 5],
                            "excluded_categories": ["video.plate_read"]})
    assert "INTERVAL '5' MINUTE, INTERVAL '30' MINUTE" in sql
    assert "COUNT(*) AS n30" in sql
    assert "FILTER (WHERE ts > window_time - INTERVAL '10' MINUTE) AS n10" in sql
    assert "category NOT IN ('video.plate_read')" in sql
