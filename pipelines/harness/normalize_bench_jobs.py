"""The Flink side of the normalization bench: the job one child process runs, and its timing.

Each measured job runs in a fresh child process
(``python -m pipelines.harness.normalize_bench <spec as JSON>``, started by
:func:`pipelines.harness.hotspot_bench_jobs.run_child`), so that no JVM
outlives its run, its memory is the child's process tree and its restarts
and running time are read from its own Flink log. A spec
names the job's ``kind``, the topic set it drains (``prefix``: ``bench_`` or
``bench_small_``), its consumer group and its parallelism:

- ``contract``: the normalization job itself (:mod:`pipelines.streaming.normalize_job`),
  bounded, into the bench's normalized and dead-letter topics;
- ``sql``: the same shape in pure Flink SQL: the same raw topics read as
  text, the envelope's fields parsed with ``JSON_VALUE``, one row per record
  routed by whether it parsed, into a blackhole sink;
- ``copy``: the pass-through: the normalization job's source, sink and
  header with no transform, each raw record written as it is.
"""

from __future__ import annotations

import time

from pipelines.settings import Settings

__all__ = ["run_job"]

#: The envelope's fields the pure SQL job parses out of every record.
_PARSED_FIELDS = {
    "schema_version": "$.schema_version",
    "event_id": "$.event_id",
    "source": "$.source",
    "category": "$.category",
    "event_time": "$.event_time",
    "report_time": "$.report_time",
    "lon": "$.location.lon",
    "lat": "$.location.lat",
    "crs": "$.location.crs",
    "description": "$.description",
}
#: ... and the lists, as JSON text.
_PARSED_LISTS = {"persons": "$.persons", "vehicles": "$.vehicles"}


def run_job(spec: dict) -> dict:
    """Run one job as the bench's child process asked; return its wall time."""
    from pipelines.settings import load_settings
    from pipelines.streaming import normalize_job

    settings = load_settings()
    topics = normalize_job.NormalizationTopics(
        raw=settings.channel_topics(f"{spec['prefix']}raw"),
        normalized=settings.topic("bench_normalized"),
        dead_letter=settings.topic("bench_dead_letter"),
    )
    started = time.monotonic()
    if spec["kind"] == "contract":
        normalize_job.run(
            settings,
            parallelism=spec["parallelism"],
            topics=topics,
            group_id=spec["group"],
        )
    elif spec["kind"] == "copy":
        _copy_job(settings, spec, topics)
    else:
        _sql_job(settings, spec, list(topics.raw.values()))
    return {"seconds": time.monotonic() - started}


def _raw_source(settings: Settings, spec: dict, raw_topics: list[str], value_type: str):
    """A table environment at the spec's parallelism, with the raw topics as ``raw_events``."""
    from pipelines.io.flink import kafka_source_options, streaming_table_env
    from pipelines.io.kafka_security import NORMALIZER

    t_env = streaming_table_env(settings, parallelism=spec["parallelism"])
    t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE raw_events (
            `value` {value_type},
            `topic` STRING METADATA VIRTUAL,
            `partition` INT METADATA VIRTUAL,
            `offset` BIGINT METADATA VIRTUAL
        ) WITH (
            {kafka_source_options(settings, spec["group"], raw_topics, False, NORMALIZER)},
            'format' = 'raw'
        )""")
    return t_env


def _drain(settings: Settings, t_env, insert: str, spec: dict, raw_topics: list[str]) -> None:
    """Run ``insert`` over what the raw topics hold now, then finish."""
    from pipelines.io.flink import execute_statements
    from pipelines.io.kafka_security import NORMALIZER

    execute_statements(
        settings,
        t_env,
        [insert],
        follow=False,
        group_id=spec["group"],
        topics=raw_topics,
        principal=NORMALIZER,
    )


def _sql_job(settings: Settings, spec: dict, raw_topics: list[str]) -> None:
    t_env = _raw_source(settings, spec, raw_topics, "STRING")
    t_env.execute_sql("""
        CREATE TEMPORARY TABLE routed_out (
            destination STRING, record_key STRING, payload STRING
        ) WITH ('connector' = 'blackhole')""")
    parsed = ", ".join(
        [
            f"KEY '{name}' VALUE JSON_VALUE(`value`, '{path}')"
            for name, path in _PARSED_FIELDS.items()
        ]
        + [
            f"KEY '{name}' VALUE JSON_QUERY(`value`, '{path}')"
            for name, path in _PARSED_LISTS.items()
        ]
    )
    insert = f"""INSERT INTO routed_out
        SELECT CASE WHEN JSON_VALUE(`value`, '$.event_id') IS NULL
                    THEN 'dead_letter' ELSE 'normalized' END,
               CONCAT(`topic`, '-', CAST(`partition` AS STRING), '-', CAST(`offset` AS STRING)),
               JSON_OBJECT({parsed})
        FROM raw_events"""
    _drain(settings, t_env, insert, spec, raw_topics)


def _copy_job(settings: Settings, spec: dict, topics) -> None:
    """The normalization job's reads and writes with no transform: its ceiling."""
    from pipelines.io.flink import kafka_keyed_sink_options
    from pipelines.io.kafka_security import NORMALIZER
    from pipelines.streaming.normalize_job import SOURCE_HEADER

    raw_topics = list(topics.raw.values())
    t_env = _raw_source(settings, spec, raw_topics, "BYTES")
    sink = kafka_keyed_sink_options(
        settings, [topics.normalized], "record_key", NORMALIZER, f"{spec['group']}.copied"
    )
    t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE copied (
            `headers` MAP<STRING, BYTES> METADATA,
            `record_key` STRING,
            `value` BYTES
        ) WITH ({sink})""")
    insert = f"""INSERT INTO copied
        SELECT MAP['{SOURCE_HEADER}', CAST(source AS BYTES)], source, `value`
        FROM (SELECT CONCAT(`topic`, '-', CAST(`partition` AS STRING), '-',
                            CAST(`offset` AS STRING)) AS source, `value`
              FROM raw_events)"""
    _drain(settings, t_env, insert, spec, raw_topics)
