"""Scoring the graph job's output against the simulator's truth (no services)."""

import pandas as pd

from features.pseudonymize import pseudonymize
from pipelines.harness.graph_eval import companion_recovery, mention_labels, ring_recovery
from pipelines.harness.simulator.records import Ring

KEY = b"0123456789abcdef"


def tok(value, kind):
    return pseudonymize(value, kind, KEY)


def test_mentions_are_labelled_with_the_pseudonyms_of_their_truth():
    pid = "11010519491231002X"
    events = pd.DataFrame(
        {
            "event_id": ["e1", "e2"],
            "village_code": ["v1", "v1"],
            "persons": [
                [{"id_hash": tok(pid, "id_number"), "name_hash": None, "phone_hash": None}],
                [
                    {"id_hash": None, "name_hash": tok("张玮", "name"), "phone_hash": None},
                    {"id_hash": None, "name_hash": None, "phone_hash": None},
                ],
            ],
            "vehicles": [[], [{"plate_hash": tok("京AI2345", "plate")}]],
        }
    )
    truth = {
        "e1": {"persons": [pid], "vehicles": []},
        "e2": {"persons": [pid, None], "vehicles": ["京A12345"]},
    }
    entities = pd.DataFrame(
        {
            "kind": ["person", "vehicle"],
            "key": [f"{tok(pid, 'id_number')}|||v1", tok("京AI2345", "plate")],
            "entity_id": [tok(pid, "id_number"), tok("京A12345", "plate")],
        }
    )
    labels = mention_labels(events, truth, entities, KEY)
    assert labels.values.tolist() == [
        ["person", "e1#p0", tok(pid, "id_number"), tok(pid, "id_number")],
        # Not resolved: a cluster of its own. The unknown second person is left out.
        ["person", "e2#p0", tok(pid, "id_number"), "unresolved:e2#p0"],
        ["vehicle", "e2#v0", tok("京A12345", "plate"), tok("京A12345", "plate")],
    ]


def test_ring_recovery_and_companions_against_the_planted_rings():
    rings = [
        Ring("ring-001", ("A1", "A2"), ("京A11111", "京A22222")),
        Ring("ring-002", ("B1",), ("京B33333", "京B44444")),
    ]
    node = {
        "A1": f"person:{tok('A1', 'id_number')}",
        "A2": f"person:{tok('A2', 'id_number')}",
        "B1": f"person:{tok('B1', 'id_number')}",
    }
    vehicle = {p: f"vehicle:{tok(p, 'plate')}" for r in rings for p in r.plates}
    metrics = pd.DataFrame(
        {
            "node_id": [
                node["A1"],
                node["A2"],
                vehicle["京A11111"],
                vehicle["京A22222"],
                node["B1"],
                vehicle["京B33333"],
                vehicle["京B44444"],
            ],
            "community": [1, 1, 1, 1, 2, 2, 2],
        }
    )
    assert ring_recovery(rings, metrics, KEY)["ari"] == 1.0
    companions = pd.DataFrame(
        {
            "vehicle_a": [vehicle["京A11111"], vehicle["京A11111"]],
            "vehicle_b": [vehicle["京A22222"], vehicle["京B33333"]],
            "companion": [True, True],
        }
    )
    got = companion_recovery(rings, companions, KEY)
    assert (got["planted_pairs"], got["flagged_pairs"], got["correct"]) == (2, 2, 1)
    assert (got["precision"], got["recall"]) == (0.5, 0.5)
