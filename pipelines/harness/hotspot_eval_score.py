"""Scoring ``zongzhi eval hotspots``: the alerts of two streams against the planted surges.

A cluster (an ``alert_id``) *matches* a surge when it is in the surge's
category, one of its updates covers one of the surge's cells, and it first
fires between the surge's start and its end plus one window (or plus its
longest cylinder, for a longer time scale's cluster). The oracle
reference says what a detector told where each surge is could reach.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

import numpy as np

from pipelines.harness.hotspot_eval_plan import SurgePlan

__all__ = ["score_alerts", "recall_by_strength", "oracle_reference"]


def _clusters(alerts: list[dict]) -> dict:
    clusters: dict = {}
    for alert in alerts:
        clusters.setdefault(alert["alert_id"], []).append(alert)
    return clusters


def score_alerts(
    surge_alerts: list[dict],
    null_alerts: list[dict],
    plans: list[SurgePlan],
    *,
    window_minutes: int,
    hours: float,
    towns: int,
) -> dict:
    """Precision, recall, delays and the null stream's false-alarm rate.

    Examples
    --------
    >>> from features.local_time import DISTRICT_TZ
    >>> t0 = datetime(2026, 11, 20, 9, 0, tzinfo=DISTRICT_TZ)
    >>> plan = SurgePlan("r1", "fight", t0, t0 + timedelta(hours=1), 3.0, 1.0)
    >>> hit = {"alert_id": "a", "category": "fight", "cells": ["r1", "r2"],
    ...        "status": "new", "window_end": "2026-11-20T09:10:00+08:00",
    ...        "first_window_end": "2026-11-20T09:10:00+08:00"}
    >>> miss = dict(hit, alert_id="b", category="theft")
    >>> r = score_alerts([hit, miss], [], [plan], window_minutes=30, hours=24, towns=2)
    >>> r["precision"], r["recall"], r["detection_delay_minutes"]["median"]
    (0.5, 1.0, 10.0)
    """
    clusters = _clusters(surge_alerts)
    matched_surges: dict = {}
    true_clusters = set()
    for cluster_id, updates in clusters.items():
        first_end = min(
            datetime.fromisoformat(u["first_window_end"])
            for u in updates
            if u.get("first_window_end")
        )
        for i, plan in enumerate(plans):
            if updates[0]["category"] != plan.category:
                continue
            if not any(set(plan.covered) & set(u["cells"]) for u in updates):
                continue
            # A longer scale's cylinder reaches further back than the base window.
            reach = max([window_minutes, *(u.get("duration_minutes", 0) for u in updates)])
            if not plan.start < first_end <= plan.end + timedelta(minutes=reach):
                continue
            true_clusters.add(cluster_id)
            delay = (first_end - plan.start).total_seconds() / 60
            matched_surges[i] = min(delay, matched_surges.get(i, delay))
    delays = sorted(matched_surges.values())
    null_clusters = len(_clusters(null_alerts))
    weeks = hours / 168
    return {
        "surges": len(plans),
        "clusters": len(clusters),
        "true_clusters": len(true_clusters),
        "precision": round(len(true_clusters) / len(clusters), 4) if clusters else None,
        "recall": round(len(matched_surges) / len(plans), 4) if plans else None,
        "detection_delay_minutes": {
            "median": round(statistics.median(delays), 2) if delays else None,
            "p90": round(_quantile(delays, 0.9), 2) if delays else None,
        },
        "missed": [i for i in range(len(plans)) if i not in matched_surges],
        "null_clusters": null_clusters,
        "false_alarms_per_town_week": round(null_clusters / towns / weeks, 4),
    }


def recall_by_strength(plans: list[SurgePlan], missed: list[int]) -> dict:
    """Recall per band of the background a surge's first 30 minutes expected.

    Whether a surge of a given multiple can be told from chance depends on
    how many events it adds: 3 x 1 expected event is 3 events, 3 x 20 is 60.

    Examples
    --------
    >>> from features.local_time import DISTRICT_TZ
    >>> t = datetime(2026, 11, 20, 9, 0, tzinfo=DISTRICT_TZ)
    >>> plans = [SurgePlan("a", "x", t, t, 3.0, 1.0, (), e) for e in (2.0, 8.0, 30.0, 40.0)]
    >>> recall_by_strength(plans, [0, 2])
    {'<5': {'surges': 1, 'recall': 0.0}, '5-15': {'surges': 1, 'recall': 1.0}, '>=15': {'surges': 2, 'recall': 0.5}}
    """
    bands = {"<5": (0, 5), "5-15": (5, 15), ">=15": (15, float("inf"))}
    out = {}
    for name, (lo, hi) in bands.items():
        members = [i for i, p in enumerate(plans) if lo <= p.expected_per_window < hi]
        if members:
            found = sum(i not in missed for i in members)
            out[name] = {"surges": len(members), "recall": round(found / len(members), 4)}
    return out


def oracle_reference(
    plans: list[SurgePlan],
    *,
    budget_per_town_month: float,
    slide_minutes: int,
    window_minutes: int,
    seed: int = 0,
    towns: int = 1,
) -> dict:
    """What a detector told each surge's zone and category could reach at the budget.

    See :mod:`models.detection_power`: the oracle spends its town's whole
    monthly budget on the surge's zone, with no share for other zones,
    durations or categories; a detector that keeps to the budget without
    being told should not expect a higher recall or shorter delays.
    """
    from models.detection_power import alpha_per_look, power_weighted_median, three_oracles

    rng = np.random.default_rng(seed)
    alpha = alpha_per_look(budget_per_town_month, slide_minutes)
    oracles = {"single_window": [], "cusum_town": [], "cusum_district": []}
    for plan in plans:
        if not plan.expected_per_slice:
            continue
        surge_slices = max(
            1, int(round((plan.end - plan.start).total_seconds() / 60 / slide_minutes))
        )
        refs = three_oracles(
            plan.expected_per_slice,
            plan.multiplier,
            surge_slices,
            slide_minutes=slide_minutes,
            slices_per_window=window_minutes // slide_minutes,
            budget_per_town_month=budget_per_town_month,
            towns=towns,
            rng=rng,
        )
        for name, ref in refs.items():
            oracles[name].append(ref)
    powers = oracles["single_window"]
    if not powers:
        return {}
    # Per surge, the oracle's median delay when it detects; their median.
    delays = [p.median_delay_minutes for p in powers if p.median_delay_minutes is not None]
    return {
        "alpha_per_look": alpha,
        "recall": round(float(np.mean([p.power for p in powers])), 4),
        "median_delay_minutes": (round(statistics.median(delays), 2) if delays else None),
        "power_by_surge": [p.power for p in powers],
        # The three references side by side: today's single window at the
        # per-town budget, a known-zone CUSUM at the per-town budget counted in
        # clusters, and the same CUSUM spending the district's budget.
        "oracles": {
            name: {
                "recall": round(float(np.mean([o.power for o in found])), 4),
                "power_weighted_median_delay_minutes": power_weighted_median(
                    [o.median_delay_minutes for o in found], [o.power for o in found]
                ),
                "power_by_surge": [o.power for o in found],
            }
            for name, found in oracles.items()
        },
    }


def _quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile of sorted values."""
    import math

    return values[max(0, math.ceil(q * len(values)) - 1)]
