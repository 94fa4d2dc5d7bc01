"""Kill the normalization and hotspot jobs mid-stream; restarted from their checkpoints,
they leave the alerts topic (read committed) and PostgreSQL exactly as an undisturbed run.

One fixed event set (a simulated district with a planted surge) goes through the
following jobs twice: once undisturbed, once with both jobs killed (SIGKILL, no
clean-up) after each has completed a checkpoint, and started again without
``--fresh``. Checkpoints every 2 s keep the run short.

The watermark allowance (6 h, the stream's disorder being tens of minutes)
holds every window until the closing events arrive, after the restart: the
kill lands while the windows' counts are in flight, in state and in open
transactions. A kill after windows have fired, with clusters open in the
lifecycle state, is not covered here yet.
"""

from __future__ import annotations

import copy
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest
import yaml

from pipelines.harness.demo import StreamingJobs
from pipelines.harness.simulation_run import build_simulator
from pipelines.harness.simulator.produce import produce_records
from pipelines.harness.steps import run_step
from pipelines.harness.streams import fresh_streams
from pipelines.io.flink import checkpoint_folder, latest_checkpoint
from pipelines.io.kafka import group_lag, topic_counts
from pipelines.io.platform_state import pseudonym_key
from pipelines.settings import load_settings
from pipelines.streaming import hotspot_job, normalize_job

from .conftest import district_settings
from .kafka_read import read_topic

pytestmark = pytest.mark.integration

_CATEGORY = "public_order.petty_theft"
_HOURS = 4
# Far more than the normalized stream's disorder (reports arrive up to hours after
# their events): no event is late in either run, so both runs score the same windows.
_WATERMARK_DELAY_S = 6 * 3600
# Events this long after the stream move the watermark past all of its windows.
_CLOSING_AFTER = timedelta(hours=7)


@pytest.fixture(scope="module")
def quick_settings(settings, tmp_path_factory, monkeypatch_module):
    """The settings with checkpoints every 2 s, through a config file of their own."""
    raw = copy.deepcopy(settings.raw)
    raw["flink"]["checkpoint_interval_seconds"] = 2
    path = tmp_path_factory.mktemp("config") / "zongzhi.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    monkeypatch_module.setenv("ZONGZHI_CONFIG", str(path))
    monkeypatch_module.setenv("ZONGZHI_VAR", str(settings.var))
    quick = load_settings()
    assert quick.section("flink").integer("checkpoint_interval_seconds") == 2
    return quick


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def events(quick_settings):
    settings = district_settings()
    pseudonym_key(settings, create=True)
    end = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    start = end - timedelta(hours=_HOURS)
    probe = build_simulator(settings, start=start, seed=21)
    cell = probe.busiest_cells(_CATEGORY, 1)[0]
    sim = build_simulator(
        settings, start=start, seed=21, surges=[(cell, _CATEGORY, 90.0, 60.0, 60.0)]
    )
    closing = build_simulator(settings, start=end + _CLOSING_AFTER, seed=22)
    return (
        list(sim.records(start, timedelta(hours=_HOURS))),
        list(closing.records(end + _CLOSING_AFTER, timedelta(minutes=10))),
    )


def _pg_alerts(settings) -> list[tuple]:
    schema = settings.pg["schema"]
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT alert_id, status, looks FROM {schema}.alerts ORDER BY alert_id")
        alerts = cur.fetchall()
        cur.execute(
            f"SELECT alert_id, status, updated_window_end::text FROM {schema}.alert_updates "
            "ORDER BY 1, 3, 2"
        )
        updates = cur.fetchall()
    conn.close()
    return alerts + [("update", *u) for u in updates]


def _clear_pg(settings) -> None:
    schema = settings.pg["schema"]
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(f"TRUNCATE {schema}.alerts, {schema}.alert_updates")
    conn.close()


def _checkpoint_id(settings, group: str) -> int:
    done = latest_checkpoint(checkpoint_folder(settings, group))
    return int(done.name[4:]) if done is not None else 0


def _wait(condition, jobs: StreamingJobs, what: str, timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        jobs.check()
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(1)


def _drained(settings, jobs: StreamingJobs, produced: int) -> None:
    """Wait until every record is normalized and read by the hotspot job, then two checkpoints.

    Offsets are committed when a checkpoint completes; windows the last
    records closed write their alerts in the transaction of a later
    checkpoint, so two more completed checkpoints follow the zero lag.
    """
    raw = list(settings.raw_topics.values())
    normalized = settings.topic("normalized")
    _wait(
        lambda: (
            sum(group_lag(settings, normalize_job.GROUP_ID, t) for t in raw) == 0
            and group_lag(settings, hotspot_job.GROUP_ID, normalized) == 0
        ),
        jobs,
        "the jobs to commit every input offset",
    )
    counts = topic_counts(settings, [normalized, settings.topic("dead_letter")])
    assert sum(counts.values()) == produced
    after = _checkpoint_id(settings, hotspot_job.GROUP_ID) + 2
    _wait(
        lambda: _checkpoint_id(settings, hotspot_job.GROUP_ID) >= after,
        jobs,
        "two more hotspot checkpoints",
    )


def _start(jobs: StreamingJobs, *extra: str) -> None:
    jobs.start("normalize", "--follow", *extra)
    jobs.start("hotspots", "--follow", "--watermark-delay-seconds", str(_WATERMARK_DELAY_S), *extra)


def _run(settings, events, *, kill: bool) -> dict:
    records, closing = events
    fresh_streams(settings)
    _clear_pg(settings)
    jobs = StreamingJobs(settings)
    half = len(records) // 2
    killed_at = None
    try:
        _start(jobs, "--fresh")
        produce_records(settings, records[:half])
        if kill:
            # Mid-stream: both jobs have completed a checkpoint that holds progress.
            # (The hotspot job commits offsets of the normalized topic, which holds only
            # what the normalization job's completed checkpoints committed.)
            normalized = settings.topic("normalized")
            _wait(
                lambda: (
                    _checkpoint_id(settings, hotspot_job.GROUP_ID) > 0
                    and _checkpoint_id(settings, normalize_job.GROUP_ID) > 0
                    and group_lag(settings, hotspot_job.GROUP_ID, normalized)
                    < topic_counts(settings, [normalized])[normalized]
                ),
                jobs,
                "a checkpoint of both jobs with progress",
            )
            produce_records(settings, records[half:])
            killed_at = {
                group: _checkpoint_id(settings, group)
                for group in (normalize_job.GROUP_ID, hotspot_job.GROUP_ID)
            }
            jobs.kill("normalize")
            jobs.kill("hotspots")
            _start(jobs)  # no --fresh: from their checkpoints
        else:
            produce_records(settings, records[half:])
        _drained(settings, jobs, len(records))
        # Only now the events that close the windows: none of the stream is late.
        produce_records(settings, closing)
        _drained(settings, jobs, len(records) + len(closing))
    finally:
        jobs.stop()
    run_step(settings, "store-alerts")
    alerts = [json.loads(v) for v in read_topic(settings, settings.topic("alerts"))]
    late = read_topic(settings, settings.topic("late"))
    return {"alerts": alerts, "late": late, "pg": _pg_alerts(settings), "killed_at": killed_at}


def _updates(alerts) -> list[tuple]:
    return sorted((a["alert_id"], a["status"], a["updated_window_end"]) for a in alerts)


def test_killed_jobs_resume_from_their_checkpoints_with_nothing_lost_or_doubled(
    quick_settings, events
):
    settings = quick_settings
    undisturbed = _run(settings, events, kill=False)
    killed = _run(settings, events, kill=True)

    assert all(n > 0 for n in killed["killed_at"].values()), killed["killed_at"]
    assert undisturbed["late"] == killed["late"] == []
    expected = _updates(undisturbed["alerts"])
    # The planted surge is found, and its cluster lives through several looks.
    assert Counter(s for _, s, _ in expected)["new"] >= 1
    assert len(expected) > Counter(s for _, s, _ in expected)["new"]
    got = _updates(killed["alerts"])
    assert got == expected  # no gap, no duplicate
    new = [a["alert_id"] for a in killed["alerts"] if a["status"] == "new"]
    assert len(new) == len(set(new))  # no cluster raised twice
    assert killed["pg"] == undisturbed["pg"]
