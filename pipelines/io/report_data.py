"""What the planners' notebooks read: distinct events from the lake, rates from PostgreSQL.

Events come from the lake's ``events`` table through DuckDB, one row per
``event_id`` (the first date it was written under wins, as in the nightly
jobs), plate reads left out: a camera's reading of a passing car is traffic,
not an incident. A data file that is not readable Parquet is skipped and
named in the log, never fatal. A missing serving table reads as no rows.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import psycopg2
import psycopg2.errors
import pyarrow.parquet as pq

from features.lake_schema import PARTITION_COLUMN, is_temp_file
from features.taxonomy import PLATE_READ
from pipelines.settings import Settings

__all__ = ["EVENT_COLUMNS", "lake_days", "lake_events", "case_rates"]

log = logging.getLogger(__name__)

#: The columns of the event table the notebooks read.
EVENT_COLUMNS = (
    "event_id",
    "event_date",
    "event_time_ms",
    "source",
    "category",
    "town_code",
    "town_name",
    "village_code",
    "village_name",
    "cell_id",
)


def _files(table: Path, start: date, end: date) -> list[str]:
    files = []
    day = start
    while day < end:
        folder = table / f"{PARTITION_COLUMN}={day.isoformat()}"
        for path in sorted(folder.glob("*.parquet")) if folder.is_dir() else ():
            if is_temp_file(path.name):
                continue
            try:
                pq.read_metadata(path)
            except Exception as exc:  # noqa: BLE001 - any unreadable file is skipped alike
                log.warning("skipping unreadable lake file %s: %s", path, exc)
                continue
            files.append(str(path))
        day += timedelta(days=1)
    return files


def lake_days(table: Path, start: date, end: date) -> int:
    """How many days of ``[start, end)`` the lake holds readable data for (any town)."""
    return len({Path(f).parent.name for f in _files(Path(table), start, end)})


def lake_events(table: Path, start: date, end: date, town_code: str | None = None) -> pd.DataFrame:
    """Distinct incidents with ``event_date`` in ``[start, end)``, of one town or all."""
    files = _files(Path(table), start, end)
    if not files:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in EVENT_COLUMNS})
    town_filter = "AND town_code = $town" if town_code else ""
    sql = f"""
        SELECT {", ".join(EVENT_COLUMNS)}
        FROM read_parquet($files, union_by_name = true, hive_partitioning = false)
        WHERE category <> $plate_read {town_filter}
        QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY event_date, event_time_ms) = 1
    """
    params = {"files": files, "plate_read": PLATE_READ}
    if town_code:
        params["town"] = town_code
    with duckdb.connect() as db:
        return db.execute(sql, params).df()


def case_rates(settings: Settings, month_start: date, center_ids: list[str] | None) -> pd.DataFrame:
    """Rows of ``serving.case_rates`` for the month (of those centers, or all); none if absent."""
    schema = settings.pg["schema"]
    sql = f"SELECT * FROM {schema}.case_rates WHERE month = %s"
    params: list = [month_start]
    if center_ids is not None:
        sql += " AND center_id = ANY(%s)"
        params.append(list(center_ids))
    try:
        with psycopg2.connect(settings.pg_dsn()) as conn:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                names = [d[0] for d in cur.description]
                rows = cur.fetchall()
        conn.close()
        return pd.DataFrame(rows, columns=names)
    except (psycopg2.errors.UndefinedTable, psycopg2.OperationalError) as exc:
        log.warning("serving.case_rates is not readable (%s): no work-order figures", exc)
        return pd.DataFrame(
            columns=[
                "month",
                "center_id",
                "department",
                "cases",
                "responded_in_time",
                "closed",
                "followed_up",
                "satisfied",
                "supervised",
            ]
        )
