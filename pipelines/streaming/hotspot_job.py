"""Hotspot job (PyFlink): event-time windows in SQL, one Python call per window end.

Extract: the normalized topic, with event time from ``event_time_ms`` and a
bounded-out-of-orderness watermark (``hotspot.watermark_delay_seconds``,
which is also the lateness the windows allow).

Transform, all per-event work in Flink SQL (:mod:`pipelines.streaming.hotspot_sql`):

1. a ``TUMBLE`` per slide counts events per cell and category (the only
   per-event work), and gathers each slide's counts into one row, which
   leaves SQL for a keyed process function
   (:func:`pipelines.streaming.window_scorer.keyed_scoring`);
2. its Flink state holds a window's worth of slices and the alert
   lifecycle, so that both are checkpointed and restored; an event-time
   timer per window end makes one Python call when the watermark passes it:
   :class:`pipelines.streaming.window_scorer.WindowScorer` composes the
   counts of each scan duration from the slices and runs
   :meth:`models.hotspot_detector.HotspotDetector.look` against the
   nightly baselines (:class:`pipelines.streaming.baseline_store.BaselineStore`),
   which it re-reads when the nightly job replaces them;
3. with ``incident_fusion.count_incidents``, each slice also carries its
   reports of the incident kinds' categories, and the same function links
   them across channels as the slice arrives
   (:mod:`pipelines.streaming.slice_fusion`): the windows count each
   incident once.

Late data: an event whose time is already behind the watermark when it
arrives misses its windows; the same statement set writes it to the
``late`` topic with its lateness, so it is counted, not lost (it is in the
lake as well, through the normalized topic).

Watch list: the same statement set raises watch-list alerts per plate read
(:mod:`pipelines.streaming.watch_alerts`).

Load: alerts, one per cluster and update, to the ``alerts`` topic keyed by
cluster id; ``pipelines.streaming.alert_store`` writes them into PostgreSQL.

This module is the job's entry point (:func:`run`); it re-exports the names
the harnesses use from the modules above.
"""

from __future__ import annotations

from pipelines.io.flink import execute_statements, streaming_table_env
from pipelines.io.kafka_security import PLATFORM
from pipelines.io.platform_state import load_district, load_incident_fusion
from pipelines.io.watch_list_store import WatchListStore, watch_config
from pipelines.settings import Settings
from pipelines.streaming.baseline_store import BaselineStore
from pipelines.streaming.hotspot_sql import (
    cell_slices_sql,
    create_alert_sinks,
    create_event_source,
    create_links_sink,
    create_slice_counts_view,
    late_events_sql,
    skipped_events_sql,
)
from pipelines.streaming.slice_fusion import SliceFusion, fusable_categories
from pipelines.streaming.watch_alerts import (
    WatchAlerter,
    district_checkpoints,
    watch_function,
    watch_reads_sql,
)
from pipelines.streaming.window_scorer import (
    ALERT,
    LINK,
    WindowScorer,
    compose_window,
    district_detector,
    district_detectors,
    keyed_scoring,
    parse_slice,
    scored_categories,
)

__all__ = [
    "GROUP_ID",
    "BaselineStore",
    "WindowScorer",
    "parse_slice",
    "compose_window",
    "cell_slices_sql",
    "create_event_source",
    "create_slice_counts_view",
    "late_events_sql",
    "district_detector",
    "district_detectors",
    "scored_categories",
    "run",
]

GROUP_ID = "zongzhi-hotspot"


def run(
    settings: Settings,
    *,
    follow: bool = False,
    parallelism: int = 1,
    checkpoint_interval_s: int | None = None,
    scorer: WindowScorer | None = None,
    group_id: str = GROUP_ID,
    topics: dict | None = None,
    watermark_delay_s: int | None = None,
    emit_strategy: str | None = None,
    alerter: WatchAlerter | None = None,
    fresh: bool = False,
    count_incidents: bool | None = None,
) -> None:
    """Run the job on Kafka (bounded unless ``follow``, as the normalization job).

    ``scorer`` and ``topics`` (``normalized``, ``alerts``, ``late`` -> topic
    names) default to the district's detector and the declared topics; the
    replay passes its own, and runs the same SQL and detector. ``alerter``
    (watch-list alerts, :mod:`pipelines.streaming.watch_alerts`) defaults to the
    district's sensitive checkpoints and the published watch list.
    ``watermark_delay_s`` overrides the configured allowance (the bench
    drains an ordered backlog with the live one). The district's scorer
    counts incidents, not reports, when ``count_incidents`` (default:
    ``incident_fusion``'s own), through :mod:`pipelines.streaming.slice_fusion`.

    With ``follow`` the job checkpoints (``flink.checkpoint_interval_seconds``
    unless ``checkpoint_interval_s``) under ``group_id``'s name and resumes
    from its latest checkpoint, unless ``fresh``.
    """
    hotspot = settings.hotspot
    topics = {name: settings.topic(name) for name in ("normalized", "alerts", "late")} | (
        topics or {}
    )
    if scorer is None:
        fusion_rules = load_incident_fusion(settings)
        if count_incidents is None:
            count_incidents = fusion_rules["count_incidents"]
        base, *longer = district_detectors(settings)
        scorer = WindowScorer(
            base,
            BaselineStore(settings.lake_table("baselines"), hotspot["fallback_rate_per_cell_hour"]),
            SliceFusion(fusion_rules, load_district(settings).grid) if count_incidents else None,
            longer=longer,
        )
    if alerter is None:
        watch = watch_config(settings)
        alerter = WatchAlerter(
            WatchListStore(settings.lake_table("watch_list"), float(watch["reload_check_seconds"])),
            district_checkpoints(settings),
            int(watch["alert_slot_minutes"]),
        )
    if checkpoint_interval_s is None and follow:
        checkpoint_interval_s = settings.section("flink").integer("checkpoint_interval_seconds")
    # Python sees one row per window end, so thread mode saves the worker process.
    t_env = streaming_table_env(
        settings,
        parallelism=parallelism,
        checkpoint_interval_s=checkpoint_interval_s,
        python_mode=hotspot.get("python_mode", "thread"),
        datastream=True,
        job=group_id,
        fresh=fresh or not follow,
    )
    # One row per window end reaches Python: hand each over at once, instead
    # of holding it for a bundle (by default up to 1 s).
    t_env.get_config().set("python.fn-execution.bundle.size", "1")
    t_env.get_config().set("python.fn-execution.bundle.time", "10")
    if follow:
        # A partition with no new events must not hold the watermark back for
        # ever. Not in bounded runs: a backlog read partition by partition
        # would mark the slower one idle and make the other's events late.
        t_env.get_config().set(
            "table.exec.source.idle-timeout", f"{int(hotspot['source_idle_timeout_seconds'])} s"
        )
    t_env.create_temporary_function("watch_match", watch_function(alerter))
    create_event_source(
        t_env, settings, group_id, follow, topics["normalized"], watermark_delay_s, emit_strategy
    )
    create_alert_sinks(t_env, settings, topics, job=group_id)
    if scorer.fusion is not None:
        create_links_sink(t_env, settings, settings.topic("incident_links"), job=group_id)
    fusable = fusable_categories(scorer.fusion.rules) if scorer.fusion is not None else None
    slices = create_slice_counts_view(t_env, hotspot, fusable=fusable)
    statements = scored_windows(t_env, scorer, slices)
    statements.append(late_events_sql(hotspot))
    statements.append(skipped_events_sql())
    watched_reads = watch_reads_sql(alerter.checkpoints)
    if watched_reads:
        statements.append(watched_reads)
    execute_statements(
        settings,
        t_env,
        statements,
        follow=follow,
        group_id=group_id,
        topics=[topics["normalized"]],
        principal=PLATFORM,
    )


def scored_windows(t_env, scorer: WindowScorer, slices: str) -> list[tuple]:
    """``[(alerts_out, table)]``: the window ends scored, slices and lifecycle in keyed state.

    With the scorer's fusion, also ``(links_out, table)``: the incident links.

    The rows of view ``slices`` (one per slide end) leave SQL for a keyed
    process function (:func:`keyed_scoring`; one key, the whole district,
    as the lifecycle spans its cells), which scores every window end and
    whose alerts come back as a table.
    """
    from pyflink.common import Types
    from pyflink.table import DataTypes
    from pyflink.table.expressions import call, col, lit

    # Strings: an ARRAY column does not convert to a DataStream, and in thread
    # mode a timestamp reaches Python as a Java object.
    rows = t_env.to_data_stream(
        t_env.from_path(slices).select(
            col("slice_end").cast(DataTypes.STRING()),
            call("ARRAY_JOIN", col("entries"), lit(";")),
            col("reports"),
        )
    )
    scored = (
        rows.key_by(lambda row: "district", key_type=Types.STRING())
        .process(
            keyed_scoring(scorer),
            output_type=Types.ROW([Types.STRING(), Types.STRING(), Types.STRING()]),
        )
        .uid("hotspot-lifecycle")
        .name("hotspot-lifecycle")
    )
    table = t_env.from_data_stream(scored).alias("kind", "key", "payload")
    inserts = [("alerts_out", _of_kind(table, ALERT))]
    if scorer.fusion is not None:
        inserts.append(("links_out", _of_kind(table, LINK)))
    return inserts


def _of_kind(table, kind: str):
    from pyflink.table.expressions import col

    return table.where(col("kind") == kind).select(col("key"), col("payload"))
