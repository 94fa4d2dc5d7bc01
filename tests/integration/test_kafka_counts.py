"""Counts and lags on a transactional topic (pipelines/io/kafka.py), on the real broker.

The Flink sinks write in transactions: each commit leaves a marker at an offset
of its own, and an aborted transaction leaves records no read-committed reader
sees. A count or lag taken as "high watermark minus offset" then never reaches
what was read: the demo's catch-up wait saw such a lag that never moved.
"""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from pipelines.io.kafka import commit_offsets, group_lag, reset_topics, topic_counts
from pipelines.io.kafka_security import ADMIN, client_config

pytestmark = pytest.mark.integration


def _produce_in_transactions(settings, topic: str, committed: int, aborted: int) -> None:
    producer = Producer(
        {
            **client_config(settings, ADMIN),
            "transactional.id": f"zongzhi.test.{uuid.uuid4().hex[:8]}",
        }
    )
    producer.init_transactions()
    for n, commit in ((committed, True), (aborted, False)):
        producer.begin_transaction()
        for i in range(n):
            producer.produce(topic, key=f"k{i}", value=f"v{i}", partition=0)
        producer.flush()
        if commit:
            producer.commit_transaction()
        else:
            producer.abort_transaction()


def test_counts_and_lags_are_of_committed_records_not_offsets(settings):
    topic = "zz.test.transactional"
    reset_topics(settings, [topic], partitions=1)
    _produce_in_transactions(settings, topic, committed=5, aborted=3)

    assert topic_counts(settings, [topic]) == {topic: 5}
    group = f"zongzhi-test-{uuid.uuid4().hex[:8]}"
    assert group_lag(settings, group, topic) == 5

    # A read-committed reader that has read every record commits the offset after
    # the last one it saw, short of the high watermark (markers, aborted records).
    reader = Consumer(
        {
            **client_config(settings, ADMIN),
            "group.id": group,
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    try:
        reader.assign([TopicPartition(topic, 0, 0)])
        seen = reader.consume(10, timeout=10)
        assert [m.value() for m in seen] == [f"v{i}".encode() for i in range(5)]
        _, high = reader.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    finally:
        reader.close()
    position = seen[-1].offset() + 1
    assert high > position  # the old "high minus committed" lag would never reach 0
    commit_offsets(settings, group, [TopicPartition(topic, 0, position)], principal=ADMIN)
    assert group_lag(settings, group, topic) == 0
