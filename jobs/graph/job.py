"""Nightly relation graph (PySpark): entity resolution, the night's graph snapshot, mining.

Extract: the lake's ``events`` over the last ``graph.lookback_days`` days up
to the as-of date; Parquet files whose footer cannot be read are skipped and
reported by name.

Transform, in Spark where it is big and in Python where it is small:

1. **Mentions.** Every person and vehicle entry of every event, exploded;
   a person's profile is its ID, name and phone tokens and the event's
   village.
2. **Entity resolution.** Spark reduces mentions to their distinct
   identities (a person's ID/name/phone tokens, a read plate's token) with
   counts; those few rows are resolved by the pure functions of
   :mod:`jobs.graph.person_resolution` and :mod:`jobs.graph.vehicle_resolution`
   and joined back as a broadcast map. Every merge keeps its evidence and
   confidence (``entities``).
3. **Graph.** Typed nodes (person, vehicle, place, incident) and typed,
   time-stamped, weighted edges (involved_in, reported_by, occurred_at,
   seen_at, co_present), aggregated per (source, target, type, role).
4. **Companion vehicles** from the vehicle co-presence pairs, against the
   co-occurrences chance gives (:mod:`models.companion_vehicles`): the pairs
   that met often enough on enough days are scored on the driver, with
   Bonferroni's ``m`` counted over every pair that met.
5. **Mining** (igraph, on the driver) of the entity graph: persons and
   vehicles tied by the incidents they share (weight: how many; built in
   Spark, :func:`entity_projection`) and by companion ties (weight 1: the
   test already decided they are real). Connected components, Leiden
   communities (modularity, per component), PageRank, and betweenness
   inside communities small enough for it. Places are left out: a busy cell
   would join everything that happened in it. On the bipartite
   entity–incident graph, heavy companion ties split each ring into its
   vehicles and its people; on the projection they stay together.

6. **Watch list** (:mod:`models.watch_list`): the vehicles of key persons
   and their companions, published to ``<lake>/watch_list/`` for the
   stream's watch-list alerts (:mod:`pipelines.streaming.watch_alerts`).

Load: the snapshot to ``<lake>/graph/as_of=<date>/`` (nodes, edges,
entities, companions, metrics, communities, new_links, watch_list) and the
serving tables ``graph_key_entities``, ``graph_communities``,
``graph_companions``, ``graph_new_links``, ``graph_network_edges`` and
``graph_watch_list`` to PostgreSQL.
"""

from __future__ import annotations

import logging
import random
import shutil
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from features.local_time import DISTRICT_TZ
from features.taxonomy import PLATE_READ
from jobs.graph.person_resolution import resolve_persons
from jobs.graph.vehicle_resolution import resolve_plates
from models.companion_vehicles import companion_pairs, expected_for_pairs
from models.link_prediction import predict_links
from models.watch_list import build_watch_list, key_persons
from pipelines.errors import NoGraphData
from pipelines.io.watch_list_store import WATCH_FILE, publish_watch_list, watch_config
from pipelines.settings import Settings

__all__ = [
    "GraphReport",
    "NoGraphData",
    "graph_config",
    "readable_event_files",
    "person_mentions",
    "vehicle_mentions",
    "profile_key",
    "entity_projection",
    "build_graph",
    "communities",
    "run",
]

log = logging.getLogger(__name__)

_REPORTER_ROLES = ("caller",)
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
    watch_list_published: bool = False
    skipped: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)


def graph_config(settings: Settings) -> dict:
    """The ``graph:`` section of the configuration, checked for its keys."""
    return settings.section("graph", _KEYS)


# ------------------------------------------------------------------ extract


def readable_event_files(table: Path, days: list[date]) -> tuple[list[str], dict]:
    """The Parquet files of ``days`` whose footer reads, and why the others were skipped."""
    files, skipped = [], {}
    for day in days:
        for path in sorted((table / f"event_date={day.isoformat()}").glob("*.parquet")):
            try:
                pq.read_metadata(path)
            except Exception as exc:  # noqa: BLE001 - any unreadable file is reported
                skipped[str(path)] = f"{type(exc).__name__}: {str(exc)[:200]}"
                continue
            files.append(str(path))
    return files, skipped


def _window(table: Path, as_of: str | None, lookback_days: int) -> tuple[date, list[date]]:
    days = sorted(
        date.fromisoformat(p.name.split("=", 1)[1])
        for p in table.glob("event_date=*")
        if p.is_dir()
    )
    if not days:
        raise NoGraphData(f"the lake table {table} has no event_date partitions")
    end = date.fromisoformat(as_of) if as_of else days[-1]
    start = end - timedelta(days=lookback_days - 1)
    return end, [d for d in days if start <= d <= end]


# ------------------------------------------------------------------ mentions (Spark)

#: A person mention's profile: these tokens and the event's village.
PROFILE_FIELDS = ("id_hash", "name_hash", "phone_hash")


def profile_key(person: dict, village: str | None) -> str:
    """The profile key :func:`person_mentions` gives a lake person entry, in Python."""
    return "|".join([*(person.get(k) or "" for k in PROFILE_FIELDS), village or ""])


def person_mentions(events):
    """One row per person entry: its tokens, the event's time and place, a profile key."""
    from pyspark.sql import functions as F

    exploded = events.select(
        "event_id",
        "event_time_ms",
        "event_date",
        "cell_id",
        "source",
        "category",
        "village_code",
        F.posexplode_outer("persons").alias("pos", "p"),
    )
    return (
        exploded.where(F.col("p").isNotNull())
        .select(
            "event_id",
            "pos",
            "event_time_ms",
            "event_date",
            "cell_id",
            "source",
            "category",
            "village_code",
            F.col("p.role").alias("role"),
            F.col("p.id_hash").alias("id_hash"),
            F.col("p.name_hash").alias("name_hash"),
            F.col("p.phone_hash").alias("phone_hash"),
            F.col("p.name_sound_hash").alias("name_sound_hash"),
            F.col("p.phone_deletion_hashes").alias("phone_deletion_hashes"),
        )
        .withColumn(
            "profile_key",
            F.concat_ws(
                "|", *(F.coalesce(F.col(c), F.lit("")) for c in (*PROFILE_FIELDS, "village_code"))
            ),
        )
    )


def vehicle_mentions(events):
    """One row per vehicle entry, with the reading site (``events.site_id``) for plate reads."""
    from pyspark.sql import functions as F

    exploded = events.select(
        "event_id",
        "event_time_ms",
        "event_date",
        "cell_id",
        "category",
        "site_id",
        F.posexplode_outer("vehicles").alias("pos", "v"),
    )
    return exploded.where(F.col("v").isNotNull()).select(
        "event_id",
        "pos",
        "event_time_ms",
        "event_date",
        "cell_id",
        "category",
        "site_id",
        F.col("v.role").alias("role"),
        F.col("v.plate_hash").alias("plate_hash"),
        F.col("v.plate_readable").alias("plate_readable"),
        F.col("v.plate_fold_hash").alias("plate_fold_hash"),
        F.col("v.plate_tail_hash").alias("plate_tail_hash"),
        F.col("v.plate_deletion_hashes").alias("plate_deletion_hashes"),
    )


# ------------------------------------------------------------------ entity resolution


def _distinct_tokens(mentions, key: str, fields: tuple, count: str, exchange) -> pd.DataFrame:
    """One row per ``key`` with its ``fields`` and how many mentions carry it.

    The fields follow from the key (they are its tokens and match keys), so
    Spark groups by all of them with a hash aggregation; taking the first
    of an array column per key instead sorts every mention. Should a key
    come with two sets of fields, the first is kept and the counts added.
    """
    from pyspark.sql import functions as F

    rows = exchange.to_pandas(mentions.groupBy(key, *fields).agg(F.count("*").alias(count)))
    if rows[key].is_unique:
        return rows
    totals = rows.groupby(key, sort=False, dropna=False)[count].transform("sum")
    return rows.assign(**{count: totals}).drop_duplicates(key).reset_index(drop=True)


def _resolve_persons(mentions, er: dict, exchange) -> pd.DataFrame:
    profiles = _distinct_tokens(
        mentions,
        "profile_key",
        (
            "id_hash",
            "name_hash",
            "phone_hash",
            "name_sound_hash",
            "phone_deletion_hashes",
            "village_code",
        ),
        "mentions",
        exchange,
    )
    resolved = resolve_persons(
        profiles.rename(columns={"profile_key": "mention_key"}),
        weights=er["person_weights"],
        threshold=float(er["person_threshold"]),
    )
    return resolved.rename(columns={"mention_key": "profile_key"}).merge(
        profiles[["profile_key", "mentions"]], on="profile_key"
    )


def _resolve_plates(mentions, er: dict, exchange) -> pd.DataFrame:
    plates = _distinct_tokens(
        mentions,
        "plate_hash",
        ("plate_readable", "plate_fold_hash", "plate_tail_hash", "plate_deletion_hashes"),
        "reads",
        exchange,
    )
    plates["plate_readable"] = (
        plates["plate_readable"].astype(object).where(plates["plate_readable"].notna(), None)
    )
    resolved = resolve_plates(
        plates,
        dominance=float(er["plate_dominance"]),
        evidence_confidence=er["plate_evidence_confidence"],
    )
    # The folded plate too: the watch list matches a misread the night has not seen.
    return resolved.merge(plates[["plate_hash", "plate_fold_hash"]], on="plate_hash", how="left")


# ------------------------------------------------------------------ graph (Spark)


def _aggregate_edges(frame, src, dst, kind: str, one_event: bool = False):
    """Edges per (src, dst, type, role): weight, first and last time, distinct days.

    With ``one_event`` each (src, dst) belongs to one event (an incident is
    one of the ends), so its days are 1 and no distinct count is needed.
    """
    from pyspark.sql import functions as F

    days = F.lit(1).cast("long") if one_event else F.countDistinct("event_date")
    return (
        frame.select(
            F.col(src).alias("src"),
            F.col(dst).alias("dst"),
            F.lit(kind).alias("type"),
            F.coalesce("role", F.lit("")).alias("role"),
            "event_time_ms",
            "event_date",
        )
        .groupBy("src", "dst", "type", "role")
        .agg(
            F.count("*").alias("weight"),
            F.min("event_time_ms").alias("first_ms"),
            F.max("event_time_ms").alias("last_ms"),
            days.alias("days"),
        )
    )


def _co_presence(frame, entity: str, place: str, window_ms: int):
    """Pairs of distinct entities at one place within ``window_ms``, per episode.

    An episode is the place and the earlier read's ``window_ms`` bucket; a
    pair's weight counts distinct episodes, not read pairs, and its days
    the distinct days its episodes began on.

    Each read gathers the reads of its place in the ``window_ms`` after it
    (a window over the place's reads in time order): one shuffle and one
    sort of the reads, where a self-join on (place, bucket) shuffled and
    sorted them three times. A pair of reads counts once, from the earlier
    read (by time, then entity).
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    base = frame.select(
        F.col(entity).alias("e"), F.col(place).alias("place"), F.col("event_time_ms").alias("t")
    ).where(F.col("place").isNotNull())
    ahead = Window.partitionBy("place").orderBy("t").rangeBetween(0, window_ms)
    later = F.col("b.e"), F.col("b.t")
    pairs = (
        base.withColumn("later", F.collect_list(F.struct("t", "e")).over(ahead))
        .select("e", "place", "t", F.explode("later").alias("b"))
        .where((later[0] != F.col("e")) & ((later[1] > F.col("t")) | (later[0] > F.col("e"))))
    )
    # The pair's episodes, then the pair: hash aggregations (no string
    # minimum), the second over few rows. An episode's day is the session
    # time zone's day of its earliest read, as the lake's event_date is the
    # district's.
    episodes = (
        pairs.select(
            F.least("e", later[0]).alias("src"),
            F.greatest("e", later[0]).alias("dst"),
            "place",
            F.floor(F.col("t") / window_ms).alias("episode"),
            "t",
        )
        .groupBy("src", "dst", "place", "episode")
        .agg(F.min("t").alias("first_ms"), F.max("t").alias("last_ms"))
    )
    return episodes.groupBy("src", "dst").agg(
        F.count("*").alias("weight"),
        F.min("first_ms").alias("first_ms"),
        F.max("last_ms").alias("last_ms"),
        F.countDistinct(F.to_date(F.timestamp_millis("first_ms"))).alias("days"),
        F.countDistinct("place").alias("places"),
    )


# ------------------------------------------------------------------ person risk

#: Person features of the risk model, with the names duty staff read.
RISK_FEATURES = {
    "incidents": "涉事次数",
    "suspect_incidents": "作为嫌疑人涉事",
    "calls": "来电反映次数",
    "places": "涉事网格数",
    "night_share": "夜间涉事占比",
    "co_involved": "共同涉事人员/车辆数",
}


def _risk_span(days: list, horizon: int):
    """(start, cut, end) in epoch ms of the window and its last ``horizon`` days, or why not.

    Features come from ``[start, cut)``, labels from ``[cut, end)``.
    """
    if len(days) <= horizon:
        return f"{len(days)} day(s) in the window; the risk model needs more than {horizon}"
    day_ms = 86_400_000
    start = int(datetime.combine(days[0], datetime.min.time(), DISTRICT_TZ).timestamp() * 1000)
    end = start + len(days) * day_ms
    return start, end - horizon * day_ms, end


def _top_risks(
    features: dict, train: pd.DataFrame, labels, now: pd.DataFrame, top: int
) -> pd.DataFrame:
    """Fit the risk model, score ``now``, keep the ``top`` with their three reasons."""
    from models.risk_model import RiskModel

    model = RiskModel(reason_labels=features).fit(train, labels)
    ranked = (
        now.assign(risk=model.predict_proba(now)[:, 1])
        .sort_values("risk", ascending=False)
        .head(top)
    )
    reasons = model.top_reasons(ranked[list(features)], k=3)
    return ranked.assign(
        reasons=["；".join(f"{name}（+{value:.2f}）" for name, value in r) or "—" for r in reasons]
    )


def _at_night():
    """1.0 for an event between 22:00 and 06:00 (session time zone), else 0.0 (Spark)."""
    from pyspark.sql import functions as F

    hour = F.hour(F.from_unixtime(F.col("event_time_ms") / 1000))
    return F.when((hour >= 22) | (hour < 6), 1.0).otherwise(0.0)


def person_features(people, start_ms: int, end_ms: int):
    """Per person, over ``[start_ms, end_ms)``: what the risk model reads (Spark)."""
    from pyspark.sql import functions as F

    window = people.where((F.col("event_time_ms") >= start_ms) & (F.col("event_time_ms") < end_ms))
    # Per person and incident first (an incident has one cell), then per
    # person: hash aggregations, not one with two distinct counts.
    per_incident = window.groupBy("person_node", "incident_node", "cell_id").agg(
        F.count("*").alias("mentions"),
        F.sum(F.when(F.col("role") == "suspect", 1).otherwise(0)).alias("suspect"),
        F.sum(F.when(F.col("role").isin(*_REPORTER_ROLES), 1).otherwise(0)).alias("calls"),
        F.sum(_at_night()).alias("night"),
    )
    return per_incident.groupBy("person_node").agg(
        F.count("*").alias("incidents"),
        F.sum("suspect").alias("suspect_incidents"),
        F.sum("calls").alias("calls"),
        F.countDistinct("cell_id").alias("places"),
        (F.sum("night") / F.sum("mentions")).alias("night_share"),
    )


def _person_risk(people, projection: pd.DataFrame, days: list, risk: dict):
    """Fit on the window before the horizon, label = a suspect role in the horizon; score now."""
    horizon = int(risk["horizon_days"])
    span = _risk_span(days, horizon)
    if isinstance(span, str):
        return None, span
    start, cut, end = span
    degree = pd.concat([projection["src"], projection["dst"]]).value_counts()

    def frame(lo, hi):
        out = person_features(people, lo, hi).toPandas().set_index("person_node")
        out["co_involved"] = out.index.map(degree).fillna(0).astype(float)
        return out[list(RISK_FEATURES)].astype(float)

    train = frame(start, cut)
    later = people.where((people.event_time_ms >= cut) & (people.role == "suspect"))
    positives = {r[0] for r in later.select("person_node").distinct().collect()}
    labels = train.index.isin(positives).astype(int)
    if labels.sum() < int(risk["min_positives"]):
        return None, (
            f"{int(labels.sum())} person(s) became suspects in the last {horizon} "
            f"day(s); the risk model needs at least {risk['min_positives']}"
        )
    top = _top_risks(RISK_FEATURES, train, labels, frame(start, end), int(risk["top_persons"]))
    return top.reset_index().rename(columns={"person_node": "node_id"}), None


#: Place (cell) features of the risk model, with the names duty staff read.
PLACE_RISK_FEATURES = {
    "incidents": "事件数",
    "persons": "涉事人员数",
    "suspect_mentions": "嫌疑人出现次数",
    "night_share": "夜间事件占比",
    "active_days": "有事件的天数",
}


def _place_risk(events, persons, days: list, risk: dict):
    """Cells: fit on the days before the horizon, label = an incident in it; score now.

    ``events`` are the flat events (cell, category, time, date), ``persons``
    the resolved person mentions (cell, category, time, role, ID token).
    """
    from pyspark.sql import functions as F

    horizon = int(risk["horizon_days"])
    span = _risk_span(days, horizon)
    if isinstance(span, str):
        return None, span
    start, cut, end = span
    incidents = events.where(F.col("category") != PLATE_READ)
    mentions = persons.where(F.col("category") != PLATE_READ)

    def frame(lo, hi):
        def during(frame):
            return frame.where((F.col("event_time_ms") >= lo) & (F.col("event_time_ms") < hi))

        per_cell = (
            during(incidents)
            .groupBy("cell_id")
            .agg(
                F.count("*").alias("incidents"),
                F.avg(_at_night()).alias("night_share"),
                F.countDistinct("event_date").alias("active_days"),
            )
        )
        people = (
            during(mentions)
            .groupBy("cell_id")
            .agg(
                F.countDistinct("id_hash").alias("persons"),
                F.sum(F.when(F.col("role") == "suspect", 1).otherwise(0)).alias("suspect_mentions"),
            )
        )
        out = per_cell.join(people, "cell_id", "left").toPandas().set_index("cell_id")
        return out[list(PLACE_RISK_FEATURES)].fillna(0).astype(float)

    train = frame(start, cut)
    later = {
        r[0]
        for r in incidents.where(F.col("event_time_ms") >= cut)
        .select("cell_id")
        .distinct()
        .collect()
    }
    labels = train.index.isin(later).astype(int)
    if labels.sum() < int(risk["min_positives"]) or labels.sum() == len(labels):
        return None, (
            f"{int(labels.sum())} of {len(labels)} cell(s) saw an incident in the "
            f"last {horizon} day(s); the place risk model needs both outcomes and at "
            f"least {risk['min_positives']} of each"
        )
    top = _top_risks(PLACE_RISK_FEATURES, train, labels, frame(start, end), int(risk["top_places"]))
    return top.reset_index(), None


# ------------------------------------------------------------------ watch list


def _watch_list(
    settings, people, risk, projection, companions, plate_map, end, covered_until_ms, report
):
    """The night's watch list (:mod:`models.watch_list`): key persons' vehicles."""
    from pyspark.sql import functions as F

    config = watch_config(settings)
    suspects = (
        people.where(F.col("role") == "suspect")
        .groupBy("person_node")
        .agg(F.countDistinct("incident_node").alias("n"))
        .toPandas()
    )
    persons = key_persons(
        suspects.set_index("person_node")["n"],
        None if risk is None else risk.set_index("node_id")["risk"],
        min_suspect_incidents=int(config["key_person_min_suspect_incidents"]),
        min_person_risk=float(config["key_person_min_risk"]),
    )
    watch = build_watch_list(
        persons,
        projection,
        companions,
        plate_map,
        min_shared_incidents=int(config["min_shared_incidents"]),
        include_companions=bool(config["include_companions"]),
        as_of=end.isoformat(),
        covered_until_ms=covered_until_ms,
    )
    report.key_persons = len(persons)
    report.watched_vehicles = {
        k: int(v) for k, v in watch["reason"].value_counts().sort_index().items()
    }
    return watch


def _publish_if_latest(settings: Settings, watch: pd.DataFrame, end: date) -> bool:
    """Publish the night's watch list to the stream, unless a later night's is there.

    A re-run for an earlier ``--as-of`` date keeps its list in its snapshot
    only: the stream watches for the latest night's vehicles.
    """
    folder = settings.lake_table("watch_list")
    try:
        published = pq.read_table(folder / WATCH_FILE, columns=["as_of"]).column(0).to_pylist()
    except (OSError, ValueError, KeyError):
        published = []
    if published and max(published) > end.isoformat():
        log.info(
            "graph: a later watch list (as of %s) is published; this night's stays in its snapshot",
            max(published),
        )
        return False
    publish_watch_list(folder, watch)
    return True


# ------------------------------------------------------------------ mining (igraph)


def entity_projection(involved):
    """Persons and vehicles tied by the incidents they share (Spark).

    ``involved`` holds distinct (entity, incident) pairs; the result has one
    row per pair of entities with ``weight`` = the incidents they share. A
    ring acts together again and again, so its members share many incidents,
    where people who met once share one.
    """
    from pyspark.sql import functions as F

    a = involved.select(F.col("src").alias("src"), F.col("dst").alias("incident"))
    b = involved.select(F.col("src").alias("dst"), F.col("dst").alias("incident"))
    return (
        a.join(b, "incident")
        .where(F.col("src") < F.col("dst"))
        .groupBy("src", "dst")
        .agg(F.count("*").alias("weight"))
    )


def build_graph(edges: pd.DataFrame):
    """The undirected graph of ``edges`` (``src``, ``dst``, ``weight``) and its node ids.

    Parallel edges are merged, their weights summed.
    """
    import igraph as ig

    codes, ids = pd.factorize(pd.concat([edges["src"], edges["dst"]], ignore_index=True))
    n = len(edges)
    graph = ig.Graph(
        n=len(ids), edges=np.column_stack([codes[:n], codes[n:]]).tolist(), directed=False
    )
    graph.es["weight"] = edges["weight"].to_numpy(dtype=float).tolist()
    graph.simplify(combine_edges={"weight": "sum"})
    return graph, pd.Index(ids)


def communities(graph, components, min_split_nodes: int) -> np.ndarray:
    """Each node's community: modularity within its own component, one Leiden run.

    Components of fewer than ``min_split_nodes`` nodes are one community
    each. Modularity is taken per component, not over the whole graph:
    modularity's null model over thousands of small components cannot
    resolve groups smaller than about sqrt(2m) edges of the whole graph (the
    resolution limit), so it would return the components themselves.

    One Leiden run over the whole graph optimizes every component's
    modularity at once: with the constant Potts model (CPM), node weights
    ``k_i / sqrt(2 m_C)`` (strength over the root of twice the weight of its
    component C) and resolution 1, the quality of a community is
    ``sum(A_ij - k_i k_j / 2m_C)``, the unnormalized modularity of C. No
    community spans two components (it would only add penalty), so each
    component's part is optimized on its own. Small components get node
    weight 0: no penalty, so each stays whole. One run costs about what
    igraph's Leiden over the whole graph costs; one run per component cost
    3x that, in building the subgraphs. Communities are numbered
    0.. in order of their first node.
    """
    component = np.asarray(components.membership, dtype=np.int64)
    if not len(component):
        return component
    strength = np.asarray(graph.strength(weights="weight"), dtype=float)
    twice_m = np.bincount(component, weights=strength)
    size = np.bincount(component)
    split = size[component] >= min_split_nodes
    node_weights = np.zeros(len(component))
    node_weights[split] = strength[split] / np.sqrt(twice_m[component[split]])
    # Leiden's own default of two iterations: on a 1M-event night, iterating
    # until nothing moves took 5x as long for 0.7 % more modularity.
    found = graph.community_leiden(
        objective_function="CPM",
        weights="weight",
        resolution=1.0,
        node_weights=node_weights.tolist(),
        n_iterations=2,
    )
    label = np.asarray(found.membership, dtype=np.int64)
    _, first, inverse = np.unique(label, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse]


def _mine(edges: pd.DataFrame, max_betweenness_nodes: int, min_split_nodes: int = 10):
    """Components, Leiden communities, PageRank and in-community betweenness."""
    graph, ids = build_graph(edges)
    components = graph.connected_components()
    random.seed(0)  # igraph draws from Python's random module: reproducible nights
    membership = communities(graph, components, min_split_nodes)
    pagerank = graph.pagerank(weights="weight")
    betweenness = np.zeros(graph.vcount())
    order = np.argsort(membership, kind="stable")
    sizes = np.bincount(membership) if len(membership) else np.zeros(0, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    for c in np.flatnonzero((sizes > 2) & (sizes <= max_betweenness_nodes)):
        members = order[starts[c] : starts[c + 1]]
        betweenness[members] = graph.induced_subgraph(members).betweenness(directed=False)
    component = np.asarray(components.membership)
    component_sizes = np.bincount(component) if len(component) else np.zeros(0, dtype=np.int64)
    metrics = pd.DataFrame(
        {
            "node_id": ids,
            "component": component,
            "community": membership,
            "pagerank": pagerank,
            "betweenness": betweenness,
            "degree": graph.degree(),
            "component_size": component_sizes[component] if len(component) else component,
            "kind": pd.Series(ids, dtype=object).str.split(":", n=1, regex=False).str[0],
        }
    )
    return (
        metrics,
        len(components),
        int(component_sizes.max()) if len(component) else 0,
        len(sizes),
    )


# ------------------------------------------------------------------ run


def run(settings: Settings, as_of: str | None = None) -> GraphReport:
    """Build, mine and store one night's graph; :class:`NoGraphData` if nothing is valid."""
    import time

    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from pipelines.io.serving_store import check_postgres, write_serving_table
    from pipelines.io.spark import Exchange, spark_session

    config = graph_config(settings)
    er = config["er"]
    table = settings.lake_table("normalized")
    end, days = _window(table, as_of, int(config["lookback_days"]))
    files, corrupt = readable_event_files(table, days)
    if not files:
        raise NoGraphData(
            f"no readable event files in the {len(days)} day(s) up to {end}"
            + (f" ({len(corrupt)} unreadable)" if corrupt else "")
        )
    check_postgres(settings)
    clock, seconds = time.monotonic(), {}

    def lap(stage):
        nonlocal clock
        now = time.monotonic()
        seconds[stage] = round(now - clock, 2)
        clock = now

    spark = spark_session(settings, "zongzhi-graph")
    exchange = Exchange(spark, settings.var / "tmp" / "graph-exchange")
    try:
        # Spark's cache is built uncompressed and kept on local disk (the page
        # cache holds it): compressing took as long as reading the Parquet
        # again, and a cache in the heap left a 10M-event night's
        # aggregations without memory.
        spark.conf.set("spark.sql.inMemoryColumnarStorage.compressed", "false")
        # A co-presence window holds a place's reads in memory up to this
        # many (Spark's default, 4,096, spills a busy site's to disk).
        spark.conf.set("spark.sql.windowExec.buffer.in.memory.threshold", str(1 << 20))
        keep = StorageLevel.DISK_ONLY
        # The nested events are read once per kind of entry for entity
        # resolution and once to build the resolved mentions (Parquet prunes
        # the other kind); only flat frames are cached.
        source = (
            spark.read.option("mergeSchema", "true").option("basePath", str(table)).parquet(*files)
        )
        events = source.select(
            "event_id",
            "event_time_ms",
            "event_date",
            "cell_id",
            "source",
            "category",
            "village_code",
            "persons",
            "vehicles",
            F.get_json_object("attributes_json", "$.site_id").alias("site_id"),
        )
        flat_events = source.select("event_time_ms", "event_date", "cell_id", "category").persist(
            keep
        )
        totals = flat_events.agg(
            F.count("*").alias("n"), F.max("event_time_ms").alias("latest")
        ).first()
        report = GraphReport(
            as_of=end.isoformat(), days=[d.isoformat() for d in days], events=int(totals["n"])
        )
        covered_until_ms = int(totals["latest"])
        report.skipped["unreadable_files"] = corrupt
        lap("extract")

        person_map = _resolve_persons(person_mentions(events), er, exchange)
        plate_map = _resolve_plates(vehicle_mentions(events), er, exchange)
        report.person_mentions = int(person_map["mentions"].sum())
        report.vehicle_mentions = int(plate_map["reads"].sum())
        lap("entity_resolution")
        joined = person_map[~person_map["evidence"].isin(["id", "new", "no_identifier"])]
        report.person_mentions_joined_without_id = int(joined["mentions"].sum())
        report.persons = int(person_map["person_id"].nunique())
        report.contradictory_persons = int(
            person_map.loc[person_map["contradictory"], "person_id"].nunique()
        )
        report.plates = len(plate_map)
        report.vehicles = int(plate_map["vehicle_id"].nunique())
        report.plates_joined = {
            k: int(v) for k, v in plate_map["evidence"].value_counts().sort_index().items()
        }
        report.skipped["person_mentions_without_identifier"] = int(
            person_map.loc[person_map["evidence"] == "no_identifier", "mentions"].sum()
        )
        report.skipped["unreadable_plate_reads"] = int(
            plate_map.loc[plate_map["evidence"] == "unreadable", "reads"].sum()
        )

        pm = F.broadcast(
            exchange.to_spark(person_map[["profile_key", "person_id"]].dropna(subset=["person_id"]))
        )
        vm = F.broadcast(
            exchange.to_spark(plate_map[["plate_hash", "vehicle_id"]].dropna(subset=["vehicle_id"]))
        )
        incident_node = F.concat(F.lit("incident:"), F.col("event_id")).alias("incident_node")
        # The resolved mentions, with what the graph, the risk models and the
        # watch list read of them.
        people = (
            person_mentions(events)
            .join(pm, "profile_key")
            .select(
                incident_node,
                "event_time_ms",
                "event_date",
                "cell_id",
                "category",
                "role",
                "id_hash",
                F.concat(F.lit("person:"), "person_id").alias("person_node"),
            )
            .persist(keep)
        )
        cars = (
            vehicle_mentions(events)
            .join(vm, "plate_hash")
            .select(
                incident_node,
                "event_time_ms",
                "event_date",
                "cell_id",
                "category",
                "role",
                "site_id",
                F.concat(F.lit("vehicle:"), "vehicle_id").alias("vehicle_node"),
            )
            .persist(keep)
        )
        reads = cars.where(F.col("category") == PLATE_READ).withColumn(
            "site_node", F.concat(F.lit("place:site:"), "site_id")
        )
        involved_cars = cars.where(F.col("category") != PLATE_READ)
        window_ms = int(config["co_presence_seconds"]) * 1000

        edges = (
            _aggregate_edges(
                people.where(~F.col("role").isin(*_REPORTER_ROLES)),
                "person_node",
                "incident_node",
                "involved_in",
                one_event=True,
            )
            .unionByName(
                _aggregate_edges(
                    people.where(F.col("role").isin(*_REPORTER_ROLES)),
                    "incident_node",
                    "person_node",
                    "reported_by",
                    one_event=True,
                )
            )
            .unionByName(
                _aggregate_edges(
                    involved_cars, "vehicle_node", "incident_node", "involved_in", one_event=True
                )
            )
            .unionByName(_aggregate_edges(reads, "vehicle_node", "site_node", "seen_at"))
        )
        # An incident occurred at its cell: one edge per incident, no aggregation.
        incidents = (
            people.select("incident_node", "cell_id", "event_time_ms")
            .unionByName(involved_cars.select("incident_node", "cell_id", "event_time_ms"))
            .distinct()
        )  # an incident has one cell and one time
        edges = edges.unionByName(
            incidents.select(
                F.col("incident_node").alias("src"),
                F.concat(F.lit("place:cell:"), "cell_id").alias("dst"),
                F.lit("occurred_at").alias("type"),
                F.lit("").alias("role"),
                F.lit(1).cast("long").alias("weight"),
                F.col("event_time_ms").alias("first_ms"),
                F.col("event_time_ms").alias("last_ms"),
                F.lit(1).cast("long").alias("days"),
            )
        )
        # Places by their plain ids: the pairs keep only how many there were.
        vehicle_pairs = _co_presence(reads, "vehicle_node", "site_id", window_ms).persist(keep)
        person_pairs = _co_presence(people, "person_node", "cell_id", window_ms)
        co_present = (
            vehicle_pairs.drop("places")
            .unionByName(person_pairs.drop("places"))
            .withColumn("type", F.lit("co_present"))
            .withColumn("role", F.lit(""))
        )
        edges = edges.unionByName(co_present.select(*edges.columns)).persist(keep)
        report.edges = {
            r["type"]: int(r["count"])
            for r in edges.groupBy("type").count().orderBy("type").collect()
        }
        lap("graph")

        # Companion vehicles: observed episodes against chance, for the pairs
        # that met often enough to be one; Bonferroni counts every pair that met.
        rules = config["companions"]
        tested = vehicle_pairs.count()
        pairs = exchange.to_pandas(
            vehicle_pairs.where(
                (F.col("weight") >= int(rules["min_co_occurrences"]))
                & (F.col("days") >= int(rules["min_days"]))
            ).select(
                F.col("src").alias("vehicle_a"),
                F.col("dst").alias("vehicle_b"),
                F.col("weight").alias("co_occurrences"),
                "days",
                "places",
                "first_ms",
                "last_ms",
            )
        )
        site_reads = exchange.to_pandas(
            reads.groupBy(
                F.col("vehicle_node").alias("vehicle"), F.col("site_node").alias("site")
            ).agg(F.count("*").alias("reads"))
        )
        pairs["expected"] = expected_for_pairs(
            pairs["vehicle_a"],
            pairs["vehicle_b"],
            site_reads,
            window_s=window_ms / 1000,
            span_s=len(days) * 86400.0,
        )
        companions = companion_pairs(
            pairs,
            alpha=float(rules["alpha"]),
            min_co_occurrences=int(rules["min_co_occurrences"]),
            min_days=int(rules["min_days"]),
            tested=tested,
        )
        report.co_occurring_vehicle_pairs = tested
        report.companion_candidates = len(companions)
        report.companion_pairs = int(companions["companion"].sum())
        lap("companions")

        # Nodes, with their kind; the mining graph.
        nodes = (
            edges.select(F.col("src").alias("node_id"))
            .union(edges.select(F.col("dst").alias("node_id")))
            .distinct()
            .withColumn("kind", F.split("node_id", ":").getItem(0))
        ).persist(keep)
        report.nodes = {
            r["kind"]: int(r["count"])
            for r in nodes.groupBy("kind").count().orderBy("kind").collect()
        }
        involved = (
            edges.where(F.col("type") == "involved_in")
            .select("src", "dst")
            .distinct()
            .persist(keep)
        )
        projection = exchange.to_pandas(entity_projection(involved))
        ties = (
            companions.loc[companions["companion"], ["vehicle_a", "vehicle_b"]]
            .set_axis(["src", "dst"], axis=1)
            .assign(weight=1)
        )
        mining_edges = pd.concat([projection, ties], ignore_index=True)
        metrics, report.components, report.largest_component, report.communities = _mine(
            mining_edges,
            int(config["betweenness_max_nodes"]),
            int(config["community_min_split_nodes"]),
        )
        # Incidents of each community: those its members were involved in.
        membership = F.broadcast(
            exchange.to_spark(metrics[["node_id", "community"]].astype({"community": "int64"}))
        )
        member_incidents = pd.Series(
            dict(
                involved.join(membership, involved.src == membership.node_id)
                .groupBy("community")
                .agg(F.countDistinct("dst").alias("n"))
                .collect()
            )
        )
        metrics["community_incidents"] = (
            metrics["community"].map(member_incidents).fillna(0).astype(int)
        )
        predicted = predict_links(mining_edges, top=int(config["predicted_links"]))
        report.predicted_links = len(predicted)
        lap("mining")

        risk, report.risk_skipped = _person_risk(people, projection, days, config["risk"])
        report.risk_scored_persons = 0 if risk is None else len(risk)
        place_risk, report.place_risk_skipped = _place_risk(
            flat_events, people, days, config["risk"]
        )
        report.risk_scored_places = 0 if place_risk is None else len(place_risk)
        watch = _watch_list(
            settings, people, risk, projection, companions, plate_map, end, covered_until_ms, report
        )
        lap("risk")

        snapshot = settings.lake_table("graph") / f"as_of={end.isoformat()}"
        previous = settings.lake_table("graph") / f"as_of={(end - timedelta(days=1)).isoformat()}"
        tmp = snapshot.with_name(snapshot.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        edges.write.parquet(str(tmp / "edges"))
        nodes.write.parquet(str(tmp / "nodes"))
        entities = pd.concat(
            [
                person_map.assign(
                    kind="person", key=person_map["profile_key"], entity_id=person_map["person_id"]
                )[["kind", "key", "entity_id", "evidence", "confidence", "contradictory"]],
                plate_map.assign(
                    kind="vehicle",
                    key=plate_map["plate_hash"],
                    entity_id=plate_map["vehicle_id"],
                    contradictory=False,
                )[["kind", "key", "entity_id", "evidence", "confidence", "contradictory"]],
            ],
            ignore_index=True,
        )
        entities.to_parquet(tmp / "entities.parquet", index=False)
        companions.to_parquet(tmp / "companions.parquet", index=False)
        metrics.to_parquet(tmp / "metrics.parquet", index=False)
        new_links = None
        if (previous / "edges").exists():
            before = spark.read.parquet(str(previous / "edges")).select("src", "dst", "type")
            # A link is new because its first event happened on the night
            # ("observed"), or because tonight's entity resolution tied older
            # events to an entity they were not tied to yesterday ("resolved").
            night_start_ms = int(
                datetime.combine(end, datetime.min.time(), DISTRICT_TZ).timestamp() * 1000
            )
            new_links = edges.join(before, ["src", "dst", "type"], "left_anti").withColumn(
                "reason",
                F.when(F.col("first_ms") >= night_start_ms, F.lit("observed")).otherwise(
                    F.lit("resolved")
                ),
            )
            new_links.write.parquet(str(tmp / "new_links"))
            report.new_links = new_links.count()
            report.new_links_by_reason = {
                r["reason"]: int(r["count"]) for r in new_links.groupBy("reason").count().collect()
            }
        shutil.rmtree(snapshot, ignore_errors=True)
        tmp.rename(snapshot)
        lap("lake")

        if risk is not None:
            risk.to_parquet(snapshot / "person_risk.parquet", index=False)
        if place_risk is not None:
            place_risk.to_parquet(snapshot / "place_risk.parquet", index=False)
        predicted.to_parquet(snapshot / "predicted_links.parquet", index=False)
        watch.to_parquet(snapshot / "watch_list.parquet", index=False)
        report.watch_list_published = _publish_if_latest(settings, watch, end)
        _serve(
            exchange,
            settings,
            config,
            metrics,
            companions,
            edges,
            new_links,
            end,
            risk,
            predicted,
            place_risk,
            watch,
            write_serving_table,
        )
        lap("postgres")
        report.seconds = seconds
        return report
    finally:
        exchange.close()
        spark.stop()


# ------------------------------------------------------------------ serving

_KIND_LABELS = {"person": "人员", "vehicle": "车辆", "incident": "事件", "place": "地点"}


# The kind of value a column holds, from PostgreSQL's name for its type
# (information_schema) and from Spark's (``DataType.simpleString``); a table
# whose columns hold another kind than tonight's frame cannot take its rows.
_PG_KINDS = {
    "text": "text",
    "character varying": "text",
    "character": "text",
    "smallint": "integer",
    "integer": "integer",
    "bigint": "integer",
    "real": "real",
    "double precision": "real",
    "numeric": "real",
    "boolean": "boolean",
    "date": "date",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamp",
    "ARRAY": "array",
    "bytea": "binary",
}
_SPARK_KINDS = {
    "string": "text",
    "tinyint": "integer",
    "smallint": "integer",
    "int": "integer",
    "bigint": "integer",
    "float": "real",
    "double": "real",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "timestamp_ntz": "timestamp",
    "binary": "binary",
}


def _spark_kind(simple: str) -> str | None:
    if simple.startswith("array<"):
        return "array"
    if simple.startswith("decimal"):
        return "real"
    return _SPARK_KINDS.get(simple)


def serving_shape_changed(existing: list[tuple[str, str]], wanted: list[tuple[str, str]]) -> bool:
    """Whether a serving table's columns cannot take a frame's rows.

    ``existing`` is the table's (name, PostgreSQL type) in order, empty when
    there is no table; ``wanted`` the frame's (name, Spark type). Names must
    match in order, and each column must hold the same kind of value: text,
    integer, real, boolean, date, timestamp or array. A type either side
    does not know is taken as matching.

    >>> serving_shape_changed([("as_of", "text"), ("n", "bigint")], [("as_of", "string"), ("n", "int")])
    False
    >>> serving_shape_changed([("as_of", "integer")], [("as_of", "string")])
    True
    >>> serving_shape_changed([], [("as_of", "string")])
    False
    """
    if not existing:
        return False
    if [name for name, _ in existing] != [name for name, _ in wanted]:
        return True
    for (_, pg_type), (_, spark_type) in zip(existing, wanted):
        had, wants = _PG_KINDS.get(pg_type), _spark_kind(spark_type)
        if had and wants and had != wants:
            return True
    return False


def _drop_if_reshaped(settings: Settings, table: str, frame) -> None:
    """Drop a serving table that cannot take ``frame``'s rows, so that it is made anew.

    Rows are replaced each night by truncating (views and Superset datasets
    keep pointing at the table); a table from an older release with other
    columns, or other kinds of value in them, is replaced instead.
    """
    import psycopg2

    schema = settings.pg["schema"]
    wanted = [(f.name, f.dataType.simpleString()) for f in frame.schema.fields]
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema, table),
        )
        if serving_shape_changed(cur.fetchall(), wanted):
            log.info("graph: serving table %s.%s changed shape; recreating it", schema, table)
            cur.execute(f'DROP TABLE "{schema}"."{table}"')
    conn.close()


def _empty(settings: Settings, table: str) -> None:
    """Delete the rows of a serving table, if it exists (an older night's are stale)."""
    import psycopg2

    schema = settings.pg["schema"]
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", (f'"{schema}"."{table}"',))
        if cur.fetchone()[0] is not None:
            cur.execute(f'DELETE FROM "{schema}"."{table}"')
    conn.close()


def _serve(
    exchange,
    settings,
    config,
    metrics,
    companions,
    edges,
    new_links,
    end,
    risk,
    predicted,
    place_risk,
    watch,
    write,
):
    from pyspark.sql import functions as F

    def reshaping_write(frame, settings, table):
        _drop_if_reshaped(settings, table, frame)
        write(frame, settings, table)

    top = int(config["key_entities_per_kind"])
    keyed = metrics[metrics["kind"].isin(["person", "vehicle"])].copy()
    keyed["rank_in_kind"] = keyed.groupby("kind")["pagerank"].rank(ascending=False, method="first")
    community_sizes = metrics.groupby("community").size()
    ties = pd.concat(
        [
            companions.loc[companions["companion"], "vehicle_a"],
            companions.loc[companions["companion"], "vehicle_b"],
        ]
    ).value_counts()
    keyed["companions"] = keyed["node_id"].map(ties).fillna(0).astype(int)
    keyed = keyed[keyed["rank_in_kind"] <= top]
    keyed["reasons"] = [
        f"PageRank 第{int(r.rank_in_kind)}；与 {r.degree} 个人员或车辆共同涉事；社群 {r.community}"
        f"（{int(community_sizes[r.community])} 个成员）"
        + (f"；同行车辆 {r.companions} 对" if r.companions else "")
        for r in keyed.itertuples()
    ]
    key_entities = keyed.assign(kind_label=keyed["kind"].map(_KIND_LABELS), as_of=end.isoformat())[
        [
            "as_of",
            "node_id",
            "kind",
            "kind_label",
            "pagerank",
            "betweenness",
            "degree",
            "community",
            "component_size",
            "companions",
            "rank_in_kind",
            "reasons",
        ]
    ]
    communities = (
        metrics.groupby("community")
        .agg(
            members=("node_id", "size"),
            persons=("kind", lambda k: int((k == "person").sum())),
            vehicles=("kind", lambda k: int((k == "vehicle").sum())),
            incidents=("community_incidents", "first"),
            top_member=("node_id", "first"),
        )
        .reset_index()
        .assign(as_of=end.isoformat())
    )
    communities = communities[communities["persons"] + communities["vehicles"] >= 2]
    serving_companions = companions.assign(as_of=end.isoformat())[
        [
            "as_of",
            "vehicle_a",
            "vehicle_b",
            "co_occurrences",
            "days",
            "places",
            "expected",
            "p_value",
            "lift",
            "companion",
        ]
    ]
    for frame, name in (
        (key_entities, "graph_key_entities"),
        (communities, "graph_communities"),
        (serving_companions, "graph_companions"),
    ):
        reshaping_write(
            exchange.to_spark(
                frame.astype({c: "float64" for c in frame.columns if frame[c].dtype == "float32"})
            ),
            settings,
            name,
        )
    if len(predicted):
        links = predicted.assign(
            as_of=end.isoformat(),
            reasons=[f"共同关联 {n} 个人员或车辆，尚无直接关联" for n in predicted["shared"]],
        )
        reshaping_write(
            exchange.to_spark(links[["as_of", "src", "dst", "score", "shared", "reasons"]]),
            settings,
            "graph_predicted_links",
        )
    else:
        _empty(settings, "graph_predicted_links")
    if place_risk is not None:
        serving_places = place_risk.assign(as_of=end.isoformat())[
            ["as_of", "cell_id", "risk", *PLACE_RISK_FEATURES, "reasons"]
        ]
        reshaping_write(exchange.to_spark(serving_places), settings, "graph_place_risk")
    if risk is not None:
        serving_risk = risk.assign(as_of=end.isoformat())[
            ["as_of", "node_id", "risk", *RISK_FEATURES, "reasons"]
        ]
        reshaping_write(exchange.to_spark(serving_risk), settings, "graph_person_risk")
    # The network chart: edges among the key entities and their incidents.
    keys = exchange.to_spark(key_entities[["node_id"]])
    network = (
        edges.where(F.col("type").isin("involved_in", "co_present"))
        .join(F.broadcast(keys.withColumnRenamed("node_id", "src")), "src")
        .select("src", "dst", "type", "weight")
        .withColumn("as_of", F.lit(end.isoformat()))
    )
    reshaping_write(network, settings, "graph_network_edges")
    if len(watch):
        listed = watch.assign(
            persons=watch["persons"].map(lambda p: "，".join(p)),
            plates=watch["plate_hashes"].map(len),
        )[["as_of", "vehicle_node", "reason", "reason_label", "detail", "persons", "plates"]]
        reshaping_write(exchange.to_spark(listed), settings, "graph_watch_list")
    else:
        _empty(settings, "graph_watch_list")
    if new_links is not None:
        reshaping_write(
            new_links.withColumn("as_of", F.lit(end.isoformat())), settings, "graph_new_links"
        )
    else:
        _empty(settings, "graph_new_links")  # no night before: nothing is "new" yet


def report_dict(report: GraphReport) -> dict:
    return asdict(report)
