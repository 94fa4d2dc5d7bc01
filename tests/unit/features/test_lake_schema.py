"""Tests for features.lake_schema: partition values, data file names, temporary names."""

from __future__ import annotations

import pytest

from features.lake_schema import (
    LakeFile,
    event_date_problem,
    is_temp_file,
    lake_file_name,
    parse_lake_file_name,
    partition_folder,
    temp_file_name,
)


@pytest.mark.parametrize("value", ["2026-11-27", "2024-02-29", "1970-01-01"])
def test_a_real_date_is_a_partition_value(value):
    assert event_date_problem(value) is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "event_date is missing; a YYYY-MM-DD date is required"),
        ("../x", "event_date='../x' is not a YYYY-MM-DD date"),
        ("2026-11-27/../../x", "event_date='2026-11-27/../../x' is not a YYYY-MM-DD date"),
        ("2026-02-30", "event_date='2026-02-30' is not a YYYY-MM-DD date"),
        ("2025-02-29", "event_date='2025-02-29' is not a YYYY-MM-DD date"),
        ("2026-1-27", "event_date='2026-1-27' is not a YYYY-MM-DD date"),
        ("２０２６-11-27", "event_date='２０２６-11-27' is not a YYYY-MM-DD date"),
        ("2026-11-27\n", "event_date='2026-11-27\\n' is not a YYYY-MM-DD date"),
        (20261127, "event_date=20261127 is not a YYYY-MM-DD date"),
        ("", "event_date='' is not a YYYY-MM-DD date"),
    ],
)
def test_anything_else_is_refused_with_its_value(value, reason):
    assert event_date_problem(value) == reason


def test_a_long_bad_value_is_cut_in_the_reason():
    reason = event_date_problem("x" * 10_000)
    assert reason == f"event_date={('x' * 10_000)!r:.80} is not a YYYY-MM-DD date"
    assert len(reason) == 80 + len("event_date= is not a YYYY-MM-DD date")


def test_file_name_carries_generation_partition_and_offsets():
    name = lake_file_name("00ff00ff00ff", 3, 0, 1234567)
    assert name == "part-g00ff00ff00ff-p3-000000000000-000001234567.parquet"
    assert parse_lake_file_name(name) == LakeFile("00ff00ff00ff", 3, 0, 1234567)


def test_files_before_generations_parse_with_no_generation():
    assert parse_lake_file_name("part-p1-000000000100-000000000199.parquet") == LakeFile(
        None, 1, 100, 199
    )


@pytest.mark.parametrize(
    "name",
    [
        "part-g00ff-p0-000000000000-000000000009.parquet.tmp",
        ".part-g00ff-p0-000000000000-000000000009.parquet.tmp",
        "part-gXYZ-p0-000000000000-000000000009.parquet",
        "part-p0-0-9.parquet",
        "_SUCCESS",
        "frame.parquet",
    ],
)
def test_other_names_are_not_data_files(name):
    assert parse_lake_file_name(name) is None


@pytest.mark.parametrize(
    ("generation", "partition", "first", "last", "match"),
    [
        ("../..", 0, 0, 1, r"generation='\.\./\.\.' is not 1 to 32 lowercase hex digits"),
        ("ABC", 0, 0, 1, r"generation='ABC' is not 1 to 32 lowercase hex digits"),
        ("", 0, 0, 1, r"generation='' is not 1 to 32 lowercase hex digits"),
        ("ab", -1, 0, 1, r"partition=-1, offsets 0\.\.1: a partition and offsets >= 0"),
        ("ab", 0, 5, 4, r"partition=0, offsets 5\.\.4: a partition and offsets >= 0"),
    ],
)
def test_bad_name_parts_are_refused(generation, partition, first, last, match):
    with pytest.raises(ValueError, match=match):
        lake_file_name(generation, partition, first, last)


def test_temporary_name_is_hidden_from_readers_and_globs():
    name = lake_file_name("0a", 0, 5, 9)
    tmp = temp_file_name(name)
    assert tmp == ".part-g0a-p0-000000000005-000000000009.parquet.tmp"
    # Spark, Hadoop and pyarrow datasets skip names starting with "." or "_";
    # a "*.parquet" glob does not match the suffix.
    assert tmp[0] in "._" and not tmp.endswith(".parquet")
    assert is_temp_file(tmp) and not is_temp_file(name)
    assert parse_lake_file_name(tmp) is None


def test_temporary_names_of_the_earlier_loader_are_recognized():
    assert is_temp_file("part-p0-000000000000-000000000009.parquet.tmp")
    assert not is_temp_file("notes.tmp")
    assert not is_temp_file(".hidden")


def test_partition_folder():
    assert partition_folder("2026-11-27") == "event_date=2026-11-27"
