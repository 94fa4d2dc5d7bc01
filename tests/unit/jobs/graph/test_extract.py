from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.graph.extract import night_window, profile_key, readable_event_files
from pipelines.errors import NoGraphData


def _partitions(table, days):
    for day in days:
        (table / f"event_date={day}").mkdir(parents=True)


def test_the_window_ends_on_the_night_and_spans_the_lookback(tmp_path):
    _partitions(tmp_path, ["2026-11-01", "2026-11-03", "2026-11-04", "2026-11-10"])
    (tmp_path / "event_date=2026-11-02").write_text("a file, not a partition")
    end, days = night_window(tmp_path, "2026-11-04", 3)
    # 3 days up to 11-04 start on 11-02; 11-02 has no partition.
    assert end == date(2026, 11, 4)
    assert days == [date(2026, 11, 3), date(2026, 11, 4)]


def test_without_a_night_the_window_ends_on_the_lakes_latest_day(tmp_path):
    _partitions(tmp_path, ["2026-11-01", "2026-11-03", "2026-11-04", "2026-11-10"])
    end, days = night_window(tmp_path, None, 7)
    assert end == date(2026, 11, 10)
    assert days == [date(2026, 11, 4), date(2026, 11, 10)]


def test_a_lake_without_partitions_has_no_graph(tmp_path):
    with pytest.raises(NoGraphData, match="has no event_date partitions"):
        night_window(tmp_path, None, 30)


def test_unreadable_files_are_skipped_by_name(tmp_path):
    _partitions(tmp_path, ["2026-11-03", "2026-11-04"])
    table = pa.table({"event_id": ["e1"]})
    for name in ("event_date=2026-11-04/part-1.parquet", "event_date=2026-11-03/part-0.parquet"):
        pq.write_table(table, tmp_path / name)
    bad = tmp_path / "event_date=2026-11-04" / "part-0.parquet"
    bad.write_bytes(b"this is not parquet")
    (tmp_path / "event_date=2026-11-04" / "notes.txt").write_text("not a parquet name")
    files, skipped = readable_event_files(tmp_path, [date(2026, 11, 3), date(2026, 11, 4)])
    assert files == [
        str(tmp_path / "event_date=2026-11-03" / "part-0.parquet"),
        str(tmp_path / "event_date=2026-11-04" / "part-1.parquet"),
    ]
    assert list(skipped) == [str(bad)]
    assert skipped[str(bad)].startswith("ArrowInvalid: ")


def test_the_profile_key_joins_the_tokens_and_the_village():
    person = {"id_hash": None, "name_hash": "n1", "phone_hash": "t1", "role": "caller"}
    assert profile_key(person, "v1") == "|n1|t1|v1"
    assert profile_key({"id_hash": "i1"}, None) == "i1|||"


def test_a_partition_folder_that_is_no_date_is_not_a_day(tmp_path):
    _partitions(tmp_path, ["2026-11-03", "..", "2026-02-30", "x"])
    end, days = night_window(tmp_path, None, 7)
    assert (end, days) == (date(2026, 11, 3), [date(2026, 11, 3)])
