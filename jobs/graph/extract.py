"""Extract: the night's window of the lake's events, and their person and vehicle mentions.

The window is the lake's ``event_date`` partitions over the last
``graph.lookback_days`` days up to the as-of date; Parquet files whose
footer cannot be read are skipped and reported by name. A mention is one
person or vehicle entry of an event, exploded in Spark; a person mention's
profile is its ID, name and phone tokens and the event's village.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from features.lake_schema import PARTITION_GLOB, event_date_problem, partition_folder
from pipelines.errors import NoGraphData

__all__ = [
    "PROFILE_FIELDS",
    "night_window",
    "readable_event_files",
    "read_events",
    "profile_key",
    "person_mentions",
    "vehicle_mentions",
]

#: A person mention's profile: these tokens and the event's village.
PROFILE_FIELDS = ("id_hash", "name_hash", "phone_hash")


def night_window(table: Path, as_of: str | None, lookback_days: int) -> tuple[date, list[date]]:
    """The night's date and the lake's days in its window.

    Parameters
    ----------
    table : Path
        The lake's events table, partitioned by ``event_date=YYYY-MM-DD``.
    as_of : str or None
        The night (ISO date); None for the lake's latest day.
    lookback_days : int
        How many days the window spans, ending with the night.

    Returns
    -------
    tuple
        ``(end, days)``: the night and the partitions' days within
        ``[end - lookback_days + 1, end]``, in order. Raises
        :class:`~pipelines.errors.NoGraphData` when the table has no partition.
    """
    # A folder whose value is no date (left by a loader before partition
    # values were checked) is not a day of the lake.
    days = sorted(
        date.fromisoformat(p.name.split("=", 1)[1])
        for p in table.glob(PARTITION_GLOB)
        if p.is_dir() and event_date_problem(p.name.split("=", 1)[1]) is None
    )
    if not days:
        raise NoGraphData(f"the lake table {table} has no event_date partitions")
    end = date.fromisoformat(as_of) if as_of else days[-1]
    start = end - timedelta(days=lookback_days - 1)
    return end, [d for d in days if start <= d <= end]


def readable_event_files(table: Path, days: list[date]) -> tuple[list[str], dict]:
    """The Parquet files of ``days`` whose footer reads, and why the others were skipped."""
    files, skipped = [], {}
    for day in days:
        for path in sorted((table / partition_folder(day.isoformat())).glob("*.parquet")):
            try:
                pq.read_metadata(path)
            except Exception as exc:  # noqa: BLE001 - any unreadable file is reported
                skipped[str(path)] = f"{type(exc).__name__}: {str(exc)[:200]}"
                continue
            files.append(str(path))
    return files, skipped


def read_events(spark, table: Path, files: list[str], keep):
    """The window's events as the graph reads them, and their flat columns, cached (Spark).

    Returns ``(events, flat_events)``: the nested events (entries, village,
    the plate-read site from ``attributes_json``), read again by each
    consumer, and (time, date, cell, category) persisted at ``keep``.
    """
    from pyspark.sql import functions as F

    # The nested events are read once per kind of entry for entity
    # resolution and once to build the resolved mentions (Parquet prunes
    # the other kind); only flat frames are cached.
    # One row per event_id (see docs/lake.md: the lake may repeat one across dates).
    source = (
        spark.read.option("mergeSchema", "true")
        .option("basePath", str(table))
        .parquet(*files)
        .dropDuplicates(["event_id"])
    )
    events = source.select(
        "event_id",
        "event_time_ms",
        "event_date",
        "cell_id",
        "source",
        "category",
        "village_code",
        "persons",
        "vehicles",
        F.get_json_object("attributes_json", "$.site_id").alias("site_id"),
    )
    flat_events = source.select("event_time_ms", "event_date", "cell_id", "category").persist(keep)
    return events, flat_events


def profile_key(person: dict, village: str | None) -> str:
    """The profile key :func:`person_mentions` gives a lake person entry, in Python.

    Examples
    --------
    >>> profile_key({"id_hash": "i1", "name_hash": None, "phone_hash": "t1"}, "v1")
    'i1||t1|v1'
    """
    return "|".join([*(person.get(k) or "" for k in PROFILE_FIELDS), village or ""])


def person_mentions(events):
    """One row per person entry: its tokens, the event's time and place, a profile key."""
    from pyspark.sql import functions as F

    exploded = events.select(
        "event_id",
        "event_time_ms",
        "event_date",
        "cell_id",
        "source",
        "category",
        "village_code",
        F.posexplode_outer("persons").alias("pos", "p"),
    )
    return (
        exploded.where(F.col("p").isNotNull())
        .select(
            "event_id",
            "pos",
            "event_time_ms",
            "event_date",
            "cell_id",
            "source",
            "category",
            "village_code",
            F.col("p.role").alias("role"),
            F.col("p.id_hash").alias("id_hash"),
            F.col("p.name_hash").alias("name_hash"),
            F.col("p.phone_hash").alias("phone_hash"),
            F.col("p.name_sound_hash").alias("name_sound_hash"),
            F.col("p.phone_deletion_hashes").alias("phone_deletion_hashes"),
        )
        .withColumn(
            "profile_key",
            F.concat_ws(
                "|", *(F.coalesce(F.col(c), F.lit("")) for c in (*PROFILE_FIELDS, "village_code"))
            ),
        )
    )


def vehicle_mentions(events):
    """One row per vehicle entry, with the reading site (``events.site_id``) for plate reads."""
    from pyspark.sql import functions as F

    exploded = events.select(
        "event_id",
        "event_time_ms",
        "event_date",
        "cell_id",
        "category",
        "site_id",
        F.posexplode_outer("vehicles").alias("pos", "v"),
    )
    return exploded.where(F.col("v").isNotNull()).select(
        "event_id",
        "pos",
        "event_time_ms",
        "event_date",
        "cell_id",
        "category",
        "site_id",
        F.col("v.role").alias("role"),
        F.col("v.plate_hash").alias("plate_hash"),
        F.col("v.plate_readable").alias("plate_readable"),
        F.col("v.plate_fold_hash").alias("plate_fold_hash"),
        F.col("v.plate_tail_hash").alias("plate_tail_hash"),
        F.col("v.plate_deletion_hashes").alias("plate_deletion_hashes"),
    )
