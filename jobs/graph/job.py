"""Nightly relation graph (PySpark): entity resolution, the night's graph snapshot, mining.

:func:`run` is the job, extract → transform → load, each stage in a module
of its own:

Extract (:mod:`~jobs.graph.extract`)
    the lake's ``events`` over the last ``graph.lookback_days`` days up to
    the as-of date, skipping (and naming) unreadable Parquet files, with
    tokens of older key versions mapped to the current version
    (:mod:`~jobs.graph.key_rotation`).
Transform, in Spark where it is big and in Python where it is small
    1. entity resolution (:mod:`~jobs.graph.resolution`): persons and read
       plates, every merge with its evidence and confidence;
    2. the typed, time-stamped, weighted graph (:mod:`~jobs.graph.edges`);
    3. companion vehicles (:mod:`~jobs.graph.companions`);
    4. mining (:mod:`~jobs.graph.mining`): components, Leiden communities,
       PageRank, betweenness; and likely ties (:mod:`models.link_prediction`);
    5. person and place risk (:mod:`~jobs.graph.risk`);
    6. the watch list (:mod:`~jobs.graph.watch_list`).
Load
    the snapshot ``<lake>/graph/as_of=<date>/`` (:mod:`~jobs.graph.snapshot`),
    the published watch list, and the serving tables in PostgreSQL
    (:mod:`~jobs.graph.serving`).

The report (:class:`GraphReport`) counts what each stage found and skipped,
and times the stages.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import pandas as pd

from jobs.graph.companions import companion_ties, find_companions
from jobs.graph.edges import build_edges, counts_by, entity_projection, graph_nodes, involved_pairs
from jobs.graph.extract import (
    night_window,
    person_mentions,
    read_events,
    readable_event_files,
    vehicle_mentions,
)
from jobs.graph.key_rotation import to_current_tokens
from jobs.graph.mining import community_incidents, mine
from jobs.graph.resolution import (
    entity_table,
    resolution_summary,
    resolve_person_mentions,
    resolve_plate_mentions,
    resolved_mentions,
)
from jobs.graph.risk import score_persons, score_places
from jobs.graph.serving import GraphNight, serve
from jobs.graph.snapshot import add_to_snapshot, write_snapshot
from jobs.graph.watch_list import night_watch_list, publish_if_latest, watched_vehicle_counts
from models.link_prediction import predict_links
from pipelines.errors import NoGraphData
from pipelines.settings import Settings

__all__ = ["GraphReport", "NoGraphData", "graph_config", "report_dict", "run"]

_KEYS = (
    "lookback_days",
    "er",
    "co_presence_seconds",
    "companions",
    "betweenness_max_nodes",
    "community_min_split_nodes",
    "key_entities_per_kind",
    "risk",
    "predicted_links",
)


@dataclass
class GraphReport:
    """What one night of the graph job found, skipped, and how long each stage took."""

    as_of: str
    days: list
    events: int
    person_mentions: int = 0
    persons: int = 0
    person_mentions_joined_without_id: int = 0
    contradictory_persons: int = 0
    vehicle_mentions: int = 0
    plates: int = 0
    vehicles: int = 0
    plates_joined: dict = field(default_factory=dict)
    nodes: dict = field(default_factory=dict)
    edges: dict = field(default_factory=dict)
    companion_pairs: int = 0
    co_occurring_vehicle_pairs: int = 0
    companion_candidates: int = 0
    components: int = 0
    largest_component: int = 0
    communities: int = 0
    new_links: int | None = None
    new_links_by_reason: dict = field(default_factory=dict)
    predicted_links: int = 0
    risk_scored_persons: int = 0
    risk_skipped: str | None = None
    risk_scored_places: int = 0
    place_risk_skipped: str | None = None
    key_persons: int = 0
    watched_vehicles: dict = field(default_factory=dict)
    watch_proposals_published: bool = False
    key_rotation_applied: int | None = None
    skipped: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)


def graph_config(settings: Settings) -> dict:
    """The ``graph:`` section of the configuration, checked for its keys."""
    return settings.section("graph", _KEYS)


def report_dict(report: GraphReport) -> dict:
    """The report as a JSON-ready dict."""
    return asdict(report)


class _Laps:
    """Wall seconds per stage, each from the end of the one before."""

    def __init__(self):
        self.seconds: dict = {}
        self._clock = time.monotonic()

    def lap(self, stage: str) -> None:
        now = time.monotonic()
        self.seconds[stage] = round(now - self._clock, 2)
        self._clock = now


def _tune(spark) -> None:
    # Spark's cache is built uncompressed and kept on local disk (the page
    # cache holds it): compressing took as long as reading the Parquet
    # again, and a cache in the heap left a 10M-event night's
    # aggregations without memory.
    spark.conf.set("spark.sql.inMemoryColumnarStorage.compressed", "false")
    # A co-presence window holds a place's reads in memory up to this
    # many (Spark's default, 4,096, spills a busy site's to disk).
    spark.conf.set("spark.sql.windowExec.buffer.in.memory.threshold", str(1 << 20))


def run(settings: Settings, as_of: str | None = None) -> GraphReport:
    """Build, mine and store one night's graph; :class:`NoGraphData` if nothing is valid."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from pipelines.io.serving_store import check_postgres, write_serving_table
    from pipelines.io.spark import Exchange, spark_session

    config = graph_config(settings)
    table = settings.lake_table("normalized")
    end, days = night_window(table, as_of, int(config["lookback_days"]))
    files, corrupt = readable_event_files(table, days)
    if not files:
        raise NoGraphData(
            f"no readable event files in the {len(days)} day(s) up to {end}"
            + (f" ({len(corrupt)} unreadable)" if corrupt else "")
        )
    check_postgres(settings)
    laps = _Laps()
    spark = spark_session(settings, "zongzhi-graph")
    exchange = Exchange(spark, settings.var / "tmp" / "graph-exchange")
    try:
        _tune(spark)
        keep = StorageLevel.DISK_ONLY
        events, flat_events = read_events(spark, table, files, keep)
        # Tokens of older key versions become the current ones (keys rotate).
        events, rotation = to_current_tokens(spark, events, settings)
        if rotation is not None:
            events = events.persist(keep)
        totals = flat_events.agg(
            F.count("*").alias("n"), F.max("event_time_ms").alias("latest")
        ).first()
        report = GraphReport(
            as_of=end.isoformat(), days=[d.isoformat() for d in days], events=int(totals["n"])
        )
        covered_until_ms = int(totals["latest"])
        report.skipped["unreadable_files"] = corrupt
        report.key_rotation_applied = rotation
        laps.lap("extract")

        person_map = resolve_person_mentions(person_mentions(events), config["er"], exchange)
        plate_map = resolve_plate_mentions(vehicle_mentions(events), config["er"], exchange)
        summary = resolution_summary(person_map, plate_map)
        report.skipped.update(summary.pop("skipped"))
        for name, value in summary.items():
            setattr(report, name, value)
        laps.lap("entity_resolution")

        people, cars = resolved_mentions(events, person_map, plate_map, exchange, keep)
        window_ms = int(config["co_presence_seconds"]) * 1000
        edges, reads, vehicle_pairs = build_edges(people, cars, window_ms, keep)
        report.edges = counts_by(edges, "type")
        laps.lap("graph")

        companions, tested = find_companions(
            vehicle_pairs, reads, config["companions"], window_ms, len(days), exchange
        )
        report.co_occurring_vehicle_pairs = tested
        report.companion_candidates = len(companions)
        report.companion_pairs = int(companions["companion"].sum())
        laps.lap("companions")

        nodes = graph_nodes(edges).persist(keep)
        report.nodes = counts_by(nodes, "kind")
        involved = involved_pairs(edges).persist(keep)
        projection = exchange.to_pandas(entity_projection(involved))
        mining_edges = pd.concat([projection, companion_ties(companions)], ignore_index=True)
        metrics, report.components, report.largest_component, report.communities = mine(
            mining_edges,
            int(config["betweenness_max_nodes"]),
            int(config["community_min_split_nodes"]),
        )
        metrics["community_incidents"] = community_incidents(involved, metrics, exchange)
        predicted = predict_links(mining_edges, top=int(config["predicted_links"]))
        report.predicted_links = len(predicted)
        laps.lap("mining")

        person_risk, report.risk_skipped = score_persons(people, projection, days, config["risk"])
        report.risk_scored_persons = 0 if person_risk is None else len(person_risk)
        place_risk, report.place_risk_skipped = score_places(
            flat_events, people, days, config["risk"]
        )
        report.risk_scored_places = 0 if place_risk is None else len(place_risk)
        watch, report.key_persons = night_watch_list(
            settings,
            people,
            person_risk=person_risk,
            projection=projection,
            companions=companions,
            plate_map=plate_map,
            as_of=end,
            covered_until_ms=covered_until_ms,
        )
        report.watched_vehicles = watched_vehicle_counts(watch)
        laps.lap("risk")

        snapshot, new_links = write_snapshot(
            settings,
            spark,
            end,
            edges=edges,
            nodes=nodes,
            entities=entity_table(person_map, plate_map),
            companions=companions,
            metrics=metrics,
        )
        if new_links is not None:
            report.new_links = new_links.count()
            report.new_links_by_reason = {
                r["reason"]: int(r["count"]) for r in new_links.groupBy("reason").count().collect()
            }
        laps.lap("lake")

        add_to_snapshot(
            snapshot,
            {
                "person_risk": person_risk,
                "place_risk": place_risk,
                "predicted_links": predicted,
                "watch_list": watch,
            },
        )
        report.watch_proposals_published = publish_if_latest(settings, watch, end)
        night = GraphNight(
            as_of=end,
            metrics=metrics,
            companions=companions,
            edges=edges,
            new_links=new_links,
            person_risk=person_risk,
            place_risk=place_risk,
            predicted_links=predicted,
            watch_list=watch,
        )
        serve(
            night,
            settings=settings,
            exchange=exchange,
            key_entities_per_kind=int(config["key_entities_per_kind"]),
            write=write_serving_table,
        )
        laps.lap("postgres")
        report.seconds = laps.seconds
        return report
    finally:
        exchange.close()
        spark.stop()
