"""Normalization job (PyFlink): raw channel topics → normalized and dead-letter topics.

Extract: one Kafka source over the three raw topics, read as raw bytes with
the topic, partition and offset of each record. The bytes reach the contract
undecoded: decoding is its first check, inside the guard that turns any bad
record into a dead letter, so no byte sequence can fail the job.
Transform: the contract's :func:`features.contract.route_raw_record`,
applied by a Python table function, which either normalizes a record or
builds its dead-letter record. Load: one Kafka sink whose ``topic`` column
sends each row to the normalized or the dead-letter topic, so every record
read is written exactly once to one of them: records in = records normalized
+ records dead-lettered. Each output record carries the raw record it came
from in its ``zz-source`` header (``<topic>-<partition>-<offset>``, as a dead
letter's key).

``run_offline`` runs the same transform over an in-memory collection, with
no Kafka, for tests.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from features.contract import DEAD_LETTER, NORMALIZED, NormalizationContext, route_raw_record
from features.record_limits import limits_from_mapping
from pipelines.errors import SettingsError
from pipelines.io.flink import (
    execute_insert,
    kafka_keyed_sink_options,
    kafka_source_options,
    streaming_table_env,
)
from pipelines.io.kafka_security import NORMALIZER
from pipelines.io.platform_router import has_router, load_platform_router, router_folder
from pipelines.io.platform_state import load_district, pseudonym_key
from pipelines.settings import Settings

__all__ = [
    "GROUP_ID",
    "SOURCE_HEADER",
    "NormalizationTopics",
    "configured_parallelism",
    "normalization_context",
    "run",
    "run_offline",
]

GROUP_ID = "zongzhi-normalize"
#: Header of every output record naming the raw record it came from.
SOURCE_HEADER = "zz-source"


def normalization_context(settings: Settings) -> NormalizationContext:
    """What normalizing needs: the district, the pseudonym key, the time bounds, the size limits.

    And the hotline router, once ``zongzhi train classifier`` has written
    it: then every hotline event carries its routing (``docs/contract.md``).
    An artifact that is there but cannot be used (another scikit-learn,
    a changed file) stops the job at its start, in one line.
    """
    contract = settings.contract
    try:
        limits = limits_from_mapping(contract.get("limits") or {})
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"contract.limits: {exc}; see infra/config/zongzhi.yaml") from None
    return NormalizationContext(
        district=load_district(settings),
        key=pseudonym_key(settings),
        max_future_skew_s=contract.integer("max_future_skew_s"),
        max_past_age_days=contract.integer("max_past_age_days"),
        limits=limits,
        hotline_router=(
            load_platform_router(settings).route_text
            if has_router(router_folder(settings))
            else None
        ),
    )


def _route_function(
    ctx: NormalizationContext,
    channel_by_topic: dict[str, str],
    topic_by_destination: dict[str, str],
):
    from pyflink.table import DataTypes
    from pyflink.table.udf import udtf

    @udtf(result_types=[DataTypes.STRING(), DataTypes.STRING(), DataTypes.STRING()])
    def route(value, topic, partition, offset):
        destination, key, payload = route_raw_record(
            bytes(value) if value is not None else None,
            ctx,
            int(time.time() * 1000),
            channel=channel_by_topic.get(topic),
            topic=topic,
            partition=partition,
            offset=offset,
        )
        yield topic_by_destination[destination], key, payload

    return route


def configured_parallelism(settings: Settings) -> int:
    """The job's subtasks unless told otherwise: ``normalization.parallelism``."""
    return settings.section("normalization").integer("parallelism")


@dataclass(frozen=True)
class NormalizationTopics:
    """The topics one normalization run reads (channel → raw topic) and writes."""

    raw: dict[str, str]
    normalized: str
    dead_letter: str

    @classmethod
    def declared(cls, settings: Settings) -> NormalizationTopics:
        """The platform's topics."""
        return cls(
            raw=settings.raw_topics,
            normalized=settings.topic("normalized"),
            dead_letter=settings.topic("dead_letter"),
        )


def run(
    settings: Settings,
    *,
    follow: bool = False,
    parallelism: int | None = None,
    fresh: bool = False,
    topics: NormalizationTopics | None = None,
    group_id: str = GROUP_ID,
) -> None:
    """Run the job on Kafka.

    Parameters
    ----------
    follow : bool
        Keep running on new records (production). Without it the job reads
        every record present when it starts and then finishes (tests, demos
        and backfills). A following job checkpoints and resumes from its
        latest checkpoint when started again, unless ``fresh``.
    parallelism : int, optional
        The job's subtasks; by default ``normalization.parallelism``.
    topics, group_id : NormalizationTopics, str
        Another set of topics and its own consumer group, checkpoints and
        transactional ids (the bench); by default the platform's.
    """
    ctx = normalization_context(settings)
    parallelism = parallelism or configured_parallelism(settings)
    topics = topics or NormalizationTopics.declared(settings)
    raw_topics = topics.raw
    channel_by_topic = {topic: channel for channel, topic in raw_topics.items()}
    topic_by_destination = {NORMALIZED: topics.normalized, DEAD_LETTER: topics.dead_letter}

    interval = settings.section("flink").integer("checkpoint_interval_seconds")
    t_env = streaming_table_env(
        settings,
        parallelism=parallelism,
        checkpoint_interval_s=interval if follow else None,
        job=group_id,
        fresh=fresh,
    )
    t_env.create_temporary_function(
        "route_raw", _route_function(ctx, channel_by_topic, topic_by_destination)
    )
    # The raw topics' timestamps are the broker's arrival times (LogAppendTime,
    # for their time retention: kafka.raw_retention_hours), which follow
    # report time on a live stream. Aligning the raw topics' partitions by
    # them (Flink's split-level watermark alignment) keeps a backlog that
    # built up live from being read topic after topic, which would put the
    # normalized stream hours out of event-time order. Live only: in a
    # bounded run the connector (5.0.0-2.2) fails pausing a split that has
    # already finished ("No current assignment for partition"); a bounded
    # hotspot run allows a day of disorder instead.
    alignment = settings.section("normalization")
    aligned = (
        f"""
            'scan.watermark.alignment.group' = 'zongzhi-raw',
            'scan.watermark.alignment.max-drift' = '{int(alignment["max_drift_seconds"])} s',
            'scan.watermark.alignment.update-interval' = '1 s',
            'scan.watermark.idle-timeout' = '{int(alignment["idle_timeout_seconds"])} s',"""
        if follow
        else ""
    )
    t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE raw_events (
            `value` BYTES,
            `topic` STRING METADATA VIRTUAL,
            `partition` INT METADATA VIRTUAL,
            `offset` BIGINT METADATA VIRTUAL,
            `report_ts` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
            WATERMARK FOR `report_ts` AS `report_ts`
        ) WITH (
            {kafka_source_options(settings, group_id, list(raw_topics.values()), follow, NORMALIZER)},{aligned}
            'format' = 'raw'
        )""")
    t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE routed_events (
            `topic` STRING METADATA,
            `headers` MAP<STRING, BYTES> METADATA,
            `record_key` STRING,
            `value` STRING
        ) WITH (
            {
        kafka_keyed_sink_options(
            settings,
            list(topic_by_destination.values()),
            "record_key",
            NORMALIZER,
            f"{group_id}.routed",
        )
    }
        )""")
    execute_insert(
        settings,
        t_env,
        f"""
        INSERT INTO routed_events
        SELECT destination, MAP[
                   '{SOURCE_HEADER}',
                   CAST(CONCAT(`topic`, '-', CAST(`partition` AS STRING), '-',
                               CAST(`offset` AS STRING)) AS BYTES)],
               record_key, payload
        FROM raw_events,
             LATERAL TABLE(route_raw(`value`, `topic`, `partition`, `offset`))
                 AS routed(destination, record_key, payload)""",
        follow=follow,
        group_id=group_id,
        topics=list(raw_topics.values()),
        principal=NORMALIZER,
    )


def run_offline(
    settings: Settings,
    records: list[tuple[str, str | bytes]],
    ctx: NormalizationContext | None = None,
) -> list[tuple[str, str, str]]:
    """Run the same Flink transform over ``(channel, raw bytes or text)`` pairs, without Kafka.

    Returns ``(destination, key, value)`` rows in input order.
    """
    from pyflink.table import DataTypes

    ctx = ctx or normalization_context(settings)
    channel_by_topic = {f"offline.{c}": c for c in ("grid", "hotline", "video")}
    t_env = streaming_table_env(settings, jars=False)
    t_env.create_temporary_function(
        "route_raw",
        _route_function(ctx, channel_by_topic, {NORMALIZED: NORMALIZED, DEAD_LETTER: DEAD_LETTER}),
    )
    rows = [
        (
            # PyFlink takes BYTES as a bytearray.
            bytearray(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")),
            f"offline.{channel}",
            0,
            i,
        )
        for i, (channel, text) in enumerate(records)
    ]
    table = t_env.from_elements(
        rows,
        DataTypes.ROW(
            [
                DataTypes.FIELD("value", DataTypes.BYTES()),
                DataTypes.FIELD("topic", DataTypes.STRING()),
                DataTypes.FIELD("partition", DataTypes.INT()),
                DataTypes.FIELD("offset", DataTypes.BIGINT()),
            ]
        ),
    )
    t_env.create_temporary_view("raw_events", table)
    result = t_env.execute_sql("""
        SELECT `offset`, destination, record_key, payload
        FROM raw_events,
             LATERAL TABLE(route_raw(`value`, `topic`, `partition`, `offset`))
                 AS routed(destination, record_key, payload)""")
    with result.collect() as rows_out:
        out = sorted((tuple(r) for r in rows_out), key=lambda r: r[0])
    return [(d, k, v) for _, d, k, v in out]
