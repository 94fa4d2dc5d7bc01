import pandas as pd

from jobs.graph.serving_frames import (
    communities_frame,
    companions_frame,
    key_entities_frame,
    person_risk_frame,
    place_risk_frame,
    predicted_links_frame,
    watch_list_frame,
)

AS_OF = "2026-11-04"
METRICS = pd.DataFrame(
    {
        "node_id": ["person:a", "person:b", "vehicle:c", "vehicle:d"],
        "component": [0, 0, 0, 1],
        "community": [0, 0, 0, 1],
        "pagerank": [0.4, 0.1, 0.3, 0.2],
        "betweenness": [1.0, 0.0, 0.0, 0.0],
        "degree": [2, 1, 1, 1],
        "component_size": [3, 3, 3, 1],
        "kind": ["person", "person", "vehicle", "vehicle"],
        "community_incidents": [5, 5, 5, 2],
    }
)
COMPANIONS = pd.DataFrame(
    {
        "vehicle_a": ["vehicle:c", "vehicle:c"],
        "vehicle_b": ["vehicle:d", "vehicle:x"],
        "co_occurrences": [4, 3],
        "days": [2, 2],
        "places": [1, 2],
        "first_ms": [0, 0],
        "last_ms": [1, 1],
        "expected": [0.01, 0.5],
        "p_value": [1e-9, 0.2],
        "lift": [400.0, 6.0],
        "companion": [True, False],
    }
)


def test_key_entities_are_the_top_of_each_kind_by_pagerank_with_reasons():
    got = key_entities_frame(METRICS, COMPANIONS, 1, AS_OF)
    assert list(got.columns) == [
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
    assert got.values.tolist() == [
        [
            AS_OF,
            "person:a",
            "person",
            "人员",
            0.4,
            1.0,
            2,
            0,
            3,
            0,
            1.0,
            "PageRank 第1；与 2 个人员或车辆共同涉事；社群 0（3 个成员）",
        ],
        [
            AS_OF,
            "vehicle:c",
            "vehicle",
            "车辆",
            0.3,
            0.0,
            1,
            0,
            3,
            1,
            1.0,
            "PageRank 第1；与 1 个人员或车辆共同涉事；社群 0（3 个成员）；同行车辆 1 对",
        ],
    ]


def test_communities_of_fewer_than_two_persons_or_vehicles_are_not_served():
    got = communities_frame(METRICS, AS_OF)
    assert list(got.columns) == [
        "community",
        "members",
        "persons",
        "vehicles",
        "incidents",
        "top_member",
        "as_of",
    ]
    assert got.values.tolist() == [[0, 3, 2, 1, 5, "person:a", AS_OF]]


def test_companions_are_served_with_the_night_in_table_order():
    got = companions_frame(COMPANIONS, AS_OF)
    assert list(got.columns) == [
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
    assert got["as_of"].tolist() == [AS_OF, AS_OF] and got["companion"].tolist() == [True, False]


def test_predicted_links_say_how_many_associates_they_share():
    predicted = pd.DataFrame(
        {"src": ["person:a"], "dst": ["vehicle:d"], "score": [1.4427], "shared": [3]}
    )
    assert predicted_links_frame(predicted, AS_OF).values.tolist() == [
        [AS_OF, "person:a", "vehicle:d", 1.4427, 3, "共同关联 3 个人员或车辆，尚无直接关联"]
    ]


def test_risk_tables_keep_the_features_between_risk_and_reasons():
    persons = pd.DataFrame(
        {
            "node_id": ["person:a"],
            "incidents": [4.0],
            "suspect_incidents": [2.0],
            "calls": [0.0],
            "places": [3.0],
            "night_share": [0.5],
            "co_involved": [6.0],
            "risk": [0.8],
            "reasons": ["涉事次数（+1.20）"],
        }
    )
    assert list(person_risk_frame(persons, AS_OF).columns) == [
        "as_of",
        "node_id",
        "risk",
        "incidents",
        "suspect_incidents",
        "calls",
        "places",
        "night_share",
        "co_involved",
        "reasons",
    ]
    cells = pd.DataFrame(
        {
            "cell_id": ["c1"],
            "incidents": [9.0],
            "persons": [4.0],
            "suspect_mentions": [1.0],
            "night_share": [0.25],
            "active_days": [3.0],
            "risk": [0.6],
            "reasons": ["事件数（+0.90）"],
        }
    )
    assert place_risk_frame(cells, AS_OF).values.tolist() == [
        [AS_OF, "c1", 0.6, 9.0, 4.0, 1.0, 0.25, 3.0, "事件数（+0.90）"]
    ]


def test_the_watch_list_joins_its_persons_and_counts_its_plates():
    watch = pd.DataFrame(
        {
            "vehicle_node": ["vehicle:c"],
            "reason": ["key_person_vehicle"],
            "reason_label": ["重点人员关联车辆"],
            "detail": ["与重点人员共同涉事 2 次"],
            "persons": [["person:a", "person:b"]],
            "shared_incidents": [2],
            "via_vehicle": [None],
            "plate_hashes": [["p1", "p2", "p3"]],
            "plate_fold_hash": ["f1"],
            "as_of": [AS_OF],
            "covered_until_ms": [0],
        }
    )
    assert watch_list_frame(watch).values.tolist() == [
        [
            AS_OF,
            "vehicle:c",
            "key_person_vehicle",
            "重点人员关联车辆",
            "与重点人员共同涉事 2 次",
            "person:a，person:b",
            3,
        ]
    ]
