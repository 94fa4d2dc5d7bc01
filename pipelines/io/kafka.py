"""Kafka plumbing shared by the producers, loaders and commands.

Configuration is a dict, serialization is the caller's pure function, the
poll loop handles errors explicitly, offsets are committed after processing
and every client is closed in ``finally`` (confluent-kafka's own examples).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from pipelines.errors import KafkaUnavailable
from pipelines.settings import Settings

__all__ = [
    "KafkaUnavailable",
    "admin_client",
    "check_reachable",
    "topic_counts",
    "reset_topics",
    "consume_until_end",
    "group_lag",
    "delete_groups",
    "end_offsets",
    "commit_offsets",
    "run_bounded",
]


def admin_client(settings: Settings) -> AdminClient:
    # Quiet: an unreachable broker is reported once, by the caller, in one line.
    return AdminClient({"bootstrap.servers": settings.kafka_bootstrap, "log_level": 0})


def check_reachable(settings: Settings, timeout: float = 5.0) -> None:
    try:
        admin_client(settings).list_topics(timeout=timeout)
    except KafkaException as exc:
        raise KafkaUnavailable(
            f"Kafka at {settings.kafka_bootstrap} is unreachable ({exc.args[0].str()}); "
            "start it with `zongzhi infra up`"
        ) from None


def _plain_consumer(settings: Settings, group_id: str = "zongzhi-inspect") -> Consumer:
    """A consumer that never commits by itself: for offsets, lags and explicit commits."""
    return Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": group_id,
            "enable.auto.commit": False,
        }
    )


def _end_offsets(consumer: Consumer, topic: str, timeout: float) -> dict[int, tuple[int, int]]:
    metadata = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
    if metadata is None or metadata.error is not None:
        raise KafkaUnavailable(f"topic {topic!r} does not exist at the broker")
    return {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
        for p in metadata.partitions
    }


def topic_counts(settings: Settings, topics: list[str], timeout: float = 10.0) -> dict[str, int]:
    """Records held per topic (high minus low watermark, summed over partitions)."""
    consumer = _plain_consumer(settings)
    try:
        return {
            t: sum(hi - lo for lo, hi in _end_offsets(consumer, t, timeout).values())
            for t in topics
        }
    except KafkaException as exc:
        raise KafkaUnavailable(f"Kafka at {settings.kafka_bootstrap}: {exc}") from None
    finally:
        consumer.close()


def reset_topics(
    settings: Settings, topics: list[str], partitions: int | None = None, timeout: float = 30.0
) -> None:
    """Delete and re-create topics, so that a run starts from empty topics."""
    admin = admin_client(settings)
    partitions = partitions or int(settings.raw["kafka"]["partitions"])
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = list(topics)
    doomed = [t for t in topics if t in existing]
    if doomed:
        for future in admin.delete_topics(doomed, operation_timeout=timeout).values():
            future.result()
    deadline = time.monotonic() + timeout
    while True:
        futures = admin.create_topics(
            [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in topics],
            operation_timeout=timeout,
        )
        pending = []
        for topic, future in futures.items():
            try:
                future.result()
            except KafkaException as exc:
                code = exc.args[0].code()
                if code == KafkaError.TOPIC_ALREADY_EXISTS:
                    # Deletion is asynchronous; retry until the old topic is gone.
                    pending.append(topic)
                else:
                    raise
        if not pending:
            break
        if time.monotonic() > deadline:
            raise KafkaUnavailable(f"topics {pending} could not be re-created within {timeout}s")
        topics = pending
        time.sleep(0.5)
    # Creation is acknowledged before every broker's metadata shows it.
    while time.monotonic() < deadline:
        listed = admin.list_topics(timeout=timeout).topics
        if all(t in listed and listed[t].error is None and listed[t].partitions for t in wanted):
            return
        time.sleep(0.2)
    raise KafkaUnavailable(f"topics {wanted} did not appear within {timeout}s")


def consume_until_end(
    settings: Settings,
    topic: str,
    group_id: str,
    *,
    follow: bool = False,
    batch_size: int = 5000,
    poll_timeout: float = 1.0,
) -> Iterator[tuple[Consumer, list]]:
    """Yield ``(consumer, messages)`` batches from a topic.

    Without ``follow`` it stops once every partition reaches the end offset it
    had when the loop started. The caller processes a batch, then commits
    with ``consumer.commit(asynchronous=False)``: offsets are committed after
    processing, never before.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": group_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": True,
        }
    )
    try:
        ends = {p: hi for p, (lo, hi) in _end_offsets(consumer, topic, 10.0).items()}
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
            if good:
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


def group_lag(settings: Settings, group_id: str, topic: str, timeout: float = 10.0) -> int:
    """Records of ``topic`` that ``group_id`` has not committed yet."""
    consumer = _plain_consumer(settings, group_id)
    try:
        ends = _end_offsets(consumer, topic, timeout)
        committed = consumer.committed([TopicPartition(topic, p) for p in ends], timeout=timeout)
        lag = 0
        for tp in committed:
            lo, hi = ends[tp.partition]
            position = tp.offset if tp.offset >= 0 else lo
            lag += max(hi - position, 0)
        return lag
    finally:
        consumer.close()


def delete_groups(settings: Settings, groups: list[str], timeout: float = 60.0) -> None:
    """Forget the committed offsets of consumer groups (missing groups are fine).

    A broker that has just started may not have loaded its group coordinator
    yet; those answers are retried until ``timeout``.
    """
    admin = admin_client(settings)
    deadline = time.monotonic() + timeout
    pending = list(groups)
    while pending:
        retry = []
        for group, future in admin.delete_consumer_groups(pending, request_timeout=10).items():
            try:
                future.result()
            except KafkaException as exc:
                error = exc.args[0]
                if error.code() in (KafkaError.GROUP_ID_NOT_FOUND, KafkaError.NON_EMPTY_GROUP):
                    continue
                if error.retriable() or error.code() in (
                    KafkaError.NOT_COORDINATOR,
                    KafkaError.COORDINATOR_NOT_AVAILABLE,
                    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
                ):
                    retry.append(group)
                else:
                    raise
        if retry and time.monotonic() > deadline:
            raise KafkaUnavailable(
                f"consumer groups {retry} could not be deleted within "
                f"{timeout:.0f}s: the group coordinator is not ready"
            )
        pending = retry
        if pending:
            time.sleep(0.5)


def end_offsets(
    settings: Settings, topics: list[str], timeout: float = 10.0
) -> list[TopicPartition]:
    """The current end offset of every partition of ``topics``."""
    consumer = _plain_consumer(settings)
    try:
        return [
            TopicPartition(topic, p, hi)
            for topic in topics
            for p, (lo, hi) in sorted(_end_offsets(consumer, topic, timeout).items())
        ]
    finally:
        consumer.close()


def commit_offsets(
    settings: Settings, group_id: str, offsets: list[TopicPartition], timeout: float = 10.0
) -> None:
    """Commit ``offsets`` for ``group_id`` (the group must have no active member)."""
    consumer = _plain_consumer(settings, group_id)
    try:
        consumer.commit(offsets=offsets, asynchronous=False)
    finally:
        consumer.close()


def run_bounded(settings: Settings, group_id: str, topics: list[str], job) -> None:
    """Run a bounded Flink job that resumes from ``group_id``'s offsets, then commit.

    Flink's Kafka source commits offsets only on checkpoints, which a bounded
    run does not take. So the end offsets are read before the job starts (the
    job reads up to the end it sees at its own start, which is the same unless
    records arrive in between; those would be read again by the next run: at
    least once), and committed for the group once the job has succeeded. A
    bounded run followed by a streaming one thus processes every record once.
    """
    ends = end_offsets(settings, topics)
    job()  # submits the job and waits for it to finish
    commit_offsets(settings, group_id, ends)


def consume_topic_values(settings: Settings, topic: str, timeout: float = 10.0) -> list[bytes]:
    """Every record value a topic holds now, partition by partition, in offset order.

    Reads without a consumer group's offsets (nothing is committed).
    """
    consumer = _plain_consumer(settings)
    values: list[bytes] = []
    try:
        for partition, (lo, hi) in sorted(_end_offsets(consumer, topic, timeout).items()):
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
                    raise KafkaException(message.error())
                values.append(message.value())
                if message.offset() >= hi - 1:
                    break
    finally:
        consumer.close()
    return values
