import pandas as pd

from jobs.graph.companions import companion_ties


def test_only_companion_pairs_become_mining_edges_of_weight_one():
    pairs = pd.DataFrame(
        {
            "vehicle_a": ["vehicle:a", "vehicle:a", "vehicle:b"],
            "vehicle_b": ["vehicle:b", "vehicle:c", "vehicle:c"],
            "co_occurrences": [9, 3, 4],
            "companion": [True, False, True],
        }
    )
    ties = companion_ties(pairs)
    assert list(ties.columns) == ["src", "dst", "weight"]
    assert ties.values.tolist() == [["vehicle:a", "vehicle:b", 1], ["vehicle:b", "vehicle:c", 1]]


def test_no_companions_no_ties():
    pairs = pd.DataFrame(
        {"vehicle_a": pd.Series([], dtype=object), "vehicle_b": [], "companion": []}
    ).astype({"companion": bool})
    ties = companion_ties(pairs)
    assert ties.empty and list(ties.columns) == ["src", "dst", "weight"]
