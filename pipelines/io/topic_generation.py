"""Topic generations: which incarnation of a topic a consumer group's offsets belong to.

``zongzhi topics reset`` deletes and re-creates topics; the new topic starts
again at offset 0 under the same name. Kafka gives every topic a UUID at
creation, so its first 48 bits name the generation. A consumer group that
commits with the generation in each offset's metadata can tell its offsets
of an earlier generation from those of the current one, and start the
current one from its beginning.
"""

from __future__ import annotations

from confluent_kafka import KafkaException, TopicCollection, TopicPartition

from pipelines.errors import KafkaUnavailable
from pipelines.io.kafka import admin_client, commit_offsets
from pipelines.io.kafka_consume import partition_watermarks, plain_consumer
from pipelines.settings import Settings

__all__ = ["GENERATION_HEX_DIGITS", "topic_generation", "align_group_offsets"]

#: Hex digits of the topic UUID kept as its generation (48 bits).
GENERATION_HEX_DIGITS = 12


def topic_generation(settings: Settings, topic: str, timeout: float = 10.0) -> str:
    """The generation of ``topic`` as it exists now: the first hex digits of its UUID."""
    # The client must outlive the future: a destroyed handle fails it.
    admin = admin_client(settings)
    futures = admin.describe_topics(TopicCollection([topic]), request_timeout=timeout)
    try:
        description = futures[topic].result()
    except KafkaException as exc:
        raise KafkaUnavailable(
            f"topic {topic!r} could not be described at {settings.kafka_bootstrap}: {exc}"
        ) from None
    uuid = description.topic_id
    bits = (uuid.get_most_significant_bits() & (2**64 - 1)) << 64 | (
        uuid.get_least_significant_bits() & (2**64 - 1)
    )
    return f"{bits:032x}"[:GENERATION_HEX_DIGITS]


def align_group_offsets(
    settings: Settings, group_id: str, topic: str, generation: str, timeout: float = 10.0
) -> dict[int, int]:
    """Move ``group_id``'s offsets of an earlier generation of ``topic`` to its beginning.

    An offset is of an earlier generation when its metadata names another
    generation, or (offsets committed without a generation) when it lies
    beyond the partition's end. Such a partition is committed at its low
    watermark, with this generation as metadata, so that the next consumer
    reads the new topic from its first record instead of skipping up to the
    old position or finding nothing to read. The group must have no active
    member. Returns ``{partition: offset}`` of the partitions moved.
    """
    consumer = plain_consumer(settings, group_id)
    try:
        bounds = partition_watermarks(consumer, topic, timeout)
        committed = consumer.committed(
            [TopicPartition(topic, p) for p in sorted(bounds)], timeout=timeout
        )
    finally:
        consumer.close()
    moved = {}
    for tp in committed:
        if tp.offset < 0:
            continue  # nothing committed: the consumer starts at the beginning anyway
        low, high = bounds[tp.partition]
        other_generation = bool(tp.metadata) and tp.metadata != generation
        if other_generation or tp.offset > high:
            moved[tp.partition] = low
    if moved:
        commit_offsets(
            settings,
            group_id,
            [TopicPartition(topic, p, o, metadata=generation) for p, o in sorted(moved.items())],
            timeout,
        )
    return moved
