"""The Flink side of the hotspot bench: one job per child process, and its timing.

Each measured job runs in a fresh child process
(``python -m pipelines.harness.hotspot_bench <spec as JSON>``), so that no
JVM outlives its run and its memory is the child's process tree. A spec
names the job's ``kind`` (``detector``, the hotspot job, or ``sql``, the
same HOP window count in pure Flink SQL into a blackhole sink), its topics,
the stream's density, the checkpoint interval and, for a followed job,
``follow_seconds`` (at most) and a ``stop_file`` whose creation ends it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

from pipelines.harness.hotspot_bench_flink_log import flink_log_dir, job_log
from pipelines.harness.hotspot_bench_stream import BenchStream
from pipelines.harness.process_memory import RssSampler, broker_pids
from pipelines.settings import Settings

__all__ = ["run_job", "run_child", "throughput", "drain_rate"]


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
        # Until the parent is done with the job (its stop file), or at most follow_seconds.
        stop = spec.get("stop_file")
        while thread.is_alive() and time.monotonic() - started < spec["follow_seconds"]:
            if stop and os.path.exists(stop):
                break
            thread.join(0.2)
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
    from pipelines.streaming.hotspot_sql import minutes_interval

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
                       {minutes_interval(hotspot["window_slide_minutes"])},
                       {minutes_interval(hotspot["window_size_minutes"])}))
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


def run_child(
    settings: Settings,
    spec: dict,
    timeout: float = 3600,
    module: str = "pipelines.harness.hotspot_bench",
) -> dict:
    """Run ``spec`` in a child process under a fresh group; its timing, peak RSS and restarts.

    The group is ``spec["group"]`` when the caller chose it (to watch the
    job's log folder, :func:`~pipelines.harness.hotspot_bench_flink_log.flink_log_dir`,
    while it runs).

    The child is ``python -m <module> <spec as JSON>`` (the hotspot bench,
    or another bench whose entry point prints its job's timing as JSON).

    The child logs to a folder of its own, from which its job's restarts
    and checkpoints are read (:func:`~pipelines.harness.hotspot_bench_flink_log.job_log`);
    the job's checkpoints are deleted afterwards; its log stays until the next bench. A child that fails or
    outlives ``timeout`` (its process group is killed then) raises
    :class:`RuntimeError` naming the job, its restarts and its last error.
    """
    import shutil

    from pipelines.harness.steps import child_env
    from pipelines.io.flink import checkpoint_folder

    group = spec.get("group") or f"zongzhi-bench-{uuid.uuid4().hex[:10]}"
    spec = dict(spec, group=group)
    logs = flink_log_dir(settings, group)
    process = subprocess.Popen(
        [sys.executable, "-m", module, json.dumps(spec)],
        cwd=settings.root,
        env=child_env() | {"FLINK_LOG_DIR": str(logs)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its JVM and Python workers go with it on a timeout
    )
    sampler = RssSampler(process.pid, broker_pids(settings))
    sampler.start()
    timed_out = False
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
    finally:
        peak = sampler.stop()
        shutil.rmtree(checkpoint_folder(settings, group), ignore_errors=True)
    flink_log = job_log(logs)
    what = f"bench job {spec['kind']} ({group}, {flink_log['restarts']} restarts"
    if timed_out:
        raise RuntimeError(f"{what}) did not finish within {timeout:.0f} s: {flink_log['causes']}")
    if process.returncode != 0:
        tail = (err.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{what}) failed: {tail}")
    report = next(
        json.loads(line) for line in reversed(out.strip().splitlines()) if line.startswith("{")
    )
    return {
        **report,
        "peak_rss_bytes": peak,
        "restarts": flink_log["restarts"],
        "restart_causes": flink_log["causes"],
        "checkpoints": flink_log["checkpoints"],
        "running_s": flink_log["running_s"],
        "flink_log": str(logs),
    }


def throughput(settings, kind, small_topic, big_topic, small, big, density, checkpoint_s=0):
    """Sustained events/s of one job: the large backlog's extra events over its extra time.

    Each run is timed from its job's start to its end as the Flink log has
    them (``running_s``), without the JVM's start and the planning, whose
    length varies most on a loaded machine (the wall time of each child is
    kept beside it). ``None`` when the large run took no longer than the
    small one: then the difference is noise, and the backlogs are too small.
    Each run's restarts are kept (``restarts``: small and large run).
    """
    base = {
        "kind": kind,
        "density": density,
        "checkpoint_s": checkpoint_s,
        "alerts_topic": settings.topic("bench_alerts"),
    }
    first = run_child(settings, dict(base, topic=small_topic))
    second = run_child(settings, dict(base, topic=big_topic))
    return drain_rate(first, second, small, big)


def drain_rate(first: dict, second: dict, small: int, big: int) -> dict:
    """Sustained records/s from two :func:`run_child` runs over ``small`` and ``big`` records.

    Examples
    --------
    >>> run = {"seconds": 30.0, "running_s": 10.0, "peak_rss_bytes": 5, "restarts": 0,
    ...        "restart_causes": [], "checkpoints": {}}
    >>> rate = drain_rate(run, dict(run, seconds=42.0, running_s=20.0), 10_000, 110_000)
    >>> rate["events_per_s"], rate["timed_by"], rate["large_run_wall_s"]
    (10000, 'flink job log', 42.0)
    >>> drain_rate(run, run, 10_000, 110_000)["events_per_s"] is None
    True
    """
    by_log = first["running_s"] is not None and second["running_s"] is not None
    key = "running_s" if by_log else "seconds"
    extra_s = second[key] - first[key]
    return {
        "events_per_s": round((big - small) / extra_s) if extra_s > 0 else None,
        "timed_by": "flink job log" if by_log else "child wall time",
        "small_run_s": round(first[key], 2),
        "large_run_s": round(second[key], 2),
        "small_run_wall_s": round(first["seconds"], 2),
        "large_run_wall_s": round(second["seconds"], 2),
        "peak_rss_bytes": max(first["peak_rss_bytes"], second["peak_rss_bytes"]),
        "restarts": {"small": first["restarts"], "large": second["restarts"]},
        "restart_causes": first["restart_causes"] + second["restart_causes"],
        # What the large run's checkpoints (if any) took, from its Flink log.
        "checkpoints": second["checkpoints"],
    }
