"""The night's snapshot in the lake: ``<lake>/<graph_table>/as_of=<date>/``.

"As of D" is the folder for D. It holds ``edges`` and ``nodes`` (Spark
Parquet folders), ``entities.parquet``, ``companions.parquet`` and
``metrics.parquet``, and ``new_links`` when the night before has a
snapshot: tonight's edges absent from it, each ``observed`` (its first
event was on D) or ``resolved`` (tonight's entity resolution tied older
events to an entity). These are written aside and the folder renamed into
place; the night's smaller tables are added to it afterwards
(:func:`add_to_snapshot`).
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from features.local_time import DISTRICT_TZ
from jobs.graph.key_rotation import node_ids_to_current
from pipelines.settings import Settings

__all__ = ["snapshot_path", "day_start_ms", "new_links", "write_snapshot", "add_to_snapshot"]


def snapshot_path(settings: Settings, as_of: date | str, lake: Path | None = None) -> Path:
    """The snapshot folder of the night ``as_of``: ``<lake>/<graph_table>/as_of=<date>``.

    Parameters
    ----------
    settings : Settings
        Name the graph table and, unless ``lake`` is given, the lake.
    as_of : datetime.date or str
        The night, or its ISO date.
    lake : Path, optional
        A lake of its own (a bench's or an eval's) instead of the settings'.

    Examples
    --------
    >>> from pathlib import Path
    >>> settings = Settings(raw={"lake": {"graph_table": "graph"}}, root=Path("."), var=Path("."))
    >>> snapshot_path(settings, date(2026, 11, 4), lake=Path("/lake")).as_posix()
    '/lake/graph/as_of=2026-11-04'
    """
    night = as_of.isoformat() if isinstance(as_of, date) else as_of
    root = settings.lake if lake is None else Path(lake)
    return root / settings.section("lake")["graph_table"] / f"as_of={night}"


def day_start_ms(day: date) -> int:
    """Epoch milliseconds of the day's first instant in the district's time zone.

    Examples
    --------
    >>> day_start_ms(date(1970, 1, 2))  # midnight in Beijing is 16:00 UTC the day before
    57600000
    """
    return int(datetime.combine(day, datetime.min.time(), DISTRICT_TZ).timestamp() * 1000)


def new_links(edges, before, night_start_ms: int):
    """Tonight's ``edges`` absent from ``before`` (by src, dst, type), each with its ``reason`` (Spark).

    A link is new because its first event happened on the night
    (``observed``, ``first_ms >= night_start_ms``), or because tonight's
    entity resolution tied older events to an entity they were not tied to
    yesterday (``resolved``).
    """
    from pyspark.sql import functions as F

    return edges.join(before, ["src", "dst", "type"], "left_anti").withColumn(
        "reason",
        F.when(F.col("first_ms") >= night_start_ms, F.lit("observed")).otherwise(F.lit("resolved")),
    )


def write_snapshot(
    settings: Settings,
    spark,
    end: date,
    *,
    edges,
    nodes,
    entities: pd.DataFrame,
    companions: pd.DataFrame,
    metrics: pd.DataFrame,
):
    """Write the night's snapshot aside and rename it into place, replacing an older one.

    Returns ``(snapshot, new_links)``: the folder, and the night's new links
    (Spark) or None when the night before has no snapshot.
    """
    snapshot = snapshot_path(settings, end)
    previous = snapshot_path(settings, end - timedelta(days=1))
    tmp = snapshot.with_name(snapshot.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    edges.write.parquet(str(tmp / "edges"))
    nodes.write.parquet(str(tmp / "nodes"))
    entities.to_parquet(tmp / "entities.parquet", index=False)
    companions.to_parquet(tmp / "companions.parquet", index=False)
    metrics.to_parquet(tmp / "metrics.parquet", index=False)
    new = None
    if (previous / "edges").exists():
        before = spark.read.parquet(str(previous / "edges")).select("src", "dst", "type")
        # Yesterday's node ids carry yesterday's tokens: make them current (keys rotate).
        before = node_ids_to_current(spark, before, ("src", "dst"), settings)
        new = new_links(edges, before, day_start_ms(end))
        new.write.parquet(str(tmp / "new_links"))
    shutil.rmtree(snapshot, ignore_errors=True)
    tmp.rename(snapshot)
    return snapshot, new


def add_to_snapshot(snapshot: Path, tables: dict) -> None:
    """Write each of ``tables`` (name: frame, or None to skip) as ``<name>.parquet`` in ``snapshot``."""
    for name, frame in tables.items():
        if frame is not None:
            frame.to_parquet(snapshot / f"{name}.parquet", index=False)
