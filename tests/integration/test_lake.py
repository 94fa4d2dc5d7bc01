"""The lake loader on real Kafka and Spark: generations, bad dates, temp files, duplicates.

Normalized records are produced straight to the normalized topic (the
normalization job is tested elsewhere); the loader runs as ``zongzhi lake``,
topics are re-created with ``zongzhi topics reset``, and the lake is read
back with pyarrow and with the nightly and graph jobs' own Spark readers.
"""

from __future__ import annotations

import errno
import json
import shutil
from datetime import date
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from features.lake_schema import parse_lake_file_name
from features.record_pseudonyms import event_token
from pipelines.harness.steps import run_step
from pipelines.io.kafka import RecordProducer, delete_groups, reset_topics
from pipelines.io.kafka_security import ADMIN
from pipelines.io.platform_state import pseudonym_key
from pipelines.streaming import lake_writer

from .kafka_read import read_topic

pytestmark = pytest.mark.integration

DAY = "2026-11-20"
NEXT_DAY = "2026-11-21"


def normalized(event_id: str, event_date: str | None = DAY, **extra) -> dict:
    """A normalized record as the normalization job writes it (identifiers already tokens)."""
    record = {
        "event_id": event_id,
        "schema_version": 1,
        "source": "grid",
        "category": "public_order.fight",
        "category_group": "public_order",
        "event_time_ms": 1_763_600_000_000,
        "report_time_ms": 1_763_600_060_000,
        "lon": 116.84,
        "lat": 40.37,
        "reported_crs": "GCJ02",
        "cell_id": "r010c020",
        "district_code": "110118",
        "town_code": "110118001",
        "town_name": "鼓楼街道",
        "village_code": "110118001001",
        "village_name": "v",
        "persons": [],
        "vehicles": [],
        "attributes": {"reporter_id": "G1"},
    }
    if event_date is not None:
        record["event_date"] = event_date
    record.update(extra)
    return record


def produce(settings, values: list) -> None:
    with RecordProducer(settings, principal=ADMIN) as producer:
        for value in values:
            if isinstance(value, dict):
                key = value.get("event_id", "none").encode()
                value = json.dumps(value, ensure_ascii=False).encode("utf-8")
            else:
                key = b"raw"
            producer.send(settings.topic("normalized"), value, key=key)


def lake_files(settings) -> dict[str, bytes]:
    table = settings.lake_table("normalized")
    return {
        str(p.relative_to(table)): p.read_bytes() for p in sorted(table.rglob("*")) if p.is_file()
    }


def lake_event_ids(settings) -> list[str]:
    table = ds.dataset(settings.lake_table("normalized"), format="parquet", partitioning="hive")
    return sorted(table.to_table(columns=["event_id"]).column(0).to_pylist())


@pytest.fixture
def empty_lake(settings):
    delete_groups(settings, [lake_writer.GROUP_ID])
    reset_topics(settings, [settings.topic("normalized"), settings.topic("dead_letter")])
    shutil.rmtree(settings.lake_table("normalized"), ignore_errors=True)
    return settings


@pytest.fixture(scope="module")
def spark(settings):
    from pipelines.io.spark import spark_session

    session = spark_session(settings, "test-lake")
    yield session
    session.stop()


def test_a_topic_reset_then_a_reload_keeps_the_earlier_files(empty_lake):
    settings = empty_lake
    first = [normalized(f"before-{i}") for i in range(8)]
    produce(settings, first)
    loaded = run_step(settings, "lake")
    assert (loaded["records"], loaded["unreadable"]) == (8, 0)
    before = lake_files(settings)

    run_step(settings, "topics", "reset")
    # Fewer records than before: offsets kept from the old topic would lie
    # beyond the new end; a new generation starts again at offset 0.
    second = [normalized(f"after-{i}", NEXT_DAY if i % 2 else DAY) for i in range(3)]
    produce(settings, second)
    reloaded = run_step(settings, "lake")

    after = lake_files(settings)
    assert {n: after.get(n) for n in before} == before  # every earlier file, unchanged
    assert lake_event_ids(settings) == sorted(r["event_id"] for r in first + second)
    assert reloaded["records"] == 3
    # Each load's files carry its topic generation.
    generations = {n: parse_lake_file_name(Path(n).name).generation for n in after}
    assert {generations[n] for n in before} == {loaded["generation"]}
    assert {generations[n] for n in set(after) - set(before)} == {reloaded["generation"]}
    assert reloaded["generation"] != loaded["generation"]

    # Loading again finds nothing new: the offsets are the new generation's.
    again = run_step(settings, "lake")
    assert (again["records"], again["files"]) == (0, 0)
    assert lake_files(settings) == after


def test_bad_event_dates_are_dead_lettered_not_joined_into_paths(empty_lake):
    settings = empty_lake
    values = [
        normalized("good-1"),
        normalized("no-date", event_date=None),
        normalized("climber", event_date="../x"),
        normalized("deep-climber", event_date="/../../../tmp/zz-lake-escape"),
        normalized("feb-30", event_date="2026-02-30"),
        normalized("number-date", event_date=20261120),
        normalized("text-longitude", lon="east"),
        {"event_date": DAY, "note": "no event_id"},
        b"\xff\xfe not json",
        normalized("good-2", NEXT_DAY),
    ]
    produce(settings, values)
    report = run_step(settings, "lake")

    assert report["records"] == 2
    assert report["dead_lettered"] == {
        "lake_bad_event_date": 5,
        "lake_missing_event_id": 1,
        "lake_invalid_json": 1,
        "lake_schema_mismatch": 1,
    }
    assert report["unreadable"] == 8
    table = settings.lake_table("normalized")
    assert sorted(p.name for p in table.iterdir()) == [
        f"event_date={DAY}",
        f"event_date={NEXT_DAY}",
    ]
    assert not Path("/tmp/zz-lake-escape").exists()
    assert not (table.parent / "x").exists()
    assert lake_event_ids(settings) == ["good-1", "good-2"]

    letters = [json.loads(v) for v in read_topic(settings, settings.topic("dead_letter"))]
    by_reason = sorted((d["reason_code"], d["reason"]) for d in letters)
    assert by_reason == [
        ("lake_bad_event_date", "event_date is missing; a YYYY-MM-DD date is required"),
        ("lake_bad_event_date", "event_date='../x' is not a YYYY-MM-DD date"),
        (
            "lake_bad_event_date",
            "event_date='/../../../tmp/zz-lake-escape' is not a YYYY-MM-DD date",
        ),
        ("lake_bad_event_date", "event_date='2026-02-30' is not a YYYY-MM-DD date"),
        ("lake_bad_event_date", "event_date=20261120 is not a YYYY-MM-DD date"),
        ("lake_invalid_json", by_reason[5][1]),
        ("lake_missing_event_id", "event_id=None is not a non-empty text"),
        ("lake_schema_mismatch", by_reason[7][1]),
    ]
    assert by_reason[5][1].startswith("the value is not JSON: ")
    assert by_reason[7][1].startswith("the record does not fit the lake's schema: ")
    # Each letter names where its record is, and keeps the record.
    assert all(d["topic"] == settings.topic("normalized") and d["offset"] >= 0 for d in letters)
    # (their event ids, not tokens here, are scrubbed into their tokens)
    key = pseudonym_key(settings)
    climbers = [event_token(i, key) for i in ("climber", "deep-climber")]
    assert sum(any(t in (d["raw_scrubbed"] or "") for t in climbers) for d in letters) == 2

    # The offsets moved past the dead letters: a second load sends none again.
    assert run_step(settings, "lake")["unreadable"] == 0
    assert len(read_topic(settings, settings.topic("dead_letter"))) == 8


def test_a_temp_file_left_by_a_full_disk_is_never_read(empty_lake, spark, monkeypatch):
    from jobs.graph.extract import readable_event_files
    from jobs.nightly.job import extract_events

    settings = empty_lake
    produce(settings, [normalized(f"kept-{i}") for i in range(5)])
    assert lake_writer.load_normalized(settings)["records"] == 5
    produce(settings, [normalized(f"lost-{i}") for i in range(4)])

    real_write = pq.write_table

    def write_until_the_disk_is_full(table, where, **kwargs):
        real_write(table, where, **kwargs)
        size = Path(where).stat().st_size
        with open(where, "r+b") as f:
            f.truncate(size // 2)
        raise OSError(errno.ENOSPC, "No space left on device", str(where))

    monkeypatch.setattr(lake_writer.pq, "write_table", write_until_the_disk_is_full)
    with pytest.raises(OSError, match="No space left on device"):
        lake_writer.load_normalized(settings)
    monkeypatch.undo()

    table = settings.lake_table("normalized")
    leftovers = [p for p in table.rglob("*") if p.is_file() and p.suffix == ".tmp"]
    assert len(leftovers) == 1 and leftovers[0].stat().st_size > 0

    # Every reader skips it: the nightly job's Spark read, the graph's file
    # list, a pyarrow dataset.
    nightly_ids = sorted(r.event_id for r in extract_events(spark, settings).collect())
    assert nightly_ids == [f"kept-{i}" for i in range(5)]
    files, corrupt = readable_event_files(table, [date(2026, 11, 20)])
    committed = [p for p in table.rglob("*") if p.is_file() and p != leftovers[0]]
    assert corrupt == {} and sorted(files) == sorted(str(p) for p in committed)
    assert lake_event_ids(settings) == nightly_ids

    # The next start removes it, then loads the batch that failed.
    report = lake_writer.load_normalized(settings)
    assert (report["temp_files_removed"], report["records"]) == (1, 4)
    assert not [p for p in table.rglob("*") if p.suffix == ".tmp"]
    assert lake_event_ids(settings) == sorted(
        [f"kept-{i}" for i in range(5)] + [f"lost-{i}" for i in range(4)]
    )


def test_a_duplicated_event_id_is_loaded_once_and_counted_once(empty_lake, spark):
    from jobs.graph.extract import read_events, readable_event_files
    from jobs.nightly.job import extract_events

    settings = empty_lake
    twice = normalized("twice")
    produce(settings, [twice, normalized("once"), twice])
    first = run_step(settings, "lake")
    assert lake_event_ids(settings) == ["once", "twice"]
    assert (first["records"], first["duplicates"]) == (2, 1)
    # Produced again after it was loaded: the lake already holds it for the date.
    produce(settings, [twice, normalized("later")])
    second = run_step(settings, "lake")
    assert lake_event_ids(settings) == ["later", "once", "twice"]
    assert (second["records"], second["duplicates"]) == (1, 1)

    # The same event under another date (a corrected event time) is written
    # for that date too; the batch jobs count it once.
    produce(settings, [normalized("twice", NEXT_DAY)])
    assert run_step(settings, "lake")["records"] == 1
    assert lake_event_ids(settings) == ["later", "once", "twice", "twice"]

    nightly = extract_events(spark, settings)
    assert sorted(r.event_id for r in nightly.collect()) == ["later", "once", "twice"]
    table = settings.lake_table("normalized")
    files, _ = readable_event_files(table, [date(2026, 11, 20), date(2026, 11, 21)])
    from pyspark import StorageLevel

    events, flat = read_events(spark, table, files, StorageLevel.MEMORY_ONLY)
    assert sorted(r.event_id for r in events.collect()) == ["later", "once", "twice"]
    assert flat.count() == 3
