"""Person and place risk: who and where is likely to be in the next incident.

Both fit :class:`models.risk_model.RiskModel` on the window before its last
``risk.horizon_days`` days, with the label drawn from those days, and score
the whole window; each score keeps its three strongest reasons, in the
names duty staff read. Persons are labelled by a suspect role in the
horizon; places (cells) by an incident in it.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from features.local_time import DISTRICT_TZ
from features.taxonomy import PLATE_READ
from jobs.graph.edges import REPORTER_ROLES

__all__ = [
    "RISK_FEATURES",
    "PLACE_RISK_FEATURES",
    "risk_span",
    "top_risks",
    "at_night",
    "person_features",
    "score_persons",
    "score_places",
]

#: Person features of the risk model, with the names duty staff read.
RISK_FEATURES = {
    "incidents": "涉事次数",
    "suspect_incidents": "作为嫌疑人涉事",
    "calls": "来电反映次数",
    "places": "涉事网格数",
    "night_share": "夜间涉事占比",
    "co_involved": "共同涉事人员/车辆数",
}

#: Place (cell) features of the risk model, with the names duty staff read.
PLACE_RISK_FEATURES = {
    "incidents": "事件数",
    "persons": "涉事人员数",
    "suspect_mentions": "嫌疑人出现次数",
    "night_share": "夜间事件占比",
    "active_days": "有事件的天数",
}


def risk_span(days: list, horizon: int):
    """(start, cut, end) in epoch ms of the window and its last ``horizon`` days, or why not.

    Features come from ``[start, cut)``, labels from ``[cut, end)``; the
    window starts at midnight (district time) of ``days[0]`` and spans
    ``len(days)`` days. A window of ``horizon`` days or fewer gives the
    reason as a string instead.
    """
    if len(days) <= horizon:
        return f"{len(days)} day(s) in the window; the risk model needs more than {horizon}"
    day_ms = 86_400_000
    start = int(datetime.combine(days[0], datetime.min.time(), DISTRICT_TZ).timestamp() * 1000)
    end = start + len(days) * day_ms
    return start, end - horizon * day_ms, end


def top_risks(
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


def at_night():
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
        F.sum(F.when(F.col("role").isin(*REPORTER_ROLES), 1).otherwise(0)).alias("calls"),
        F.sum(at_night()).alias("night"),
    )
    return per_incident.groupBy("person_node").agg(
        F.count("*").alias("incidents"),
        F.sum("suspect").alias("suspect_incidents"),
        F.sum("calls").alias("calls"),
        F.countDistinct("cell_id").alias("places"),
        (F.sum("night") / F.sum("mentions")).alias("night_share"),
    )


def score_persons(people, projection: pd.DataFrame, days: list, risk: dict):
    """Fit on the window before the horizon, label = a suspect role in the horizon; score now.

    Returns ``(scored, None)``, the ``risk.top_persons`` riskiest persons
    (``node_id``, the features, ``risk``, ``reasons``), or ``(None, why)``.
    """
    horizon = int(risk["horizon_days"])
    span = risk_span(days, horizon)
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
    top = top_risks(RISK_FEATURES, train, labels, frame(start, end), int(risk["top_persons"]))
    return top.reset_index().rename(columns={"person_node": "node_id"}), None


def score_places(events, persons, days: list, risk: dict):
    """Cells: fit on the days before the horizon, label = an incident in it; score now.

    ``events`` are the flat events (cell, category, time, date), ``persons``
    the resolved person mentions (cell, category, time, role, ID token).
    Returns ``(scored, None)`` or ``(None, why)``, as :func:`score_persons`.
    """
    from pyspark.sql import functions as F

    horizon = int(risk["horizon_days"])
    span = risk_span(days, horizon)
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
                F.avg(at_night()).alias("night_share"),
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
    top = top_risks(PLACE_RISK_FEATURES, train, labels, frame(start, end), int(risk["top_places"]))
    return top.reset_index(), None
