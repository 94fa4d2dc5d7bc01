"""The night's watch-list proposals: key persons' vehicles and their companions.

Key persons, their vehicles and the companions of those are chosen by
:mod:`models.watch_list`; the list is published to ``<lake>/watch_list/``
as proposals (:mod:`pipelines.io.watch_list_store`), unless a later night's
are there already. Nobody is watched by rule alone: a named district
account approves each proposal with a reason in the alert service, which
then publishes the list the stream watches.
"""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd
import pyarrow.parquet as pq

from models.watch_list import build_watch_list, key_persons
from pipelines.io.watch_list_store import PROPOSALS_FILE, publish_proposals, watch_config
from pipelines.settings import Settings

__all__ = ["night_watch_list", "watched_vehicle_counts", "publish_if_latest"]

log = logging.getLogger(__name__)


def night_watch_list(
    settings: Settings,
    people,
    *,
    person_risk: pd.DataFrame | None,
    projection: pd.DataFrame,
    companions: pd.DataFrame,
    plate_map: pd.DataFrame,
    as_of: date,
    covered_until_ms: int,
) -> tuple[pd.DataFrame, int]:
    """The night's watch list (:mod:`models.watch_list`) and how many key persons it follows.

    ``people`` are the resolved person mentions (Spark); ``person_risk`` the
    scored persons, if the risk model ran; ``projection`` the entity
    projection, ``companions`` the scored pairs and ``plate_map`` the
    resolved plates. The thresholds come from the ``watch_list:`` section.
    """
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
        None if person_risk is None else person_risk.set_index("node_id")["risk"],
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
        as_of=as_of.isoformat(),
        covered_until_ms=covered_until_ms,
    )
    return watch, len(persons)


def watched_vehicle_counts(watch: pd.DataFrame) -> dict:
    """Watched vehicles per reason, reasons in order.

    Examples
    --------
    >>> watched_vehicle_counts(pd.DataFrame({"reason": ["companion", "key_person_vehicle",
    ...     "companion"]}))
    {'companion': 2, 'key_person_vehicle': 1}
    """
    return {k: int(v) for k, v in watch["reason"].value_counts().sort_index().items()}


def publish_if_latest(settings: Settings, watch: pd.DataFrame, end: date) -> bool:
    """Publish the night's watch list as proposals for review, unless a later night's are there.

    A re-run for an earlier ``--as-of`` date keeps its list in its snapshot
    only: review is of the latest night's proposals. Returns whether they
    were published.
    """
    folder = settings.lake_table("watch_list")
    try:
        published = pq.read_table(folder / PROPOSALS_FILE, columns=["as_of"]).column(0).to_pylist()
    except (OSError, ValueError, KeyError):
        published = []
    if published and max(published) > end.isoformat():
        log.info(
            "graph: later watch-list proposals (as of %s) are published; this night's stay in "
            "its snapshot",
            max(published),
        )
        return False
    publish_proposals(folder, watch)
    return True
