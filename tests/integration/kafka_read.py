"""Read whole topics back, for assertions."""

from __future__ import annotations

from confluent_kafka import Consumer, TopicPartition

from pipelines.io.kafka_security import ADMIN, client_config


def read_topic(settings, topic: str) -> list[bytes]:
    """Every record value in a topic, partition by partition (as the super user)."""
    consumer = Consumer(
        {
            **client_config(settings, ADMIN),
            "group.id": "zongzhi-test-reader",
            "enable.auto.commit": False,
        }
    )
    values: list[bytes] = []
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        for p in partitions:
            lo, hi = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if hi <= lo:
                continue
            consumer.assign([TopicPartition(topic, p, lo)])
            while True:
                batch = consumer.consume(1000, timeout=5)
                assert batch, f"could not read {topic}[{p}] up to offset {hi}"
                for message in batch:
                    assert message.error() is None, message.error()
                    values.append(message.value())
                if batch[-1].offset() >= hi - 1:
                    break
    finally:
        consumer.close()
    return values
