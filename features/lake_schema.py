"""The lake's table layout: normalized records as an Arrow table.

The lake is the system of record for batch jobs. Its ``events`` table is
partitioned by ``event_date`` (local date, Asia/Shanghai). Channel-specific
attributes vary by channel, so they are kept as one JSON text column.
"""

from __future__ import annotations

import json

import pyarrow as pa

__all__ = [
    "EVENTS_SCHEMA",
    "PARTITION_COLUMN",
    "PARTITION_GLOB",
    "events_table",
    "partition_folder",
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
