import pandas as pd

from jobs.graph.resolution import entity_table, resolution_summary

PERSONS = pd.DataFrame(
    [
        ("k1", "p1", "id", 1.0, False, 3),
        ("k2", "p1", "phone+name", 0.99, False, 2),
        ("k3", "anon:t9", "new", 1.0, False, 1),
        ("k4", None, "no_identifier", 0.0, False, 4),
        ("k5", "p2", "id", 1.0, True, 5),
    ],
    columns=["profile_key", "person_id", "evidence", "confidence", "contradictory", "mentions"],
)
PLATES = pd.DataFrame(
    [
        ("v1", "v1", "exact", 1.0, 40, 0, "f1"),
        ("v1m", "v1", "confusable", 0.93, 2, 1, "f1"),
        ("v2", "v2", "exact", 1.0, 30, 0, "f2"),
        ("q", None, "unreadable", 0.0, 1, 0, None),
        ("v3", "v3", "ambiguous", 0.0, 5, 2, "f3"),
    ],
    columns=[
        "plate_hash",
        "vehicle_id",
        "evidence",
        "confidence",
        "reads",
        "candidates",
        "plate_fold_hash",
    ],
)


def test_the_summary_counts_mentions_entities_and_evidence():
    assert resolution_summary(PERSONS, PLATES) == {
        "person_mentions": 15,  # 3 + 2 + 1 + 4 + 5
        "vehicle_mentions": 78,  # 40 + 2 + 30 + 1 + 5
        "person_mentions_joined_without_id": 2,  # k2 only: id, new and none do not count
        "persons": 3,  # p1, anon:t9, p2
        "contradictory_persons": 1,
        "plates": 5,
        "vehicles": 3,  # v1, v2, v3
        "plates_joined": {"ambiguous": 1, "confusable": 1, "exact": 2, "unreadable": 1},
        "skipped": {"person_mentions_without_identifier": 4, "unreadable_plate_reads": 1},
    }


def test_the_entity_table_names_each_profile_and_plate():
    table = entity_table(PERSONS.iloc[[0, 3]], PLATES.iloc[[1, 3]])
    assert list(table.columns) == [
        "kind",
        "key",
        "entity_id",
        "evidence",
        "confidence",
        "contradictory",
    ]
    assert table.values.tolist() == [
        ["person", "k1", "p1", "id", 1.0, False],
        ["person", "k4", None, "no_identifier", 0.0, False],
        ["vehicle", "v1m", "v1", "confusable", 0.93, False],
        ["vehicle", "q", None, "unreadable", 0.0, False],
    ]
