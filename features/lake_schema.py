"""The lake's table layout: normalized records as an Arrow table, and its file names.

The lake is the system of record for batch jobs. Its ``events`` table is
partitioned by ``event_date`` (local date, Asia/Shanghai). Channel-specific
attributes vary by channel, so they are kept as one JSON text column.

A data file is named after the topic generation it came from, its Kafka
partition and the first and last offsets of its batch
(``part-g<generation>-p<partition>-<first>-<last>.parquet``); a file being
written has a name every reader skips (a leading dot, a ``.tmp`` suffix).
See ``docs/lake.md`` for the guarantees these names carry.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import NamedTuple

import pyarrow as pa

__all__ = [
    "EVENTS_SCHEMA",
    "PARTITION_COLUMN",
    "PARTITION_GLOB",
    "events_table",
    "partition_folder",
    "event_date_problem",
    "LakeFile",
    "lake_file_name",
    "parse_lake_file_name",
    "temp_file_name",
    "is_temp_file",
]

_PERSON = pa.struct(
    [
        ("role", pa.string()),
        ("id_hash", pa.string()),
        ("phone_hash", pa.string()),
        ("name_hash", pa.string()),
        # Match keys for mentions without an ID (features/person_keys.py).
        ("name_sound_hash", pa.string()),
        ("phone_deletion_hashes", pa.list_(pa.string())),
    ]
)
_VEHICLE = pa.struct(
    [
        ("role", pa.string()),
        ("plate_hash", pa.string()),
        # Misread-plate match keys (features/plate_keys.py); null before they existed.
        ("plate_readable", pa.bool_()),
        ("plate_fold_hash", pa.string()),
        ("plate_tail_hash", pa.string()),
        ("plate_deletion_hashes", pa.list_(pa.string())),
    ]
)

#: Columns of the lake's events table (``event_date`` is the partition column).
EVENTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("schema_version", pa.int32()),
        ("source", pa.string()),
        ("category", pa.string()),
        ("category_group", pa.string()),
        ("event_time_ms", pa.int64()),
        ("report_time_ms", pa.int64()),
        ("event_date", pa.string()),
        ("lon", pa.float64()),
        ("lat", pa.float64()),
        ("reported_crs", pa.string()),
        ("cell_id", pa.string()),
        ("district_code", pa.string()),
        ("town_code", pa.string()),
        ("town_name", pa.string()),
        ("village_code", pa.string()),
        ("village_name", pa.string()),
        ("persons", pa.list_(_PERSON)),
        ("vehicles", pa.list_(_VEHICLE)),
        ("attributes_json", pa.string()),
        ("kafka_partition", pa.int32()),
        ("kafka_offset", pa.int64()),
    ]
)


def events_table(records: list[dict], partitions: list[int], offsets: list[int]) -> pa.Table:
    """Build the events table from normalized records and their Kafka positions.

    Examples
    --------
    >>> t = events_table([{"event_id": "e1", "schema_version": 1, "source": "grid",
    ...     "category": "public_order.fight", "category_group": "public_order",
    ...     "event_time_ms": 0, "report_time_ms": 0, "event_date": "1970-01-01",
    ...     "lon": 116.8, "lat": 40.4, "reported_crs": "GCJ02", "cell_id": "r001c002",
    ...     "district_code": "110118", "town_code": "110118001", "town_name": "t",
    ...     "village_code": "110118001001", "village_name": "v", "persons": [],
    ...     "vehicles": [], "attributes": {"reporter_id": "G1"}}], [0], [7])
    >>> t.num_rows, t.column("attributes_json")[0].as_py(), t.column("kafka_offset")[0].as_py()
    (1, '{"reporter_id": "G1"}', 7)
    """
    if not (len(records) == len(partitions) == len(offsets)):
        raise ValueError(
            f"records, partitions and offsets must have one length; got "
            f"{len(records)}, {len(partitions)}, {len(offsets)}"
        )
    columns = {name: [] for name in EVENTS_SCHEMA.names}
    for record, partition, offset in zip(records, partitions, offsets):
        for name in EVENTS_SCHEMA.names:
            if name == "attributes_json":
                columns[name].append(
                    json.dumps(record.get("attributes", {}), ensure_ascii=False, sort_keys=True)
                )
            elif name == "kafka_partition":
                columns[name].append(partition)
            elif name == "kafka_offset":
                columns[name].append(offset)
            else:
                columns[name].append(record.get(name))
    return pa.table(columns, schema=EVENTS_SCHEMA)


#: The events table is partitioned by this column: one folder per local date.
PARTITION_COLUMN = "event_date"
#: Matches every partition folder of the events table.
PARTITION_GLOB = f"{PARTITION_COLUMN}=*"


def partition_folder(event_date: str) -> str:
    """The folder name of one event date's files.

    Examples
    --------
    >>> partition_folder("2026-11-27")
    'event_date=2026-11-27'
    """
    return f"{PARTITION_COLUMN}={event_date}"


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def event_date_problem(value) -> str | None:
    """Why ``value`` cannot be a partition value; None when it is a real ``YYYY-MM-DD`` date.

    The value becomes a folder name, so only a calendar date written in
    exactly ten characters is allowed: anything else (missing, not text,
    ``"../x"``, ``"2026-02-30"``) is refused with the reason.

    Examples
    --------
    >>> event_date_problem("2026-11-27") is None
    True
    >>> event_date_problem(None)
    'event_date is missing; a YYYY-MM-DD date is required'
    >>> event_date_problem("../x")
    "event_date='../x' is not a YYYY-MM-DD date"
    >>> event_date_problem("2026-02-30")
    "event_date='2026-02-30' is not a YYYY-MM-DD date"
    """
    if value is None:
        return "event_date is missing; a YYYY-MM-DD date is required"
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return f"event_date={value!r:.80} is not a YYYY-MM-DD date"
    try:
        date.fromisoformat(value)
    except ValueError:
        return f"event_date={value!r} is not a YYYY-MM-DD date"
    return None


class LakeFile(NamedTuple):
    """What a data file's name says: topic generation (None before generations), partition, offsets."""

    generation: str | None
    partition: int
    first_offset: int
    last_offset: int


_GENERATION = re.compile(r"[0-9a-f]{1,32}")
_DATA_FILE = re.compile(r"part-(?:g([0-9a-f]{1,32})-)?p([0-9]+)-([0-9]{12})-([0-9]{12})\.parquet")


def lake_file_name(generation: str, partition: int, first_offset: int, last_offset: int) -> str:
    """The name of the data file of one batch of one partition of one topic generation.

    Examples
    --------
    >>> lake_file_name("1a2b3c4d5e6f", 0, 100, 199)
    'part-g1a2b3c4d5e6f-p0-000000000100-000000000199.parquet'
    >>> lake_file_name("../", 0, 1, 2)
    Traceback (most recent call last):
    ...
    ValueError: generation='../' is not 1 to 32 lowercase hex digits
    """
    if not isinstance(generation, str) or not _GENERATION.fullmatch(generation):
        raise ValueError(f"generation={generation!r} is not 1 to 32 lowercase hex digits")
    if partition < 0 or not 0 <= first_offset <= last_offset:
        raise ValueError(
            f"partition={partition}, offsets {first_offset}..{last_offset}: "
            "a partition and offsets >= 0, first <= last, are required"
        )
    return f"part-g{generation}-p{partition}-{first_offset:012d}-{last_offset:012d}.parquet"


def parse_lake_file_name(name: str) -> LakeFile | None:
    """The generation, partition and offsets of a data file name; None for any other name.

    Files written before generations existed (``part-p0-...``) have
    generation None.

    Examples
    --------
    >>> parse_lake_file_name("part-g1a2b3c4d5e6f-p1-000000000000-000000000009.parquet")
    LakeFile(generation='1a2b3c4d5e6f', partition=1, first_offset=0, last_offset=9)
    >>> parse_lake_file_name("part-p0-000000000100-000000000199.parquet").generation is None
    True
    >>> parse_lake_file_name(".part-g1a-p0-000000000000-000000000009.parquet.tmp") is None
    True
    """
    match = _DATA_FILE.fullmatch(name)
    if match is None:
        return None
    generation, partition, first, last = match.groups()
    return LakeFile(generation, int(partition), int(first), int(last))


#: Readers skip names that start with these (Spark and Hadoop: "." and "_";
#: pyarrow datasets: the same by default).
_HIDDEN_PREFIX = "."
_TEMP_SUFFIX = ".tmp"


def temp_file_name(name: str) -> str:
    """The name a data file has while it is written: hidden from every reader.

    The leading dot makes Spark, Hadoop and pyarrow datasets skip it; the
    ``.tmp`` suffix keeps it out of any ``*.parquet`` glob.

    Examples
    --------
    >>> temp_file_name("part-g1a-p0-000000000000-000000000009.parquet")
    '.part-g1a-p0-000000000000-000000000009.parquet.tmp'
    """
    return f"{_HIDDEN_PREFIX}{name}{_TEMP_SUFFIX}"


def is_temp_file(name: str) -> bool:
    """Whether ``name`` is a data file being written, or left behind by a crash.

    Also true for the ``<name>.parquet.tmp`` files of loaders before hidden names.

    Examples
    --------
    >>> is_temp_file(".part-g1a-p0-000000000000-000000000009.parquet.tmp")
    True
    >>> is_temp_file("part-p0-000000000000-000000000009.parquet.tmp")
    True
    >>> is_temp_file("part-g1a-p0-000000000000-000000000009.parquet")
    False
    """
    return (
        name.startswith("part-")
        and name.endswith(".parquet" + _TEMP_SUFFIX)
        or (name.startswith(_HIDDEN_PREFIX + "part-") and name.endswith(_TEMP_SUFFIX))
    )
