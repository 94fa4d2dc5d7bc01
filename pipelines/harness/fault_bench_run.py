"""One run of the fixed event set through the streaming jobs, undisturbed or with one fault.

The run: fresh topics and alert tables; the normalization and hotspot jobs
start following; the stream is produced in two halves, then the middle
burst (alerts out, clusters open), then the closing burst (every window
closed); after each part the run waits until the jobs are drained: every
input offset committed, then two more hotspot checkpoints (windows that
the last records closed write their alerts in a later checkpoint's
transaction). Then ``store-alerts`` reads the alerts topic into PostgreSQL.

The faults, each at its own point of that run:

``normalize-kill``
    after both halves are produced and the normalization job has completed
    a checkpoint with progress, SIGKILL to its process group, then a start
    from its checkpoint.
``hotspot-kill``
    once the middle burst's first alerts are committed to the alerts topic,
    SIGKILL to the hotspot job, then a start from its checkpoint.
``postgres-outage``
    ``store-alerts --follow`` runs beside the jobs; PostgreSQL is stopped
    before the two bursts (whose windows raise every alert update) and
    started again once they are drained, ``outage_s`` after the stop at the
    earliest.
``poison-records``
    poison records (:mod:`pipelines.harness.fault_bench_poison`) are produced
    to the raw topics between the two halves.

A kill's entry also says what was committed when it landed: the records
normalized (``normalized_at_kill``), or the alert updates and the clusters
they left open (``open_clusters_at_kill``).

Recovery time: from the restart (or PostgreSQL's start) until the job's
consumer group has no lag on its input.
"""

from __future__ import annotations

import json
import logging
import time

from pipelines.errors import ServiceError, UsageError
from pipelines.harness.demo import StreamingJobs
from pipelines.harness.fault_bench_events import WATERMARK_DELAY, EventSet
from pipelines.harness.fault_bench_outcome import open_clusters
from pipelines.harness.fault_names import FAULTS
from pipelines.harness.infra_scripts import run_infra_script
from pipelines.harness.restart_check import (
    checkpoint_id,
    clear_stored_alerts,
    hotspot_lag,
    normalize_lag,
    stored_alerts,
    wait_drained,
    wait_for,
)
from pipelines.harness.simulator.produce import produce_records
from pipelines.harness.steps import run_step
from pipelines.harness.streams import fresh_streams
from pipelines.io.kafka import group_lag, topic_counts
from pipelines.io.kafka_consume import consume_topic_values
from pipelines.settings import Settings
from pipelines.streaming import alert_store, hotspot_job, normalize_job

__all__ = ["FAULTS", "run_once"]

log = logging.getLogger(__name__)

#: A guard against a hang, not a measurement: how long one wait may take.
WAIT_GUARD_S = 600.0


def _wait(condition, jobs: StreamingJobs, what: str) -> float:
    """Wait until ``condition()``; return the seconds waited. A job that exits is an error."""
    return wait_for(condition, jobs, what, timeout_s=WAIT_GUARD_S, poll_s=0.5)


def _drain(settings: Settings, jobs: StreamingJobs) -> None:
    wait_drained(settings, jobs, timeout_s=WAIT_GUARD_S)


def _start(jobs: StreamingJobs, name: str, *extra: str) -> None:
    if name == "hotspots":
        delay = str(int(WATERMARK_DELAY.total_seconds()))
        jobs.start(name, "--follow", "--watermark-delay-seconds", delay, *extra)
    else:
        jobs.start(name, "--follow", *extra)


def _restart(jobs: StreamingJobs, name: str, at_kill=None) -> tuple[float, object]:
    """SIGKILL job ``name``, start it from its checkpoint.

    Returns the monotonic start time and what ``at_kill()`` saw between the
    kill and the start (when the job's uncommitted output is fixed: aborted).
    """
    jobs.kill(name)
    seen = at_kill() if at_kill else None
    _start(jobs, name)  # no --fresh: from its checkpoint
    return time.monotonic(), seen


def _postgres_alerts(settings: Settings) -> list[tuple]:
    """Every row of the alert tables, as comparable ``(table, row)`` tuples."""
    return sorted((table, row) for table, rows in stored_alerts(settings).items() for row in rows)


def _kill_normalize_mid_stream(settings, jobs, events: EventSet) -> dict:
    half = len(events.stream) // 2
    normalized = settings.topic("normalized")
    _wait(
        lambda: (
            checkpoint_id(settings, normalize_job.GROUP_ID) > 0
            and topic_counts(settings, [normalized])[normalized] > 0
        ),
        jobs,
        "a normalization checkpoint with progress",
    )
    produce_records(settings, events.stream[half:])
    restarted, committed = _restart(
        jobs, "normalize", lambda: topic_counts(settings, [normalized])[normalized]
    )
    _wait(lambda: normalize_lag(settings) == 0, jobs, "the restarted normalization job")
    return {
        "recovery_seconds": time.monotonic() - restarted,
        "normalized_at_kill": committed,
    }


def _kill_hotspots_with_open_clusters(settings, jobs) -> dict:
    alerts = settings.topic("alerts")
    drained_at: list[int] = []

    def alerts_out_or_none_to_come() -> bool:
        if topic_counts(settings, [alerts])[alerts] > 0:
            return True
        if not drained_at and hotspot_lag(settings) == 0:
            drained_at.append(checkpoint_id(settings, hotspot_job.GROUP_ID))
        return (
            bool(drained_at) and checkpoint_id(settings, hotspot_job.GROUP_ID) > drained_at[0] + 2
        )

    _wait(alerts_out_or_none_to_come, jobs, "the first alerts of the middle burst")
    if topic_counts(settings, [alerts])[alerts] == 0:
        raise ServiceError(
            "the middle burst closed the surge's first windows but raised no alert, so the "
            "hotspot job cannot be killed with a cluster open; try another --seed or --hours"
        )
    restarted, committed = _restart(
        jobs, "hotspots", lambda: [json.loads(v) for v in consume_topic_values(settings, alerts)]
    )
    _wait(lambda: hotspot_lag(settings) == 0, jobs, "the restarted hotspot job")
    return {
        "recovery_seconds": time.monotonic() - restarted,
        "alert_updates_at_kill": len(committed),
        "open_clusters_at_kill": len(open_clusters(committed)),
    }


def _bursts_with_postgres_down(settings, jobs, events: EventSet, outage_s: float) -> dict:
    """Both bursts, which raise every alert update, produced while PostgreSQL is stopped."""
    run_infra_script(settings, "postgres.sh", "stop")
    stopped = time.monotonic()
    try:
        for burst in (events.middle, events.closing):
            produce_records(settings, burst)
            _drain(settings, jobs)
        time.sleep(max(0.0, outage_s - (time.monotonic() - stopped)))
    finally:
        run_infra_script(settings, "postgres.sh", "start")
    started = time.monotonic()
    outage = started - stopped
    lag_at_start = group_lag(settings, alert_store.GROUP_ID, settings.topic("alerts"))
    _wait(
        lambda: group_lag(settings, alert_store.GROUP_ID, settings.topic("alerts")) == 0,
        jobs,
        "the alert store after PostgreSQL's return",
    )
    return {
        "outage_seconds": round(outage, 1),
        "alert_store_lag_at_return": lag_at_start,
        "recovery_seconds": time.monotonic() - started,
    }


def run_once(
    settings: Settings,
    events: EventSet,
    fault: str | None = None,
    *,
    poison: list = (),
    outage_s: float = 30.0,
) -> dict:
    """Run the event set with ``fault`` (one of :data:`FAULTS`, or None); return what it left.

    The result: ``produced`` (records sent to the raw topics), ``normalized``
    and ``dead_lettered`` (records in those topics), ``alerts`` (the alerts
    topic, read committed, parsed), ``postgres`` (alert and update rows),
    ``recovery_seconds`` (None when undisturbed) and ``seconds`` (the run's
    wall time).
    """
    if fault is not None and fault not in FAULTS:
        raise UsageError(f"fault={fault!r} is not one of: {', '.join(FAULTS)}")
    began = time.monotonic()
    fresh_streams(settings)
    clear_stored_alerts(settings)
    jobs = StreamingJobs(settings)
    half = len(events.stream) // 2
    produced = events.size
    extra: dict = {"recovery_seconds": None}
    try:
        _start(jobs, "normalize", "--fresh")
        _start(jobs, "hotspots", "--fresh")
        if fault == "postgres-outage":
            jobs.start("store-alerts", "--follow")
        produce_records(settings, events.stream[:half])
        if fault == "poison-records":
            produce_records(settings, poison)
            produced += len(poison)
        if fault == "normalize-kill":
            extra.update(_kill_normalize_mid_stream(settings, jobs, events))
        else:
            produce_records(settings, events.stream[half:])
        _drain(settings, jobs)
        log.info("fault bench: stream drained; the bursts that close its windows")
        if fault == "postgres-outage":
            extra.update(_bursts_with_postgres_down(settings, jobs, events, outage_s))
        else:
            produce_records(settings, events.middle)
            if fault == "hotspot-kill":
                extra.update(_kill_hotspots_with_open_clusters(settings, jobs))
            _drain(settings, jobs)
            produce_records(settings, events.closing)
            _drain(settings, jobs)
    finally:
        jobs.stop()
    if fault != "postgres-outage":
        run_step(settings, "store-alerts")
    counts = topic_counts(settings, [settings.topic("normalized"), settings.topic("dead_letter")])
    alerts = [json.loads(v) for v in consume_topic_values(settings, settings.topic("alerts"))]
    if extra["recovery_seconds"] is not None:
        extra["recovery_seconds"] = round(extra["recovery_seconds"], 1)
    return {
        "produced": produced,
        "normalized": counts[settings.topic("normalized")],
        "dead_lettered": counts[settings.topic("dead_letter")],
        "alerts": alerts,
        "postgres": _postgres_alerts(settings),
        **extra,
        "seconds": round(time.monotonic() - began, 1),
    }
