import numpy as np
import pandas as pd
import pytest

from models.incident_fusion import (
    EVIDENCE,
    IncidentLinker,
    candidate_pairs,
    compatible_categories,
    fuse_arrivals,
    incidents,
    link_confidence,
    pair_evidence,
    pairwise_scores,
)

KINDS = {
    "dumping": {
        "grid": "environment.illegal_dumping",
        "hotline": "hotline.environmental_protection",
        "video": "video.camera_alarm",
    }
}
BOUNDS = {"max_distance_m": 400.0, "max_gap_s": 3600.0}


def _reports(rows):
    columns = ("source", "category", "time_s", "x_m", "y_m", "text", "entities")
    return pd.DataFrame([dict(zip(columns, r, strict=True)) for r in rows])


REPORTS = _reports(
    [
        ("grid", "environment.illegal_dumping", 0, 0, 0, "村口倒垃圾", ("tel_a",)),
        ("hotline", "hotline.environmental_protection", 600, 100, 0, "村口有人倒垃圾", ("tel_a",)),
        ("video", "video.camera_alarm", 30, 50, 50, "", ()),
        # Too far, too late, the same channel, an unrelated category:
        ("hotline", "hotline.environmental_protection", 0, 900, 0, "噪音", ()),
        ("hotline", "hotline.environmental_protection", 7200, 0, 0, "噪音", ()),
        ("grid", "environment.illegal_dumping", 60, 10, 0, "倒垃圾", ()),
        ("hotline", "hotline.transport", 60, 10, 0, "公交", ()),
    ]
)


def test_candidates_are_close_compatible_reports_of_different_channels():
    pairs = candidate_pairs(REPORTS, compatible_categories(KINDS), **BOUNDS)
    assert list(zip(pairs["i"], pairs["j"], strict=True)) == [
        (0, 1),
        (0, 2),
        (1, 2),
        (1, 5),
        (2, 5),
    ]
    assert pairs["distance_m"][0] == pytest.approx(100.0)
    assert pairs["gap_s"][0] == 600


def test_evidence_weighs_closeness_time_words_and_shared_people():
    pairs = candidate_pairs(REPORTS, compatible_categories(KINDS), **BOUNDS)
    evidence = pair_evidence(REPORTS, pairs, **BOUNDS)
    assert list(evidence.columns) == list(EVIDENCE)
    first = evidence.iloc[0]
    assert first["closeness"] == pytest.approx(0.75)
    assert first["simultaneity"] == pytest.approx(1 - 600 / 3600)
    assert 0 < first["text_similarity"] <= 1 and first["both_texts"] == 1.0
    assert first["shared_entities"] == 1.0
    # A camera has no words and no people to share.
    assert evidence.iloc[1][["text_similarity", "both_texts", "shared_entities"]].sum() == 0


def test_the_linker_learns_which_evidence_makes_one_incident():
    rng = np.random.default_rng(0)
    n = 400
    same = rng.random(n) < 0.3
    evidence = pd.DataFrame(
        {
            "closeness": np.where(same, rng.uniform(0.6, 1, n), rng.uniform(0, 0.7, n)),
            "simultaneity": np.where(same, rng.uniform(0.6, 1, n), rng.uniform(0, 1, n)),
            "text_similarity": rng.uniform(0, 0.3, n),
            "both_texts": np.ones(n),
            "shared_entities": np.where(same & (rng.random(n) < 0.5), 1.0, 0.0),
        }
    )
    linker = IncidentLinker().fit(evidence, same)
    assert linker.coefficients_["closeness"] > 0 and linker.coefficients_["shared_entities"] > 0
    assert (linker.predict(evidence) == same).mean() > 0.85
    with pytest.raises(ValueError, match="both kinds"):
        IncidentLinker().fit(evidence, np.zeros(n, bool))


def test_incidents_are_the_linked_components_and_scored_by_cross_channel_pairs():
    pairs = pd.DataFrame({"i": [0, 0, 1], "j": [1, 2, 5]})
    labels = incidents(7, pairs, [True, True, False])
    assert labels[0] == labels[1] == labels[2] and len(set(labels)) == 5
    truth = ["a", "a", "a", None, None, None, None]
    scores = pairwise_scores(labels.tolist(), truth, REPORTS["source"].tolist())
    assert (scores["precision"], scores["recall"]) == (1.0, 1.0)


def test_a_reports_frame_without_its_columns_is_named():
    with pytest.raises(ValueError, match=r"\['entities'\]"):
        candidate_pairs(REPORTS.drop(columns="entities"), frozenset(), **BOUNDS)
    with pytest.raises(ValueError, match="must be > 0"):
        candidate_pairs(REPORTS, frozenset(), max_distance_m=0, max_gap_s=1)


#: Closeness and time decide; words and people add.
WEIGHTS = {
    "closeness": 5.0,
    "simultaneity": 4.0,
    "text_similarity": 1.0,
    "both_texts": 0.0,
    "shared_entities": 2.0,
}
ONLINE = dict(BOUNDS, intercept=-6.0, weights=WEIGHTS, min_confidence=0.5)


def _with_ids(frame, ids):
    return frame.assign(event_id=ids).reset_index(drop=True)


def test_text_similarity_needs_only_the_two_texts():
    pairs = candidate_pairs(REPORTS, compatible_categories(KINDS), **BOUNDS)
    alone = pair_evidence(REPORTS.iloc[:2].reset_index(drop=True), pairs.iloc[:1], **BOUNDS)
    among_all = pair_evidence(REPORTS, pairs, **BOUNDS)
    assert alone["text_similarity"][0] == among_all["text_similarity"][0] > 0.3


def test_link_confidence_is_the_logistic_of_the_declared_weights():
    evidence = pd.DataFrame({c: [0.5] for c in EVIDENCE})
    expected = 1 / (1 + np.exp(-(-6.0 + 0.5 * sum(WEIGHTS.values()))))
    assert link_confidence(evidence, -6.0, WEIGHTS)[0] == pytest.approx(expected)
    with pytest.raises(ValueError, match=r"need \['closeness'\]"):
        link_confidence(evidence, 0.0, {k: v for k, v in WEIGHTS.items() if k != "closeness"})


def test_an_arrival_joins_the_incident_of_the_report_before_it():
    compatible = compatible_categories(KINDS)
    # The grid report came in an earlier slice: it started incident "g".
    earlier = _with_ids(REPORTS.iloc[[0]], ["g"]).assign(incident=["g"])
    # The call and the camera arrive together, the camera first in event
    # time; the far and the late calls and the bus call join nothing.
    arrivals = _with_ids(REPORTS.iloc[[1, 2, 3, 4, 6]], ["call", "cam", "far", "late", "bus"])
    labels, links = fuse_arrivals(earlier, arrivals, compatible, **ONLINE)
    assert labels == ["g", "g", "far", "late", "bus"]
    assert list(links["event_id"]) == ["cam", "call"]
    assert list(links["incident"]) == ["g", "g"]
    # The call's strongest link is the grid report (same caller, same words).
    assert links.set_index("event_id").loc["call", "linked_to"] == "g"
    assert (links["confidence"] >= 0.5).all()
    assert links.loc[links["event_id"] == "call", "shared_entities"].item() == 1.0


def test_arrivals_alone_link_in_event_time_order():
    compatible = compatible_categories(KINDS)
    arrivals = _with_ids(REPORTS.iloc[[1, 0, 2]], ["call", "grid", "cam"])
    empty = arrivals.iloc[:0].assign(incident=[])
    labels, links = fuse_arrivals(empty, arrivals, compatible, **ONLINE)
    # The grid report (t=0) is first: the camera (t=30) and the call (t=600) join it.
    assert labels == ["grid", "grid", "grid"]
    assert sorted(links["event_id"]) == ["call", "cam"]
    # Nothing links below the confidence asked for.
    labels, links = fuse_arrivals(
        empty, arrivals, compatible, **{**ONLINE, "min_confidence": 0.999}
    )
    assert labels == ["call", "grid", "cam"] and links.empty
