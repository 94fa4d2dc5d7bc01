"""Kill streaming jobs mid-stream, restart them from their checkpoints, and compare the runs.

A disturbed run (jobs killed with SIGKILL and started again without
``--fresh``) must leave the alerts topic, read committed, and the alert
tables in PostgreSQL exactly as an undisturbed run of the same records.
This module holds the pieces a scenario is built from:

* waiting, exactly, for the jobs' progress: :func:`checkpoint_id`,
  :func:`routed`, :func:`wait_for`, :func:`wait_normalized`,
  :func:`wait_drained`;
* what a run left behind: :func:`committed_alerts` (the alerts topic,
  read committed), :func:`stored_alerts` (the alert tables), and
  :func:`clear_stored_alerts` before a run;
* comparing: :func:`comparable` (an alert without the processing time it
  was emitted at), :func:`alert_difference` (two runs as multisets),
  :func:`lifecycle_faults` (a cluster raised twice, an update repeated or
  after the end) and :func:`clusters_across` (clusters open at a kill and
  updated after it).
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable

import psycopg2

from pipelines.errors import ServiceError
from pipelines.io.flink import checkpoint_folder, latest_checkpoint
from pipelines.io.kafka import group_lag, topic_counts
from pipelines.io.kafka_consume import consume_topic_values
from pipelines.io.kafka_security import ADMIN
from pipelines.settings import Settings
from pipelines.streaming import hotspot_job, normalize_job

__all__ = [
    "ALERT_TABLES",
    "PROCESSING_TIME_FIELDS",
    "checkpoint_id",
    "wait_for",
    "normalize_lag",
    "hotspot_lag",
    "routed",
    "wait_normalized",
    "wait_drained",
    "committed_alerts",
    "stored_alerts",
    "clear_stored_alerts",
    "comparable",
    "alert_difference",
    "lifecycle_faults",
    "clusters_across",
]

#: The PostgreSQL tables the alert store writes (in the serving schema).
ALERT_TABLES = ("alerts", "alert_updates", "watch_alerts", "watch_alert_reads")

#: Fields that record when an alert was processed or stored, not what it says:
#: they differ between any two runs, killed or not.
PROCESSING_TIME_FIELDS = ("emitted_at_ms", "emitted_at", "stored_at")


def checkpoint_id(settings: Settings, group: str) -> int:
    """The number of job ``group``'s newest completed checkpoint (0: none yet).

    Numbers go on across a restart from a checkpoint.
    """
    done = latest_checkpoint(checkpoint_folder(settings, group))
    return int(done.name[4:]) if done is not None else 0


def wait_for(
    condition: Callable[[], bool],
    jobs,
    what: str,
    timeout_s: float = 240,
    poll_s: float = 0.25,
) -> float:
    """Wait until ``condition()`` holds; return the seconds waited.

    ``jobs`` is a :class:`pipelines.harness.demo.StreamingJobs` (its
    ``check`` raises when one of them has exited). :class:`ServiceError`
    when a job exits or ``timeout_s`` runs out.
    """
    began = time.monotonic()
    while not condition():
        jobs.check()
        if time.monotonic() - began >= timeout_s:
            raise ServiceError(f"gave up after {timeout_s:.0f}s waiting for {what}")
        time.sleep(poll_s)
    return time.monotonic() - began


def normalize_lag(settings: Settings) -> int:
    """Raw records the normalization job has not committed yet."""
    return sum(group_lag(settings, normalize_job.GROUP_ID, t) for t in settings.raw_topics.values())


def hotspot_lag(settings: Settings) -> int:
    """Normalized records the hotspot job has not committed yet."""
    return group_lag(settings, hotspot_job.GROUP_ID, settings.topic("normalized"))


def routed(settings: Settings) -> int:
    """Records in the normalized and dead-letter topics (read committed)."""
    out = [settings.topic("normalized"), settings.topic("dead_letter")]
    return sum(topic_counts(settings, out).values())


def wait_normalized(settings: Settings, jobs, produced: int, timeout_s: float = 240) -> int:
    """Wait until the normalization job's committed output holds ``produced`` records; the count.

    Its output (normalized or dead-lettered, one record per raw record) is
    committed with the checkpoint that covers the raw records, so this
    holds as soon as that checkpoint completes. The job's offsets in Kafka
    follow later: its Kafka source commits them between two polls, and an
    idle poll waits up to 10 s. Doubled output shows as a count above
    ``produced``, for the caller to assert.
    """
    wait_for(
        lambda: routed(settings) >= produced,
        jobs,
        f"the normalization job to commit the output of {produced} records",
        timeout_s,
    )
    return routed(settings)


def wait_drained(settings: Settings, jobs, timeout_s: float = 240) -> int:
    """Wait until every raw record is normalized and read by the hotspot job, then two checkpoints.

    Returns the records in the normalized and dead-letter topics (read
    committed), for the caller to balance against what it produced.
    Windows that the last records closed write their alerts in the
    transaction of a later checkpoint, hence the two more completed
    hotspot checkpoints after the zero lag.
    """
    wait_for(
        lambda: normalize_lag(settings) == 0 and hotspot_lag(settings) == 0,
        jobs,
        "the jobs to commit every input offset",
        timeout_s,
    )
    routed_now = routed(settings)
    after = checkpoint_id(settings, hotspot_job.GROUP_ID) + 2
    wait_for(
        lambda: checkpoint_id(settings, hotspot_job.GROUP_ID) >= after,
        jobs,
        "two more hotspot checkpoints",
        timeout_s,
    )
    return routed_now


def committed_alerts(settings: Settings, topic: str | None = None) -> list[dict]:
    """Every alert the alerts topic (or ``topic``) holds now, read committed, in offset order."""
    values = consume_topic_values(settings, topic or settings.topic("alerts"), principal=ADMIN)
    return [json.loads(v) for v in values]


def stored_alerts(settings: Settings) -> dict[str, list[str]]:
    """The rows of the alert tables, each as sorted-key JSON without the processing time.

    ``{table: sorted rows}`` for each of :data:`ALERT_TABLES`; rows are
    text so that two runs compare as multisets.
    """
    schema = settings.pg["schema"]
    rows = {}
    conn = psycopg2.connect(settings.pg_dsn())
    try:
        with conn.cursor() as cur:
            for table in ALERT_TABLES:
                drop = " - ".join(f"'{f}'" for f in PROCESSING_TIME_FIELDS)
                cur.execute(f"SELECT to_jsonb(t) - {drop} FROM {schema}.{table} AS t")
                rows[table] = sorted(
                    json.dumps(r, sort_keys=True, ensure_ascii=False) for (r,) in cur.fetchall()
                )
    finally:
        conn.close()
    return rows


def clear_stored_alerts(settings: Settings) -> None:
    """Empty the alert tables (before a run whose rows are compared)."""
    schema = settings.pg["schema"]
    conn = psycopg2.connect(settings.pg_dsn())
    try:
        with conn.cursor() as cur:
            cur.execute(f"TRUNCATE {', '.join(f'{schema}.{t}' for t in ALERT_TABLES)}")
        conn.commit()
    finally:
        conn.close()


def comparable(alert: dict) -> str:
    """An alert as sorted-key JSON without :data:`PROCESSING_TIME_FIELDS`.

    Examples
    --------
    >>> comparable({"status": "new", "emitted_at_ms": 17, "alert_id": "c1"})
    '{"alert_id": "c1", "status": "new"}'
    """
    kept = {k: v for k, v in alert.items() if k not in PROCESSING_TIME_FIELDS}
    return json.dumps(kept, sort_keys=True, ensure_ascii=False)


def alert_difference(expected: list[dict], got: list[dict]) -> dict[str, list[str]]:
    """What ``got`` misses of ``expected`` and holds beyond it, as multisets of :func:`comparable`.

    Both lists empty means the runs agree, a repeated alert included.

    Examples
    --------
    >>> a, b = {"alert_id": "c1", "status": "new"}, {"alert_id": "c1", "status": "ended"}
    >>> alert_difference([a, b], [dict(a, emitted_at_ms=5), b])
    {'missing': [], 'extra': []}
    >>> alert_difference([a, b], [a, a])
    {'missing': ['{"alert_id": "c1", "status": "ended"}'], 'extra': ['{"alert_id": "c1", "status": "new"}']}
    """
    want = Counter(comparable(a) for a in expected)
    have = Counter(comparable(a) for a in got)
    return {
        "missing": sorted((want - have).elements()),
        "extra": sorted((have - want).elements()),
    }


def _hotspot(alerts: list[dict]) -> list[dict]:
    return [a for a in alerts if a.get("kind", "hotspot") == "hotspot"]


def _lifecycle_order(alert: dict) -> tuple:
    # A cluster's updates in lifecycle order; 'ended' comes last in its window.
    return alert["updated_window_end"], alert["status"] == "ended"


def lifecycle_faults(alerts: list[dict]) -> list[str]:
    """What breaks the lifecycle in a run's hotspot alerts; empty when nothing does.

    Per cluster (``alert_id``), in window order: the first update is its
    only ``new``, no update repeats (same window end and status), and
    nothing follows an ``ended``.

    Examples
    --------
    >>> def u(cluster, end, status):
    ...     return {"alert_id": cluster, "updated_window_end": end, "status": status}
    >>> lifecycle_faults([u("c1", "10:00", "new"), u("c1", "10:05", "ongoing"),
    ...                   u("c1", "10:15", "ended")])
    []
    >>> lifecycle_faults([u("c1", "10:00", "new"), u("c1", "10:05", "new"),
    ...                   u("c1", "10:05", "new"), u("c2", "10:05", "ongoing")])
    ['c1 raised 3 times', 'c1 repeats its new update of 10:05', 'c2 starts with ongoing, not new']
    """
    faults = []
    by_cluster: dict[str, list[dict]] = defaultdict(list)
    for alert in _hotspot(alerts):
        by_cluster[alert["alert_id"]].append(alert)
    for cluster, updates in sorted(by_cluster.items()):
        updates = sorted(updates, key=_lifecycle_order)
        raised = sum(u["status"] == "new" for u in updates)
        if raised > 1:
            faults.append(f"{cluster} raised {raised} times")
        if updates[0]["status"] != "new":
            faults.append(f"{cluster} starts with {updates[0]['status']}, not new")
        seen = Counter((u["updated_window_end"], u["status"]) for u in updates)
        faults += [
            f"{cluster} repeats its {status} update of {end}"
            for (end, status), n in sorted(seen.items())
            if n > 1
        ]
        ended = [i for i, u in enumerate(updates) if u["status"] == "ended"]
        if ended and ended[0] != len(updates) - 1:
            faults.append(f"{cluster} has updates after it ended")
    return faults


def clusters_across(before: list[dict], after: list[dict]) -> list[str]:
    """Clusters open at the end of ``before`` (last update not ``ended``) and updated in ``after``.

    Examples
    --------
    >>> def u(cluster, end, status):
    ...     return {"alert_id": cluster, "updated_window_end": end, "status": status}
    >>> clusters_across([u("c1", "10:00", "new"), u("c2", "10:00", "new"),
    ...                  u("c2", "10:10", "ended")],
    ...                 [u("c1", "10:15", "ongoing"), u("c3", "10:15", "new")])
    ['c1']
    """
    last: dict[str, dict] = {}
    for alert in sorted(_hotspot(before), key=_lifecycle_order):
        last[alert["alert_id"]] = alert
    open_ids = {c for c, a in last.items() if a["status"] != "ended"}
    return sorted(open_ids & {a["alert_id"] for a in _hotspot(after)})
