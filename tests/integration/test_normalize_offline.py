"""The normalization job's Flink plan over an in-memory collection: no Kafka."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from features.record_pseudonyms import event_token
from pipelines.harness.simulation_run import build_simulator
from pipelines.io.platform_state import pseudonym_key
from pipelines.streaming.normalize_job import normalization_context, run_offline

from .conftest import district_settings

pytestmark = pytest.mark.integration


def test_flink_plan_routes_like_the_contract():
    settings = district_settings()
    pseudonym_key(settings, create=True)
    start = datetime.now(UTC) - timedelta(hours=1)
    sim = build_simulator(settings, start=start, seed=3, malformed_fraction=0.25)
    records = list(sim.records(start, timedelta(minutes=20)))
    ctx = normalization_context(settings)

    out = run_offline(settings, [(r.source, r.value) for r in records], ctx)

    assert len(out) == len(records)
    for record, (destination, key, value) in zip(records, out):
        payload = json.loads(value)
        if record.malformed_kind is None:
            assert destination == "normalized"
            # The record key is the event id's keyed token, never the id.
            sent = json.loads(record.value)["event_id"]
            assert key == payload["event_id"] == event_token(sent, ctx.key) != sent
        else:
            assert destination == "dead_letter"
            assert payload["reason_code"] == record.malformed_kind
    assert sum(d == "dead_letter" for d, _, _ in out) == len(records) // 4
