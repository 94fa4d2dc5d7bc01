"""The nightly baselines as the hotspot job reads them from the lake."""

import os
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.baseline_schema import CELL_BASELINES, TOWN_BASELINES, WEEK_PROFILE
from features.baselines import FALLBACK, NIGHTLY, TOWN_PRIOR, Baselines
from pipelines.streaming.baseline_store import BASELINE_FILES, BaselineStore

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
        folder / CELL_BASELINES,
    )
    pq.write_table(
        pa.table(
            {"town_code": ["t1"], "category": ["public_order.fight"], "rate_per_cell_hour": [0.1]}
        ),
        folder / TOWN_BASELINES,
    )
    pq.write_table(
        pa.table({"source": ["grid"], "hour_of_week": pa.array([10], pa.int32()), "factor": [2.0]}),
        folder / WEEK_PROFILE,
    )


def test_the_store_reads_the_three_files_the_detector_needs():
    assert BASELINE_FILES == (CELL_BASELINES, TOWN_BASELINES, WEEK_PROFILE)


def test_baselines_are_read_from_the_lake_and_reloaded_when_replaced(tmp_path):
    _write(tmp_path)
    store = BaselineStore(tmp_path, 0.25)
    b = store.current()
    # Monday 10:00-10:30 is hour of week 10, whose factor is 2: 2.0/h x 0.5 h x 2 = 2.0.
    assert b.expected("r001c001", "t1", "public_order.fight", MONDAY_10, MONDAY_10 + 1800) == (
        pytest.approx(2.0),
        NIGHTLY,
    )
    assert b.rate("r002c002", "t1", "public_order.fight") == (0.1, TOWN_PRIOR)
    assert store.current() is b  # unchanged files: no re-read
    _write(tmp_path, cells_rate=0.5)
    path = tmp_path / CELL_BASELINES
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert store.current().rate("r001c001", "t1", "public_order.fight") == (0.5, NIGHTLY)


def test_missing_or_corrupt_tables_fall_back_and_the_job_goes_on(tmp_path):
    store = BaselineStore(tmp_path / "absent", 0.25)
    assert store.current().rate("r001c001", "t1", "public_order.fight") == (0.25, FALLBACK)
    _write(tmp_path)
    (tmp_path / CELL_BASELINES).write_bytes(b"not parquet")
    b = BaselineStore(tmp_path, 0.25).current()
    # The corrupt cell table is skipped; the town priors and profile still apply.
    assert b.rate("r001c001", "t1", "public_order.fight") == (0.1, TOWN_PRIOR)
    assert b.week_factors == {("grid", 10): 2.0}


def test_a_fixed_store_answers_its_baselines():
    baselines = Baselines({("r001c001", "public_order.fight"): 2.0}, fallback_rate_per_hour=0.5)
    store = BaselineStore.fixed(baselines)
    assert store.current() is baselines and store.current() is baselines
