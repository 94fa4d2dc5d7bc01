"""The Flink side of the hotspot bench: one job per child process, and its timing.

Each measured job runs in a fresh child process
(``python -m pipelines.harness.hotspot_bench <spec as JSON>``), so that no
JVM outlives its run and its memory is the child's process tree. A spec
names the job's ``kind`` (``detector``, the hotspot job, or ``sql``, the
same HOP window count in pure Flink SQL into a blackhole sink), its topics,
the stream's density, the checkpoint interval and, for a followed job,
``follow_seconds``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid

from pipelines.harness.hotspot_bench_stream import BenchStream
from pipelines.harness.process_memory import RssSampler, broker_pids
from pipelines.settings import Settings

__all__ = ["run_job", "run_child", "throughput"]


def run_job(spec: dict) -> dict:
    """Run one job as the bench's child process asked; return its timing."""
    from pipelines.settings import load_settings
    from pipelines.streaming import hotspot_job
    from pipelines.streaming.hotspot_job import BaselineStore, WindowScorer, district_detector

    settings = load_settings()
    hotspot = settings.hotspot
    if spec["kind"] == "sql":
        return _sql_job(settings, spec)
    detector = district_detector(settings)
    stream = BenchStream(detector.cells, detector.categories, spec["density"])
    baselines = stream.baselines(float(hotspot["fallback_rate_per_cell_hour"]))
    store = BaselineStore.fixed(baselines)
    topics = {
        "normalized": spec["topic"],
        "alerts": spec["alerts_topic"],
        "late": settings.topic("bench_late"),
    }
    started = time.monotonic()
    if spec.get("follow_seconds"):
        failure: list = []

        def follow():
            try:
                hotspot_job.run(
                    settings=settings,
                    follow=True,
                    scorer=WindowScorer(detector, store),
                    topics=topics,
                    group_id=spec["group"],
                    checkpoint_interval_s=spec["checkpoint_s"],
                )
            except Exception as exc:  # noqa: BLE001 - reported to the parent below
                failure.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:500]}")

        thread = threading.Thread(target=follow, daemon=True)
        thread.start()
        thread.join(spec["follow_seconds"])
        if failure:
            raise RuntimeError(f"the followed hotspot job failed: {failure[0]}")
        return {"seconds": time.monotonic() - started}
    hotspot_job.run(
        settings,
        scorer=WindowScorer(detector, store),
        topics=topics,
        group_id=spec["group"],
        checkpoint_interval_s=spec["checkpoint_s"] or None,
        watermark_delay_s=int(hotspot["watermark_delay_seconds"]),
        emit_strategy="on-periodic",
    )
    return {"seconds": time.monotonic() - started}


def _sql_job(settings: Settings, spec: dict) -> dict:
    from pipelines.io.flink import execute_statements, streaming_table_env
    from pipelines.io.kafka_security import PLATFORM
    from pipelines.streaming.hotspot_job import create_event_source

    hotspot = settings.hotspot
    t_env = streaming_table_env(settings, checkpoint_interval_s=spec["checkpoint_s"] or None)
    # The synthetic backlog is in event-time order: the live allowance.
    create_event_source(
        t_env,
        settings,
        spec["group"],
        False,
        spec["topic"],
        int(hotspot["watermark_delay_seconds"]),
        "on-periodic",
    )
    t_env.execute_sql("""CREATE TEMPORARY TABLE counts_out (
        cell_id STRING, category STRING, window_start TIMESTAMP(3), window_end TIMESTAMP(3),
        events BIGINT) WITH ('connector' = 'blackhole')""")
    excluded = ", ".join(f"'{c}'" for c in hotspot.get("excluded_categories") or []) or "''"
    insert = f"""INSERT INTO counts_out
        SELECT cell_id, category, window_start, window_end, COUNT(*)
        FROM TABLE(HOP(TABLE events, DESCRIPTOR(ts),
                       INTERVAL '{int(hotspot["window_slide_minutes"])}' MINUTE,
                       INTERVAL '{int(hotspot["window_size_minutes"])}' MINUTE))
        WHERE category NOT IN ({excluded})
        GROUP BY cell_id, category, window_start, window_end"""
    started = time.monotonic()
    execute_statements(
        settings,
        t_env,
        [insert],
        follow=False,
        group_id=spec["group"],
        topics=[spec["topic"]],
        principal=PLATFORM,
    )
    return {"seconds": time.monotonic() - started}


def run_child(settings: Settings, spec: dict, timeout: float = 3600) -> dict:
    """Run ``spec`` in a child process under a fresh group; its timing and peak RSS."""
    from pipelines.harness.steps import child_env

    spec = dict(spec, group=f"zongzhi-bench-{uuid.uuid4().hex[:10]}")
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.harness.hotspot_bench", json.dumps(spec)],
        cwd=settings.root,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = RssSampler(process.pid, broker_pids(settings))
    sampler.start()
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        peak = sampler.stop()
    if process.returncode != 0:
        tail = (err.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"bench job {spec['kind']} failed: {tail}")
    report = next(
        json.loads(line) for line in reversed(out.strip().splitlines()) if line.startswith("{")
    )
    return {**report, "peak_rss_bytes": peak}


def throughput(settings, kind, small_topic, big_topic, small, big, density, checkpoint_s=0):
    """Sustained events/s of one job: the large backlog's extra events over its extra time."""
    base = {
        "kind": kind,
        "density": density,
        "checkpoint_s": checkpoint_s,
        "alerts_topic": settings.topic("bench_alerts"),
    }
    first = run_child(settings, dict(base, topic=small_topic))
    second = run_child(settings, dict(base, topic=big_topic))
    rate = (big - small) / max(second["seconds"] - first["seconds"], 1e-9)
    return {
        "events_per_s": round(rate),
        "small_run_s": round(first["seconds"], 2),
        "large_run_s": round(second["seconds"], 2),
        "peak_rss_bytes": max(first["peak_rss_bytes"], second["peak_rss_bytes"]),
    }
