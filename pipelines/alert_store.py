"""Write the alerts topic into PostgreSQL's ``serving.alerts``.

This is the seam of the alert service: later it also routes each alert to
its center and tracks the closed loop. Writes are upserts on ``alert_id``,
and offsets are committed after the transaction, so a replay never
duplicates an alert.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime

import psycopg2
from psycopg2.extras import execute_values

from pipelines.kafka_io import consume_until_end
from pipelines.settings import Settings

__all__ = ["store_alerts", "alert_row", "ALERT_COLUMNS"]

log = logging.getLogger(__name__)
GROUP_ID = "zongzhi-alert-store"

ALERT_COLUMNS = (
    "alert_id", "cell_id", "category", "category_label", "window_start", "window_end",
    "observed", "expected", "p_value", "score", "severity", "baseline_source",
    "district_code", "town_code", "town_name", "village_code", "village_name", "lon", "lat",
    "emitted_at",
)


def alert_row(alert: dict) -> tuple:
    """The ``serving.alerts`` row of an alert from the topic.

    Examples
    --------
    >>> row = alert_row({"alert_id": "a1", "cell_id": "r001c001", "category": "public_order.fight",
    ...     "category_label": "打架斗殴", "window_start": "2026-11-27T09:00:00+08:00",
    ...     "window_end": "2026-11-27T09:30:00+08:00", "observed": 9, "expected": 0.5,
    ...     "p_value": 1e-9, "score": 9.0, "severity": "橙色", "baseline_source": "fallback",
    ...     "district_code": "110118", "town_code": "t", "town_name": "镇", "village_code": "v",
    ...     "village_name": "村", "lon": 116.8, "lat": 40.4, "emitted_at_ms": 0})
    >>> row[0], row[6], row[-1].isoformat()
    ('a1', 9, '1970-01-01T00:00:00+00:00')
    """
    from datetime import timezone

    values = dict(alert)
    values["emitted_at"] = datetime.fromtimestamp(alert["emitted_at_ms"] / 1000, tz=timezone.utc)
    return tuple(values[c] for c in ALERT_COLUMNS)


def store_alerts(settings: Settings, *, follow: bool = False) -> dict:
    """Consume the alerts topic into PostgreSQL; return counts."""
    report = {"stored": 0, "unreadable": 0}
    conn = psycopg2.connect(settings.pg_dsn())
    schema = settings.pg["schema"]
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in ALERT_COLUMNS[1:])
    sql = (f"INSERT INTO {schema}.alerts ({', '.join(ALERT_COLUMNS)}) VALUES %s "
           f"ON CONFLICT (alert_id) DO UPDATE SET {updates}")
    try:
        for consumer, messages in consume_until_end(settings, settings.topic("alerts"), GROUP_ID,
                                                    follow=follow):
            rows = {}
            for message in messages:
                try:
                    alert = json.loads(message.value())
                    rows[alert["alert_id"]] = alert_row(alert)
                except (TypeError, ValueError, KeyError):
                    report["unreadable"] += 1
                    log.warning("alert at %s[%d]@%d is unreadable; skipped", message.topic(),
                                message.partition(), message.offset())
            if rows:
                with conn, conn.cursor() as cur:
                    execute_values(cur, sql, list(rows.values()))
                report["stored"] += len(rows)
            consumer.commit(asynchronous=False)
    finally:
        conn.close()
    return report
