"""Tokens of older key versions mapped to the current version, before entity resolution.

After ``zongzhi keys rotate`` the lake holds a person's tokens of an older
key version in the events before the rotation and of the current version
after it. The rotation table (:mod:`pipelines.io.rotation_table`) links
each old token the lake held to its current token; :func:`to_current_tokens`
rewrites every token field of the events' ``persons`` and ``vehicles``
through it, so that the person seen before and after the rotation is one
node. Tokens of before versions existed (``pid_<hex>``) are version 1 and
are respelled ``pid_v1_<hex>`` without a table. The job needs no key.

An old token that the table does not hold (a record normalized with the
old key that reached the lake after the table was written) stays as it is;
``zongzhi keys rotate --to-version <current>`` links it.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.io.rotation_table import current_rotation_table
from pipelines.settings import Settings

__all__ = [
    "PERSON_TOKEN_FIELDS",
    "VEHICLE_TOKEN_FIELDS",
    "node_ids_to_current",
    "rotation_frame",
    "to_current_tokens",
]

#: Token fields of a lake person entry: single tokens, then token lists.
PERSON_TOKEN_FIELDS = (
    ("id_hash", "phone_hash", "name_hash", "name_sound_hash"),
    ("phone_deletion_hashes",),
)
#: Token fields of a lake vehicle entry: single tokens, then token lists.
VEHICLE_TOKEN_FIELDS = (
    ("plate_hash", "plate_fold_hash", "plate_tail_hash"),
    ("plate_deletion_hashes",),
)
_UNVERSIONED = r"^(pid|tel|veh|nam|pk)_([0-9a-f]{24})$"


def _respell(column):
    from pyspark.sql import functions as F

    return F.regexp_replace(column, _UNVERSIONED, "$1_v1_$2")


def _mapped(column, mapping):
    """``column`` respelled and, where ``mapping`` holds it, replaced by its current token."""
    from pyspark.sql import functions as F

    token = _respell(column)
    if mapping is None:
        return token
    return F.when(token.isNull(), token).otherwise(
        F.coalesce(F.try_element_at(mapping, token), token)
    )


def _entries(entries, fields, mapping):
    """The array of structs ``entries`` with each token field mapped."""
    from pyspark.sql import functions as F

    singles, lists = fields

    def entry(e):
        for name in singles:
            e = e.withField(name, _mapped(e[name], mapping))
        for name in lists:
            e = e.withField(name, F.transform(e[name], lambda t: _mapped(t, mapping)))
        return e

    return F.transform(entries, entry)


def _field(name):
    # Spark tells transform's element-only form by the function's one parameter.
    def get(entry):
        return entry[name]

    return get


def _all_tokens(entries, fields):
    from pyspark.sql import functions as F

    singles, lists = fields
    parts = [F.transform(entries, _field(n)) for n in singles]
    parts += [F.flatten(F.transform(entries, _field(n))) for n in lists]
    return F.concat(*(F.coalesce(p, F.array().cast("array<string>")) for p in parts))


def rotation_frame(spark, path: Path):
    """The rotation table as a Spark frame of ``old_token``, ``new_token``."""
    return spark.read.parquet(str(path)).select("old_token", "new_token")


def to_current_tokens(spark, events, settings: Settings):
    """``events`` (as :func:`jobs.graph.extract.read_events` gives them) with current tokens.

    Returns ``(events, version)``: the frame, and the version of the
    rotation table applied (None when there is none; tokens of before
    versions are respelled all the same).
    """
    from pyspark.sql import functions as F

    table = current_rotation_table(settings)
    if table is None:
        return (
            events.withColumn(
                "persons", _entries(F.col("persons"), PERSON_TOKEN_FIELDS, None)
            ).withColumn("vehicles", _entries(F.col("vehicles"), VEHICLE_TOKEN_FIELDS, None)),
            None,
        )
    version, path = table
    rotation = rotation_frame(spark, path)
    tokens = events.select(
        "event_id",
        F.explode(
            F.array_distinct(
                F.concat(
                    _all_tokens(F.col("persons"), PERSON_TOKEN_FIELDS),
                    _all_tokens(F.col("vehicles"), VEHICLE_TOKEN_FIELDS),
                )
            )
        ).alias("token"),
    ).where(F.col("token").isNotNull())
    tokens = tokens.select("event_id", _respell(F.col("token")).alias("old_token")).distinct()
    maps = (
        tokens.join(rotation, "old_token")
        .groupBy("event_id")
        .agg(
            F.map_from_entries(F.collect_set(F.struct("old_token", "new_token"))).alias("_rotation")
        )
    )
    mapping = F.col("_rotation")
    mapped = (
        events.join(maps, "event_id", "left")
        .withColumn("persons", _entries(F.col("persons"), PERSON_TOKEN_FIELDS, mapping))
        .withColumn("vehicles", _entries(F.col("vehicles"), VEHICLE_TOKEN_FIELDS, mapping))
        .drop("_rotation")
    )
    # An event id is a token too (features.record_pseudonyms.event_token): the
    # incident keeps one id across the rotation.
    ids = rotation.select(F.col("old_token").alias("_old_id"), F.col("new_token").alias("_new_id"))
    mapped = (
        mapped.withColumn("_old_id", _respell(F.col("event_id")))
        .join(ids, "_old_id", "left")
        .withColumn("event_id", F.coalesce(F.col("_new_id"), F.col("event_id")))
        .drop("_old_id", "_new_id")
    )
    return mapped.select(*events.columns), version


_NODE_ID = r"^(.*?)((?:pid|tel|veh|nam|pk)_(?:v[1-9][0-9]*_)?[0-9a-f]{24})$"


def node_ids_to_current(spark, frame, columns, settings: Settings):
    """``frame`` with the token that ends each node id of ``columns`` made current (Spark).

    A node id names its entity by a token (``person:pid_v1_...``,
    ``person:anon:tel_v1_...``, ``vehicle:veh_v1_...``); yesterday's
    snapshot, read to tell tonight's new links, holds its night's tokens.
    Ids without a token (``incident:...``) are kept.
    """
    from pyspark.sql import functions as F

    table = current_rotation_table(settings)
    rotation = None if table is None else rotation_frame(spark, table[1])
    for name in columns:
        prefix = F.regexp_extract(F.col(name), _NODE_ID, 1)
        token = _respell(F.regexp_extract(F.col(name), _NODE_ID, 2))
        frame = frame.withColumn("_prefix", prefix).withColumn("_token", token)
        current = F.col("_token")
        if rotation is not None:
            frame = frame.join(
                rotation.withColumnRenamed("old_token", "_token").withColumnRenamed(
                    "new_token", "_new"
                ),
                "_token",
                "left",
            )
            current = F.coalesce(F.col("_new"), current)
        frame = frame.withColumn(
            name,
            F.when(F.col("_token") == "", F.col(name)).otherwise(
                F.concat(F.col("_prefix"), current)
            ),
        ).drop("_prefix", "_token", "_new")
    return frame
