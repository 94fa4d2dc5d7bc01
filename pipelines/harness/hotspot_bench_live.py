"""The hotspot bench's rate steps: a followed job, a paced producer, alert latencies.

The job (checkpointing every ``flink.checkpoint_interval_seconds``, its
sinks exactly once, as the live job runs) follows a live topic while the
producer paces events, after a warm-up, at increasing fractions of the
backlog-drain rate. Per step, each alert update has two latencies, both
from the moment its window could close (the producer handed Kafka the first
event at or after ``window end + watermark delay``) (:func:`latency_by_step`):

* **emitted**: to ``emitted_at_ms``, when the job's lifecycle operator
  emitted it (the goal's "alert emitted - window end");
* **visible**: to when a ``read_committed`` consumer, reading the alerts
  topic all along (:class:`AlertWatcher`), received it. The sink commits
  its Kafka transaction with each checkpoint, so an update waits for the
  next one: uniformly over the interval, a wait the report gives as a
  computed floor (:func:`checkpoint_wait_floor_ms`).

The job has fallen behind at a step whose emitted p99 exceeds
``SUSTAINED_P99_MS`` or whose latency keeps growing (:func:`behind`); the
step before is the live sustained maximum (:func:`live_sustained`).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import numpy as np

from pipelines.harness.hotspot_bench_flink_log import flink_logs, tasks_running
from pipelines.harness.hotspot_bench_jobs import run_child
from pipelines.harness.hotspot_bench_stream import PRODUCER_CONFIG, STREAM_START, BenchStream
from pipelines.io.kafka import RecordProducer, reset_topics
from pipelines.settings import Settings

__all__ = [
    "WARM_UP_FRACTION",
    "STEP_FRACTIONS",
    "SUSTAINED_P99_MS",
    "BEHIND_GROWTH_SLACK_MS",
    "AlertWatcher",
    "rate_steps",
    "latency_by_step",
    "checkpoint_wait_floor_ms",
    "behind",
    "live_sustained",
]

#: The warm-up step's rate, as a fraction of the backlog-drain rate.
WARM_UP_FRACTION = 0.3
#: Rate steps, as fractions of the backlog-drain rate.
STEP_FRACTIONS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
#: A step is sustained only if its emitted p99 is at most this, and its
#: second half's median latency is at most twice its first half's plus the
#: slack (latency that keeps growing is a backlog that keeps growing).
SUSTAINED_P99_MS = 2000.0
BEHIND_GROWTH_SLACK_MS = 250.0
#: The longest the followed job may take to start (its JVM, plan and Python workers).
START_GUARD_S = 180.0
#: After the last step: its windows close, and a checkpoint commits their alerts.
TAIL_S = 15.0


class AlertWatcher:
    """A ``read_committed`` consumer of the alerts topic that notes when each record arrives.

    It reads every partition from its start in a thread of its own, while
    the job runs, as a downstream reader (``store-alerts``) would: a record
    of an open Kafka transaction is not delivered until the transaction
    commits. ``received`` holds ``(wall time in s, value)`` pairs.
    """

    def __init__(self, settings: Settings, topic: str, poll_s: float = 0.02):
        self.settings = settings
        self.topic = topic
        self.poll_s = poll_s
        self.received: list[tuple[float, bytes]] = []

    def start(self) -> AlertWatcher:
        """Assign every partition from its start and read in the background; ``self``."""
        from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

        from pipelines.io.kafka_consume import partition_watermarks
        from pipelines.io.kafka_security import PLATFORM, client_config

        self._consumer = Consumer(
            {
                **client_config(self.settings, PLATFORM),
                "group.id": f"zongzhi-bench-watch-{uuid.uuid4().hex[:10]}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                # A fetch returns as soon as the broker has a committed record.
                "fetch.wait.max.ms": 10,
            }
        )
        partitions = partition_watermarks(self._consumer, self.topic, 10.0)
        self._consumer.assign(
            [TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in sorted(partitions)]
        )
        self._stop = threading.Event()
        self._errors: list[str] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        while not self._stop.is_set():
            message = self._consumer.poll(self.poll_s)
            if message is None:
                continue
            if message.error():
                self._errors.append(str(message.error()))
                continue
            self.received.append((time.time(), message.value()))

    def stop(self, quiet_s: float = 3.0, at_most_s: float = 60.0) -> list[tuple[float, bytes]]:
        """Stop once nothing has arrived for ``quiet_s`` (at most ``at_most_s``); the records."""
        waited = time.monotonic()
        while time.monotonic() - waited < at_most_s:
            last = self.received[-1][0] if self.received else 0.0
            if time.time() - last >= quiet_s:
                break
            time.sleep(0.2)
        self._stop.set()
        self._thread.join()
        self._consumer.close()
        if self._errors:
            raise RuntimeError(f"reading {self.topic}: {self._errors[0]}")
        return self.received


def rate_steps(
    settings: Settings,
    stream: BenchStream,
    sustained: float,
    fractions,
    step_seconds: float,
    warm_up_seconds: float,
) -> dict:
    """Follow a live topic while producing at each fraction of ``sustained``; time alerts.

    Returns ``steps`` (the report of every step after the warm-up), the
    followed job's ``peak_rss_bytes``, ``restarts`` and ``restart_causes``,
    its ``checkpoints`` (:func:`~pipelines.harness.hotspot_bench_flink_log.read_flink_log`)
    and ``checkpoint_interval_s``.
    """
    live, alerts_topic = settings.topic("bench_live"), settings.topic("bench_alerts")
    reset_topics(settings, [live, alerts_topic])
    delay_s = int(settings.hotspot["watermark_delay_seconds"])
    interval_s = settings.section("flink").integer("checkpoint_interval_seconds")
    group = f"zongzhi-bench-{uuid.uuid4().hex[:10]}"
    stop_file = flink_logs(settings) / f"{group}.stop"
    spec = {
        "kind": "detector",
        "density": stream.density,
        "checkpoint_s": interval_s,
        "topic": live,
        "alerts_topic": alerts_topic,
        "group": group,
        # A guard: the job is stopped through stop_file once the steps are over.
        "follow_seconds": START_GUARD_S + warm_up_seconds + step_seconds * len(fractions) + TAIL_S,
        "stop_file": str(stop_file),
    }
    failure: list = []

    def follow():
        try:
            spec["result"] = run_child(settings, spec)
        except Exception as exc:  # noqa: BLE001 - raised in the caller's thread below
            failure.append(exc)

    watcher = AlertWatcher(settings, alerts_topic).start()
    child = threading.Thread(target=follow, daemon=True)
    child.start()
    try:
        _wait_until_running(flink_logs(settings) / group, child, failure)
        if failure:
            raise failure[0]
        if not child.is_alive():
            raise RuntimeError("the followed hotspot job ended before the rate steps")
        steps, sent_event_s, sent_wall = _paced_steps(
            settings, stream, sustained, fractions, step_seconds, warm_up_seconds, live
        )
        time.sleep(TAIL_S)  # the last step's windows close, and a checkpoint commits them
    finally:
        stop_file.parent.mkdir(parents=True, exist_ok=True)
        stop_file.touch()
        child.join()
        received = watcher.stop()
        stop_file.unlink(missing_ok=True)
    if failure:
        raise failure[0]
    alerts = [(at, json.loads(value)) for at, value in received]
    result = spec["result"]
    return {
        "steps": latency_by_step(steps[1:], alerts, sent_event_s, sent_wall, delay_s),
        "peak_rss_bytes": result["peak_rss_bytes"],
        "restarts": result["restarts"],
        "restart_causes": result["restart_causes"],
        "checkpoints": result["checkpoints"],
        "checkpoint_interval_s": interval_s,
    }


def _wait_until_running(logs: Path, child: threading.Thread, failure: list) -> None:
    """Wait until the followed job's tasks all run (its Flink log says so); at most START_GUARD_S."""
    began = time.monotonic()
    while time.monotonic() - began < START_GUARD_S:
        if failure or not child.is_alive():
            return  # the caller reports the child's failure
        if any(tasks_running(p.read_text(errors="replace")) for p in logs.glob("*.log")):
            return
        time.sleep(0.5)
    raise RuntimeError(f"the followed job's tasks were not running after {START_GUARD_S:.0f} s")


def _paced_steps(settings, stream, sustained, fractions, step_seconds, warm_up_seconds, live):
    """Produce the warm-up, then each step's rate; the steps and when their event time was sent."""
    slide_s = int(settings.hotspot["window_slide_minutes"]) * 60
    steps, event_s = [], STREAM_START.timestamp()
    generator = stream.events(10**9, int(event_s * 1000), seed=99)
    # Event time runs `speedup` times faster than the wall clock at each rate.
    # A first, unreported, longer step at a low rate warms the detector up (its
    # Monte Carlo nulls are drawn once per category and cached) and lets the
    # job catch up with what piled up meanwhile.
    # When each stretch of event time was actually handed to Kafka: the
    # producer shares the cores too, and may fall behind its schedule.
    sent_event_s, sent_wall = [], []
    with RecordProducer(settings, PRODUCER_CONFIG, flush_timeout=30.0) as producer:
        for fraction in (WARM_UP_FRACTION, *fractions):
            rate = fraction * sustained
            seconds = warm_up_seconds if not steps else step_seconds
            speedup = rate / stream.density
            wall0, event0 = time.time(), event_s
            sent = 0
            while time.time() - wall0 < seconds:
                due = int((time.time() - wall0) * rate)
                while sent < due:
                    value = next(generator)
                    event_ms = int((event0 + sent / stream.density) * 1000)
                    producer.send(live, value, timestamp=event_ms)
                    sent += 1
                producer.poll(0)
                sent_event_s.append(event0 + sent / stream.density)
                sent_wall.append(time.time())
                time.sleep(0.002)
            event_s = event0 + sent / stream.density
            steps.append(
                {
                    "fraction": fraction,
                    "warm_up": len(steps) == 0,
                    "target_events_per_s": round(rate),
                    "sent": sent,
                    "achieved_events_per_s": round(sent / seconds),
                    "wall0": wall0,
                    "event0": event0,
                    "speedup": speedup,
                    "event_end": event_s,
                    # Event time runs fast: the job closes this many windows (each one
                    # Python call) per wall second, where a live district closes one
                    # every slide.
                    "window_ends_per_s": round((event_s - event0) / slide_s / seconds, 2),
                }
            )
    return steps, sent_event_s, sent_wall


def _quantiles(latencies: list[float], prefix: str) -> dict:
    lat = np.array(latencies) * 1000
    return {
        f"{prefix}_p50": round(float(np.percentile(lat, 50)), 1) if lat.size else None,
        f"{prefix}_p99": round(float(np.percentile(lat, 99)), 1) if lat.size else None,
    }


def latency_by_step(
    steps: list[dict],
    alerts: list[tuple[float, dict]],
    sent_event_s: list[float],
    sent_wall: list[float],
    delay_s: int,
) -> list[dict]:
    """Each step's alert-update latencies, in ms, from the producer's log of what it sent.

    ``alerts`` holds ``(received, alert)``: when a read-committed reader got
    each update (wall time, s), and the update. An update belongs to the
    step in whose event time its window could close
    (``updated_window_end + delay_s``); both its latencies run from the
    wall time the producer had sent event time up to that moment
    (``sent_event_s[i]`` was reached at ``sent_wall[i]``): the emitted one
    to ``emitted_at_ms``, the visible one to ``received``.

    Examples
    --------
    >>> step = {"fraction": 0.5, "target_events_per_s": 10, "achieved_events_per_s": 9,
    ...         "event0": 0.0, "event_end": 100.0}
    >>> alert = {"updated_window_end": "1970-01-01T00:00:30+00:00", "emitted_at_ms": 1_250}
    >>> (row,) = latency_by_step([step], [(5.5, alert)], [20.0, 40.0], [0.5, 1.0], delay_s=5)
    >>> row["alert_updates"], row["latency_ms_p50"], row["visible_latency_ms_p50"]
    (1, 250.0, 4500.0)
    """
    report = []
    for step in steps:
        timed = []
        for received, alert in alerts:
            end_s = datetime.fromisoformat(alert["updated_window_end"]).timestamp()
            if not step["event0"] < end_s + delay_s <= step["event_end"]:
                continue
            # The window could close once an event at end + delay had been sent.
            at = int(np.searchsorted(sent_event_s, end_s + delay_s))
            if at >= len(sent_wall):
                continue
            closed = sent_wall[at]
            timed.append((closed, alert["emitted_at_ms"] / 1000 - closed, received - closed))
        # In the order the windows could close: the halves are the step's halves.
        timed.sort()
        emitted = [e for _, e, _ in timed]
        visible = [v for _, _, v in timed]
        half = len(emitted) // 2
        report.append(
            {
                "fraction_of_sustained": step["fraction"],
                "target_events_per_s": step["target_events_per_s"],
                "achieved_events_per_s": step["achieved_events_per_s"],
                "window_ends_per_s": step.get("window_ends_per_s"),
                "alert_updates": len(emitted),
                **_quantiles(emitted, "latency_ms"),
                # Falling behind shows as latency that keeps growing over the step.
                "latency_ms_first_half_median": (
                    round(float(np.median(emitted[:half])) * 1000, 1) if half else None
                ),
                "latency_ms_second_half_median": (
                    round(float(np.median(emitted[half:])) * 1000, 1) if half else None
                ),
                **_quantiles(visible, "visible_latency_ms"),
            }
        )
    return report


def checkpoint_wait_floor_ms(interval_s: float) -> dict:
    """What waiting for the next checkpoint adds, at least, to an alert's visible latency.

    An exactly-once sink's records become visible when the checkpoint after
    them completes. An alert emitted at a moment uniform over the interval
    ``T`` waits ``U(0, T)`` for the checkpoint to start (plus the
    checkpoint's own duration, not counted here): its p50 is ``T / 2`` and
    its p99 ``0.99 T``. A visible p99 of at most ``x`` thus needs ``T``
    below ``x / 0.99``, before the emitted latency takes its share.

    Examples
    --------
    >>> checkpoint_wait_floor_ms(10)
    {'checkpoint_interval_s': 10, 'wait_p50': 5000.0, 'wait_p99': 9900.0}
    """
    return {
        "checkpoint_interval_s": interval_s,
        "wait_p50": round(interval_s * 1000 * 0.5, 1),
        "wait_p99": round(interval_s * 1000 * 0.99, 1),
    }


def behind(step: dict) -> bool:
    """Whether the job fell behind during a rate step: it is sustained only if it is not.

    Behind: no alert update timed, an emitted p99 above ``SUSTAINED_P99_MS``,
    or latency that keeps growing over the step (its second half's median
    above twice its first half's plus ``BEHIND_GROWTH_SLACK_MS``).

    Examples
    --------
    >>> ok = {"alert_updates": 40, "latency_ms_p50": 150.0, "latency_ms_p99": 400.0,
    ...       "latency_ms_first_half_median": 140.0, "latency_ms_second_half_median": 160.0}
    >>> behind(ok)
    False
    >>> behind(dict(ok, latency_ms_first_half_median=300.0, latency_ms_second_half_median=1400.0))
    True

    A step whose latency falls, but whose p99 is above 2 s, is not
    sustained: it was still draining what piled up before it.

    >>> behind(dict(ok, latency_ms_p50=1900.0, latency_ms_p99=2900.0,
    ...             latency_ms_first_half_median=2400.0, latency_ms_second_half_median=1500.0))
    True
    >>> behind(dict(ok, alert_updates=0, latency_ms_p50=None, latency_ms_p99=None))
    True
    """
    if not step["alert_updates"] or step["latency_ms_p99"] is None:
        return True
    if step["latency_ms_p99"] > SUSTAINED_P99_MS:
        return True
    first = step["latency_ms_first_half_median"] or step["latency_ms_p50"]
    second = step["latency_ms_second_half_median"] or step["latency_ms_p50"]
    return second > 2 * first + BEHIND_GROWTH_SLACK_MS


def live_sustained(steps: list[dict]) -> dict:
    """The highest rate the followed job kept up with, and the step at 70 % of it.

    The live maximum is the achieved rate of the last step before the first
    one that fell behind (:func:`behind`). The latency step is the slowest
    step whose rate is at least 70 % of that maximum (so never an easier,
    lower rate).

    Steps that fell behind before the first step that kept up are the
    warm-up's tail, not the job's limit: a job that cannot keep up with a
    rate cannot keep up with a higher one either, since its backlog only
    grows. They are counted in ``warm_up_tail_steps`` and never chosen.

    Examples
    --------
    >>> ok = {"alert_updates": 9, "latency_ms_p50": 100.0, "latency_ms_p99": 300.0,
    ...       "latency_ms_first_half_median": 90.0, "latency_ms_second_half_median": 110.0}
    >>> late = dict(ok, latency_ms_p50=5000.0, latency_ms_p99=6000.0)
    >>> steps = [dict(ok, achieved_events_per_s=r) for r in (40, 50, 60, 70)]
    >>> steps.append(dict(late, achieved_events_per_s=80))
    >>> live = live_sustained(steps)
    >>> live["events_per_s"], live["at_70_percent"]["achieved_events_per_s"]
    (70, 50)

    A step whose median keeps up but whose p99 is above 2 s ends the run:

    >>> steps[3] = dict(steps[3], latency_ms_p99=2500.0)
    >>> live = live_sustained(steps)
    >>> live["events_per_s"], live["at_70_percent"]["achieved_events_per_s"]
    (60, 50)

    A first step still slow from the warm-up, then steps that keep up:

    >>> steps[0] = dict(steps[0], latency_ms_p50=3000.0, latency_ms_p99=3500.0)
    >>> live = live_sustained(steps)
    >>> live["events_per_s"], live["at_70_percent"]["achieved_events_per_s"]
    (60, 50)
    >>> live["warm_up_tail_steps"]
    1
    """
    tail = next((i for i, step in enumerate(steps) if not behind(step)), len(steps))
    kept = []
    for step in steps[tail:]:
        if behind(step):
            break
        kept.append(step)
    if not kept:
        return {"events_per_s": 0, "at_70_percent": None, "warm_up_tail_steps": tail}
    top = kept[-1]["achieved_events_per_s"]
    at_70 = next(s for s in kept if s["achieved_events_per_s"] >= 0.7 * top)
    return {"events_per_s": top, "at_70_percent": at_70, "warm_up_tail_steps": tail}
