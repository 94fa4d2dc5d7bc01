"""``zongzhi bench hotspots``: how fast the hotspot job is, against its baselines, in one run.

All measurements run on this machine in one process tree, one after the
other, so every ratio compares numbers taken minutes apart:

1. **Sustained throughput** of (a) the hotspot job and (b) the same HOP
   window count written as pure Flink SQL into a blackhole sink. Each job
   drains a backlog of synthetic normalized events from Kafka, once small
   and once large; the rate is the difference in events over the
   difference in time, so the fixed cost of starting a job cancels.
2. **Checkpointing**: (a) again, checkpointing as the live job does: every
   ``flink.checkpoint_interval_seconds``, the ``flink.state_backend``
   (hashmap) snapshotted to files under ``var/checkpoints``, exactly-once
   Kafka sinks committed with each checkpoint; ``--checkpoint-intervals``
   adds runs at other intervals. Each run's checkpoints (count, duration,
   size) come from its Flink log.

   The runs of 1 and 2 take turns over ``rounds`` rounds, in alternating
   order, and each reports its median round. Each run is timed from its
   job's start to its end in its Flink log, so the JVM's start and the
   planning, whose length varies most on a loaded machine, stay out; a
   large run no longer than the small one gives no rate (``None``).
3. **Rate steps**: the job, checkpointing as above, follows a live topic
   while the producer paces events, after a warm-up, at increasing
   fractions of (a)'s drain rate. Per step, each alert update has two
   latencies from the moment its window could close (the producer handed
   Kafka the first event at or after ``window end + watermark delay``): to
   its emission by the job (``emitted_at_ms``, the goal's "alert emitted -
   window end"), and to its arrival at a ``read_committed`` consumer that
   reads the alerts topic all along (visible: it also waits for the
   checkpoint that commits it, a floor the report computes). A step is
   sustained only with an emitted p99 of at most 2 s and latency that does
   not keep growing (:func:`behind`); the last sustained step is the live
   sustained maximum, and the slowest step at 70 % of it or more gives the
   reported p50 and p99. Steps behind before any step kept up are the
   warm-up's tail (:func:`live_sustained`).

4. **Gi\\*** of all district cells against one sparse matrix-vector product.
5. **Permutation p-values** (999) against ``esda.G_Local``.
6. **Peak RSS** of the streaming stack: the job's process tree (the
   PyFlink client, its JVM and Python workers) plus the Kafka broker,
   sampled from ``/proc`` while each job runs.

Every Flink run (each drain and the live run) reports its job restarts,
read from its own Flink log; the command exits 1 with one line naming the
runs that restarted, since a restarted run replayed part of its input.

The synthetic stream is a null stream at a dense event-time rate (the
generating rates are the baselines) with a few cells that always run hot,
so that every look has alert updates to time.

The parts live in their own modules: the stream in
:mod:`~pipelines.harness.hotspot_bench_stream`, the jobs run in a child
process (this module is its entry point) in
:mod:`~pipelines.harness.hotspot_bench_jobs`, the rate steps in
:mod:`~pipelines.harness.hotspot_bench_live`, the statistics' timings in
:mod:`~pipelines.harness.hotspot_bench_statistics`, the report and its goals
in :mod:`~pipelines.harness.hotspot_bench_report`, and the memory sampling
in :mod:`~pipelines.harness.process_memory`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys

from pipelines.errors import UsageError
from pipelines.harness.hotspot_bench_flink_log import flink_logs
from pipelines.harness.hotspot_bench_jobs import run_job, throughput
from pipelines.harness.hotspot_bench_live import (
    BEHIND_GROWTH_SLACK_MS,
    STEP_FRACTIONS,
    SUSTAINED_P99_MS,
    WARM_UP_FRACTION,
    behind,
    live_sustained,
    rate_steps,
)
from pipelines.harness.hotspot_bench_report import bench_report, median_run
from pipelines.harness.hotspot_bench_statistics import gi_star_timing, permutation_timing
from pipelines.harness.hotspot_bench_stream import (
    PRODUCER_CONFIG,
    STREAM_START,
    BenchStream,
    bench_messages,
)
from pipelines.harness.process_memory import RssSampler
from pipelines.io.kafka import RecordProducer
from pipelines.settings import Settings

# The bench's parts are re-exported: callers import them from here.
__all__ = [
    "BEHIND_GROWTH_SLACK_MS",
    "STEP_FRACTIONS",
    "SUSTAINED_P99_MS",
    "STREAM_START",
    "WARM_UP_FRACTION",
    "BenchStream",
    "RssSampler",
    "behind",
    "live_sustained",
    "run_bench",
]

log = logging.getLogger(__name__)


def _produce(settings: Settings, topic: str, payloads, start_ms: int, density: float) -> int:
    count = 0
    with RecordProducer(settings, PRODUCER_CONFIG, flush_timeout=120.0) as producer:
        for count, (key, value, timestamp) in enumerate(
            bench_messages(payloads, start_ms, density), 1
        ):
            producer.send(topic, value, key=key, timestamp=timestamp)
            if count % 20_000 == 0:
                producer.poll(0)
    return count


def run_bench(
    settings: Settings,
    *,
    events: int,
    small: int,
    density: float,
    step_seconds: float,
    permutations: int,
    rounds: int = 3,
    warm_up_seconds: float = 60.0,
    checkpoint_intervals: tuple[float, ...] = (),
) -> dict:
    """Run every measurement; return the report (goals alongside).

    ``checkpoint_intervals`` adds checkpointed drains at other intervals
    than the configured one (what the checkpointing would cost if a
    shorter interval bought a shorter visible latency).
    """
    from pipelines.io.kafka import check_reachable, reset_topics
    from pipelines.streaming.hotspot_job import district_detector

    check_reachable(settings)
    if small >= events:
        raise UsageError(f"events={events} must exceed the small run's {small}")
    if rounds < 1:
        raise UsageError(f"rounds={rounds} must be at least 1")
    if any(not 0 < x <= 3600 for x in checkpoint_intervals):
        raise UsageError(f"checkpoint_intervals={checkpoint_intervals} must be in (0, 3600] s")
    # Each Flink run logs into a folder of its own below this one (its restarts
    # and checkpoints are read from there); the last bench's logs go.
    shutil.rmtree(flink_logs(settings), ignore_errors=True)
    detector = district_detector(settings)
    stream = BenchStream(detector.cells, detector.categories, density)
    start_ms = int(STREAM_START.timestamp() * 1000)
    small_topic, big_topic = settings.topic("bench_small"), settings.topic("bench")
    reset_topics(
        settings,
        [small_topic, big_topic, settings.topic("bench_alerts"), settings.topic("bench_late")],
    )
    log.info("bench: producing %d + %d events", small, events)
    _produce(settings, small_topic, stream.events(small, start_ms, seed=1), start_ms, density)
    _produce(settings, big_topic, stream.events(events, start_ms, seed=2), start_ms, density)
    # Drawn once here, loaded by every run alike: a run that drew them held
    # its first look (and checkpoint) some 20 s, and more so the small run.
    detector.prepare_nulls(
        stream.baselines(float(settings.hotspot["fallback_rate_per_cell_hour"])),
        start_ms // 1000 + detector.size_min * 60,
    )
    # The three throughput runs take turns, round after round, in alternating
    # order, so a slow minute of the machine (the broker compacting, the page
    # cache) does not land on one of them only; each is the median over rounds.
    # The checkpointed run checkpoints as the live job does: at the configured
    # interval, the configured state backend to files under var/, exactly once.
    flink = settings.section("flink")
    interval_s = flink.integer("checkpoint_interval_seconds")
    kinds = {
        "detector": ("detector", 0),
        "sql": ("sql", 0),
        "checkpointed": ("detector", interval_s),
    } | {f"checkpointed every {x:g} s": ("detector", x) for x in checkpoint_intervals}
    runs: dict = {name: [] for name in kinds}
    restarts: dict = {}
    for r in range(rounds):
        order = list(kinds) if r % 2 == 0 else list(reversed(kinds))
        for name in order:
            log.info("bench 1-3/5: round %d/%d, sustained throughput, %s", r + 1, rounds, name)
            kind, checkpoint_s = kinds[name]
            run = throughput(
                settings,
                kind,
                small_topic,
                big_topic,
                small,
                events,
                density,
                checkpoint_s=checkpoint_s,
            )
            runs[name].append(run)
            for backlog in ("small", "large"):
                restarts[f"{name} round {r + 1} {backlog}"] = run["restarts"][backlog]
            _warn_restarts(name, r, run)
    detector_run, sql_run, checkpointed = (
        median_run(runs[name]) for name in ("detector", "sql", "checkpointed")
    )
    other_intervals = {kinds[name][1]: median_run(runs[name]) for name in list(kinds)[3:]}
    if detector_run["events_per_s"] is None:
        raise UsageError(
            f"the hotspot job drained {events} events no slower than {small}: start-up noise "
            "hides its rate, which the rate steps need; raise --events"
        )
    log.info("bench 4/5: rate steps on a live topic")
    live = rate_steps(
        settings,
        stream,
        detector_run["events_per_s"] or 0,
        STEP_FRACTIONS,
        step_seconds,
        warm_up_seconds,
    )
    restarts["live"] = live["restarts"]
    if live["restarts"] != 0:
        log.error(
            "bench: the live run restarted %s times: %s", live["restarts"], live["restart_causes"]
        )
    log.info("bench 5/5: Gi* and permutations")
    gi = gi_star_timing(detector.cells, detector.weights, 2000)
    perm = permutation_timing(permutations)
    setup = {
        "events": events,
        "small_run_events": small,
        "event_time_density_per_s": density,
        "cells": len(detector.cells),
        "categories": len(detector.categories),
        "step_seconds": step_seconds,
        "warm_up_seconds": warm_up_seconds,
        "throughput_rounds": rounds,
        "checkpoint_interval_s": interval_s,
        "state_backend": flink.text("state_backend"),
        "cpus": os.cpu_count(),
        "jvm_jit": settings.jit,
    }
    return bench_report(
        setup,
        detector_run=detector_run,
        sql_run=sql_run,
        checkpointed=checkpointed,
        other_intervals=other_intervals,
        live=live,
        restarts=restarts,
        gi=gi,
        perm=perm,
    )


def _warn_restarts(name: str, round_index: int, run: dict) -> None:
    if any(n != 0 for n in run["restarts"].values()):
        log.error(
            "bench: %s round %d restarted (%s): %s",
            name,
            round_index + 1,
            run["restarts"],
            run["restart_causes"],
        )


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(run_job(json.loads(sys.argv[1]))))
    sys.stdout.flush()
    os._exit(0)  # a following job's JVM and threads end with the process
