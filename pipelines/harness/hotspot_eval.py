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
from datetime import datetime, timedelta

from features.local_time import DISTRICT_TZ
from pipelines.harness.hotspot_eval_plan import SurgePlan, plan_surges
from pipelines.harness.hotspot_eval_score import oracle_reference, recall_by_strength, score_alerts
from pipelines.io.platform_state import load_district
from pipelines.settings import Settings
from pipelines.streaming.hotspot_job import scored_categories

# The planning and scoring names are re-exported: callers import them from here.
__all__ = ["SurgePlan", "plan_surges", "score_alerts", "oracle_reference", "run_eval"]

log = logging.getLogger(__name__)


def _stream_alerts(
    settings: Settings, *, start, hours, rate, seed, surges, incidents_per_day=0.0
) -> tuple[list, dict]:
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
        incidents_per_day=incidents_per_day,
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


def _counting_reports(settings: Settings, null_alerts: list, null_counts: dict) -> dict:
    """The null stream scored again counting every report: false alarms with fusion on and off.

    The normalized topic stays; the hotspot job's offsets, checkpoint and
    outputs are reset, and it runs again with ``--count-reports``. Read
    first: the links the fusion-on run wrote.
    """
    from pipelines.harness.steps import run_step
    from pipelines.harness.streams import forget_groups
    from pipelines.io.kafka import consume_topic_values, reset_topics
    from pipelines.streaming.hotspot_job import GROUP_ID

    links = [
        json.loads(v) for v in consume_topic_values(settings, settings.topic("incident_links"))
    ]
    forget_groups(settings, [GROUP_ID])
    reset_topics(settings, [settings.topic(t) for t in ("alerts", "late", "incident_links")])
    run_step(settings, "hotspots", "--count-reports")
    counting_reports = [
        json.loads(v) for v in consume_topic_values(settings, settings.topic("alerts"))
    ]
    clusters = {"incidents": null_alerts, "reports": counting_reports}
    return {
        "links": len(links),
        "reports_joined_share": round(len(links) / null_counts["normalized"], 4)
        if null_counts["normalized"]
        else None,
        "null_clusters_counting": {k: len({a["alert_id"] for a in v}) for k, v in clusters.items()},
        "examples": links[:3],
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
    incidents_per_day: float = 0.0,
) -> dict:
    """Run the whole evaluation; return the report.

    With ``incidents_per_day``, every stream also holds incidents that
    several channels report (``zongzhi eval fusion``'s), and the report's
    ``incident_fusion`` compares the null stream's false alarms with the
    job counting incidents (the platform's default) and counting reports.
    With no ``surges``, the surge stream is not run.
    """
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
            settings,
            hours=history_hours,
            start=start,
            rate=rate,
            seed=seed,
            malformed_fraction=0.0,
            incidents_per_day=incidents_per_day,
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
        stream = dict(start=stream_start, hours=hours, rate=rate, seed=seed + 1)
        null_alerts, null_counts = _stream_alerts(
            settings, surges=(), incidents_per_day=incidents_per_day, **stream
        )
        fusion = (
            _counting_reports(settings, null_alerts, null_counts) if incidents_per_day else None
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
        surge_alerts, surge_counts = [], {"produced": 0, "normalized": 0, "late": 0}
        if plans:
            surge_alerts, surge_counts = _stream_alerts(
                settings, surges=specs, incidents_per_day=incidents_per_day, **stream
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
    if fusion is not None:
        weeks = hours / 168
        fusion["false_alarms_per_town_week"] = {
            k: round(v / len(district.towns) / weeks, 4)
            for k, v in fusion["null_clusters_counting"].items()
        }
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
                "incidents_per_day": incidents_per_day,
                "window_minutes": int(hotspot["window_size_minutes"]),
                "slide_minutes": int(hotspot["window_slide_minutes"]),
                "towns": len(district.towns),
                "nightly": nightly,
            },
            "streams": {"null": null_counts, "surge": surge_counts},
            "incident_fusion": fusion,
            "recall_by_expected_per_window": recall_by_strength(plans, report["missed"]),
            # The reference for the recall and delay goals: no detector within
            # the budget can beat an oracle told where each surge is.
            "oracle": oracle_reference(
                plans,
                budget_per_town_month=budget,
                slide_minutes=int(hotspot["window_slide_minutes"]),
                window_minutes=int(hotspot["window_size_minutes"]),
                seed=seed,
                towns=len(district.towns),
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
