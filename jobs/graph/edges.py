"""The night's typed graph in Spark: nodes and time-stamped, weighted edges.

Nodes are typed by their id's prefix (person, vehicle, place, incident).
Edges, aggregated per (source, target, type, role), each with ``weight``,
``first_ms``, ``last_ms`` and ``days``:

``involved_in``
    a person (not the caller) or a vehicle to the incident it was part of;
``reported_by``
    an incident to the hotline caller who reported it;
``occurred_at``
    an incident to its cell;
``seen_at``
    a vehicle to the LPR site that read its plate;
``co_present``
    two vehicles read at one site, or two persons at incidents in one
    cell, within the co-presence window (:func:`co_presence`).
"""

from __future__ import annotations

from features.taxonomy import PLATE_READ

__all__ = [
    "REPORTER_ROLES",
    "aggregate_edges",
    "co_presence",
    "build_edges",
    "graph_nodes",
    "involved_pairs",
    "entity_projection",
    "counts_by",
]

#: Roles of a person who reported an incident rather than took part in it.
REPORTER_ROLES = ("caller",)


def aggregate_edges(frame, src, dst, kind: str, one_event: bool = False):
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


def co_presence(frame, entity: str, place: str, window_ms: int):
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


def build_edges(people, cars, window_ms: int, keep):
    """Every edge of the night from the resolved mentions, persisted at ``keep`` (Spark).

    ``people`` and ``cars`` are :func:`jobs.graph.resolution.resolved_mentions`.
    Returns ``(edges, reads, vehicle_pairs)``: the edges, the plate reads
    (vehicle mentions of plate-read events, with their ``site_node``) and
    the vehicle co-presence pairs with their ``places`` (persisted too),
    which the companion test reads.
    """
    from pyspark.sql import functions as F

    reads = cars.where(F.col("category") == PLATE_READ).withColumn(
        "site_node", F.concat(F.lit("place:site:"), "site_id")
    )
    involved_cars = cars.where(F.col("category") != PLATE_READ)
    edges = (
        aggregate_edges(
            people.where(~F.col("role").isin(*REPORTER_ROLES)),
            "person_node",
            "incident_node",
            "involved_in",
            one_event=True,
        )
        .unionByName(
            aggregate_edges(
                people.where(F.col("role").isin(*REPORTER_ROLES)),
                "incident_node",
                "person_node",
                "reported_by",
                one_event=True,
            )
        )
        .unionByName(
            aggregate_edges(
                involved_cars, "vehicle_node", "incident_node", "involved_in", one_event=True
            )
        )
        .unionByName(aggregate_edges(reads, "vehicle_node", "site_node", "seen_at"))
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
    vehicle_pairs = co_presence(reads, "vehicle_node", "site_id", window_ms).persist(keep)
    person_pairs = co_presence(people, "person_node", "cell_id", window_ms)
    co_present = (
        vehicle_pairs.drop("places")
        .unionByName(person_pairs.drop("places"))
        .withColumn("type", F.lit("co_present"))
        .withColumn("role", F.lit(""))
    )
    edges = edges.unionByName(co_present.select(*edges.columns)).persist(keep)
    return edges, reads, vehicle_pairs


def graph_nodes(edges):
    """Every end of an edge, once, with its ``kind`` (the id's prefix) (Spark)."""
    from pyspark.sql import functions as F

    return (
        edges.select(F.col("src").alias("node_id"))
        .union(edges.select(F.col("dst").alias("node_id")))
        .distinct()
        .withColumn("kind", F.split("node_id", ":").getItem(0))
    )


def involved_pairs(edges):
    """The distinct (entity, incident) pairs of the ``involved_in`` edges, as ``src``, ``dst``."""
    from pyspark.sql import functions as F

    return edges.where(F.col("type") == "involved_in").select("src", "dst").distinct()


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


def counts_by(frame, column: str) -> dict:
    """Rows per value of ``column``, in the value's order (Spark)."""
    return {
        r[column]: int(r["count"]) for r in frame.groupBy(column).count().orderBy(column).collect()
    }
