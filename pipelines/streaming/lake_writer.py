"""Load the normalized topic into the date-partitioned Parquet lake.

Each batch of one Kafka partition becomes one Parquet file per event date,
named after the topic's generation (the first hex digits of its Kafka UUID,
new at every ``zongzhi topics reset``), the partition and the first and last
offsets the batch holds:
``events/event_date=2026-11-27/part-g1a2b3c4d5e6f-p0-000000000100-000000000199.parquet``.

- **Exactly once by offset, within a generation.** Offsets are committed,
  with the generation as metadata, after the files are written. If the
  loader dies in between, the next run rewrites the batch from the same
  first offset and first removes the files of *that generation and
  partition* starting at or after it. Files of other generations are never
  removed, so a reload after a topic reset keeps the lake's history; the
  group's offsets of an earlier generation are moved to the new topic's
  beginning (:func:`~pipelines.io.topic_generation.align_group_offsets`).
- **Each event_id once per date.** A record whose ``event_id`` the lake
  already holds for its date (or that came earlier in the batch) is not
  written again; it is counted as a duplicate.
- **Validated partition values.** A record that is not JSON, has no
  ``event_id``, or whose ``event_date`` is not a real ``YYYY-MM-DD`` date is
  never joined into a path: it goes to the dead-letter topic with a reason.
- **Invisible temporary files.** A file is written under a hidden ``.tmp``
  name that Spark and pyarrow skip, then renamed; leftovers of a crash are
  removed at the next start.

See ``docs/lake.md``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import OrderedDict, defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from features.dead_letter import dead_letter_record
from features.lake_schema import (
    PARTITION_GLOB,
    event_date_problem,
    events_table,
    is_temp_file,
    lake_file_name,
    parse_lake_file_name,
    partition_folder,
    temp_file_name,
)
from pipelines.io.kafka import RecordProducer, consume_until_end
from pipelines.io.platform_state import pseudonym_key
from pipelines.io.topic_generation import align_group_offsets, topic_generation
from pipelines.settings import Settings

__all__ = [
    "GROUP_ID",
    "LAKE_REASON_CODES",
    "load_normalized",
    "LakeLoadReport",
    "LakeTable",
    "date_table",
    "loadable_record",
    "remove_temp_files",
]

log = logging.getLogger(__name__)
GROUP_ID = "zongzhi-lake"

#: Reason codes of the loader's dead letters (beside the normalizer's own).
LAKE_REASON_CODES = (
    "lake_invalid_json",
    "lake_missing_event_id",
    "lake_bad_event_date",
    "lake_schema_mismatch",
)
_SCHEMA_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError)


class LakeLoadReport(dict):
    """Counts of one load.

    ``records`` written, ``files`` written, ``duplicates`` (an event_id the
    lake already held for the date), ``dead_lettered`` (by reason code, also
    summed as ``unreadable``), ``temp_files_removed`` at start, and the
    topic ``generation`` loaded.
    """


def remove_temp_files(table_dir: Path) -> int:
    """Remove the temporary files a crashed load left behind; return how many.

    Only this loader writes the table, and it calls this before writing, so
    every temporary file found is a leftover.
    """
    removed = 0
    for folder in table_dir.glob(PARTITION_GLOB):
        for path in folder.iterdir():
            if is_temp_file(path.name):
                path.unlink()
                removed += 1
    return removed


class LakeTable:
    """The events table on disk, with the event_ids it holds per date.

    A date's ids are read from its files the first time a batch touches it
    and kept for the run; only the ``cached_dates`` most recently touched
    dates are kept, so that a loader that follows the stream for weeks holds
    a few days' ids, not the lake's.
    """

    def __init__(self, table_dir: Path, generation: str, cached_dates: int = 8):
        self.table_dir = table_dir
        self.generation = generation
        self.cached_dates = cached_dates
        self._ids: OrderedDict[str, set] = OrderedDict()
        self._cleaned: set[int] = set()

    def remove_uncommitted(self, partition: int, first_offset: int) -> None:
        """Remove this generation's files of ``partition`` from ``first_offset`` on.

        Only a previous, interrupted run can have left such files, so this
        looks once per partition and run: at the partition's first batch.
        """
        if partition in self._cleaned:
            return
        self._cleaned.add(partition)
        for path in self.table_dir.glob(f"{PARTITION_GLOB}/*.parquet"):
            named = parse_lake_file_name(path.name)
            if (
                named is not None
                and named.generation == self.generation
                and named.partition == partition
                and named.first_offset >= first_offset
            ):
                path.unlink()
                self._ids.pop(path.parent.name.split("=", 1)[1], None)

    def event_ids(self, event_date: str) -> set:
        """The event_ids the lake holds for ``event_date``."""
        if event_date in self._ids:
            self._ids.move_to_end(event_date)
            return self._ids[event_date]
        ids = set()
        folder = self.table_dir / partition_folder(event_date)
        for path in sorted(folder.glob("*.parquet")) if folder.is_dir() else ():
            try:
                ids.update(pq.read_table(path, columns=["event_id"]).column(0).to_pylist())
            except Exception as exc:  # noqa: BLE001 - a broken file must not stop the load
                # The graph job skips such a file too (jobs/graph/extract.py).
                log.warning("lake: %s is unreadable (%s); its event_ids are not known", path, exc)
        self._ids[event_date] = ids
        while len(self._ids) > self.cached_dates:
            self._ids.popitem(last=False)
        return ids

    def write(self, event_date: str, partition: int, first: int, last: int, table) -> None:
        """Write one date's rows of a batch: to a hidden name, then renamed."""
        folder = self.table_dir / partition_folder(event_date)
        folder.mkdir(parents=True, exist_ok=True)
        name = lake_file_name(self.generation, partition, first, last)
        tmp = folder / temp_file_name(name)
        pq.write_table(table.drop_columns(["event_date"]), tmp, compression="zstd")
        os.replace(tmp, folder / name)
        self.event_ids(event_date).update(table.column("event_id").to_pylist())


def date_table(partition: int, rows: list) -> tuple:
    """The events table of one date's ``(record, offset)`` rows, and the rows it refused.

    A record whose fields do not fit the lake's schema (text where a number
    belongs, say) is refused with the reason, and the others are kept.
    Returns ``(table or None, [(offset, reason), ...])``.
    """
    try:
        return events_table([r for r, _ in rows], [partition] * len(rows), [o for _, o in rows]), []
    except _SCHEMA_ERRORS:
        pass
    good, refused = [], []
    for record, offset in rows:
        try:
            events_table([record], [partition], [offset])
            good.append((record, offset))
        except _SCHEMA_ERRORS as exc:
            refused.append((offset, f"the record does not fit the lake's schema: {str(exc)[:200]}"))
    if not good:
        return None, refused
    return date_table(partition, good)[0], refused


def loadable_record(value) -> tuple[dict | None, str | None, str | None]:
    """``(record, None, None)`` for a loadable value, else ``(None, reason_code, reason)``."""
    try:
        record = json.loads(value)
    except (TypeError, ValueError) as exc:
        return None, "lake_invalid_json", f"the value is not JSON: {str(exc)[:200]}"
    if not isinstance(record, dict):
        return None, "lake_invalid_json", f"the value is JSON {type(record).__name__}, not object"
    event_id = record.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        return None, "lake_missing_event_id", f"event_id={event_id!r:.80} is not a non-empty text"
    problem = event_date_problem(record.get("event_date"))
    if problem:
        return None, "lake_bad_event_date", problem
    return record, None, None


def _first_per_event_id(rows: list) -> list:
    seen, first = set(), []
    for record, offset in rows:
        if record["event_id"] not in seen:
            seen.add(record["event_id"])
            first.append((record, offset))
    return first


def _write_batch(lake: LakeTable, partition: int, messages: list) -> tuple[dict, list]:
    """Write one partition's batch; return its counts and its dead letters."""
    first, last = messages[0].offset(), messages[-1].offset()
    lake.remove_uncommitted(partition, first)
    counts = defaultdict(int)
    letters = []
    by_offset = {m.offset(): m for m in messages}
    candidates: dict[str, list] = defaultdict(list)
    for message in messages:
        record, code, reason = loadable_record(message.value())
        if record is None:
            letters.append((message, code, reason))
        elif record["event_id"] in lake.event_ids(record["event_date"]):
            counts["duplicates"] += 1
        else:
            candidates[record["event_date"]].append((record, message.offset()))
    for event_date, rows in candidates.items():
        # The first record of each event_id is kept; if the schema refuses
        # it, the next record of that id (if any) takes its place.
        while True:
            kept = _first_per_event_id(rows)
            table, refused = date_table(partition, kept)
            if not refused:
                break
            bad = {offset for offset, _ in refused}
            letters.extend((by_offset[o], "lake_schema_mismatch", why) for o, why in refused)
            rows = [row for row in rows if row[1] not in bad]
            if not rows:
                break
        counts["duplicates"] += len(rows) - len(kept) if rows else 0
        if rows and table is not None:
            lake.write(event_date, partition, first, last, table)
            counts["files"] += 1
            counts["records"] += table.num_rows
    return counts, letters


def _send_dead_letters(settings: Settings, letters: list) -> None:
    """Produce the batch's dead letters and wait for their delivery (raises if one fails)."""
    key = pseudonym_key(settings)
    now_ms = int(time.time() * 1000)
    with RecordProducer(settings) as producer:
        for message, code, reason in letters:
            letter = dead_letter_record(
                message.value(),
                code,
                reason,
                channel=None,
                topic=message.topic(),
                partition=message.partition(),
                offset=message.offset(),
                key=key,
                now_ms=now_ms,
            )
            producer.send(
                settings.topic("dead_letter"),
                json.dumps(letter, ensure_ascii=False).encode("utf-8"),
                key=f"{message.topic()}-{message.partition()}-{message.offset()}".encode(),
            )


def load_normalized(settings: Settings, *, follow: bool = False) -> LakeLoadReport:
    """Consume the normalized topic into the lake; return what was loaded."""
    from confluent_kafka import TopicPartition

    topic = settings.topic("normalized")
    table_dir = settings.lake_table("normalized")
    table_dir.mkdir(parents=True, exist_ok=True)
    report = LakeLoadReport(
        records=0, files=0, duplicates=0, unreadable=0, dead_lettered={}, temp_files_removed=0
    )
    report["temp_files_removed"] = remove_temp_files(table_dir)
    generation = topic_generation(settings, topic)
    report["generation"] = generation
    moved = align_group_offsets(settings, GROUP_ID, topic, generation)
    if moved:
        log.info("lake: topic %s is a new generation %s; reading from %s", topic, generation, moved)
    lake = LakeTable(table_dir, generation)
    for consumer, messages in consume_until_end(settings, topic, GROUP_ID, follow=follow):
        by_partition: dict[int, list] = defaultdict(list)
        for message in messages:
            by_partition[message.partition()].append(message)
        letters = []
        for partition, batch in by_partition.items():
            counts, batch_letters = _write_batch(lake, partition, batch)
            for name in ("records", "files", "duplicates"):
                report[name] += counts[name]
            letters.extend(batch_letters)
        if letters:
            # Dead letters are delivered before the offsets move past their records.
            _send_dead_letters(settings, letters)
            for _, code, _ in letters:
                report["dead_lettered"][code] = report["dead_lettered"].get(code, 0) + 1
            report["unreadable"] += len(letters)
        consumer.commit(
            offsets=[
                TopicPartition(topic, p, batch[-1].offset() + 1, metadata=generation)
                for p, batch in sorted(by_partition.items())
            ],
            asynchronous=False,
        )
        log.info("lake: %d records so far", report["records"])
    return report
