"""Kafka administration: reachability, topics, counts, lags and consumer groups.

The consumers live in :mod:`pipelines.io.kafka_consume` and the one producer
helper in :mod:`pipelines.io.kafka_produce`; this module re-exports both, so
that ``pipelines.io.kafka`` is the one name callers import Kafka plumbing from.
"""

from __future__ import annotations

import time

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from pipelines.errors import KafkaUnavailable
from pipelines.io.kafka_consume import (
    commit_offsets,
    consume_topic_values,
    consume_until_end,
    end_offsets,
    partition_watermarks,
    plain_consumer,
    readable_records,
    run_bounded,
)
from pipelines.io.kafka_produce import DeliveryReport, RecordProducer
from pipelines.io.kafka_security import ADMIN, PLATFORM, client_config
from pipelines.settings import Settings

__all__ = [
    "KafkaUnavailable",
    "admin_client",
    "new_topics",
    "check_reachable",
    "topic_config",
    "topic_counts",
    "reset_topics",
    "consume_until_end",
    "group_lag",
    "delete_groups",
    "end_offsets",
    "commit_offsets",
    "run_bounded",
    "consume_topic_values",
    "DeliveryReport",
    "RecordProducer",
]


def admin_client(settings: Settings, principal: str = ADMIN) -> AdminClient:
    """An admin client for the configured brokers, with librdkafka's own logging off.

    Topics and consumer groups are managed by the super user (``ADMIN``).
    """
    # Quiet: an unreachable broker is reported once, by the caller, in one line.
    return AdminClient({**client_config(settings, principal), "log_level": 0})


def check_reachable(settings: Settings, timeout: float = 5.0, *, principal: str = PLATFORM) -> None:
    """Fail in ``timeout`` seconds, naming the address, when no broker answers."""
    try:
        admin_client(settings, principal).list_topics(timeout=timeout)
    except KafkaException as exc:
        raise KafkaUnavailable(
            f"Kafka at {settings.kafka_bootstrap} is unreachable ({exc.args[0].str()}); "
            "start it with `zongzhi infra up`"
        ) from None


def topic_config(settings: Settings, topic: str) -> dict[str, str]:
    """The topic-level configuration ``topic`` is created with (empty: the broker's defaults).

    The raw topics (the bench's too) hold clear personal data: they keep it
    ``kafka.raw_retention_hours`` at most, by broker append time, since
    their producers' timestamps are report times, days old for replayed
    history (``infra/kafka.sh`` applies the same to the topics it creates).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> s = SimpleNamespace(
    ...     clear_data_topics=["zz.raw.grid"],
    ...     section=lambda name: {"raw_retention_hours": 72, "raw_segment_minutes": 60},
    ... )
    >>> topic_config(s, "zz.raw.grid")["retention.ms"], topic_config(s, "zz.alerts")
    ('259200000', {})
    """
    if topic not in settings.clear_data_topics:
        return {}
    kafka = settings.section("kafka")
    return {
        "retention.ms": str(int(kafka["raw_retention_hours"]) * 3_600_000),
        "segment.ms": str(int(kafka["raw_segment_minutes"]) * 60_000),
        "message.timestamp.type": "LogAppendTime",
    }


def topic_counts(settings: Settings, topics: list[str], timeout: float = 10.0) -> dict[str, int]:
    """Committed records held per topic (read, not high minus low: see :func:`readable_records`).

    Read as the super user: an operator's count covers the raw topics too,
    which only the normalizer may read otherwise.
    """
    consumer = plain_consumer(settings, principal=ADMIN)
    try:
        return {t: readable_records(consumer, t, {}, timeout) for t in topics}
    except KafkaException as exc:
        raise KafkaUnavailable(f"Kafka at {settings.kafka_bootstrap}: {exc}") from None
    finally:
        consumer.close()


def new_topics(settings: Settings, topics: list[str], partitions: int | None = None) -> list:
    """``topics`` as the platform creates them: one replica, each with :func:`topic_config`.

    ``partitions`` defaults to ``kafka.partitions``.
    """
    partitions = partitions or settings.section("kafka").integer("partitions")
    return [
        NewTopic(
            t, num_partitions=partitions, replication_factor=1, config=topic_config(settings, t)
        )
        for t in topics
    ]


def reset_topics(
    settings: Settings, topics: list[str], partitions: int | None = None, timeout: float = 30.0
) -> None:
    """Delete and re-create topics, so that a run starts from empty topics."""
    admin = admin_client(settings)
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = list(topics)
    doomed = [t for t in topics if t in existing]
    if doomed:
        for future in admin.delete_topics(doomed, operation_timeout=timeout).values():
            future.result()
    deadline = time.monotonic() + timeout
    while True:
        futures = admin.create_topics(
            new_topics(settings, topics, partitions), operation_timeout=timeout
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
    # Creation is acknowledged before every broker's metadata shows it, and
    # before each partition's leader answers offset requests (asked as the
    # super user, who made them: any topic, declared or not).
    consumer = plain_consumer(settings, principal=ADMIN)
    try:
        while time.monotonic() < deadline:
            listed = admin.list_topics(timeout=timeout).topics
            if all(
                t in listed and listed[t].error is None and listed[t].partitions for t in wanted
            ) and _leaders_answer(consumer, wanted):
                return
            time.sleep(0.2)
    finally:
        consumer.close()
    raise KafkaUnavailable(f"topics {wanted} did not appear within {timeout}s")


def _leaders_answer(consumer, topics: list[str]) -> bool:
    try:
        for topic in topics:
            partition_watermarks(consumer, topic, 5.0)
    except (KafkaException, KafkaUnavailable):
        return False
    return True


def group_lag(settings: Settings, group_id: str, topic: str, timeout: float = 10.0) -> int:
    """Committed records of ``topic`` after ``group_id``'s committed offsets.

    Counted by reading them (:func:`readable_records`): a consumer that has
    read everything of a transactional topic commits the offset after its
    last record, short of the high watermark by the commit marker. Read as
    the super user, as :func:`topic_counts` is.
    """
    consumer = plain_consumer(settings, group_id, principal=ADMIN)
    try:
        ends = partition_watermarks(consumer, topic, timeout)
        committed = consumer.committed([TopicPartition(topic, p) for p in ends], timeout=timeout)
        starts = {tp.partition: tp.offset for tp in committed if tp.offset >= 0}
        return readable_records(consumer, topic, starts, timeout)
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
