"""The hotspot bench's rate steps: a followed job, a paced producer, alert latencies.

The job (with its 10 s checkpoints) follows a live topic while the producer
paces events, after a warm-up, at increasing fractions of the backlog-drain
rate. Per step, each alert update's latency runs from the moment its window
could close (the producer handed Kafka the first event at or after
``window end + watermark delay``) to its emission (:func:`latency_by_step`).
The job has fallen behind at a step whose latency is high or keeps growing
(:func:`behind`); the step before is the live sustained maximum
(:func:`live_sustained`).
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime

import numpy as np

from pipelines.harness.hotspot_bench_jobs import run_child
from pipelines.harness.hotspot_bench_stream import PRODUCER_CONFIG, STREAM_START, BenchStream
from pipelines.io.kafka import RecordProducer, consume_topic_values, reset_topics
from pipelines.settings import Settings

__all__ = [
    "WARM_UP_FRACTION",
    "STEP_FRACTIONS",
    "BEHIND_LATENCY_MS",
    "BEHIND_GROWTH_SLACK_MS",
    "rate_steps",
    "latency_by_step",
    "behind",
    "live_sustained",
]

#: The warm-up step's rate, as a fraction of the backlog-drain rate.
WARM_UP_FRACTION = 0.3
#: Rate steps, as fractions of the backlog-drain rate.
STEP_FRACTIONS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
#: A step has fallen behind when its median latency exceeds this, or its
#: second half's median latency exceeds twice its first half's plus the
#: slack; a step whose latency falls is catching up, not behind.
BEHIND_LATENCY_MS = 2000.0
BEHIND_GROWTH_SLACK_MS = 250.0


def rate_steps(
    settings: Settings,
    stream: BenchStream,
    sustained: float,
    fractions,
    step_seconds: float,
    warm_up_seconds: float,
) -> tuple[list[dict], int]:
    """Follow a live topic while producing at each fraction of ``sustained``; time alerts.

    Returns the report of every step after the warm-up, and the followed
    job's peak RSS in bytes.
    """
    live, alerts_topic = settings.topic("bench_live"), settings.topic("bench_alerts")
    reset_topics(settings, [live, alerts_topic])
    delay_s = int(settings.hotspot["watermark_delay_seconds"])
    warmup = 25.0
    spec = {
        "kind": "detector",
        "density": stream.density,
        "checkpoint_s": 10,
        "topic": live,
        "alerts_topic": alerts_topic,
        "follow_seconds": warmup + warm_up_seconds + step_seconds * len(fractions) + 15,
    }
    child = threading.Thread(
        target=lambda: spec.update(result=run_child(settings, spec)), daemon=True
    )
    child.start()
    time.sleep(warmup)  # the job is up and reading
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
                }
            )
    child.join()
    alerts = [json.loads(v) for v in consume_topic_values(settings, alerts_topic)]
    report = latency_by_step(steps[1:], alerts, sent_event_s, sent_wall, delay_s)
    return report, spec.get("result", {}).get("peak_rss_bytes", 0)


def latency_by_step(
    steps: list[dict],
    alerts: list[dict],
    sent_event_s: list[float],
    sent_wall: list[float],
    delay_s: int,
) -> list[dict]:
    """Each step's alert-update latencies, in ms, from the producer's log of what it sent.

    An alert update belongs to the step in whose event time its window
    could close (``updated_window_end + delay_s``); its latency runs from
    the wall time the producer had sent event time up to that moment
    (``sent_event_s[i]`` was reached at ``sent_wall[i]``) to ``emitted_at_ms``.

    Examples
    --------
    >>> step = {"fraction": 0.5, "target_events_per_s": 10, "achieved_events_per_s": 9,
    ...         "event0": 0.0, "event_end": 100.0}
    >>> alert = {"updated_window_end": "1970-01-01T00:00:30+00:00", "emitted_at_ms": 1_250}
    >>> (row,) = latency_by_step([step], [alert], [20.0, 40.0], [0.5, 1.0], delay_s=5)
    >>> row["alert_updates"], row["latency_ms_p50"]
    (1, 250.0)
    """
    report = []
    for step in steps:
        latencies = []
        for alert in alerts:
            end_s = datetime.fromisoformat(alert["updated_window_end"]).timestamp()
            if not step["event0"] < end_s + delay_s <= step["event_end"]:
                continue
            # The window could close once an event at end + delay had been sent.
            at = int(np.searchsorted(sent_event_s, end_s + delay_s))
            if at >= len(sent_wall):
                continue
            latencies.append(alert["emitted_at_ms"] / 1000 - sent_wall[at])
        lat = np.array(latencies) * 1000
        half = len(lat) // 2
        report.append(
            {
                "fraction_of_sustained": step["fraction"],
                "target_events_per_s": step["target_events_per_s"],
                "achieved_events_per_s": step["achieved_events_per_s"],
                "alert_updates": int(lat.size),
                "latency_ms_p50": round(float(np.percentile(lat, 50)), 1) if lat.size else None,
                "latency_ms_p99": round(float(np.percentile(lat, 99)), 1) if lat.size else None,
                # Falling behind shows as latency that keeps growing over the step.
                "latency_ms_first_half_median": (
                    round(float(np.median(lat[:half])), 1) if half else None
                ),
                "latency_ms_second_half_median": (
                    round(float(np.median(lat[half:])), 1) if half else None
                ),
            }
        )
    return report


def behind(step: dict) -> bool:
    """Whether the job fell behind during a rate step (no alert timed counts as behind).

    Examples
    --------
    >>> behind({"alert_updates": 40, "latency_ms_p50": 150.0,
    ...         "latency_ms_first_half_median": 140.0, "latency_ms_second_half_median": 160.0})
    False
    >>> behind({"alert_updates": 40, "latency_ms_p50": 900.0,
    ...         "latency_ms_first_half_median": 300.0, "latency_ms_second_half_median": 1400.0})
    True

    A step whose latency falls over the step is draining what piled up
    before it (the warm-up's backlog on a slow start), not falling behind,
    even above ``BEHIND_LATENCY_MS``:

    >>> behind({"alert_updates": 6, "latency_ms_p50": 2400.0,
    ...         "latency_ms_first_half_median": 2900.0, "latency_ms_second_half_median": 1900.0})
    False
    """
    if not step["alert_updates"] or step["latency_ms_p50"] is None:
        return True
    first = step["latency_ms_first_half_median"] or step["latency_ms_p50"]
    second = step["latency_ms_second_half_median"] or step["latency_ms_p50"]
    if second < first:
        return False
    return step["latency_ms_p50"] > BEHIND_LATENCY_MS or second > 2 * first + BEHIND_GROWTH_SLACK_MS


def live_sustained(steps: list[dict]) -> dict:
    """The highest rate the followed job kept up with, and the step at 70 % of it.

    The live maximum is the achieved rate of the last step before the first
    one that fell behind. The latency step is the slowest step whose rate is
    at least 70 % of that maximum (so never an easier, lower rate).

    Steps that fell behind before the first step that kept up are the
    warm-up's tail, not the job's limit: a job that cannot keep up with a
    rate cannot keep up with a higher one either, since its backlog only
    grows. They are counted in ``warm_up_tail_steps`` and never chosen.

    Examples
    --------
    >>> ok = {"alert_updates": 9, "latency_ms_p50": 100.0,
    ...       "latency_ms_first_half_median": 90.0, "latency_ms_second_half_median": 110.0}
    >>> late = dict(ok, latency_ms_p50=5000.0)
    >>> steps = [dict(ok, achieved_events_per_s=r) for r in (40, 50, 60, 70)]
    >>> steps.append(dict(late, achieved_events_per_s=80))
    >>> live = live_sustained(steps)
    >>> live["events_per_s"], live["at_70_percent"]["achieved_events_per_s"]
    (70, 50)

    A first step still slow from the warm-up, then steps that keep up:

    >>> steps[0] = dict(steps[0], latency_ms_p50=3000.0, latency_ms_first_half_median=2900.0,
    ...                 latency_ms_second_half_median=3100.0)
    >>> live = live_sustained(steps)
    >>> live["events_per_s"], live["at_70_percent"]["achieved_events_per_s"]
    (70, 50)
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
