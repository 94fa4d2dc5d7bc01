"""Load: the night's graph into PostgreSQL's serving tables.

The tables are ``graph_key_entities``, ``graph_communities``,
``graph_companions``, ``graph_predicted_links``, ``graph_place_risk``,
``graph_person_risk``, ``graph_network_edges``, ``graph_watch_list`` and
``graph_new_links`` (rows: :mod:`jobs.graph.serving_frames`). Each night's
rows replace the last night's atomically, under the same table names, so
views and Superset datasets keep pointing at them
(:func:`pipelines.io.serving_store.write_serving_table`); a table that
cannot take the night's rows (:func:`serving_shape_changed`) is replaced by
one made from them, and a table with nothing for the night is emptied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from jobs.graph.serving_frames import (
    communities_frame,
    companions_frame,
    key_entities_frame,
    person_risk_frame,
    place_risk_frame,
    predicted_links_frame,
    watch_list_frame,
    without_float32,
)
from pipelines.settings import Settings

__all__ = [
    "GraphNight",
    "serving_shape_changed",
    "serving_table_reshaped",
    "empty_serving_table",
    "serve",
]

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class GraphNight:
    """What one night of the graph job serves: its date and its tables.

    Attributes
    ----------
    as_of : datetime.date
        The night.
    metrics : pandas.DataFrame
        Per node: mining metrics and ``community_incidents``.
    companions : pandas.DataFrame
        The scored companion candidate pairs.
    edges : pyspark.sql.DataFrame
        The night's edges.
    new_links : pyspark.sql.DataFrame or None
        The edges new since the night before; None without a night before.
    person_risk, place_risk : pandas.DataFrame or None
        The scored persons and cells; None when the model was skipped.
    predicted_links : pandas.DataFrame
        The likely ties (possibly none).
    watch_list : pandas.DataFrame
        The watched vehicles (possibly none).
    """

    as_of: date
    metrics: pd.DataFrame
    companions: pd.DataFrame
    edges: Any
    new_links: Any | None
    person_risk: pd.DataFrame | None
    place_risk: pd.DataFrame | None
    predicted_links: pd.DataFrame
    watch_list: pd.DataFrame


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


def serving_table_reshaped(settings: Settings, table: str, frame) -> bool:
    """Whether a serving table cannot take ``frame``'s rows, so that it is made anew.

    A table from an older release with other columns, or other kinds of
    value in them, is replaced by one made from the frame.
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
        reshaped = serving_shape_changed(cur.fetchall(), wanted)
    conn.close()
    if reshaped:
        log.info("graph: serving table %s.%s changed shape; recreating it", schema, table)
    return reshaped


def empty_serving_table(settings: Settings, table: str) -> None:
    """Delete the rows of a serving table, if it exists (an older night's are stale)."""
    import psycopg2

    schema = settings.pg["schema"]
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", (f'"{schema}"."{table}"',))
        if cur.fetchone()[0] is not None:
            cur.execute(f'DELETE FROM "{schema}"."{table}"')
    conn.close()


def serve(
    night: GraphNight,
    *,
    settings: Settings,
    exchange,
    key_entities_per_kind: int,
    write: Callable,
) -> None:
    """Replace the serving tables' rows with the night's.

    ``write(frame, settings, table, keep_shape=...)`` writes a Spark frame to a table
    (:func:`pipelines.io.serving_store.write_serving_table`); ``exchange``
    moves pandas frames to Spark (:class:`pipelines.io.spark.Exchange`).
    """
    from pyspark.sql import functions as F

    def reshaping_write(frame, settings, table):
        write(frame, settings, table, keep_shape=not serving_table_reshaped(settings, table, frame))

    as_of = night.as_of.isoformat()
    key_entities = key_entities_frame(
        night.metrics, night.companions, int(key_entities_per_kind), as_of
    )
    communities = communities_frame(night.metrics, as_of)
    serving_companions = companions_frame(night.companions, as_of)
    for frame, name in (
        (key_entities, "graph_key_entities"),
        (communities, "graph_communities"),
        (serving_companions, "graph_companions"),
    ):
        reshaping_write(exchange.to_spark(without_float32(frame)), settings, name)
    if len(night.predicted_links):
        links = predicted_links_frame(night.predicted_links, as_of)
        reshaping_write(exchange.to_spark(links), settings, "graph_predicted_links")
    else:
        empty_serving_table(settings, "graph_predicted_links")
    if night.place_risk is not None:
        places = place_risk_frame(night.place_risk, as_of)
        reshaping_write(exchange.to_spark(places), settings, "graph_place_risk")
    if night.person_risk is not None:
        persons = person_risk_frame(night.person_risk, as_of)
        reshaping_write(exchange.to_spark(persons), settings, "graph_person_risk")
    # The network chart: edges among the key entities and their incidents.
    keys = exchange.to_spark(key_entities[["node_id"]])
    network = (
        night.edges.where(F.col("type").isin("involved_in", "co_present"))
        .join(F.broadcast(keys.withColumnRenamed("node_id", "src")), "src")
        .select("src", "dst", "type", "weight")
        .withColumn("as_of", F.lit(as_of))
    )
    reshaping_write(network, settings, "graph_network_edges")
    if len(night.watch_list):
        listed = watch_list_frame(night.watch_list)
        reshaping_write(exchange.to_spark(listed), settings, "graph_watch_list")
    else:
        empty_serving_table(settings, "graph_watch_list")
    if night.new_links is not None:
        reshaping_write(
            night.new_links.withColumn("as_of", F.lit(as_of)), settings, "graph_new_links"
        )
    else:
        empty_serving_table(settings, "graph_new_links")  # no night before: nothing is "new" yet
