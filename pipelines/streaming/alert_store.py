"""Write the alerts topic into PostgreSQL.

This is the seam of the alert service: later it also routes each alert to
its center and tracks the closed loop. The topic carries two kinds:

* **hotspot** alerts (no ``kind``, or ``kind = "hotspot"``): each message
  is one update of a cluster's alert (``new``, ``ongoing``, ``escalating``,
  ``ended``; see :mod:`models.cluster_lifecycle`). ``serving.alerts`` keeps
  one row per cluster with its latest update (upsert on ``alert_id``, the
  cluster id); ``serving.alert_updates`` keeps every update.
* **watch**-list alerts (``kind = "watch"``, :mod:`pipelines.streaming.watch_alerts`):
  each message is one read of a watched vehicle at a sensitive checkpoint.
  ``serving.watch_alerts`` keeps one row per alert (vehicle, checkpoint and
  time slot) with its latest read and the count of its reads;
  ``serving.watch_alert_reads`` keeps every read.

Each batch is one transaction, and its offsets are committed after it, so a
replay never duplicates a row. When PostgreSQL is down or goes away, the
store waits for it and resumes from the committed offsets (see
:func:`store_alerts`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from typing import Protocol

import psycopg2
from psycopg2.extras import Json, execute_values

from models.time_scales import BASE_SCALE
from pipelines.io.kafka import consume_until_end
from pipelines.io.postgres_link import PostgresLink
from pipelines.settings import Settings

__all__ = [
    "GROUP_ID",
    "BatchHook",
    "store_alerts",
    "alert_row",
    "update_row",
    "watch_row",
    "watch_read_row",
    "ALERT_COLUMNS",
    "WATCH_COLUMNS",
    "STATUS_LABELS",
]

log = logging.getLogger(__name__)
GROUP_ID = "zongzhi-alert-store"

#: What duty staff read for each lifecycle status.
STATUS_LABELS = {"new": "新发", "ongoing": "持续", "escalating": "升级", "ended": "结束"}

ALERT_COLUMNS = (
    "alert_id",
    "cell_id",
    "category",
    "category_label",
    "window_start",
    "window_end",
    "observed",
    "expected",
    "p_value",
    "score",
    "severity",
    "baseline_source",
    "district_code",
    "town_code",
    "town_name",
    "village_code",
    "village_name",
    "lon",
    "lat",
    "emitted_at",
    "cluster_id",
    "status",
    "status_label",
    "cells",
    "cell_stats",
    "duration_minutes",
    "llr",
    "p_method",
    "recurrence_interval_days",
    "threshold",
    "budget_per_town_month",
    "gi_star_z",
    "first_window_end",
    "updated_window_end",
    "looks",
    "scale",
    "budget_share",
)
UPDATE_COLUMNS = (
    "alert_id",
    "updated_window_end",
    "status",
    "observed",
    "expected",
    "llr",
    "p_value",
    "recurrence_interval_days",
    "cells",
    "emitted_at",
)
WATCH_COLUMNS = (
    "alert_id",
    "status",
    "status_label",
    "vehicle_node",
    "plate_hash",
    "match",
    "match_label",
    "reason",
    "reason_label",
    "detail",
    "persons",
    "watch_as_of",
    "site_id",
    "site_name",
    "place_id",
    "place_name",
    "place_kind",
    "place_kind_label",
    "distance_m",
    "town_code",
    "town_name",
    "village_code",
    "village_name",
    "cell_id",
    "lon",
    "lat",
    "summary",
    "event_id",
    "event_time",
    "emitted_at",
    "approval_id",
    "approved_by",
)
WATCH_READ_COLUMNS = ("alert_id", "event_id", "event_time", "plate_hash", "match", "emitted_at")


def _epoch(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _values(alert: dict) -> dict:
    values = dict(alert)
    values["emitted_at"] = _epoch(alert["emitted_at_ms"])
    values["status_label"] = STATUS_LABELS.get(alert["status"], alert["status"])
    values["cell_stats"] = Json(alert["cell_stats"])
    # Alerts from before the time scales were all the base window's, with the whole budget.
    values.setdefault("scale", BASE_SCALE)
    values.setdefault("budget_share", 1.0)
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


def _watch_values(alert: dict) -> dict:
    return dict(
        alert,
        # Alerts raised before the watch list was reviewed name no approval.
        approval_id=alert.get("approval_id"),
        approved_by=alert.get("approved_by"),
        status="new",
        status_label=STATUS_LABELS["new"],
        event_time=_epoch(alert["event_time_ms"]),
        emitted_at=_epoch(alert["emitted_at_ms"]),
    )


def watch_row(alert: dict) -> tuple:
    """The ``serving.watch_alerts`` row of a watch-list alert (``KeyError`` if it lacks a field)."""
    values = _watch_values(alert)
    return tuple(values[c] for c in WATCH_COLUMNS)


def watch_read_row(alert: dict) -> tuple:
    """The ``serving.watch_alert_reads`` row of a watch-list alert."""
    values = _watch_values(alert)
    return tuple(values[c] for c in WATCH_READ_COLUMNS)


def _order(alert: dict) -> tuple:
    # Updates of one cluster in lifecycle order; 'ended' comes last.
    return alert["updated_window_end"], alert["status"] == "ended"


def _statements(schema: str) -> dict[str, str]:
    """The idempotent writes: upserts by the alert's identity, inserts that skip what is there."""
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in ALERT_COLUMNS[1:])
    # A watch alert's row takes its latest read; reads and the first read's
    # time are counted from the reads table, so a replay changes nothing.
    watch_updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in WATCH_COLUMNS[1:])
    return {
        "upsert": (
            f"INSERT INTO {schema}.alerts ({', '.join(ALERT_COLUMNS)}) VALUES %s "
            f"ON CONFLICT (alert_id) DO UPDATE SET {updates} "
            f"WHERE {schema}.alerts.updated_window_end IS NULL "
            f"OR ({schema}.alerts.updated_window_end, {schema}.alerts.status = 'ended') "
            f"<= (EXCLUDED.updated_window_end, EXCLUDED.status = 'ended')"
        ),
        "history": (
            f"INSERT INTO {schema}.alert_updates ({', '.join(UPDATE_COLUMNS)}) VALUES %s "
            f"ON CONFLICT DO NOTHING"
        ),
        "watch_upsert": (
            f"INSERT INTO {schema}.watch_alerts ({', '.join(WATCH_COLUMNS)}) VALUES %s "
            f"ON CONFLICT (alert_id) DO UPDATE SET {watch_updates} "
            f"WHERE {schema}.watch_alerts.event_time <= EXCLUDED.event_time"
        ),
        "watch_reads": (
            f"INSERT INTO {schema}.watch_alert_reads ({', '.join(WATCH_READ_COLUMNS)}) "
            f"VALUES %s ON CONFLICT DO NOTHING"
        ),
        "watch_counts": (
            f"UPDATE {schema}.watch_alerts AS w SET reads = c.n, first_event_time = c.first "
            f"FROM (SELECT alert_id, count(*) AS n, min(event_time) AS first "
            f"FROM {schema}.watch_alert_reads WHERE alert_id = ANY(%s) "
            f"GROUP BY alert_id) AS c WHERE w.alert_id = c.alert_id"
        ),
    }


def _batch(messages, report: dict) -> tuple[dict, list, dict, list]:
    """The rows of one batch of messages: latest per alert, every update, likewise for watch."""
    latest, rows, watched, reads = {}, [], {}, []
    for message in messages:
        try:
            alert = json.loads(message.value())
            if alert.get("kind") == "watch":
                row, read = watch_row(alert), watch_read_row(alert)
                reads.append(read)
                known = watched.get(alert["alert_id"])
                if known is None or known[0]["event_time_ms"] <= alert["event_time_ms"]:
                    watched[alert["alert_id"]] = (alert, row)
                continue
            row, update = alert_row(alert), update_row(alert)
        except (TypeError, ValueError, KeyError, AttributeError):
            report["unreadable"] += 1
            log.warning(
                "alert at %s[%d]@%d is unreadable; skipped",
                message.topic(),
                message.partition(),
                message.offset(),
            )
            continue
        rows.append(update)
        known = latest.get(alert["alert_id"])
        if known is None or _order(known[0]) <= _order(alert):
            latest[alert["alert_id"]] = (alert, row)
    return latest, rows, watched, reads


def _write(conn, statements: dict, batch: tuple, hook) -> None:
    """Write one batch's rows in one transaction (the hook's rows too)."""
    latest, rows, watched, reads = batch
    if not rows and not reads:
        return
    try:
        with conn.cursor() as cur:
            if rows:
                execute_values(cur, statements["upsert"], [row for _, row in latest.values()])
                execute_values(cur, statements["history"], rows)
            if reads:
                execute_values(
                    cur, statements["watch_upsert"], [row for _, row in watched.values()]
                )
                execute_values(cur, statements["watch_reads"], reads)
                cur.execute(statements["watch_counts"], (list(watched),))
            if hook is not None:
                hook.write(cur, _alerts(latest), _alerts(watched))
        conn.commit()
    except BaseException:
        # On a lost connection the rollback fails too; the first error is the one to report.
        try:
            conn.rollback()
        except psycopg2.Error:
            pass
        raise


def _alerts(keyed: dict) -> list[dict]:
    return [alert for alert, _ in keyed.values()]


class BatchHook(Protocol):
    """What a follower of the store does with each batch (the alert service routes and pushes).

    ``write`` runs inside the batch's transaction, with its cursor, so that
    what it writes is replayed exactly like the alerts; ``committed`` runs
    after the commit. Each gets the batch's latest hotspot alert per cluster
    and latest watch alert per id, as parsed from the topic.
    """

    def write(self, cur, hotspot: list[dict], watch: list[dict]) -> None:
        """Write the follower's rows for this batch, in its transaction."""

    def committed(self, hotspot: list[dict], watch: list[dict]) -> None:
        """Act on the batch once it is committed."""


def _close_quietly(conn) -> None:
    if conn is not None:
        try:
            conn.close()
        except psycopg2.Error:
            pass


def store_alerts(
    settings: Settings,
    *,
    follow: bool = False,
    poll_seconds: float = 1.0,
    hook: BatchHook | None = None,
    stop: Callable[[], bool] | None = None,
) -> dict:
    """Consume the alerts topic into PostgreSQL; return counts.

    Each batch is written in one transaction, and its Kafka offsets are
    committed only after that transaction. When PostgreSQL is down at the
    start or goes away mid-way, nothing is committed for the batch in hand:
    the consumer is closed, the store waits for PostgreSQL
    (:class:`~pipelines.io.postgres_link.PostgresLink`: bounded backoff, one
    log line when it goes and one when it is back) and resumes from the
    committed offsets. The replayed records are written again by upserts
    keyed on the alert's identity, which add no duplicate. A refusal that
    waiting cannot cure (wrong password, missing database) raises
    :class:`~pipelines.errors.SettingsError` at once.

    ``poll_seconds`` bounds how long one poll waits for the first message of
    a batch (the alert service polls often, for latency); ``hook`` follows
    every batch (:class:`BatchHook`); ``stop``, when given, ends a followed
    consumption between batches once it returns true.
    """
    report = {"stored": 0, "updates": 0, "watch_alerts": 0, "watch_reads": 0, "unreadable": 0}
    statements = _statements(settings.pg["schema"])
    link = PostgresLink(settings, "store-alerts")
    while True:
        conn = link.connect()
        try:
            with closing(
                consume_until_end(
                    settings,
                    settings.topic("alerts"),
                    GROUP_ID,
                    follow=follow,
                    poll_timeout=poll_seconds,
                    idle=stop is not None,
                )
            ) as batches:
                for consumer, messages in batches:
                    if stop is not None and stop():
                        break
                    if not messages:
                        continue
                    unreadable = report["unreadable"]
                    batch = _batch(messages, report)
                    try:
                        _write(conn, statements, batch, hook)
                    except BaseException:
                        # The batch is read again after the reconnect.
                        report["unreadable"] = unreadable
                        raise
                    consumer.commit(asynchronous=False)
                    latest, rows, watched, reads = batch
                    report["stored"] += len(latest)
                    report["updates"] += len(rows)
                    report["watch_alerts"] += len(watched)
                    report["watch_reads"] += len(reads)
                    if hook is not None and (latest or watched):
                        hook.committed(_alerts(latest), _alerts(watched))
            return report
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            link.lost(exc)  # raises when waiting cannot cure it
        finally:
            _close_quietly(conn)
