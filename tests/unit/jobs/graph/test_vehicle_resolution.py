import pandas as pd
import pytest

from features.plate_keys import plate_key_tokens
from features.pseudonymize import pseudonymize
from jobs.graph.vehicle_resolution import resolve_plates

KEY = b"0123456789abcdef"
CONFIDENCE = {"confusable": 0.98, "province": 0.95, "missing_character": 0.9}


def _reads(counts: dict) -> pd.DataFrame:
    rows = []
    for plate, n in counts.items():
        keys = plate_key_tokens(plate, KEY)
        rows.append(
            {
                "plate_hash": pseudonymize(plate, "plate", KEY),
                "reads": n,
                **{"plate_fold_hash": None, "plate_tail_hash": None, "plate_deletion_hashes": None},
                **keys,
            }
        )
    return pd.DataFrame(rows)


def _vehicles(counts):
    out = resolve_plates(_reads(counts), dominance=5, evidence_confidence=CONFIDENCE)
    token = {pseudonymize(p, "plate", KEY): p for p in counts}
    return {
        token.get(r.plate_hash, r.plate_hash): (token.get(r.vehicle_id, r.vehicle_id), r.evidence)
        for r in out.itertuples()
    }


def test_misreads_join_the_plate_they_misread_with_their_evidence():
    got = _vehicles({"京A12345": 50, "京AI2345": 2, "津A12345": 1, "京A1245": 1, "冀B67890": 30})
    assert got == {
        "京A12345": ("京A12345", "exact"),
        "京AI2345": ("京A12345", "confusable"),
        "津A12345": ("京A12345", "province"),
        "京A1245": ("京A12345", "missing_character"),
        "冀B67890": ("冀B67890", "exact"),
    }


def test_two_legal_plates_read_comparably_often_stay_two_vehicles():
    # B and 8 fold together, but both plates are real and busy.
    got = _vehicles({"京AB1234": 20, "京A81234": 12})
    assert got["京AB1234"] == ("京AB1234", "exact")
    assert got["京A81234"] == ("京A81234", "exact")


def test_a_read_that_could_join_two_vehicles_joins_none():
    # A dropped character leaves 京A1234, a deletion of both busy plates.
    got = _vehicles({"京A12345": 40, "京A12346": 40, "京A1234": 1})
    assert got["京A1234"] == ("京A1234", "ambiguous")


def test_unreadable_reads_are_reported_not_guessed():
    out = resolve_plates(
        _reads({"京A12345": 5, "京?": 3}), dominance=5, evidence_confidence=CONFIDENCE
    )
    row = out.set_index("plate_hash").loc[pseudonymize("京?", "plate", KEY)]
    assert row["vehicle_id"] is None and row["evidence"] == "unreadable"


def test_confidence_is_the_evidence_prior_times_the_kept_plate_share():
    out = resolve_plates(
        _reads({"京A12345": 49, "京AI2345": 1}), dominance=5, evidence_confidence=CONFIDENCE
    )
    merged = out[out["evidence"] == "confusable"].iloc[0]
    assert merged["confidence"] == pytest.approx(0.98 * 49 / 50, abs=1e-4)


def test_bad_inputs_name_what_is_wrong():
    reads = _reads({"京A12345": 5})
    with pytest.raises(ValueError, match="dominance=0.5"):
        resolve_plates(reads, dominance=0.5, evidence_confidence=CONFIDENCE)
    with pytest.raises(ValueError, match="lacks \\['province'\\]"):
        resolve_plates(
            reads, dominance=5, evidence_confidence={"confusable": 1, "missing_character": 1}
        )
    with pytest.raises(ValueError, match="appears twice"):
        resolve_plates(pd.concat([reads, reads]), dominance=5, evidence_confidence=CONFIDENCE)
    with pytest.raises(ValueError, match="lack columns \\['reads'\\]"):
        resolve_plates(reads.drop(columns="reads"), dominance=5, evidence_confidence=CONFIDENCE)
