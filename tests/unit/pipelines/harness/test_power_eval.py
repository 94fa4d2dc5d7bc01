"""The offline power eval: planted surges, matching, and the oracles beside them."""

import numpy as np

from models.detection_power import power_weighted_median
from pipelines.harness.power_eval import CURVE_MULTIPLES, SURGE_KINDS, _clusters, run_power_eval


def test_clusters_gather_their_updates_cells_and_longest_cylinder():
    from models.cluster_lifecycle import ClusterTracker

    a1, a2 = frozenset({"r1"}), frozenset({"r1", "r2"})
    looks = [
        (300, [("fight", a1, 9.0, 1e-5, 5)]),
        (600, [("fight", a2, 12.0, 1e-6, 30)]),
        (900, [("fight", a2, 7.0, 0.5, 30)]),  # above the threshold: not reported
        (1200, []),
    ]
    tracker = ClusterTracker(lambda c: (), slide_s=300, quiet_looks=2)
    (cluster,) = _clusters(looks, 1e-4, tracker)
    assert cluster == {"category": "fight", "first_end_s": 300, "cells": {"r1", "r2"}, "reach": 30}


def test_a_short_power_eval_plants_matches_and_prices_every_surge(short_scale_settings):
    report = run_power_eval(short_scale_settings, surges=2, seeds=(0,))
    assert report["surges"] == 2
    assert [r["kind"] for r in report["by_surge"]] == [k[0] for k in SURGE_KINDS[:2]]
    for row in report["by_surge"]:
        assert row["cells"] >= 1 and row["background_events"] > 0
        assert row["found"] == (row["delay_minutes"] is not None) == bool(row["scales"])
        powers = {name: o["power"] for name, o in row["oracles"].items()}
        # Spending the district's budget on the block never does worse than a town's.
        assert powers["cusum_district"] >= powers["cusum_town"] - 0.05
    assert report["true_clusters"] <= report["clusters"]
    assert report["recall"] == np.mean([r["found"] for r in report["by_surge"]])
    # The curve's point at the configured thresholds is the report itself, and
    # looser thresholds find at least as much, false clusters included.
    curve = {p["threshold_multiple"]: p for p in report["curve"]}
    assert [p["threshold_multiple"] for p in report["curve"]] == list(CURVE_MULTIPLES)
    assert curve[1.0]["recall"] == report["recall"]
    assert curve[1.0]["false_clusters"] == report["false_clusters"]["clusters"]
    recalls = [p["recall"] for p in report["curve"]]
    assert recalls == sorted(recalls)
    town = report["oracles"]["cusum_town"]
    assert town["recall"] == round(
        float(np.mean([r["oracles"]["cusum_town"]["power"] for r in report["by_surge"]])), 4
    )


def test_the_power_weighted_median_leans_on_the_surges_an_oracle_finds():
    assert power_weighted_median([5, 100, 200], [0.9, 0.05, 0.05]) == 5.0
    assert power_weighted_median([None, 7], [1.0, 0.0]) is None
