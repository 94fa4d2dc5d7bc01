"""The rows of the graph's serving tables, from the night's frames (pure pandas).

Each function takes the night's frame and the night (``as_of``, ISO date)
and returns the rows of one PostgreSQL table, in its column order, with the
reasons duty staff read in Chinese. :mod:`jobs.graph.serving` writes them.
"""

from __future__ import annotations

import pandas as pd

from jobs.graph.risk import PLACE_RISK_FEATURES, RISK_FEATURES

__all__ = [
    "KIND_LABELS",
    "companions_per_vehicle",
    "key_entities_frame",
    "communities_frame",
    "companions_frame",
    "predicted_links_frame",
    "person_risk_frame",
    "place_risk_frame",
    "watch_list_frame",
    "without_float32",
]

#: Node kinds as duty staff read them.
KIND_LABELS = {"person": "人员", "vehicle": "车辆", "incident": "事件", "place": "地点"}

_KEY_ENTITY_COLUMNS = [
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
_COMPANION_COLUMNS = [
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


def companions_per_vehicle(companions: pd.DataFrame) -> pd.Series:
    """How many companion pairs each vehicle is in (vehicles with none are absent).

    Examples
    --------
    >>> pairs = pd.DataFrame({"vehicle_a": ["a", "a", "b"], "vehicle_b": ["b", "c", "c"],
    ...     "companion": [True, True, False]})
    >>> companions_per_vehicle(pairs).sort_index().to_dict()
    {'a': 2, 'b': 1, 'c': 1}
    """
    return pd.concat(
        [
            companions.loc[companions["companion"], "vehicle_a"],
            companions.loc[companions["companion"], "vehicle_b"],
        ]
    ).value_counts()


def key_entities_frame(
    metrics: pd.DataFrame, companions: pd.DataFrame, top: int, as_of: str
) -> pd.DataFrame:
    """``graph_key_entities``: the ``top`` persons and the ``top`` vehicles by PageRank.

    Each with its rank in its kind, its companion pairs, and why it is key.
    """
    keyed = metrics[metrics["kind"].isin(["person", "vehicle"])].copy()
    keyed["rank_in_kind"] = keyed.groupby("kind")["pagerank"].rank(ascending=False, method="first")
    community_sizes = metrics.groupby("community").size()
    ties = companions_per_vehicle(companions)
    keyed["companions"] = keyed["node_id"].map(ties).fillna(0).astype(int)
    keyed = keyed[keyed["rank_in_kind"] <= top]
    keyed["reasons"] = [
        f"PageRank 第{int(r.rank_in_kind)}；与 {r.degree} 个人员或车辆共同涉事；社群 {r.community}"
        f"（{int(community_sizes[r.community])} 个成员）"
        + (f"；同行车辆 {r.companions} 对" if r.companions else "")
        for r in keyed.itertuples()
    ]
    return keyed.assign(kind_label=keyed["kind"].map(KIND_LABELS), as_of=as_of)[_KEY_ENTITY_COLUMNS]


def communities_frame(metrics: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """``graph_communities``: communities of at least two persons or vehicles.

    Each with its members, persons, vehicles, incidents and first member.
    """
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
        .assign(as_of=as_of)
    )
    return communities[communities["persons"] + communities["vehicles"] >= 2]


def companions_frame(companions: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """``graph_companions``: every scored candidate pair, companion or not."""
    return companions.assign(as_of=as_of)[_COMPANION_COLUMNS]


def predicted_links_frame(predicted: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """``graph_predicted_links``: the likely ties, with their shared associates as the reason."""
    links = predicted.assign(
        as_of=as_of,
        reasons=[f"共同关联 {n} 个人员或车辆，尚无直接关联" for n in predicted["shared"]],
    )
    return links[["as_of", "src", "dst", "score", "shared", "reasons"]]


def place_risk_frame(place_risk: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """``graph_place_risk``: the scored cells with their features and reasons."""
    return place_risk.assign(as_of=as_of)[
        ["as_of", "cell_id", "risk", *PLACE_RISK_FEATURES, "reasons"]
    ]


def person_risk_frame(person_risk: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """``graph_person_risk``: the scored persons with their features and reasons."""
    return person_risk.assign(as_of=as_of)[["as_of", "node_id", "risk", *RISK_FEATURES, "reasons"]]


def watch_list_frame(watch: pd.DataFrame) -> pd.DataFrame:
    """``graph_watch_list``: each watched vehicle, its key persons joined, its plate count."""
    listed = watch.assign(
        persons=watch["persons"].map(lambda p: "，".join(p)),
        plates=watch["plate_hashes"].map(len),
    )
    return listed[
        ["as_of", "vehicle_node", "reason", "reason_label", "detail", "persons", "plates"]
    ]


def without_float32(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its float32 columns as float64 (PostgreSQL's double precision).

    Examples
    --------
    >>> import numpy as np
    >>> frame = pd.DataFrame({"x": np.array([0.5], dtype="float32"), "n": [1]})
    >>> without_float32(frame).dtypes.astype(str).to_dict()
    {'x': 'float64', 'n': 'int64'}
    """
    return frame.astype({c: "float64" for c in frame.columns if frame[c].dtype == "float32"})
