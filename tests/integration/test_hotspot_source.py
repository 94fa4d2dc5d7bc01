"""The hotspot job skips and counts normalized records it cannot parse, and fuses incidents, on real Kafka and Flink."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from features.dead_letter import NORMALIZED, route_raw_record
from pipelines.harness.fusion_eval import event_report, stream_fusion
from pipelines.harness.simulation_run import build_simulator
from pipelines.harness.steps import child_env
from pipelines.harness.streams import fresh_streams
from pipelines.io.kafka import RecordProducer, consume_topic_values, group_lag
from pipelines.io.kafka_security import ADMIN
from pipelines.io.platform_state import load_incident_fusion
from pipelines.streaming.hotspot_job import GROUP_ID
from pipelines.streaming.hotspot_sql import SKIPPED_EVENTS_LOG
from pipelines.streaming.normalize_job import normalization_context

pytestmark = pytest.mark.integration

# What no JSON parser makes a normalized event of: not JSON, JSON that is
# not an object, an object with bytes that are not UTF-8, and a tombstone.
NOT_JSON = [
    b"not json",
    b"\xff\xfe",
    b'{"event_id": "x", "cell_id": ',
    b'{"event_id": }',
    b"[1, 2]",
    b'"x"',
    b"42",
    b"null",
    b"true",
    b'{"event_id": "z\xff", "category": "public_order.fight", "cell_id": "c", "event_time_ms": 1}',
    None,
]
# Objects that lack a field the windows need, or hold it as the wrong type.
INCOMPLETE = [
    b'{"category": "public_order.fight"}',
    b'{"event_id": "y", "cell_id": null}',
    b"{}",
    b'{"event_id": "w", "category": "public_order.fight", "cell_id": "c", "event_time_ms": "soon"}',
]

# A fixed half hour at the district's morning peak (09:00 Asia/Shanghai on a
# Wednesday), so the volume and the fusion links do not follow the hour the
# test runs at: two hours before 13:00 UTC the district is quiet, and the
# simulated half hour held too few linked incidents to test the fusion.
BUSY_HALF_HOUR = datetime(2026, 11, 4, 1, 0, tzinfo=UTC)


def test_the_hotspot_job_finishes_past_bad_records_counts_them_and_fuses_incidents(settings):
    fresh_streams(settings)
    ctx = normalization_context(settings)
    start = BUSY_HALF_HOUR
    rules = load_incident_fusion(settings)
    # Incidents that several channels report, densely: the job's fusion has
    # links to make, in its own slices of event time.
    sim = build_simulator(
        settings,
        start=start,
        seed=8,
        malformed_fraction=0.0,
        incidents_per_day=4000,
        incident_kinds=rules["incident_kinds"],
    )
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    good = []
    for record in sim.records(start, timedelta(minutes=30)):
        destination, _, value = route_raw_record(record.value, ctx, now_ms, channel=record.source)
        if destination == NORMALIZED:
            good.append(value.encode())
    topic = settings.topic("normalized")
    with RecordProducer(settings, principal=ADMIN) as producer:
        for i, value in enumerate(good):
            producer.send(topic, value)
            if i == len(good) // 2:
                for bad in NOT_JSON + INCOMPLETE:
                    producer.send(topic, bad)

    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "hotspots"],
        cwd=settings.root,
        capture_output=True,
        text=True,
        timeout=600,
        env=child_env(),
    )

    assert result.returncode == 0, result.stderr[-2000:]
    counts = [
        line.split(">", 1)[1].strip()
        for line in result.stdout.splitlines()
        if line.startswith(SKIPPED_EVENTS_LOG)
    ]
    # Each skipped record counted once: the last line holds the total.
    assert counts[-1] == f"+U[{len(NOT_JSON) + len(INCOMPLETE)}]"
    # Every record was read: the group's offsets reached the end.
    assert group_lag(settings, GROUP_ID, topic) == 0

    # The job's incident links are the ones the same fusion makes in process
    # of the same events, slice by slice: the stream counts incidents as the
    # eval scores them.
    assert rules["count_incidents"] is True
    links = [
        json.loads(v) for v in consume_topic_values(settings, settings.topic("incident_links"))
    ]
    grid = ctx.district.grid
    reports = pd.DataFrame([event_report(json.loads(v), grid) for v in good])
    slide_s = int(settings.hotspot["window_slide_minutes"]) * 60
    _, expected = stream_fusion(reports, rules, slide_s)
    assert len(expected) >= 10
    pairs = {(link["event_id"], link["linked_to"]) for link in links}
    assert pairs == set(zip(expected["event_id"], expected["linked_to"], strict=True))
    for link in links:
        assert link["confidence"] >= rules["min_confidence"]
        assert 0 <= link["closeness"] <= 1 and 0 <= link["simultaneity"] <= 1
