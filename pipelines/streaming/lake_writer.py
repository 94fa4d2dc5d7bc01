"""Load the normalized topic into the date-partitioned Parquet lake.

Each batch of one Kafka partition becomes one Parquet file per event date,
named after the partition and the first and last offsets it holds:
``events/event_date=2026-11-27/part-p0-000000000100-000000000199.parquet``.
Offsets are committed after the files are written. If the loader dies between
writing and committing, the next run rewrites the batch from the same first
offset and first removes any file of that partition starting at or after it,
so the lake holds each record exactly once.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq

from features.lake_schema import PARTITION_GLOB, events_table, partition_folder
from pipelines.io.kafka import consume_until_end
from pipelines.settings import Settings

__all__ = ["GROUP_ID", "load_normalized", "LakeLoadReport"]

log = logging.getLogger(__name__)
GROUP_ID = "zongzhi-lake"
_PART = re.compile(r"part-p(\d+)-(\d{12})-(\d{12})\.parquet$")


class LakeLoadReport(dict):
    """Counts of one load: records, files written, records that were not JSON."""


def _remove_uncommitted(table_dir: Path, partition: int, first_offset: int) -> None:
    for path in table_dir.glob(f"{PARTITION_GLOB}/part-p{partition}-*.parquet"):
        match = _PART.search(path.name)
        if match and int(match.group(2)) >= first_offset:
            path.unlink()


def _write_batch(table_dir: Path, partition: int, messages: list) -> tuple[int, int]:
    first, last = messages[0].offset(), messages[-1].offset()
    _remove_uncommitted(table_dir, partition, first)
    by_date: dict[str, list] = defaultdict(list)
    unreadable = 0
    for message in messages:
        try:
            record = json.loads(message.value())
        except (TypeError, ValueError):
            # The normalizer writes only valid JSON; anything else is counted, not loaded.
            unreadable += 1
            continue
        by_date[record["event_date"]].append((record, message.offset()))
    files = 0
    for event_date, rows in by_date.items():
        folder = table_dir / partition_folder(event_date)
        folder.mkdir(parents=True, exist_ok=True)
        table = events_table([r for r, _ in rows], [partition] * len(rows), [o for _, o in rows])
        target = folder / f"part-p{partition}-{first:012d}-{last:012d}.parquet"
        tmp = target.with_suffix(".parquet.tmp")
        pq.write_table(table.drop_columns(["event_date"]), tmp, compression="zstd")
        os.replace(tmp, target)
        files += 1
    return files, unreadable


def load_normalized(settings: Settings, *, follow: bool = False) -> LakeLoadReport:
    """Consume the normalized topic into the lake; return what was loaded."""
    table_dir = settings.lake_table("normalized")
    table_dir.mkdir(parents=True, exist_ok=True)
    report = LakeLoadReport(records=0, files=0, unreadable=0)
    for consumer, messages in consume_until_end(
        settings, settings.topic("normalized"), GROUP_ID, follow=follow
    ):
        by_partition: dict[int, list] = defaultdict(list)
        for message in messages:
            by_partition[message.partition()].append(message)
        for partition, batch in by_partition.items():
            files, unreadable = _write_batch(table_dir, partition, batch)
            report["files"] += files
            report["unreadable"] += unreadable
            report["records"] += len(batch) - unreadable
        consumer.commit(asynchronous=False)
        log.info("lake: %d records so far", report["records"])
    return report
