"""Read whole topics back, for assertions."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, KafkaError, TopicPartition

from pipelines.io.kafka_security import ADMIN, client_config


def read_topic(settings, topic: str) -> list[bytes]:
    """Every committed record value in a topic, partition by partition (as the super user)."""
    return [message.value() for message in read_messages(settings, topic)]


#: Gives up on a partition that yields nothing for this long before its end.
STALL_S = 10.0


def read_messages(settings, topic: str) -> list:
    """Every committed record of a topic as confluent-kafka messages (key, value, headers,
    offset), partition by partition, read as the super user with read_committed.

    Batches are taken with a short wait: a batch call waits its whole
    timeout unless it fills up, which the last batch of a partition never does.
    """
    consumer = Consumer(
        {
            **client_config(settings, ADMIN),
            "group.id": "zongzhi-test-reader",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
        }
    )
    messages = []
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        for p in partitions:
            lo, hi = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if hi <= lo:
                continue
            consumer.assign([TopicPartition(topic, p, lo)])
            done, last_read = False, time.monotonic()
            while not done:
                batch = consumer.consume(1000, timeout=0.2)
                if not batch:
                    stalled = time.monotonic() - last_read
                    assert stalled < STALL_S, f"could not read {topic}[{p}] up to offset {hi}"
                    continue
                last_read = time.monotonic()
                for message in batch:
                    error = message.error()
                    # The end: a transactional topic's last offset is a commit marker.
                    done = error is not None and error.code() == KafkaError._PARTITION_EOF
                    if done:
                        break
                    assert error is None, error
                    messages.append(message)
                    done = message.offset() >= hi - 1
    finally:
        consumer.close()
    return messages
