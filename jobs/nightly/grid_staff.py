"""考核 of grid staff: per grid worker and month, reports filed, verified on handling, rewarded.

A grid report (source ``grid``, its worker in ``attributes.reporter_id``)
is **verified on handling** when it lies in a hotspot alert whose case the
closed loop verified (state 已核查 or 已结案): same category, a cell of the
alert, an event time within the alert's window. A verified report
**qualifies for the reporting reward** (事件上报奖励) when it was reported
within ``nightly.grid_reward_max_delay_minutes`` of the event. Months are
the district's (Asia/Shanghai).

>>> import pandas as pd
>>> reports = pd.DataFrame({"event_id": ["a", "b", "c"], "reporter_id": ["G1", "G1", "G2"],
...     "category": ["public_order.fight"] * 3, "cell_id": ["r1c1", "r1c1", "r9c9"],
...     "event_time_ms": [1_765_000_000_000] * 3,
...     "report_time_ms": [1_765_000_600_000, 1_765_009_000_000, 1_765_000_600_000]})
>>> verified = pd.DataFrame({"category": ["public_order.fight"], "cells": [["r1c1"]],
...     "window_start_ms": [1_764_999_000_000], "window_end_ms": [1_765_001_000_000]})
>>> grid_staff_monthly(reports, verified, max_delay_minutes=60).to_dict("records")
... # doctest: +NORMALIZE_WHITESPACE
[{'month': datetime.date(2025, 12, 1), 'reporter_id': 'G1', 'reports': 2, 'verified': 2,
  'share_verified': 1.0, 'reward_qualifying': 1},
 {'month': datetime.date(2025, 12, 1), 'reporter_id': 'G2', 'reports': 1, 'verified': 0,
  'share_verified': 0.0, 'reward_qualifying': 0}]
"""

from __future__ import annotations

import pandas as pd

from features.local_time import DISTRICT_TZ_NAME

__all__ = ["GRID_STAFF_COLUMNS", "grid_reports", "grid_staff_monthly"]

GRID_STAFF_COLUMNS = [
    "month",
    "reporter_id",
    "reports",
    "verified",
    "share_verified",
    "reward_qualifying",
]


def grid_reports(events):
    """The grid channel's reports with their worker (Spark in, pandas out; one row per event)."""
    from pyspark.sql import functions as F

    return (
        events.where(F.col("source") == "grid")
        .select(
            "event_id",
            F.get_json_object("attributes_json", "$.reporter_id").alias("reporter_id"),
            "category",
            "cell_id",
            "event_time_ms",
            "report_time_ms",
        )
        .where(F.col("reporter_id").isNotNull())
        .toPandas()
    )


def _verified_ids(reports: pd.DataFrame, verified: pd.DataFrame) -> set:
    """Ids of the reports that lie in a verified alert (category, cell, window)."""
    if reports.empty or verified.empty:
        return set()
    spans = verified.explode("cells").rename(columns={"cells": "cell_id"})
    joined = reports.merge(spans, on=["category", "cell_id"])
    inside = joined[
        (joined["event_time_ms"] >= joined["window_start_ms"])
        & (joined["event_time_ms"] <= joined["window_end_ms"])
    ]
    return set(inside["event_id"])


def grid_staff_monthly(
    reports: pd.DataFrame, verified: pd.DataFrame, *, max_delay_minutes: float
) -> pd.DataFrame:
    """Per month and worker: reports, verified on handling, their share, and reward-qualifying."""
    if reports.empty:
        return pd.DataFrame(columns=GRID_STAFF_COLUMNS)
    ids = _verified_ids(reports, verified)
    frame = reports.assign(
        month=pd.to_datetime(reports["event_time_ms"], unit="ms", utc=True)
        .dt.tz_convert(DISTRICT_TZ_NAME)
        .dt.tz_localize(None)
        .dt.to_period("M")
        .dt.start_time.dt.date,
        is_verified=reports["event_id"].isin(ids),
    )
    delay_ms = frame["report_time_ms"] - frame["event_time_ms"]
    frame["qualifies"] = frame["is_verified"] & (delay_ms <= max_delay_minutes * 60_000)
    out = (
        frame.groupby(["month", "reporter_id"], sort=True)
        .agg(
            reports=("event_id", "size"),
            verified=("is_verified", "sum"),
            reward_qualifying=("qualifies", "sum"),
        )
        .reset_index()
    )
    out["share_verified"] = (out["verified"] / out["reports"]).round(4)
    return out.astype({"reports": int, "verified": int, "reward_qualifying": int})[
        GRID_STAFF_COLUMNS
    ]
