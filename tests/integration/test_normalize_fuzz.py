"""The adversarial corpus through real Kafka and the real Flink normalization job.

10,000 records (:mod:`tests.unit.features.adversarial_records`: invalid
UTF-8, lone surrogates, huge fields and records of up to 720 KB, deep
nesting, NaN, duplicate keys, replayed ids, times in 1900, 1970 and 2100,
junk, tombstones, ...) are produced to the raw topics and the bounded job
is run once. It must finish (no crash, no stall), and every produced record
must come out exactly once, on the normalized or the dead-letter topic,
traced by the ``zz-source`` header (and a dead letter's own topic,
partition and offset), routed as the contract routes it.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from features.dead_letter import DEAD_LETTER, NORMALIZED, route_raw_record
from pipelines.harness.simulation_run import build_simulator
from pipelines.harness.steps import run_step
from pipelines.harness.streams import fresh_streams
from pipelines.io.kafka import RecordProducer
from pipelines.io.kafka_security import ADMIN
from pipelines.streaming.normalize_job import SOURCE_HEADER, normalization_context

from ..unit.features.adversarial_records import adversarial_records
from .kafka_read import read_messages

pytestmark = pytest.mark.integration

CORPUS_SIZE = 10_000


@pytest.fixture(scope="module")
def fuzz_run(settings):
    fresh_streams(settings)
    start = datetime.now(UTC) - timedelta(hours=2)
    sim = build_simulator(settings, start=start, seed=5, malformed_fraction=0.0)
    bases = [(r.source, json.loads(r.value)) for r in sim.records(start, timedelta(minutes=30))][
        :200
    ]
    corpus = adversarial_records(bases, CORPUS_SIZE, seed=2026)
    with RecordProducer(settings, principal=ADMIN) as producer:
        for i, record in enumerate(corpus):
            producer.send(settings.raw_topics[record.channel], record.value, key=str(i))
    # The record each raw topic position holds, from the topics themselves.
    position = {}
    for channel, topic in settings.raw_topics.items():
        for m in read_messages(settings, topic):
            position[f"{topic}-{m.partition()}-{m.offset()}"] = (int(m.key()), channel, topic, m)
    assert len(position) == CORPUS_SIZE
    run_step(settings, "normalize", timeout=600)
    outputs = {
        NORMALIZED: read_messages(settings, settings.topic("normalized")),
        DEAD_LETTER: read_messages(settings, settings.topic("dead_letter")),
    }
    return settings, corpus, position, outputs


def test_every_produced_record_comes_out_exactly_once(fuzz_run):
    settings, corpus, position, outputs = fuzz_run
    seen = Counter()
    for destination, messages in outputs.items():
        for m in messages:
            headers = dict(m.headers() or [])
            seen[headers[SOURCE_HEADER].decode()] += 1
            if destination == DEAD_LETTER:
                letter = json.loads(m.value())
                assert f"{letter['topic']}-{letter['partition']}-{letter['offset']}" == (
                    headers[SOURCE_HEADER].decode()
                )
    # produced = normalized + dead-lettered, record by record.
    assert set(seen) == set(position)
    assert set(seen.values()) == {1}
    assert len(outputs[NORMALIZED]) + len(outputs[DEAD_LETTER]) == CORPUS_SIZE


def test_each_record_is_routed_as_the_contract_routes_it(fuzz_run):
    settings, corpus, position, outputs = fuzz_run
    ctx = normalization_context(settings)
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    kinds = Counter()
    for destination, messages in outputs.items():
        for m in messages:
            source = dict(m.headers())[SOURCE_HEADER].decode()
            index, channel, topic, raw = position[source]
            assert raw.value() == corpus[index].value
            expected, key, value = route_raw_record(
                raw.value(),
                ctx,
                now_ms,
                channel=channel,
                topic=topic,
                partition=raw.partition(),
                offset=raw.offset(),
            )
            assert destination == expected, (corpus[index].kind, source)
            # Strict UTF-8 JSON within the output limit.
            got = json.loads(m.value().decode("utf-8"))
            assert len(m.value()) <= ctx.limits.output_bytes
            if destination == NORMALIZED:
                assert m.key().decode() == key == got["event_id"]
            else:
                assert got["reason_code"] == json.loads(value)["reason_code"]
            kinds[corpus[index].kind, destination] += 1
    assert kinds["valid", NORMALIZED] > 500
    assert kinds["huge_record", DEAD_LETTER] > 30
    assert kinds["lone_surrogate", DEAD_LETTER] > 500
    assert kinds["invalid_utf8", DEAD_LETTER] > 500
