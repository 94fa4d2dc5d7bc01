"""The hotspot job's Flink SQL: the event source, the window counts, the late events, the sinks.

All per-event work of the job is here, in the JVM:

1. the ``events`` table (:func:`create_event_source`): the normalized
   topic with event time and a bounded-out-of-orderness watermark;
2. the slice counts (:func:`create_slice_counts_view`): events per cell,
   category and slide, gathered into one row per slide end for Python
   (:func:`pipelines.streaming.window_scorer.keyed_scoring`);
3. the late events (:func:`late_events_sql`): events that missed their
   earliest window, to the ``late`` topic;
4. the sinks (:func:`create_alert_sinks`): the ``alerts`` and ``late`` topics.
"""

from __future__ import annotations

from pipelines.io.flink import kafka_keyed_sink_options, kafka_source_options
from pipelines.io.kafka_security import PLATFORM
from pipelines.settings import Settings
from pipelines.streaming.slice_fusion import REPORT_SEPARATOR, report_json_sql

__all__ = [
    "SKIPPED_EVENTS_LOG",
    "create_event_source",
    "skipped_events_sql",
    "create_slice_counts_view",
    "cell_slices_sql",
    "late_events_sql",
    "create_alert_sinks",
    "create_links_sink",
    "minutes_interval",
]


def minutes_interval(minutes: int) -> str:
    """A SQL day-to-minute interval literal: any slide or window up to 99 days.

    ``INTERVAL '1440' MINUTE`` exceeds the two digits a MINUTE interval
    holds; days, hours and minutes do not.

    >>> minutes_interval(5), minutes_interval(1440), minutes_interval(20160)
    ("INTERVAL '0 00:05' DAY TO MINUTE", "INTERVAL '1 00:00' DAY TO MINUTE", "INTERVAL '14 00:00' DAY TO MINUTE")
    """
    days, rest = divmod(int(minutes), 1440)
    return f"INTERVAL '{days} {rest // 60:02d}:{rest % 60:02d}' DAY TO MINUTE"


def create_event_source(
    t_env,
    settings: Settings,
    group_id: str,
    follow: bool,
    topic: str,
    watermark_delay_s: int | None = None,
    emit_strategy: str | None = None,
) -> None:
    """The ``events`` view: the normalized topic's complete events, with event time and watermark.

    A record the job cannot parse does not stop it: the JSON format skips a
    value that is not a JSON object (invalid JSON, ``[1, 2]``, ``"x"``,
    ``42``, ``null``, ``true``), and gives NULL for a field it cannot read
    (``json.ignore-parse-errors``). The table ``normalized_in`` holds what
    was parsed; ``events`` only the rows with every field the windows need.
    The values the JSON format skipped never become rows, so a second
    source, ``normalized_raw``, reads the same records as text, from the same
    group offsets but committing none (the events source alone moves the
    group): :func:`skipped_events_sql` counts its values that are not JSON
    objects, and the parsed rows that lack a field.

    A live job allows ``watermark_delay_seconds`` of disorder. A bounded run
    (a backfill, a test, the eval) reads a backlog that the normalization
    job may have written hours out of order, a raw topic at a time, so it
    allows ``backfill_watermark_delay_seconds``: there only completeness
    matters, not how soon a window closes.
    """
    hotspot = settings.hotspot
    delay = int(
        watermark_delay_s
        if watermark_delay_s is not None
        else hotspot["watermark_delay_seconds" if follow else "backfill_watermark_delay_seconds"]
    )
    # A bounded run reads its backlog in well under the periodic watermark
    # interval (200 ms): the watermark advances with every event instead, so
    # what counts as late does not depend on how fast the backlog was read.
    emit = emit_strategy or ("on-periodic" if follow else "on-event")
    days, rest = divmod(delay, 86400)
    interval = f"'{days} {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}' DAY TO SECOND"
    t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE normalized_in (
            event_id STRING,
            source STRING,
            category STRING,
            cell_id STRING,
            event_time_ms BIGINT,
            lon DOUBLE,
            lat DOUBLE,
            persons ARRAY<ROW<id_hash STRING, phone_hash STRING, name_hash STRING>>,
            vehicles ARRAY<ROW<plate_hash STRING, plate_fold_hash STRING>>,
            attributes ROW<site_id STRING, description STRING, `text` STRING>,
            -- Minutes the event's time is known to, when coarser than its
            -- stamp (a replayed file's hour- or date-only times); NULL: fine.
            time_resolution_minutes INT,
            -- A row time may not be NULL; epoch 0 never advances the watermark.
            ts AS TO_TIMESTAMP_LTZ(COALESCE(event_time_ms, 0), 3),
            WATERMARK FOR ts AS ts - INTERVAL {interval}
        ) WITH (
            {kafka_source_options(settings, group_id, [topic], follow, PLATFORM)},
            'scan.watermark.emit.strategy' = '{emit}',
            'format' = 'json',
            'json.fail-on-missing-field' = 'false',
            'json.ignore-parse-errors' = 'true'
        )""")
    t_env.create_temporary_view(
        "events", t_env.sql_query(f"SELECT * FROM normalized_in WHERE {_COMPLETE}")
    )
    t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE normalized_raw (raw_value BYTES) WITH (
            {kafka_source_options(settings, group_id, [topic], follow, PLATFORM)},
            'properties.commit.offsets.on.checkpoint' = 'false',
            'format' = 'raw'
        )""")
    t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE skipped_events_log (skipped BIGINT) WITH (
            'connector' = 'print', 'print-identifier' = '{SKIPPED_EVENTS_LOG}'
        )""")


#: Prefix of the log lines that count the normalized records the job skipped.
SKIPPED_EVENTS_LOG = "zongzhi-hotspot skipped unparsable normalized records"

_COMPLETE = (
    "event_id IS NOT NULL AND category IS NOT NULL AND cell_id IS NOT NULL "
    "AND event_time_ms IS NOT NULL"
)


#: :data:`REPORT_SEPARATOR` as a SQL literal.
_SEPARATOR = f"U&'\\{ord(REPORT_SEPARATOR):04X}'"


def skipped_events_sql() -> str:
    """Count the records the windows skip, into the job's log.

    A record is skipped when its value is not a JSON object in UTF-8 (read
    from ``normalized_raw``: what the JSON format dropped without a row) or
    when it parsed but lacks a field the windows need (read from
    ``normalized_in``). A value that is an object but holds bytes that are
    not UTF-8 counts with the first: the JSON format drops it, while the text
    the raw format decodes (with U+FFFD for each bad byte) is an object.
    Each skipped record prints the running count on a line starting with
    :data:`SKIPPED_EVENTS_LOG` (``+U[3]``); a job that skips none prints none.

    Examples
    --------
    >>> sql = skipped_events_sql()
    >>> "NOT (text_value IS JSON OBJECT)" in sql and "UNION ALL" in sql
    True
    """
    return f"""INSERT INTO skipped_events_log
            SELECT COUNT(*) FROM (
                SELECT 1 AS skipped FROM (
                    SELECT raw_value, DECODE(raw_value, 'UTF-8') AS text_value
                    FROM normalized_raw
                )
                WHERE NOT (text_value IS JSON OBJECT)
                   OR (POSITION(U&'\\FFFD' IN text_value) > 0
                       AND ENCODE(text_value, 'UTF-8') <> raw_value)
                UNION ALL
                SELECT 1 AS skipped FROM normalized_in WHERE NOT ({_COMPLETE})
            )"""


def create_slice_counts_view(
    t_env, hotspot: dict, source_table: str = "events", fusable: list[str] | None = None
) -> str:
    """Create the views of the slice counts; return the name of the last one.

    * ``cell_slices``: events per cell, category and slide (``TUMBLE``),
      the only per-event work: one counter per event;
    * ``slices``: one row per slide end, the array of its
      ``cell,category,n`` entries (``cell,category,n,minutes`` for events
      whose time is known only to that many minutes: they vote at the
      longer scales alone, :mod:`models.time_scales`), and ``reports``: with ``fusable``
      categories, their reports as JSON texts for incident fusion
      (:mod:`pipelines.streaming.slice_fusion`), else NULL.

    Each slice leaves SQL once. The window ends are the scorer's business:
    it keeps a window's worth of slices in keyed state and scores each
    window end when the watermark passes it
    (:func:`pipelines.streaming.window_scorer.keyed_scoring`). A ``HOP``
    window over the slice rows, as before, handed Python every slice once
    per window it falls in (6 times for 30-minute windows sliding by 5),
    and held its upstream while Python scored.
    """
    slide = int(hotspot["window_slide_minutes"])
    t_env.create_temporary_view(
        "cell_slices", t_env.sql_query(cell_slices_sql(hotspot, source_table, fusable))
    )
    reports = f"LISTAGG(reports, {_SEPARATOR})" if fusable else "CAST(NULL AS STRING)"
    t_env.create_temporary_view(
        "slices",
        t_env.sql_query(f"""
        SELECT window_end AS slice_end, window_time AS st,
               ARRAY_AGG(CONCAT(cell_id, ',', category, ',', CAST(n AS STRING),
                   CASE WHEN resolution > 0 THEN CONCAT(',', CAST(resolution AS STRING))
                        ELSE '' END)) AS entries,
               {reports} AS reports
        FROM TABLE(TUMBLE(TABLE cell_slices, DESCRIPTOR(st), {minutes_interval(slide)}))
        GROUP BY window_start, window_end, window_time"""),
    )
    return "slices"


def cell_slices_sql(
    hotspot: dict, source_table: str = "events", fusable: list[str] | None = None
) -> str:
    """Events per cell, category, time resolution and slide (``TUMBLE``), excluded categories left out.

    With ``fusable`` categories, also ``reports``: the JSON texts of the
    group's reports when its category is one of them (else NULL).

    Examples
    --------
    >>> sql = cell_slices_sql({"window_slide_minutes": 5, "excluded_categories": ["x.y"]})
    >>> "INTERVAL '0 00:05' DAY TO MINUTE" in sql and "category NOT IN ('x.y')" in sql
    True
    >>> "LISTAGG(CASE WHEN category IN ('g.x')" in cell_slices_sql(
    ...     {"window_slide_minutes": 5}, fusable=["g.x"])
    True
    """
    slide = int(hotspot["window_slide_minutes"])
    excluded = ", ".join(f"'{c}'" for c in hotspot.get("excluded_categories") or []) or "''"
    reports = f", LISTAGG({report_json_sql(fusable)}, {_SEPARATOR}) AS reports" if fusable else ""
    return f"""
        SELECT cell_id, category, resolution, window_time AS st, COUNT(*) AS n{reports}
        FROM (
            SELECT *, COALESCE(time_resolution_minutes, 0) AS resolution FROM TABLE(
                TUMBLE(TABLE {source_table}, DESCRIPTOR(ts), {minutes_interval(slide)}))
        )
        WHERE category NOT IN ({excluded})
        GROUP BY cell_id, category, resolution, window_start, window_end, window_time"""


def late_events_sql(hotspot: dict) -> str:
    """Events that missed at least their earliest window, as JSON for the ``late`` topic.

    An event belongs to the windows ending at the next slide boundary after
    it and later; the earliest has fired once the watermark reaches its end
    (less 1 ms), so an event arriving after that is late for it. Seen at the
    source, whose watermark the windows receive a little later, so the count
    errs towards calling an event late.
    """
    slide_ms = int(hotspot["window_slide_minutes"]) * 60_000
    return f"""INSERT INTO late_out
            SELECT event_id, JSON_OBJECT(
                'event_id' VALUE event_id, 'category' VALUE category, 'cell_id' VALUE cell_id,
                'event_time_ms' VALUE event_time_ms,
                'watermark' VALUE CAST(CURRENT_WATERMARK(ts) AS STRING))
            FROM events
            WHERE CURRENT_WATERMARK(ts) IS NOT NULL
              AND TO_TIMESTAMP_LTZ(
                    (CAST(FLOOR(event_time_ms / {slide_ms}.0) AS BIGINT) + 1) * {slide_ms} - 1, 3)
                  <= CURRENT_WATERMARK(ts)"""


def create_alert_sinks(t_env, settings: Settings, topics: dict, job: str = "hotspot") -> None:
    """Keyed Kafka sinks: ``alerts_out`` and ``watch_out`` to ``topics``' alerts, ``late_out``.

    Hotspot and watch-list alerts go to the same topic through two sinks,
    each with transactional ids of its own (``job`` names them).
    """
    for table, key, topic in (
        ("alerts_out", "alert_id", "alerts"),
        ("watch_out", "alert_id", "alerts"),
        ("late_out", "event_id", "late"),
    ):
        t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE {table} ({key} STRING, payload STRING) WITH (
            {kafka_keyed_sink_options(settings, [topics[topic]], key, PLATFORM, f"{job}.{table}")}
        )""")


def create_links_sink(t_env, settings: Settings, topic: str, job: str = "hotspot") -> None:
    """The keyed Kafka sink ``links_out``: incident links, keyed by the report that joined."""
    t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE links_out (event_id STRING, payload STRING) WITH (
            {kafka_keyed_sink_options(settings, [topic], "event_id", PLATFORM, f"{job}.links_out")}
        )""")
