"""Feedback into detection: did the place cool after its case closed?

For every closed case of a hotspot alert, once ``alert_service.cooling.hours``
have passed since its closure and the lake holds events past them, the
service counts the events of the alert's category in its cells over those
hours (the lake, read with DuckDB) and compares them with what the nightly
baselines expect there (``serving.cell_baselines``: the cells' hourly rates
times the hours). :func:`models.case_outcome.cooling_verdict` decides
whether the place cooled. The outcome is kept in ``duty.case_outcomes``
(read by dashboards as ``serving.case_outcomes``) and the case's trail.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from features.lake_schema import PARTITION_COLUMN
from models.case_outcome import cooling_verdict
from pipelines.service.duty_store import DutyStore

__all__ = ["CaseOutcomes"]

log = logging.getLogger(__name__)


class CaseOutcomes:
    """Measures closed hotspot cases once their following hours are in the lake."""

    def __init__(self, store: DutyStore, lake: Path, schema: str, *, hours: float, alpha: float):
        self.store = store
        self.lake = Path(lake)
        self.schema = schema
        self.hours = float(hours)
        self.alpha = float(alpha)

    def _events(self, start: datetime, end: datetime, category: str, cells: list[str]):
        """``(events, lake_reaches_end)``: distinct events of the window, and whether the lake covers it."""
        days = sorted(
            {(start + timedelta(days=d)).date().isoformat() for d in range((end - start).days + 2)}
        )
        files = [
            str(path)
            for day in days
            for path in sorted((self.lake / f"{PARTITION_COLUMN}={day}").glob("*.parquet"))
        ]
        if not files:
            return 0, False
        start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
        with duckdb.connect() as db:
            count, latest = db.execute(
                "SELECT count(DISTINCT event_id) FILTER (WHERE category = ? AND "
                "list_contains(?, cell_id) AND event_time_ms >= ? AND event_time_ms < ?), "
                "max(event_time_ms) FROM read_parquet(?, union_by_name = true)",
                [category, cells, start_ms, end_ms, files],
            ).fetchone()
        return int(count), latest is not None and latest >= end_ms

    def measure_due(self, now: datetime) -> list[dict]:
        """Measure every closed hotspot case whose following hours have passed; the outcomes."""
        with self.store.transaction() as cur:
            cur.execute(
                f"SELECT c.case_id, c.alert_id, c.closed_at, a.category, a.cells "
                f"FROM duty.cases c JOIN {self.schema}.alerts a ON a.alert_id = c.alert_id "
                f"LEFT JOIN duty.case_outcomes o ON o.case_id = c.case_id "
                f"WHERE c.state = 'closed' AND o.case_id IS NULL AND c.closed_at <= %s",
                (now - timedelta(hours=self.hours),),
            )
            due = [dict(r) for r in cur.fetchall()]
        outcomes = []
        for case in due:
            start = case["closed_at"]
            end = start + timedelta(hours=self.hours)
            cells = list(case["cells"] or [])
            observed, covered = self._events(start, end, case["category"], cells)
            if not covered:
                continue  # the lake does not reach past the window yet
            outcomes.append(self._record(case, start, end, cells, observed, now))
        return outcomes

    def _record(self, case, start, end, cells, observed, now) -> dict:
        with self.store.transaction() as cur:
            cur.execute(
                f"SELECT coalesce(sum(rate_per_hour), 0) AS rate FROM {self.schema}.cell_baselines "
                "WHERE category = %s AND cell_id = ANY(%s)",
                (case["category"], cells),
            )
            expected = float(cur.fetchone()["rate"]) * self.hours
            verdict = cooling_verdict(observed=observed, expected=expected, alpha=self.alpha)
            outcome = {
                "case_id": case["case_id"],
                "alert_id": case["alert_id"],
                "category": case["category"],
                "cells": cells,
                "window_start": start,
                "window_end": end,
                "observed_after": verdict.observed,
                "expected_after": round(verdict.expected, 6),
                "p_value": verdict.p_value,
                "cooled": verdict.cooled,
                "measured_at": now,
            }
            cur.execute(
                f"INSERT INTO duty.case_outcomes ({', '.join(outcome)}) VALUES "
                f"({', '.join(['%s'] * len(outcome))}) ON CONFLICT DO NOTHING",
                tuple(outcome.values()),
            )
            self.store.audit(
                cur,
                now,
                "system",
                "cooling",
                case["case_id"],
                {
                    "observed": verdict.observed,
                    "expected": round(verdict.expected, 3),
                    "p_value": round(verdict.p_value, 6),
                    "cooled": verdict.cooled,
                },
            )
        log.info(
            "case %s: %d events against %.2f expected in the %g h after closure: %s",
            case["case_id"],
            observed,
            expected,
            self.hours,
            "cooled" if verdict.cooled else "still hot",
        )
        return outcome
