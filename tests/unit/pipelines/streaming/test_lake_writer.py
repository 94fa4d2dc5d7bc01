"""Tests for the lake writer's file handling, on a folder (no Kafka)."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from features.lake_schema import lake_file_name, temp_file_name
from pipelines.streaming.lake_writer import (
    LakeTable,
    date_table,
    loadable_record,
    remove_temp_files,
)


def record(event_id: str, event_date: str = "2026-11-20") -> dict:
    return {"event_id": event_id, "event_date": event_date, "source": "grid"}


def names(table_dir):
    return sorted(str(p.relative_to(table_dir)) for p in table_dir.rglob("*") if p.is_file())


def test_a_batch_is_written_under_its_generation_and_read_back(tmp_path):
    lake = LakeTable(tmp_path, "00aa")
    table, refused = date_table(1, [(record("e1"), 10), (record("e2"), 12)])
    assert refused == []
    lake.write("2026-11-20", 1, 10, 12, table)
    assert names(tmp_path) == [
        "event_date=2026-11-20/part-g00aa-p1-000000000010-000000000012.parquet"
    ]
    table = pq.read_table(tmp_path / "event_date=2026-11-20" / lake_file_name("00aa", 1, 10, 12))
    assert table.column("event_id").to_pylist() == ["e1", "e2"]
    assert table.column("kafka_offset").to_pylist() == [10, 12]
    assert "event_date" not in table.column_names
    assert lake.event_ids("2026-11-20") == {"e1", "e2"}


def test_only_uncommitted_files_of_the_same_generation_and_partition_are_removed(tmp_path):
    old = LakeTable(tmp_path, "00aa")
    old.write("2026-11-20", 0, 0, 9, date_table(0, [(record("a0"), 0)])[0])
    old.write("2026-11-20", 0, 10, 19, date_table(0, [(record("a1"), 10)])[0])
    old.write("2026-11-21", 0, 20, 29, date_table(0, [(record("a2", "2026-11-21"), 20)])[0])
    old.write("2026-11-20", 1, 10, 19, date_table(1, [(record("b1"), 10)])[0])
    folder = tmp_path / "event_date=2026-11-20"
    legacy = folder / "part-p0-000000000000-000000000009.parquet"
    legacy.write_bytes((folder / lake_file_name("00aa", 0, 0, 9)).read_bytes())

    # The same generation resumes partition 0 at offset 10: files from 10 on go.
    same = LakeTable(tmp_path, "00aa")
    assert same.event_ids("2026-11-20") == {"a0", "a1", "b1"}
    same.remove_uncommitted(0, 10)
    assert names(tmp_path) == [
        "event_date=2026-11-20/part-g00aa-p0-000000000000-000000000009.parquet",
        "event_date=2026-11-20/part-g00aa-p1-000000000010-000000000019.parquet",
        "event_date=2026-11-20/part-p0-000000000000-000000000009.parquet",
    ]
    assert same.event_ids("2026-11-20") == {"a0", "b1"}

    # A new generation starts at offset 0 and removes nothing.
    before = names(tmp_path)
    LakeTable(tmp_path, "00bb").remove_uncommitted(0, 0)
    assert names(tmp_path) == before


def test_leftover_temp_files_are_removed(tmp_path):
    folder = tmp_path / "event_date=2026-11-20"
    folder.mkdir()
    kept = folder / lake_file_name("0a", 0, 0, 1)
    kept.write_bytes(b"data")
    (folder / temp_file_name(lake_file_name("0a", 0, 2, 3))).write_bytes(b"half")
    (folder / "part-p0-000000000000-000000000001.parquet.tmp").write_bytes(b"half")
    assert remove_temp_files(tmp_path) == 2
    assert names(tmp_path) == [f"event_date=2026-11-20/{kept.name}"]
    assert remove_temp_files(tmp_path / "absent") == 0


@pytest.mark.parametrize(
    ("value", "code", "reason"),
    [
        (b"{", "lake_invalid_json", "the value is not JSON: Expecting property name"),
        (b"[1]", "lake_invalid_json", "the value is JSON list, not object"),
        (None, "lake_invalid_json", "the value is not JSON: the JSON object must be str"),
        (json.dumps({"event_date": "2026-11-20"}), "lake_missing_event_id", "event_id=None"),
        (json.dumps(record("")), "lake_missing_event_id", "event_id='' is not a non-empty text"),
        (json.dumps(record("e", "../x")), "lake_bad_event_date", "event_date='../x' is not a"),
        (json.dumps({"event_id": "e"}), "lake_bad_event_date", "event_date is missing"),
    ],
)
def test_records_that_cannot_be_loaded_get_a_reason(value, code, reason):
    loaded, got_code, got_reason = loadable_record(value)
    assert (loaded, got_code) == (None, code)
    assert got_reason.startswith(reason)


def test_a_loadable_record_passes():
    assert loadable_record(json.dumps(record("e1")).encode()) == (record("e1"), None, None)


def test_a_record_that_does_not_fit_the_schema_is_refused_alone():
    rows = [
        (record("e1") | {"lon": 116.8}, 4),
        (record("e2") | {"lon": "east"}, 5),
        (record("e3") | {"event_time_ms": 2**70}, 6),
        (record("e4"), 7),
    ]
    table, refused = date_table(0, rows)
    assert table.column("event_id").to_pylist() == ["e1", "e4"]
    assert table.column("kafka_offset").to_pylist() == [4, 7]
    assert [offset for offset, _ in refused] == [5, 6]
    assert all(r.startswith("the record does not fit the lake's schema: ") for _, r in refused)


def test_a_batch_of_records_that_all_misfit_gives_no_table():
    table, refused = date_table(0, [(record("e1") | {"persons": "nobody"}, 0)])
    assert table is None and [offset for offset, _ in refused] == [0]


def test_ids_of_dates_dropped_from_the_cache_are_read_again(tmp_path):
    lake = LakeTable(tmp_path, "0a", cached_dates=1)
    for day in ("2026-11-20", "2026-11-21"):
        lake.write(day, 0, 0, 0, date_table(0, [(record(f"e-{day}", day), 0)])[0])
    assert list(lake._ids) == ["2026-11-21"]
    assert lake.event_ids("2026-11-20") == {"e-2026-11-20"}
    assert list(lake._ids) == ["2026-11-20"]
