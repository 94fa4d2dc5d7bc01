import itertools

import numpy as np
import pandas as pd
import pytest

from jobs.graph.mining import build_graph, communities, mine


def _edges(pairs, weight=1):
    return pd.DataFrame([(a, b, weight) for a, b in pairs], columns=["src", "dst", "weight"])


def _two_rings_and_a_pair():
    ring_a = [f"person:a{i}" for i in range(6)]
    ring_b = [f"vehicle:b{i}" for i in range(6)]
    pairs = list(itertools.combinations(ring_a, 2)) + list(itertools.combinations(ring_b, 2))
    pairs += [("person:a0", "vehicle:b0"), ("person:x", "vehicle:y")]
    return _edges(pairs, 3)


def test_parallel_edges_are_merged_with_their_weights_summed():
    graph, ids = build_graph(
        pd.DataFrame(
            {"src": ["p:a", "p:b", "p:a"], "dst": ["p:b", "p:a", "p:c"], "weight": [2, 3, 1]}
        )
    )
    assert list(ids) == ["p:a", "p:b", "p:c"]
    assert graph.ecount() == 2
    assert sorted(graph.es["weight"]) == [1.0, 5.0]


def test_large_components_split_into_leiden_communities_and_small_ones_stay_whole():
    graph, ids = build_graph(_two_rings_and_a_pair())
    label = communities(graph, graph.connected_components(), min_split_nodes=10)
    by_node = dict(zip(ids, label))
    assert len({by_node[f"person:a{i}"] for i in range(6)}) == 1
    assert len({by_node[f"vehicle:b{i}"] for i in range(6)}) == 1
    assert by_node["person:a0"] != by_node["vehicle:b0"]
    assert by_node["person:x"] == by_node["vehicle:y"]
    # Numbered 0.. in order of each community's first node.
    assert label[0] == 0 and sorted(set(label)) == list(range(3))
    firsts = [int(np.flatnonzero(label == c)[0]) for c in range(3)]
    assert firsts == sorted(firsts)
    whole = communities(graph, graph.connected_components(), min_split_nodes=100)
    assert len(set(whole)) == 2


def test_mining_metrics_per_node():
    chain = _edges([("person:p1", "person:p2"), ("person:p2", "person:p3")], 1)
    metrics, components, largest, groups = mine(chain, max_betweenness_nodes=10, min_split_nodes=10)
    assert (components, largest, groups) == (1, 3, 1)
    row = metrics.set_index("node_id")
    assert row.loc["person:p2", "betweenness"] == pytest.approx(1.0)
    assert row.loc["person:p1", "betweenness"] == 0.0
    assert list(row["kind"]) == ["person"] * 3 and list(row["component_size"]) == [3, 3, 3]
    assert row["pagerank"].sum() == pytest.approx(1.0)
    # Betweenness is skipped in communities larger than allowed.
    skipped, *_ = mine(chain, max_betweenness_nodes=2, min_split_nodes=10)
    assert (skipped["betweenness"] == 0).all()


def test_an_empty_graph_mines_to_nothing():
    metrics, components, largest, groups = mine(_edges([]), max_betweenness_nodes=10)
    assert metrics.empty and (components, largest, groups) == (0, 0, 0)
