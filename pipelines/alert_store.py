"""Write the alerts topic into PostgreSQL: ``serving.alerts`` and ``serving.alert_updates``.

This is the seam of the alert service: later it also routes each alert to
its center and tracks the closed loop. Each message is one update of a
cluster's alert (``new``, ``ongoing``, ``escalating``, ``ended``; see
:mod:`models.cluster_lifecycle`). ``serving.alerts`` keeps one row per
cluster with its latest update (upsert on ``alert_id``, the cluster id);
``serving.alert_updates`` keeps every update. Offsets are committed after
the transaction, so a replay never duplicates a row.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

import psycopg2
from psycopg2.extras import Json, execute_values

from pipelines.kafka_io import consume_until_end
from pipelines.settings import Settings

__all__ = ["store_alerts", "alert_row", "update_row", "ALERT_COLUMNS", "STATUS_LABELS"]

log = logging.getLogger(__name__)
GROUP_ID = "zongzhi-alert-store"

#: What duty staff read for each lifecycle status.
STATUS_LABELS = {"new": "新发", "ongoing": "持续", "escalating": "升级", "ended": "结束"}

ALERT_COLUMNS = (
    "alert_id", "cell_id", "category", "category_label", "window_start", "window_end",
    "observed", "expected", "p_value", "score", "severity", "baseline_source",
    "district_code", "town_code", "town_name", "village_code", "village_name", "lon", "lat",
    "emitted_at", "cluster_id", "status", "status_label", "cells", "cell_stats",
    "duration_minutes", "llr", "p_method", "recurrence_interval_days", "threshold",
    "budget_per_town_month", "gi_star_z", "first_window_end", "updated_window_end", "looks",
)
UPDATE_COLUMNS = ("alert_id", "updated_window_end", "status", "observed", "expected", "llr",
                  "p_value", "recurrence_interval_days", "cells", "emitted_at")


def _values(alert: dict) -> dict:
    values = dict(alert)
    values["emitted_at"] = datetime.fromtimestamp(alert["emitted_at_ms"] / 1000, tz=timezone.utc)
    values["status_label"] = STATUS_LABELS.get(alert["status"], alert["status"])
    values["cell_stats"] = Json(alert["cell_stats"])
    return values


def alert_row(alert: dict) -> tuple:
    """The ``serving.alerts`` row of an alert update from the topic.

    Raises ``KeyError`` for a message that lacks a field.
    """
    values = _values(alert)
    return tuple(values[c] for c in ALERT_COLUMNS)


def update_row(alert: dict) -> tuple:
    """The ``serving.alert_updates`` row of an alert update."""
    values = _values(alert)
    return tuple(values[c] for c in UPDATE_COLUMNS)


def _order(alert: dict) -> tuple:
    # Updates of one cluster in lifecycle order; 'ended' comes last.
    return alert["updated_window_end"], alert["status"] == "ended"


def store_alerts(settings: Settings, *, follow: bool = False) -> dict:
    """Consume the alerts topic into PostgreSQL; return counts."""
    report = {"stored": 0, "updates": 0, "unreadable": 0}
    conn = psycopg2.connect(settings.pg_dsn())
    schema = settings.pg["schema"]
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in ALERT_COLUMNS[1:])
    upsert = (f"INSERT INTO {schema}.alerts ({', '.join(ALERT_COLUMNS)}) VALUES %s "
              f"ON CONFLICT (alert_id) DO UPDATE SET {updates} "
              f"WHERE {schema}.alerts.updated_window_end IS NULL "
              f"OR ({schema}.alerts.updated_window_end, {schema}.alerts.status = 'ended') "
              f"<= (EXCLUDED.updated_window_end, EXCLUDED.status = 'ended')")
    history = (f"INSERT INTO {schema}.alert_updates ({', '.join(UPDATE_COLUMNS)}) VALUES %s "
               f"ON CONFLICT DO NOTHING")
    try:
        for consumer, messages in consume_until_end(settings, settings.topic("alerts"), GROUP_ID,
                                                    follow=follow):
            latest, rows = {}, []
            for message in messages:
                try:
                    alert = json.loads(message.value())
                    row, update = alert_row(alert), update_row(alert)
                except (TypeError, ValueError, KeyError):
                    report["unreadable"] += 1
                    log.warning("alert at %s[%d]@%d is unreadable; skipped", message.topic(),
                                message.partition(), message.offset())
                    continue
                rows.append(update)
                known = latest.get(alert["alert_id"])
                if known is None or _order(known[0]) <= _order(alert):
                    latest[alert["alert_id"]] = (alert, row)
            if rows:
                with conn, conn.cursor() as cur:
                    execute_values(cur, upsert, [row for _, row in latest.values()])
                    execute_values(cur, history, rows)
                report["stored"] += len(latest)
                report["updates"] += len(rows)
            consumer.commit(asynchronous=False)
    finally:
        conn.close()
    return report
