"""One incident across channels: link reports by space, time, category, words and shared people.

A grid worker's report, a resident's hotline call and a camera's alarm are
often one incident. Counting each inflates every hotspot; fusing them needs
evidence, and each link keeps it.

1. **Candidates** (:func:`candidate_pairs`): two reports of different
   channels whose categories one declared incident kind lists together
   (:func:`compatible_categories`), at most ``max_distance_m`` apart and
   ``max_gap_s`` apart in event time. A k-d tree over (x, y, time) scaled by
   those bounds finds them without comparing every pair.
2. **Evidence** (:func:`pair_evidence`), per candidate: how close in space
   (``1 − d / max``), in time (``1 − |Δt| / max``), the cosine similarity of
   the two texts' character bigrams when both have text (hashed counts, so
   that a pair's similarity depends on the two texts alone), and the
   pseudonymous people and vehicles (ID, phone, name and plate hashes) the
   two share.
3. **Confidence** (:class:`IncidentLinker`): a logistic regression over the
   evidence, fitted on candidates whose truth is known (the simulator's
   planted incidents, on another stream than the one it is judged on). A
   candidate at or above ``min_confidence`` is a link.
4. **Incidents** (:func:`incidents`): the connected components of the
   links; a report linked to nothing is an incident of its own. Reports
   stay as they are; the incident is a label beside them.

In a stream (:func:`fuse_arrivals`), reports arrive a slice of event time
at a time and an incident cannot wait for its last report: a report linked
to one that came before it (in event time) joins that report's incident,
the one of its strongest such link; a report linked to none starts an
incident. Counting the reports that start one counts each incident once,
at its first report, and a report joins at once, so fusion adds no delay.
(Two incidents that a later report bridges stay two: the count errs by
that, the labels of the batch components do not.) The confidence there is
:func:`link_confidence`, the linker's logistic form with weights declared
in the configuration.

:func:`pairwise_scores` judges the incidents against the truth: precision
and recall over the pairs of reports of different channels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from features.incident_kinds import EVIDENCE

__all__ = [
    "EVIDENCE",
    "IncidentLinker",
    "candidate_pairs",
    "compatible_categories",
    "fuse_arrivals",
    "incidents",
    "link_confidence",
    "pair_evidence",
    "pairwise_scores",
    "report_entities",
]

#: Columns a reports frame needs.
REPORT_COLUMNS = ("source", "category", "time_s", "x_m", "y_m", "text", "entities")
#: Character bigrams, hashed and l2-normed: a text's vector needs no other text, so
#: a stream judges a pair as a batch does.
_BIGRAMS = HashingVectorizer(
    analyzer="char", ngram_range=(2, 2), n_features=2**20, alternate_sign=False, lowercase=False
)


def report_entities(persons, vehicles) -> tuple[str, ...]:
    """The pseudonymous people (ID, phone and name hashes) and plates of a normalized event.

    >>> report_entities([{"id_hash": "i1", "phone_hash": None, "name_hash": "n1"}],
    ...                 [{"plate_hash": "p1"}])
    ('i1', 'n1', 'p1')
    """
    people = [
        value
        for person in persons or ()
        for value in (person.get("id_hash"), person.get("phone_hash"), person.get("name_hash"))
        if value
    ]
    return tuple(people + [v["plate_hash"] for v in vehicles or () if v.get("plate_hash")])


def compatible_categories(kinds: Mapping[str, Mapping[str, str]]) -> frozenset[frozenset[str]]:
    """Unordered category pairs of different channels that one incident kind lists together.

    >>> pairs = compatible_categories({"dumping": {"grid": "environment.illegal_dumping",
    ...                                            "video": "video.camera_alarm"}})
    >>> frozenset({"environment.illegal_dumping", "video.camera_alarm"}) in pairs
    True
    """
    pairs = set()
    for channels in kinds.values():
        categories = list(channels.values())
        for i, a in enumerate(categories):
            for b in categories[i + 1 :]:
                pairs.add(frozenset((a, b)))
    return frozenset(pairs)


def _check_reports(reports: pd.DataFrame) -> None:
    missing = [c for c in REPORT_COLUMNS if c not in reports.columns]
    if missing:
        raise ValueError(f"reports need the columns {missing}; got {list(reports.columns)}")


def candidate_pairs(
    reports: pd.DataFrame,
    compatible: frozenset[frozenset[str]],
    *,
    max_distance_m: float,
    max_gap_s: float,
) -> pd.DataFrame:
    """Pairs ``i < j`` (row positions) of different channels and compatible categories, close enough.

    Columns ``i``, ``j``, ``distance_m``, ``gap_s``.
    """
    _check_reports(reports)
    if max_distance_m <= 0 or max_gap_s <= 0:
        raise ValueError(
            f"max_distance_m={max_distance_m!r} and max_gap_s={max_gap_s!r} must be > 0"
        )
    empty = pd.DataFrame({"i": [], "j": [], "distance_m": [], "gap_s": []})
    if len(reports) < 2:
        return empty
    x = reports["x_m"].to_numpy(float)
    y = reports["y_m"].to_numpy(float)
    t = reports["time_s"].to_numpy(float)
    # In units of the bounds, every candidate lies within a cube of side 2.
    points = np.column_stack([x / max_distance_m, y / max_distance_m, t / max_gap_s])
    found = cKDTree(points).query_pairs(r=1.0, p=np.inf, output_type="ndarray")
    if found.size == 0:
        return empty
    i, j = found[:, 0], found[:, 1]
    distance = np.hypot(x[i] - x[j], y[i] - y[j])
    gap = np.abs(t[i] - t[j])
    source = reports["source"].to_numpy()
    category = reports["category"].to_numpy()
    keep = (distance <= max_distance_m) & (gap <= max_gap_s) & (source[i] != source[j])
    keep &= np.fromiter(
        (frozenset((a, b)) in compatible for a, b in zip(category[i], category[j], strict=True)),
        bool,
        count=i.size,
    )
    i, j = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
    frame = pd.DataFrame({"i": i, "j": j, "distance_m": distance[keep], "gap_s": gap[keep]})
    return frame.sort_values(["i", "j"], ignore_index=True)


def pair_evidence(
    reports: pd.DataFrame, pairs: pd.DataFrame, *, max_distance_m: float, max_gap_s: float
) -> pd.DataFrame:
    """The evidence of each candidate, one column per name of :data:`EVIDENCE`."""
    _check_reports(reports)
    texts = reports["text"].fillna("").astype(str).tolist()
    i, j = pairs["i"].to_numpy(int), pairs["j"].to_numpy(int)
    has_text = np.array([bool(t.strip()) for t in texts])
    similarity = np.zeros(len(pairs))
    if len(pairs) and has_text.sum() >= 2:
        rows = _BIGRAMS.transform(texts)
        similarity = np.asarray(rows[i].multiply(rows[j]).sum(axis=1)).ravel()
    entities = [frozenset(e) for e in reports["entities"]]
    shared = np.array([len(entities[a] & entities[b]) for a, b in zip(i, j, strict=True)])
    both = has_text[i] & has_text[j] if len(pairs) else np.zeros(0, bool)
    return pd.DataFrame(
        {
            "closeness": 1.0 - pairs["distance_m"].to_numpy(float) / max_distance_m,
            "simultaneity": 1.0 - pairs["gap_s"].to_numpy(float) / max_gap_s,
            "text_similarity": np.where(both, similarity, 0.0),
            "both_texts": both.astype(float),
            "shared_entities": np.minimum(shared, 3).astype(float),
        }
    )


class IncidentLinker(ClassifierMixin, BaseEstimator):
    """The probability that a candidate pair is one incident, from its evidence.

    A logistic regression over :data:`EVIDENCE`; ``predict`` says whether a
    candidate's probability reaches ``min_confidence`` (a link), and
    ``coefficients_`` what each piece of evidence weighs.
    """

    def __init__(self, C: float = 1.0, min_confidence: float = 0.5):  # noqa: N803
        self.C = C
        self.min_confidence = min_confidence

    def fit(self, evidence: pd.DataFrame, same: Sequence[bool]) -> IncidentLinker:
        """Learn from candidates whose truth is known (``same``: one incident)."""
        y = np.asarray(same, dtype=bool)
        if len(np.unique(y)) < 2:
            raise ValueError(
                f"need candidates of both kinds to learn from, got {int(y.sum())} of "
                f"{y.size} that are one incident"
            )
        self.model_ = LogisticRegression(C=self.C, max_iter=1000).fit(_matrix(evidence), y)
        self.classes_ = np.array([False, True])
        self.coefficients_ = dict(
            zip(EVIDENCE, np.round(self.model_.coef_[0], 4).tolist(), strict=True)
        )
        self.intercept_ = round(float(self.model_.intercept_[0]), 4)
        return self

    def predict_proba(self, evidence: pd.DataFrame) -> np.ndarray:
        """``[P(two incidents), P(one incident)]`` per candidate."""
        check_is_fitted(self, "model_")
        if len(evidence) == 0:
            return np.zeros((0, 2))
        return self.model_.predict_proba(_matrix(evidence))

    def predict(self, evidence: pd.DataFrame) -> np.ndarray:
        """Whether each candidate is a link (probability at or above ``min_confidence``)."""
        return self.predict_proba(evidence)[:, 1] >= self.min_confidence


def _matrix(evidence: pd.DataFrame) -> np.ndarray:
    missing = [c for c in EVIDENCE if c not in evidence.columns]
    if missing:
        raise ValueError(f"evidence needs the columns {missing}")
    return evidence[list(EVIDENCE)].to_numpy(float)


def link_confidence(evidence: pd.DataFrame, intercept: float, weights: Mapping[str, float]):
    """The linker's probability that each candidate is one incident, from declared weights.

    >>> evidence = pd.DataFrame({c: [1.0, 0.0] for c in EVIDENCE})
    >>> link_confidence(evidence, -1.0, {c: 0.5 for c in EVIDENCE}).round(3).tolist()
    [0.818, 0.269]
    """
    missing = [c for c in EVIDENCE if c not in weights]
    if missing:
        raise ValueError(f"the linker's weights need {missing}; got {sorted(weights)}")
    score = intercept + _matrix(evidence) @ np.array([float(weights[c]) for c in EVIDENCE])
    return 1.0 / (1.0 + np.exp(-score))


def fuse_arrivals(
    earlier: pd.DataFrame,
    arrivals: pd.DataFrame,
    compatible: frozenset[frozenset[str]],
    *,
    max_distance_m: float,
    max_gap_s: float,
    intercept: float,
    weights: Mapping[str, float],
    min_confidence: float,
) -> tuple[list[str], pd.DataFrame]:
    """The incident of each arrival, and the links that put arrivals into earlier incidents.

    ``earlier`` holds reports already fused (with their ``incident``),
    ``arrivals`` the new ones (both with :data:`REPORT_COLUMNS` and
    ``event_id``). Arrivals are taken in event time (then id): one linked
    (confidence at least ``min_confidence``) to a report before it joins
    the incident of its strongest such link; otherwise its incident is its
    own ``event_id``. The links frame has ``event_id``, ``linked_to``,
    ``incident``, ``confidence`` and the evidence, one row per arrival that
    joined an incident.
    """
    for frame in (earlier, arrivals):
        _check_reports(frame)
    link_columns = ["event_id", "linked_to", "incident", "confidence", *EVIDENCE]
    given = list(arrivals["event_id"])
    arrivals = arrivals.sort_values(["time_s", "event_id"], kind="stable", ignore_index=True)
    n_earlier = len(earlier)
    reports = arrivals
    if n_earlier:
        before = earlier[arrivals.columns.intersection(earlier.columns)]
        reports = pd.concat([before, arrivals], ignore_index=True)
    bounds = {"max_distance_m": max_distance_m, "max_gap_s": max_gap_s}
    pairs = candidate_pairs(reports, compatible, **bounds)
    # Row positions: earlier reports first, then the arrivals in event-time order,
    # so the report before is the pair's lower position.
    pairs = pairs[pairs["j"] >= n_earlier].reset_index(drop=True)
    labels = list(earlier["incident"]) + list(arrivals["event_id"])
    links = []
    if len(pairs):
        evidence = pair_evidence(reports, pairs, **bounds)
        confidence = link_confidence(evidence, intercept, weights)
        linked = np.flatnonzero(confidence >= min_confidence)
        # Strongest link of each arrival first; arrivals in order, so the
        # report before always has its incident already.
        best = {}
        for k in linked[np.lexsort((-confidence[linked], pairs["j"].to_numpy()[linked]))]:
            best.setdefault(int(pairs["j"][k]), int(k))
        for j in sorted(best):
            k = best[j]
            i = int(pairs["i"][k])
            labels[j] = labels[i]
            links.append(
                [
                    reports["event_id"][j],
                    reports["event_id"][i],
                    labels[i],
                    round(float(confidence[k]), 4),
                    *(round(float(evidence[c][k]), 4) for c in EVIDENCE),
                ]
            )
    incident_of = dict(zip(arrivals["event_id"], labels[n_earlier:], strict=True))
    return [incident_of[e] for e in given], pd.DataFrame(links, columns=link_columns)


def incidents(n_reports: int, pairs: pd.DataFrame, linked: Sequence[bool]) -> np.ndarray:
    """The incident of each report: the connected components of the linked pairs.

    >>> pairs = pd.DataFrame({"i": [0, 1, 3], "j": [1, 2, 4]})
    >>> incidents(6, pairs, [True, True, False]).tolist()
    [0, 0, 0, 1, 2, 3]
    """
    mask = np.asarray(linked, dtype=bool)
    i, j = pairs["i"].to_numpy(int)[mask], pairs["j"].to_numpy(int)[mask]
    graph = sp.coo_matrix((np.ones(i.size), (i, j)), shape=(n_reports, n_reports))
    _, labels = connected_components(graph, directed=False)
    return labels


def pairwise_scores(
    predicted: Sequence, truth: Sequence, sources: Sequence[str]
) -> dict[str, float | int | None]:
    """Precision and recall over the pairs of reports of different channels put in one incident.

    ``truth`` holds each report's true incident (None: its own). A pair is
    predicted when both reports share a predicted incident, true when they
    share a true one.

    >>> pairwise_scores([0, 0, 1, 2], ["a", "a", "a", None], ["grid", "hotline", "video", "grid"])
    {'predicted_pairs': 1, 'true_pairs': 3, 'correct_pairs': 1, 'precision': 1.0, 'recall': 0.3333}
    """

    def cross_pairs(labels) -> set[tuple[int, int]]:
        groups: dict = {}
        for k, label in enumerate(labels):
            if label is not None and label == label:
                groups.setdefault(label, []).append(k)
        pairs = set()
        for members in groups.values():
            for a_at, a in enumerate(members):
                for b in members[a_at + 1 :]:
                    if sources[a] != sources[b]:
                        pairs.add((a, b))
        return pairs

    predicted_pairs, true_pairs = cross_pairs(predicted), cross_pairs(truth)
    correct = len(predicted_pairs & true_pairs)
    return {
        "predicted_pairs": len(predicted_pairs),
        "true_pairs": len(true_pairs),
        "correct_pairs": correct,
        "precision": round(correct / len(predicted_pairs), 4) if predicted_pairs else None,
        "recall": round(correct / len(true_pairs), 4) if true_pairs else None,
    }
