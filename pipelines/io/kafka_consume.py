"""Reading Kafka: bounded consumers, end offsets and explicit commits.

The poll loop handles errors explicitly, offsets are committed after
processing, and every consumer is closed in ``finally`` (confluent-kafka's
own examples).
"""

from __future__ import annotations

from collections.abc import Iterator

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from pipelines.errors import KafkaUnavailable
from pipelines.io.kafka_security import PLATFORM, client_config
from pipelines.settings import Settings

__all__ = [
    "plain_consumer",
    "partition_watermarks",
    "consume_until_end",
    "end_offsets",
    "commit_offsets",
    "run_bounded",
    "consume_topic_values",
    "readable_records",
]


def plain_consumer(
    settings: Settings, group_id: str = "zongzhi-inspect", *, principal: str = PLATFORM
) -> Consumer:
    """A consumer that never commits by itself: for offsets, lags and explicit commits."""
    return Consumer(
        {
            **client_config(settings, principal),
            "group.id": group_id,
            "enable.auto.commit": False,
            # Transactional topics: aborted records and commit markers are not records.
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
            # It reads to an end and stops: a fetch that finds nothing new
            # (a transaction marker last) answers at once instead of after
            # the default 500 ms, which made each count and lag cost seconds.
            "fetch.wait.max.ms": 10,
        }
    )


def partition_watermarks(
    consumer: Consumer, topic: str, timeout: float
) -> dict[int, tuple[int, int]]:
    """``{partition: (low, high)}`` offsets of ``topic``; :class:`KafkaUnavailable` if it is absent."""
    metadata = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
    if metadata is None or metadata.error is not None:
        raise KafkaUnavailable(f"topic {topic!r} does not exist at the broker")
    return {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
        for p in metadata.partitions
    }


def consume_until_end(
    settings: Settings,
    topic: str,
    group_id: str,
    *,
    follow: bool = False,
    batch_size: int = 5000,
    poll_timeout: float = 1.0,
    principal: str = PLATFORM,
    idle: bool = False,
) -> Iterator[tuple[Consumer, list]]:
    """Yield ``(consumer, messages)`` batches from a topic.

    Without ``follow`` it stops once every partition reaches the end offset it
    had when the loop started. The caller processes a batch, then commits
    with ``consumer.commit(asynchronous=False)``: offsets are committed after
    processing, never before. With ``idle`` a poll that brings nothing yields
    an empty batch too, so that a follower can stop between polls.
    """
    consumer = Consumer(
        {
            **client_config(settings, principal),
            "group.id": group_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
    )
    try:
        ends = {p: hi for p, (lo, hi) in partition_watermarks(consumer, topic, 10.0).items()}
        consumer.subscribe([topic])
        positions: dict[int, int] = {}
        while True:
            messages = consumer.consume(batch_size, timeout=poll_timeout)
            good = []
            for message in messages:
                error = message.error()
                if error is None:
                    good.append(message)
                    positions[message.partition()] = message.offset() + 1
                elif error.code() == KafkaError._PARTITION_EOF:
                    positions[message.partition()] = max(
                        positions.get(message.partition(), 0), message.offset()
                    )
                elif error.fatal() or not error.retriable():
                    raise KafkaException(error)
            if good or idle:
                yield consumer, good
            if not follow:
                committed = {
                    tp.partition: tp.offset
                    for tp in consumer.committed(
                        [TopicPartition(topic, p) for p in ends], timeout=10.0
                    )
                }
                done = all(
                    max(positions.get(p, 0), committed.get(p, 0)) >= end for p, end in ends.items()
                )
                if done:
                    return
    finally:
        consumer.close()


def end_offsets(
    settings: Settings, topics: list[str], timeout: float = 10.0, *, principal: str = PLATFORM
) -> list[TopicPartition]:
    """The current end offset of every partition of ``topics``."""
    consumer = plain_consumer(settings, principal=principal)
    try:
        return [
            TopicPartition(topic, p, hi)
            for topic in topics
            for p, (lo, hi) in sorted(partition_watermarks(consumer, topic, timeout).items())
        ]
    finally:
        consumer.close()


def commit_offsets(
    settings: Settings,
    group_id: str,
    offsets: list[TopicPartition],
    timeout: float = 10.0,
    *,
    principal: str = PLATFORM,
) -> None:
    """Commit ``offsets`` for ``group_id`` (the group must have no active member)."""
    consumer = plain_consumer(settings, group_id, principal=principal)
    try:
        consumer.commit(offsets=offsets, asynchronous=False)
    finally:
        consumer.close()


def run_bounded(
    settings: Settings, group_id: str, topics: list[str], job, *, principal: str = PLATFORM
) -> None:
    """Run a bounded Flink job that resumes from ``group_id``'s offsets, then commit.

    Flink's Kafka source commits offsets only on checkpoints, which a bounded
    run does not take. So the end offsets are read before the job starts (the
    job reads up to the end it sees at its own start, which is the same unless
    records arrive in between; those would be read again by the next run: at
    least once), and committed for the group once the job has succeeded. A
    bounded run followed by a streaming one thus processes every record once.
    ``principal`` is the job's: committing a topic's offsets needs its read grant.
    """
    ends = end_offsets(settings, topics, principal=principal)
    job()  # submits the job and waits for it to finish
    commit_offsets(settings, group_id, ends, principal=principal)


def consume_topic_values(
    settings: Settings, topic: str, timeout: float = 10.0, *, principal: str = PLATFORM
) -> list[bytes]:
    """Every record value a topic holds now, partition by partition, in offset order.

    Reads without a consumer group's offsets (nothing is committed).
    """
    consumer = plain_consumer(settings, principal=principal)
    values: list[bytes] = []
    try:
        for partition, (lo, hi) in sorted(partition_watermarks(consumer, topic, timeout).items()):
            if hi <= lo:
                continue
            consumer.assign([TopicPartition(topic, partition, lo)])
            while True:
                message = consumer.poll(timeout)
                if message is None:
                    raise KafkaException(
                        f"timed out reading {topic}[{partition}] at {len(values)} records"
                    )
                if message.error():
                    if message.error().code() == KafkaError._PARTITION_EOF:
                        break  # the end, where the last offset is a transaction marker
                    raise KafkaException(message.error())
                values.append(message.value())
                if message.offset() >= hi - 1:
                    break
    finally:
        consumer.close()
    return values


def readable_records(
    consumer: Consumer, topic: str, starts: dict[int, int], timeout: float = 10.0
) -> int:
    """Committed records of ``topic`` from ``starts`` (``{partition: offset}``) to its end.

    Counted by reading them: on a topic written in transactions the offsets
    also hold commit markers (and aborted records), so ``high - offset``
    overcounts, and a reader that has consumed every record is left one
    offset short of the high watermark per transaction marker.
    """
    ends = partition_watermarks(consumer, topic, timeout)
    total = 0
    for partition, (lo, hi) in sorted(ends.items()):
        start = max(starts.get(partition, lo), lo)
        if start >= hi:
            continue
        consumer.assign([TopicPartition(topic, partition, start)])
        while True:
            message = consumer.poll(timeout)
            if message is None:
                raise KafkaException(f"timed out reading {topic}[{partition}] from {start}")
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    break
                raise KafkaException(error)
            total += 1
            if message.offset() >= hi - 1:
                break
    consumer.unassign()
    return total
