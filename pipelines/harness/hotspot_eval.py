"""``zongzhi eval hotspots``: the detector against planted ground truth.

Everything runs for real: the simulator produces to Kafka, the Flink
normalization job and the lake loader fill a lake of its own
(``var/eval/lake``), the Spark nightly job writes baselines from a history
stream, and the Flink hotspot job scores two equally long streams that
share their background: a null stream and the same stream with planted
surges. The report compares the alerts with what was planted:

* a cluster *matches* a surge when it is in the surge's category, one of
  its updates covers the surge's cell, and it first fires between the
  surge's start and its end plus one window;
* precision: matching clusters over all clusters of the surge stream;
  recall: surges matched by at least one cluster;
* detection delay: first matching window end minus the surge's start, in
  event time (the alert can fire no earlier: the window must close, after
  the watermark allowance);
* false alarms per town per week: clusters of the null stream, where every
  alert is false, against the configured budget.

The eval resets the platform's Kafka topics and consumer groups (as the
demo does) and rewrites the nightly serving tables; run it on a development
stack, not on a production one.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from features.local_time import DISTRICT_TZ
from pipelines.errors import UsageError
from pipelines.io.platform_state import load_district
from pipelines.settings import Settings
from pipelines.streaming.hotspot_job import scored_categories

__all__ = ["SurgePlan", "plan_surges", "score_alerts", "run_eval"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SurgePlan:
    cell_id: str
    category: str
    start: datetime
    end: datetime
    multiplier: float
    base_rate_per_hour: float
    #: Every cell the surge covers (the centre cell alone, or its block).
    cells: tuple = ()
    #: Background events the covered cells expect in the surge's first window.
    expected_per_window: float = 0.0
    #: Background events the covered cells expect per slide, from the surge's
    #: start through one window after its end (the looks that can see it).
    expected_per_slice: tuple = ()

    @property
    def covered(self) -> tuple:
        return self.cells or (self.cell_id,)


def plan_surges(
    simulator,
    categories,
    *,
    start: datetime,
    hours: float,
    count: int,
    duration_min: float,
    multiplier: float,
    radius: int = 0,
    neighbours=None,
    slide_minutes: int = 5,
    window_minutes: int = 30,
) -> list[SurgePlan]:
    """``count`` surges, spread over the stream, in distinct busy cells and categories.

    Each goes to the busiest cell of a category that no earlier surge used
    (categories taken from the busiest down), and they start one after
    another, an hour after the stream starts, evenly spaced so that each
    ends well before the next starts. With ``radius`` > 0 a surge covers
    the block of cells within ``radius`` rows and columns of its centre
    (``neighbours(cell, radius)``), each at ``multiplier`` × its own rate:
    an incident wave over a neighbourhood rather than one square kilometre.
    """
    ranked = sorted(
        categories, key=lambda c: -simulator.base_rate(simulator.busiest_cells(c, 1)[0], c)
    )
    if count > len(ranked):
        raise UsageError(f"surges={count} exceeds the {len(ranked)} scored categories")
    usable_min = hours * 60 - 60 - duration_min - 30
    if count and usable_min < (count - 1) * (duration_min + 30):
        raise UsageError(
            f"{count} surges of {duration_min:g} min do not fit in {hours:g} h "
            "(each needs its duration plus 30 min, after a first hour)"
        )
    spacing = usable_min / max(count - 1, 1)
    plans, used_cells = [], set()
    for i, category in enumerate(ranked[:count]):
        cell = next(c for c in simulator.busiest_cells(category, 50) if c not in used_cells)
        used_cells.add(cell)
        begin = start + timedelta(minutes=60 + i * spacing)
        begin = begin.replace(second=0, microsecond=0)
        block = (cell, *neighbours(cell, radius)) if radius else (cell,)
        used_cells.update(block)
        window_mid = begin + timedelta(minutes=min(duration_min, 30) / 2)
        expected = (
            sum(simulator.expected_rate(c, category, window_mid) for c in block)
            * min(duration_min, 30)
            / 60
            if hasattr(simulator, "expected_rate")
            else 0.0
        )
        slices = int(-(-(duration_min + window_minutes) // slide_minutes))
        per_slice = (
            tuple(
                sum(
                    simulator.expected_rate(
                        c, category, begin + timedelta(minutes=(k + 0.5) * slide_minutes)
                    )
                    for c in block
                )
                * slide_minutes
                / 60
                for k in range(slices)
            )
            if hasattr(simulator, "expected_rate")
            else ()
        )
        plans.append(
            SurgePlan(
                cell,
                category,
                begin,
                begin + timedelta(minutes=duration_min),
                multiplier,
                sum(simulator.base_rate(c, category) for c in block),
                tuple(block),
                expected,
                per_slice,
            )
        )
    return plans


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
            if not plan.start < first_end <= plan.end + timedelta(minutes=window_minutes):
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


def _recall_by_strength(plans: list[SurgePlan], missed: list[int]) -> dict:
    """Recall per band of the background a surge's first 30 minutes expected.

    Whether a surge of a given multiple can be told from chance depends on
    how many events it adds: 3 x 1 expected event is 3 events, 3 x 20 is 60.

    Examples
    --------
    >>> t = datetime(2026, 11, 20, 9, 0, tzinfo=DISTRICT_TZ)
    >>> plans = [SurgePlan("a", "x", t, t, 3.0, 1.0, (), e) for e in (2.0, 8.0, 30.0, 40.0)]
    >>> _recall_by_strength(plans, [0, 2])
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
) -> dict:
    """What a detector told each surge's zone and category could reach at the budget.

    See :mod:`models.detection_power`: the oracle spends its town's whole
    monthly budget on the surge's zone, with no share for other zones,
    durations or categories; a detector that keeps to the budget without
    being told should not expect a higher recall or shorter delays.
    """
    from models.detection_power import alpha_per_look, oracle_power

    rng = np.random.default_rng(seed)
    alpha = alpha_per_look(budget_per_town_month, slide_minutes)
    powers = []
    for plan in plans:
        if not plan.expected_per_slice:
            continue
        surge_slices = max(
            1, int(round((plan.end - plan.start).total_seconds() / 60 / slide_minutes))
        )
        powers.append(
            oracle_power(
                plan.expected_per_slice,
                plan.multiplier,
                surge_slices,
                slide_minutes=slide_minutes,
                slices_per_window=window_minutes // slide_minutes,
                alpha=alpha,
                rng=rng,
            )
        )
    if not powers:
        return {}
    # Per surge, the oracle's median delay when it detects; their median.
    delays = [p.median_delay_minutes for p in powers if p.median_delay_minutes is not None]
    return {
        "alpha_per_look": alpha,
        "recall": round(float(np.mean([p.power for p in powers])), 4),
        "median_delay_minutes": (round(statistics.median(delays), 2) if delays else None),
        "power_by_surge": [p.power for p in powers],
    }


def _quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile of sorted values."""
    import math

    return values[max(0, math.ceil(q * len(values)) - 1)]


def _stream_alerts(settings: Settings, *, start, hours, rate, seed, surges) -> tuple[list, dict]:
    from pipelines.harness.simulation_run import simulate_to_kafka
    from pipelines.harness.steps import run_step
    from pipelines.harness.streams import fresh_streams
    from pipelines.io.kafka import consume_topic_values, topic_counts

    fresh_streams(settings)
    produced = simulate_to_kafka(
        settings,
        hours=hours,
        start=start,
        rate=rate,
        seed=seed,
        surges=surges,
        malformed_fraction=0.0,
    )
    run_step(settings, "normalize")
    run_step(settings, "hotspots")
    alerts = [json.loads(v) for v in consume_topic_values(settings, settings.topic("alerts"))]
    counts = topic_counts(settings, [settings.topic("normalized"), settings.topic("late")])
    return alerts, {
        "produced": produced["produced"],
        "normalized": counts[settings.topic("normalized")],
        "late": counts[settings.topic("late")],
    }


def run_eval(
    settings: Settings,
    *,
    history_hours: float,
    hours: float,
    rate: float,
    surges: int,
    multiplier: float,
    duration_min: float,
    seed: int = 7,
    radius: int = 0,
    start: datetime | None = None,
) -> dict:
    """Run the whole evaluation; return the report."""
    from pipelines.harness.simulation_run import build_simulator, simulate_to_kafka
    from pipelines.harness.steps import run_step
    from pipelines.harness.streams import fresh_streams

    hotspot = settings.hotspot
    lake = settings.var / "eval" / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    os.environ["ZONGZHI_LAKE"] = str(lake)  # the child steps inherit it
    try:
        start = start or datetime(2026, 11, 2, 0, 0, tzinfo=DISTRICT_TZ)  # a Monday
        stream_start = start + timedelta(hours=history_hours)
        log.info(
            "eval 1/3: %.0f h of history at %.0f events/h -> lake -> nightly", history_hours, rate
        )
        fresh_streams(settings)
        simulate_to_kafka(
            settings, hours=history_hours, start=start, rate=rate, seed=seed, malformed_fraction=0.0
        )
        run_step(settings, "normalize")
        run_step(settings, "lake")
        nightly = run_step(settings, "nightly", timeout=3600)
        simulator = build_simulator(settings, start=stream_start, seed=seed + 1, rate=rate)
        plans = plan_surges(
            simulator,
            scored_categories(hotspot),
            start=stream_start,
            hours=hours,
            count=surges,
            duration_min=duration_min,
            multiplier=multiplier,
            radius=radius,
            neighbours=load_district(settings).grid.neighbours,
            slide_minutes=int(hotspot["window_slide_minutes"]),
            window_minutes=int(hotspot["window_size_minutes"]),
        )
        log.info("eval 2/3: null stream, %.0f h", hours)
        null_alerts, null_counts = _stream_alerts(
            settings, start=stream_start, hours=hours, rate=rate, seed=seed + 1, surges=()
        )
        log.info("eval 3/3: the same stream with %d surges", len(plans))
        specs = [
            (
                cell,
                p.category,
                (p.start - stream_start).total_seconds() / 60,
                duration_min,
                multiplier,
            )
            for p in plans
            for cell in p.covered
        ]
        surge_alerts, surge_counts = _stream_alerts(
            settings, start=stream_start, hours=hours, rate=rate, seed=seed + 1, surges=specs
        )
    finally:
        os.environ.pop("ZONGZHI_LAKE", None)
    district = load_district(settings)
    report = score_alerts(
        surge_alerts,
        null_alerts,
        plans,
        window_minutes=int(hotspot["window_size_minutes"]),
        hours=hours,
        towns=len(district.towns),
    )
    budget = float(hotspot["alert_budget_per_town_month"])
    report.update(
        {
            "budget_per_town_month": budget,
            "budget_per_town_week": round(budget * 7 / 30, 4),
            "within_budget": report["false_alarms_per_town_week"] <= budget * 7 / 30,
            "setup": {
                "history_hours": history_hours,
                "hours": hours,
                "events_per_hour": rate,
                "surge_multiplier": multiplier,
                "surge_minutes": duration_min,
                "seed": seed,
                "surge_radius_cells": radius,
                "window_minutes": int(hotspot["window_size_minutes"]),
                "slide_minutes": int(hotspot["window_slide_minutes"]),
                "towns": len(district.towns),
                "nightly": nightly,
            },
            "streams": {"null": null_counts, "surge": surge_counts},
            "recall_by_expected_per_window": _recall_by_strength(plans, report["missed"]),
            # The reference for the recall and delay goals: no detector within
            # the budget can beat an oracle told where each surge is.
            "oracle": oracle_reference(
                plans,
                budget_per_town_month=budget,
                slide_minutes=int(hotspot["window_slide_minutes"]),
                window_minutes=int(hotspot["window_size_minutes"]),
                seed=seed,
            ),
            "planted": [
                {
                    "cell_id": p.cell_id,
                    "cells": len(p.covered),
                    "category": p.category,
                    "start": p.start.isoformat(),
                    "end": p.end.isoformat(),
                    "base_rate_per_hour": round(p.base_rate_per_hour, 4),
                    "expected_per_window": round(p.expected_per_window, 3),
                    "found": i not in report["missed"],
                }
                for i, p in enumerate(plans)
            ],
        }
    )
    return report
