"""``zongzhi store-alerts`` outlives PostgreSQL (issue 12, defect 7).

Real Kafka and PostgreSQL, started through ``infra/``: a stream of alerts is
produced to the alerts topic while ``store-alerts --follow`` runs as a child
process, and PostgreSQL is stopped for 30 s in the middle (``infra/postgres.sh
stop``, then ``start``). Afterwards PostgreSQL holds every alert exactly
once, and the store logged the outage in one line and the return in another.
A replay of the whole topic adds nothing; a wrong password is an error, not
a wait.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

from pipelines.harness.infra_scripts import run_infra_script
from pipelines.harness.steps import child_env, run_step
from pipelines.io.kafka import RecordProducer, delete_groups, reset_topics
from pipelines.streaming.alert_store import GROUP_ID

pytestmark = pytest.mark.integration

CLUSTERS = 40
STATUSES = ("new", "ongoing", "ended")
WATCH_ALERTS, READS_PER_WATCH_ALERT = 8, 2
BASE = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
OUTAGE_S = 30
#: A guard against a hang, not a measurement: how long the store may take to catch up.
CATCH_UP_GUARD_S = 300


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def hotspot_update(cluster: int, look: int) -> dict:
    """The ``look``-th update (0, 1, 2: new, ongoing, ended) of a hotspot cluster's alert."""
    window_end = BASE + timedelta(minutes=5 * (look + 1) + cluster)
    return {
        "alert_id": f"zzt-cluster-{cluster:03d}",
        "cluster_id": f"zzt-cluster-{cluster:03d}",
        "status": STATUSES[look],
        "cell_id": f"c{cluster:03d}",
        "category": "public_order.petty_theft",
        "category_label": "盗窃",
        "window_start": (window_end - timedelta(minutes=30)).isoformat(),
        "window_end": window_end.isoformat(),
        "first_window_end": (BASE + timedelta(minutes=5 + cluster)).isoformat(),
        "updated_window_end": window_end.isoformat(),
        "observed": 6 + look,
        "expected": 1.25,
        "p_value": 0.002,
        "score": 4.5,
        "severity": "黄色",
        "baseline_source": "cell",
        "district_code": "110118",
        "town_code": "110118100",
        "town_name": "鼓楼街道",
        "village_code": "110118100001",
        "village_name": "测试村",
        "lon": 116.84,
        "lat": 40.37,
        "emitted_at_ms": _ms(window_end) + 800,
        "cells": [f"c{cluster:03d}"],
        "cell_stats": [{"cell_id": f"c{cluster:03d}", "observed": 6 + look}],
        "duration_minutes": 5 * (look + 1),
        "llr": 5.0 + look,
        "p_method": "monte_carlo",
        "recurrence_interval_days": 40.0,
        "threshold": 0.01,
        "budget_per_town_month": 1.0,
        "gi_star_z": 2.5,
        "looks": look + 1,
    }


def watch_read(alert: int, read: int) -> dict:
    """One read of a watched vehicle at a sensitive checkpoint."""
    when = BASE + timedelta(minutes=alert, seconds=30 * read)
    return {
        "kind": "watch",
        "alert_id": f"zzt-watch-{alert:03d}",
        "vehicle_node": f"vehicle:zzt-{alert}",
        "plate_hash": f"plate_zzt{alert:03d}",
        "match": "exact",
        "match_label": "精确匹配",
        "reason": "key_person_vehicle",
        "reason_label": "重点人员车辆",
        "detail": "测试",
        "persons": [f"person:zzt-{alert}"],
        "watch_as_of": "2026-11-19",
        "site_id": "site-1",
        "site_name": "测试卡口",
        "place_id": "school-1",
        "place_name": "测试学校",
        "place_kind": "school",
        "place_kind_label": "学校",
        "distance_m": 420.0,
        "town_code": "110118100",
        "town_name": "鼓楼街道",
        "village_code": "110118100001",
        "village_name": "测试村",
        "cell_id": "c001",
        "lon": 116.84,
        "lat": 40.37,
        "summary": "重点车辆经过学校周边卡口",
        "event_id": f"zzt-read-{alert:03d}-{read}",
        "event_time_ms": _ms(when),
        "emitted_at_ms": _ms(when) + 1200,
    }


def the_stream() -> list[dict]:
    """Every message, in the order produced: each cluster's updates in order, reads between."""
    messages = []
    for look in range(len(STATUSES)):
        messages += [hotspot_update(c, look) for c in range(CLUSTERS)]
        if look < READS_PER_WATCH_ALERT:
            messages += [watch_read(a, look) for a in range(WATCH_ALERTS)]
    return messages


def _rows(settings) -> dict:
    schema = settings.pg["schema"]
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        found = {}
        for name, query in {
            "alerts": f"SELECT alert_id, status, looks, observed FROM {schema}.alerts",
            "updates": f"SELECT alert_id, status, updated_window_end FROM {schema}.alert_updates",
            "watch_alerts": f"SELECT alert_id, reads, event_id FROM {schema}.watch_alerts",
            "watch_reads": f"SELECT alert_id, event_id FROM {schema}.watch_alert_reads",
        }.items():
            cur.execute(query)
            found[name] = sorted(cur.fetchall())
    conn.close()
    return found


def _expected() -> dict:
    last = len(STATUSES) - 1
    return {
        "alerts": sorted(
            (f"zzt-cluster-{c:03d}", "ended", last + 1, 6 + last) for c in range(CLUSTERS)
        ),
        "updates": sorted(
            (
                f"zzt-cluster-{c:03d}",
                STATUSES[look],
                BASE + timedelta(minutes=5 * (look + 1) + c),
            )
            for c in range(CLUSTERS)
            for look in range(len(STATUSES))
        ),
        "watch_alerts": sorted(
            (f"zzt-watch-{a:03d}", READS_PER_WATCH_ALERT, f"zzt-read-{a:03d}-1")
            for a in range(WATCH_ALERTS)
        ),
        "watch_reads": sorted(
            (f"zzt-watch-{a:03d}", f"zzt-read-{a:03d}-{r}")
            for a in range(WATCH_ALERTS)
            for r in range(READS_PER_WATCH_ALERT)
        ),
    }


@pytest.fixture
def empty_store(settings):
    """An empty alerts topic, no committed offsets, empty alert tables."""
    reset_topics(settings, [settings.topic("alerts")])
    delete_groups(settings, [GROUP_ID])
    schema = settings.pg["schema"]
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            f"TRUNCATE {schema}.alerts, {schema}.alert_updates, {schema}.watch_alerts, "
            f"{schema}.watch_alert_reads"
        )
    conn.close()
    return settings


def _produce(settings, messages, pause_s: float = 0.0) -> None:
    with RecordProducer(settings) as producer:
        for message in messages:
            producer.send(
                settings.topic("alerts"),
                json.dumps(message, ensure_ascii=False).encode(),
                key=message["alert_id"].encode(),
            )
            producer.poll(0)
            if pause_s:
                producer.producer.flush(10)
                time.sleep(pause_s)


def test_postgres_stopped_for_30_s_under_a_stream_of_alerts_loses_nothing(empty_store, tmp_path):
    settings = empty_store
    stream = the_stream()
    log_path = tmp_path / "store-alerts.log"
    with open(log_path, "w") as log:
        store = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "store-alerts", "--follow"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=settings.root,
            env=child_env(),
            start_new_session=True,
        )
    # One message every 0.3 s: the stream runs before, through and after the outage.
    producer = threading.Thread(target=_produce, args=(settings, stream, 0.3))
    stopped = False
    try:
        producer.start()
        time.sleep(5)
        run_infra_script(settings, "postgres.sh", "stop")
        stopped = True
        time.sleep(OUTAGE_S)
        assert store.poll() is None, log_path.read_text()
        run_infra_script(settings, "postgres.sh", "start")
        stopped = False
        producer.join()
        expected = _expected()
        deadline = time.monotonic() + CATCH_UP_GUARD_S
        while _rows(settings) != expected and time.monotonic() < deadline:
            assert store.poll() is None, log_path.read_text()
            time.sleep(1)
        assert store.poll() is None, log_path.read_text()
    finally:
        if stopped:
            run_infra_script(settings, "postgres.sh", "start")
        producer.join()
        if store.poll() is None:
            # SIGTERM, as a supervisor stops it: the store closes its consumer, which
            # leaves the group at once. (SIGINT may be ignored: a background job
            # inherits it so.)
            os.killpg(store.pid, signal.SIGTERM)
        try:
            store.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(store.pid, signal.SIGKILL)  # never left behind to disturb other tests
            store.wait(10)
            raise AssertionError(
                f"store-alerts did not stop on SIGTERM:\n{log_path.read_text()}"
            ) from None
    assert _rows(settings) == expected
    lines = log_path.read_text().splitlines()
    lost = [line for line in lines if "is unreachable" in line]
    back = [line for line in lines if "answers again" in line]
    assert len(lost) == 1, lines
    assert len(back) == 1, lines
    assert "store-alerts: PostgreSQL at" in lost[0]


def test_a_replay_of_the_whole_topic_adds_no_duplicate(empty_store):
    settings = empty_store
    _produce(settings, the_stream())
    first = run_step(settings, "store-alerts")
    stored = _rows(settings)
    assert stored == _expected()
    # A crash between PostgreSQL's commit and Kafka's: the offsets are lost.
    delete_groups(settings, [GROUP_ID])
    again = run_step(settings, "store-alerts")
    assert again == first
    assert first["updates"] == CLUSTERS * len(STATUSES)
    assert _rows(settings) == stored


def test_a_wrong_password_is_an_error_not_a_wait(settings):
    env = dict(child_env(), ZONGZHI_PG_PASSWORD="not-the-password")
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "store-alerts", "--follow"],
        cwd=settings.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"zongzhi: PostgreSQL at {settings.pg['host']}:{settings.pg['port']} refused "
        'store-alerts: password authentication failed for user "zongzhi"; check postgres.user '
        "and postgres.database in the configuration and the password (ZONGZHI_PG_PASSWORD, "
        "else var/secrets/postgres.password)"
    ]


def test_a_bad_configuration_is_an_error_not_a_wait(settings, tmp_path):
    env = dict(child_env(), ZONGZHI_CONFIG=str(tmp_path / "absent.yaml"))
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "store-alerts", "--follow"],
        cwd=settings.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"zongzhi: configuration file {tmp_path / 'absent.yaml'} does not exist"
    ]
