"""``zongzhi eval fusion``: are reports of one incident across channels linked, and only those?

Two simulated streams of the district (``days`` each, the usual background
plus ``incidents_per_day`` planted incidents that several channels report,
of the kinds in ``incident_fusion.file``) go through the real contract, in
this process: the reports the fusion sees are normalized events, with
pseudonymous people and scrubbed text. The linker learns the weight of
each piece of evidence on the first stream's candidates and is judged on
the second's: pairwise precision and recall over the pairs of reports of
different channels, against the planted truth. Goals: 0.95 each.

``stream_rule`` scores what the hotspot job does with the second stream:
the declared linker, a slice of event time at a time. ``--detection``
(``pipelines.cli``) adds the hotspot job's false alarms on a stream with
these incidents, counting incidents against counting reports
(:func:`pipelines.harness.hotspot_eval.run_eval`).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

from features.contract import NORMALIZED, route_raw_record
from models.incident_fusion import (
    IncidentLinker,
    candidate_pairs,
    compatible_categories,
    incidents,
    pair_evidence,
    pairwise_scores,
    report_entities,
)
from pipelines.settings import Settings
from pipelines.streaming.slice_fusion import SliceFusion, fusable_categories

__all__ = ["GOAL", "event_report", "normalized_reports", "run_eval", "stream_fusion"]

#: The issue's goal for pairwise precision and recall.
GOAL = 0.95
#: The streams' first day (in the past, so that no record is "future").
_START = datetime.fromisoformat("2026-10-05T00:00:00+08:00")
#: The confidences the precision-recall trade-off is shown at.
_CURVE = (0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
#: Links shown with their evidence in the report.
_EXAMPLES = 5


def normalized_reports(settings: Settings, records, ctx) -> pd.DataFrame:
    """The simulated records that normalize, as a fusion reports frame (with their true ``incident``)."""
    grid = ctx.district.grid
    now_ms = int(time.time() * 1000)
    rows = []
    for offset, record in enumerate(records):
        destination, _, payload = route_raw_record(
            record.value.encode("utf-8"),
            ctx,
            now_ms,
            channel=record.source,
            topic=record.source,
            partition=0,
            offset=offset,
        )
        if destination != NORMALIZED:
            continue
        report = event_report(json.loads(payload), grid)
        rows.append({**report, "incident": (record.truth or {}).get("incident")})
    return pd.DataFrame(rows)


def event_report(event: dict, grid) -> dict:
    """A normalized event as a row of a fusion reports frame (as the hotspot job's SQL reads it)."""
    x, y = grid.to_metres(event["lon"], event["lat"])
    attributes = event["attributes"]
    text = attributes.get("description")
    return {
        "event_id": event["event_id"],
        "source": event["source"],
        "category": event["category"],
        "time_s": event["event_time_ms"] / 1000,
        "x_m": x,
        "y_m": y,
        "text": (attributes.get("text") if text is None else text) or "",
        "entities": report_entities(event["persons"], event["vehicles"]),
    }


def _stream(settings, ctx, rules, *, days, incidents_per_day, seed, start) -> pd.DataFrame:
    from pipelines.harness.simulation_run import build_simulator

    simulator = build_simulator(
        settings,
        start=start,
        seed=seed,
        malformed_fraction=0.0,
        population_seed=1,
        incidents_per_day=incidents_per_day,
        incident_kinds=rules["incident_kinds"],
    )
    return normalized_reports(settings, simulator.records(start, timedelta(days=days)), ctx)


def _candidates(reports: pd.DataFrame, rules: dict, compatible) -> tuple[pd.DataFrame, ...]:
    bounds = {
        "max_distance_m": rules["max_distance_m"],
        "max_gap_s": rules["max_gap_minutes"] * 60,
    }
    pairs = candidate_pairs(reports, compatible, **bounds)
    evidence = pair_evidence(reports, pairs, **bounds)
    truth = reports["incident"].to_numpy(object)
    i, j = pairs["i"].to_numpy(int), pairs["j"].to_numpy(int)
    same = np.array(
        [truth[a] is not None and truth[a] == truth[b] for a, b in zip(i, j, strict=True)], bool
    )
    return pairs, evidence, same


def _curve(confidence, pairs, truth, sources, thresholds) -> list[dict]:
    """Pairwise precision and recall of the incidents at each confidence threshold."""
    points = []
    for threshold in thresholds:
        at = pairwise_scores(
            incidents(len(truth), pairs, confidence >= threshold).tolist(), truth, sources
        )
        points.append(
            {"min_confidence": threshold, "precision": at["precision"], "recall": at["recall"]}
        )
    return points


def _best_points(curve: list[dict]) -> dict:
    """The threshold of best F1, and the best recall at a precision of at least :data:`GOAL`."""
    scored = [p for p in curve if p["precision"] is not None and p["recall"] is not None]

    def f1(p):
        total = p["precision"] + p["recall"]
        return 2 * p["precision"] * p["recall"] / total if total else 0.0

    best = max(scored, key=f1, default=None)
    precise = [p for p in scored if p["precision"] >= GOAL]
    return {
        "best_f1": None if best is None else {**best, "f1": round(f1(best), 4)},
        f"best_recall_at_precision_{GOAL}": max((p["recall"] for p in precise), default=0.0),
    }


def stream_fusion(reports: pd.DataFrame, rules: dict, slide_s: int) -> tuple[dict, pd.DataFrame]:
    """The hotspot job's fusion of ``reports``, in process: each report's incident, and the links.

    The reports of the kinds' categories go through the job's own
    :meth:`pipelines.streaming.slice_fusion.SliceFusion.fuse_frame` a slice
    of event time at a time (slices of ``slide_s`` from the epoch, as the
    job's windows); every other report is an incident of its own.
    ``reports`` is a frame of :func:`normalized_reports` (its ``incident``
    truth unused).
    """
    fusion = SliceFusion(rules)
    reports = reports.drop(columns="incident", errors="ignore")
    fused = reports[reports["category"].isin(fusable_categories(rules))]
    label = dict(zip(reports["event_id"], reports["event_id"], strict=True))
    recent, links = None, []
    for slice_index, arrivals in fused.groupby(fused["time_s"] // slide_s, sort=True):
        slice_end_ms = (int(slice_index) + 1) * slide_s * 1000
        arrivals, recent, joined = fusion.fuse_frame(slice_end_ms, arrivals, recent)
        label.update(zip(arrivals["event_id"], arrivals["incident"], strict=True))
        links.append(joined)
    links = [frame for frame in links if len(frame)]
    return label, pd.concat(links, ignore_index=True) if links else pd.DataFrame()


def _stream_rule(test: pd.DataFrame, rules: dict, slide_s: int) -> dict:
    """:func:`stream_fusion` on the test stream, scored as the batch linker is."""
    label, links = stream_fusion(test, rules, slide_s)
    scores = pairwise_scores(
        [label[e] for e in test["event_id"]], test["incident"].tolist(), test["source"].tolist()
    )
    return {
        "slice_minutes": slide_s // 60,
        "linker": rules["linker"],
        "min_confidence": rules["min_confidence"],
        "reports_joined": len(links),
        "pairwise": scores,
    }


def run_eval(settings: Settings, *, days: float, incidents_per_day: float, seed: int) -> dict:
    """Train the linker on one stream, judge it on another; the report (goals alongside)."""
    from pipelines.io.platform_state import load_incident_fusion
    from pipelines.streaming.normalize_job import normalization_context

    started = time.monotonic()
    rules = load_incident_fusion(settings)
    compatible = compatible_categories(rules["incident_kinds"])
    # The fusion reads what the contract makes; the hotline router is not its business.
    ctx = replace(normalization_context(settings), hotline_router=None)
    stream = dict(
        days=days, incidents_per_day=incidents_per_day, start=_START, rules=rules, ctx=ctx
    )
    train = _stream(settings, seed=seed, **stream)
    test = _stream(settings, seed=seed + 1, **{**stream, "start": _START + timedelta(days=days)})

    _, train_evidence, train_same = _candidates(train, rules, compatible)
    linker = IncidentLinker(min_confidence=rules["min_confidence"]).fit(train_evidence, train_same)
    pairs, evidence, same = _candidates(test, rules, compatible)
    confidence = linker.predict_proba(evidence)[:, 1]
    linked = confidence >= rules["min_confidence"]
    labels = incidents(len(test), pairs, linked)
    truth = test["incident"].tolist()
    sources = test["source"].tolist()
    scores = pairwise_scores(labels.tolist(), truth, sources)
    in_reach = pairwise_scores(incidents(len(test), pairs, same).tolist(), truth, sources)["recall"]
    curve = _curve(confidence, pairs, truth, sources, _CURVE)
    # What the evidence allows: a flexible model (boosted trees, any
    # interaction of the evidence) on the same candidates. If it does no
    # better than the linker, the evidence, not the linker, is the limit.
    flexible = HistGradientBoostingClassifier(random_state=seed).fit(
        train_evidence.to_numpy(float), train_same
    )
    flexible_confidence = flexible.predict_proba(evidence.to_numpy(float))[:, 1]
    fine = tuple(round(x, 2) for x in np.arange(0.05, 1.0, 0.05))
    operating = {
        "linker": _best_points(_curve(confidence, pairs, truth, sources, fine)),
        "boosted_trees": _best_points(_curve(flexible_confidence, pairs, truth, sources, fine)),
    }
    planted = test["incident"].dropna()
    examples = []
    for k in np.flatnonzero(linked)[:_EXAMPLES]:
        a, b = int(pairs["i"][k]), int(pairs["j"][k])
        examples.append(
            {
                "reports": [test["event_id"][a], test["event_id"][b]],
                "categories": [test["category"][a], test["category"][b]],
                "distance_m": round(float(pairs["distance_m"][k]), 1),
                "gap_minutes": round(float(pairs["gap_s"][k]) / 60, 1),
                "evidence": {c: round(float(evidence[c][k]), 3) for c in evidence.columns},
                "confidence": round(float(confidence[k]), 3),
                "truly_one_incident": bool(same[k]),
            }
        )
    return {
        "setup": {
            "days_per_stream": days,
            "incidents_per_day": incidents_per_day,
            "seed": seed,
            "incident_kinds": sorted(rules["incident_kinds"]),
            "max_distance_m": rules["max_distance_m"],
            "max_gap_minutes": rules["max_gap_minutes"],
            "min_confidence": rules["min_confidence"],
        },
        "train": {
            "reports": len(train),
            "candidates": len(train_evidence),
            "candidates_one_incident": int(train_same.sum()),
        },
        "test": {
            "reports": len(test),
            "planted_incidents": int(planted.nunique()),
            "reports_of_planted_incidents": len(planted),
            "candidates": len(pairs),
            "candidates_one_incident": int(same.sum()),
            "links": int(linked.sum()),
            "incidents": int(len(np.unique(labels))),
        },
        "weights": {"intercept": linker.intercept_, **linker.coefficients_},
        "pairwise": scores,
        "recall_within_bounds": in_reach,
        "precision_recall_by_min_confidence": curve,
        "best_operating_points": operating,
        "examples": examples,
        "goals": {
            f"precision >= {GOAL}": scores["precision"] is not None and scores["precision"] >= GOAL,
            f"recall >= {GOAL}": scores["recall"] is not None and scores["recall"] >= GOAL,
        },
        "stream_rule": _stream_rule(
            test, rules, int(settings.hotspot["window_slide_minutes"]) * 60
        ),
        "detection": "not run: add --detection (needs Kafka) for the hotspot job's false "
        "alarms counting incidents against counting reports",
        "seconds": round(time.monotonic() - started, 1),
    }
