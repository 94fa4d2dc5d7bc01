"""Entity resolution through Spark: distinct identities out, resolved on the driver, joined back.

Spark reduces the mentions to their distinct identities with counts (a
person's ID/name/phone tokens, a read plate's token); those few rows are
resolved by the pure functions of :mod:`jobs.graph.person_resolution` and
:mod:`jobs.graph.vehicle_resolution` and joined back to the mentions as a
broadcast map. Every merge keeps its evidence and confidence (the
snapshot's ``entities``, :func:`entity_table`).
"""

from __future__ import annotations

import pandas as pd

from jobs.graph.extract import person_mentions, vehicle_mentions
from jobs.graph.person_resolution import resolve_persons
from jobs.graph.vehicle_resolution import resolve_plates

__all__ = [
    "distinct_tokens",
    "resolve_person_mentions",
    "resolve_plate_mentions",
    "resolution_summary",
    "resolved_mentions",
    "entity_table",
]

#: Evidence of a person mention that did not join a person known otherwise.
_NOT_JOINED = ["id", "new", "no_identifier"]
_ENTITY_COLUMNS = ["kind", "key", "entity_id", "evidence", "confidence", "contradictory"]


def distinct_tokens(mentions, key: str, fields: tuple, count: str, exchange) -> pd.DataFrame:
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


def resolve_person_mentions(mentions, er: dict, exchange) -> pd.DataFrame:
    """The person of each distinct profile (``profile_key``), with its ``mentions``.

    ``mentions`` are :func:`~jobs.graph.extract.person_mentions`; ``er`` the
    ``graph.er`` configuration (``person_weights``, ``person_threshold``).
    """
    profiles = distinct_tokens(
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


def resolve_plate_mentions(mentions, er: dict, exchange) -> pd.DataFrame:
    """The vehicle of each distinct read plate (``plate_hash``), with its ``reads``.

    ``mentions`` are :func:`~jobs.graph.extract.vehicle_mentions`; ``er`` the
    ``graph.er`` configuration (``plate_dominance``, ``plate_evidence_confidence``).
    """
    plates = distinct_tokens(
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


def resolution_summary(person_map: pd.DataFrame, plate_map: pd.DataFrame) -> dict:
    """What the night's report says of entity resolution.

    Parameters
    ----------
    person_map : pandas.DataFrame
        :func:`resolve_person_mentions`' rows (``person_id``, ``evidence``,
        ``contradictory``, ``mentions``).
    plate_map : pandas.DataFrame
        :func:`resolve_plate_mentions`' rows (``vehicle_id``, ``evidence``, ``reads``).

    Returns
    -------
    dict
        Counts named as :class:`jobs.graph.job.GraphReport`'s fields, and
        under ``skipped`` the mentions without an identifier and the
        unreadable plate reads.
    """
    joined = person_map[~person_map["evidence"].isin(_NOT_JOINED)]
    return {
        "person_mentions": int(person_map["mentions"].sum()),
        "vehicle_mentions": int(plate_map["reads"].sum()),
        "person_mentions_joined_without_id": int(joined["mentions"].sum()),
        "persons": int(person_map["person_id"].nunique()),
        "contradictory_persons": int(
            person_map.loc[person_map["contradictory"], "person_id"].nunique()
        ),
        "plates": len(plate_map),
        "vehicles": int(plate_map["vehicle_id"].nunique()),
        "plates_joined": {
            k: int(v) for k, v in plate_map["evidence"].value_counts().sort_index().items()
        },
        "skipped": {
            "person_mentions_without_identifier": int(
                person_map.loc[person_map["evidence"] == "no_identifier", "mentions"].sum()
            ),
            "unreadable_plate_reads": int(
                plate_map.loc[plate_map["evidence"] == "unreadable", "reads"].sum()
            ),
        },
    }


def resolved_mentions(events, person_map: pd.DataFrame, plate_map: pd.DataFrame, exchange, keep):
    """The mentions that resolved, with their entity's node, persisted at ``keep`` (Spark).

    Returns ``(people, cars)``: the person mentions with ``person_node``
    and the vehicle mentions with ``vehicle_node``, each with its
    ``incident_node``, time, day, cell, category and role (and the ID token,
    or the reading site), which is what the graph, the risk models and the
    watch list read of them. Unresolved mentions drop out.
    """
    from pyspark.sql import functions as F

    pm = F.broadcast(
        exchange.to_spark(person_map[["profile_key", "person_id"]].dropna(subset=["person_id"]))
    )
    vm = F.broadcast(
        exchange.to_spark(plate_map[["plate_hash", "vehicle_id"]].dropna(subset=["vehicle_id"]))
    )
    incident_node = F.concat(F.lit("incident:"), F.col("event_id")).alias("incident_node")
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
    return people, cars


def entity_table(person_map: pd.DataFrame, plate_map: pd.DataFrame) -> pd.DataFrame:
    """The snapshot's ``entities``: each profile and read plate, the entity it is, and why.

    Columns ``kind`` (person, vehicle), ``key`` (profile key, plate token),
    ``entity_id``, ``evidence``, ``confidence`` and ``contradictory`` (never
    for a vehicle); persons first.
    """
    return pd.concat(
        [
            person_map.assign(
                kind="person", key=person_map["profile_key"], entity_id=person_map["person_id"]
            )[_ENTITY_COLUMNS],
            plate_map.assign(
                kind="vehicle",
                key=plate_map["plate_hash"],
                entity_id=plate_map["vehicle_id"],
                contradictory=False,
            )[_ENTITY_COLUMNS],
        ],
        ignore_index=True,
    )
