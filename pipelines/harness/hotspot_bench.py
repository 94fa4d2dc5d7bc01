"""``zongzhi bench hotspots``: how fast the hotspot job is, against its baselines, in one run.

All measurements run on this machine in one process tree, one after the
other, so every ratio compares numbers taken minutes apart:

1. **Sustained throughput** of (a) the hotspot job and (b) the same HOP
   window count written as pure Flink SQL into a blackhole sink. Each job
   drains a backlog of synthetic normalized events from Kafka, once small
   and once large; the rate is the difference in events over the
   difference in wall time, so the fixed cost of starting a job cancels.
2. **Checkpointing**: (a) again, with exactly-once checkpoints every 10 s.

   The runs of 1 and 2 take turns over ``rounds`` rounds, in alternating
   order, and each reports its median round.
3. **Rate steps**: the job (with its 10 s checkpoints) follows a live topic
   while the producer paces events, after a warm-up, at increasing
   fractions of (a)'s drain rate. Per step, each alert update's latency runs
   from the moment its window could close (the producer handed Kafka the
   first event at or after ``window end + watermark delay``) to its
   emission. The job has fallen behind at a step whose latency is high or
   keeps growing (:func:`behind`); the step before is the live sustained
   maximum, and the slowest step at 70 % of it or more gives the reported
   p50 and p99. Steps behind before any step kept up are the warm-up's
   tail (:func:`live_sustained`).
4. **Gi\\*** of all district cells against one sparse matrix-vector product.
5. **Permutation p-values** (999) against ``esda.G_Local``.
6. **Peak RSS** of the streaming stack: the job's process tree (the
   PyFlink client, its JVM and Python workers) plus the Kafka broker,
   sampled from ``/proc`` while each job runs.

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
import sys

from pipelines.errors import UsageError
from pipelines.harness.hotspot_bench_jobs import run_job, throughput
from pipelines.harness.hotspot_bench_live import (
    BEHIND_GROWTH_SLACK_MS,
    BEHIND_LATENCY_MS,
    STEP_FRACTIONS,
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
    "BEHIND_LATENCY_MS",
    "STEP_FRACTIONS",
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
) -> dict:
    """Run every measurement; return the report (goals alongside)."""
    from pipelines.io.kafka import check_reachable, reset_topics
    from pipelines.streaming.hotspot_job import district_detector

    check_reachable(settings)
    if small >= events:
        raise UsageError(f"events={events} must exceed the small run's {small}")
    if rounds < 1:
        raise UsageError(f"rounds={rounds} must be at least 1")
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
    # The three throughput runs take turns, round after round, in alternating
    # order, so a slow minute of the machine (the broker compacting, the page
    # cache) does not land on one of them only; each is the median over rounds.
    kinds = {"detector": ("detector", 0), "sql": ("sql", 0), "checkpointed": ("detector", 10)}
    runs: dict = {name: [] for name in kinds}
    for r in range(rounds):
        order = list(kinds) if r % 2 == 0 else list(reversed(kinds))
        for name in order:
            log.info("bench 1-3/5: round %d/%d, sustained throughput, %s", r + 1, rounds, name)
            kind, checkpoint_s = kinds[name]
            runs[name].append(
                throughput(
                    settings,
                    kind,
                    small_topic,
                    big_topic,
                    small,
                    events,
                    density,
                    checkpoint_s=checkpoint_s,
                )
            )
    detector_run, sql_run, checkpointed = (median_run(runs[name]) for name in kinds)
    log.info("bench 4/5: rate steps on a live topic")
    steps, live_rss = rate_steps(
        settings,
        stream,
        detector_run["events_per_s"],
        STEP_FRACTIONS,
        step_seconds,
        warm_up_seconds,
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
        "throughput_rounds": rounds,
        "cpus": os.cpu_count(),
    }
    return bench_report(
        setup,
        detector_run=detector_run,
        sql_run=sql_run,
        checkpointed=checkpointed,
        steps=steps,
        live_rss=live_rss,
        gi=gi,
        perm=perm,
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(run_job(json.loads(sys.argv[1]))))
    sys.stdout.flush()
    os._exit(0)  # a following job's JVM and threads end with the process
