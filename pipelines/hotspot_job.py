"""Hotspot job v1 (PyFlink): sliding event-time windows per cell and category.

Extract: the normalized topic, with event time from ``event_time_ms`` and a
bounded-out-of-orderness watermark. Transform: Flink SQL counts events per
cell and category in HOP windows (per-event work stays in SQL); only windows
that reach ``min_observed`` events go to Python, where
:mod:`models.poisson_surprise` scores them against the expected count from
the nightly baselines (:class:`features.baselines.ExpectedCounts`). Load: an
alert per surprising window to the ``alerts`` topic; ``pipelines.alert_store``
writes the topic into PostgreSQL.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from features.baselines import ExpectedCounts
from features.geography import District
from features.taxonomy import category_label
from models.poisson_surprise import poisson_upper_tail, severity_for, surprise_score
from pipelines.flink_env import (
    execute_insert,
    kafka_keyed_sink_options,
    kafka_source_options,
    streaming_table_env,
)
from pipelines.settings import Settings

__all__ = ["AlertScorer", "load_baseline_rates", "load_hour_profile", "run"]

GROUP_ID = "zongzhi-hotspot"
_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def _read_columns(path: Path, columns: list[str]) -> dict | None:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path, columns=columns).to_pydict()
    except (OSError, ValueError):
        # Missing or corrupt: the caller scores against the documented fallback.
        return None


def load_baseline_rates(path: Path) -> dict:
    """Read ``(cell_id, category) -> rate_per_hour`` from the nightly baselines.

    A missing or unreadable file gives an empty table: the job keeps running
    on the fallback rate.
    """
    cols = _read_columns(path, ["cell_id", "category", "rate_per_hour"]) or {
        "cell_id": [], "category": [], "rate_per_hour": []}
    return {(c, k): float(r) for c, k, r in zip(cols["cell_id"], cols["category"],
                                                cols["rate_per_hour"])}


def load_hour_profile(path: Path) -> dict:
    """Read ``(source, hour_of_day) -> factor``; empty when missing or unreadable."""
    cols = _read_columns(path, ["source", "hour_of_day", "factor"]) or {
        "source": [], "hour_of_day": [], "factor": []}
    return {(s, int(h)): float(f) for s, h, f in zip(cols["source"], cols["hour_of_day"],
                                                     cols["factor"])}


class AlertScorer:
    """Turn a window's count into an alert dict, or None.

    Holds the district (for the cell's jurisdiction), the thresholds and the
    baselines, which it re-reads when the nightly job replaces the file.
    """

    def __init__(self, district: District, hotspot: dict, baselines_dir: Path | None):
        self.district = district
        self.window_hours = float(hotspot["window_size_minutes"]) / 60.0
        self.threshold = float(hotspot["p_value_threshold"])
        self.fallback = float(hotspot["fallback_rate_per_cell_hour"])
        self.levels = [(float(b), str(n)) for b, n in hotspot["severity_levels"]]
        self.baselines_dir = baselines_dir
        self._expected = None
        self._mtimes = None

    def _paths(self) -> tuple[Path, Path] | None:
        if self.baselines_dir is None:
            return None
        return (self.baselines_dir / "cell_baselines.parquet",
                self.baselines_dir / "hour_profile.parquet")

    def _expected_counts(self) -> ExpectedCounts:
        paths = self._paths()
        mtimes = None
        if paths is not None:
            mtimes = []
            for path in paths:
                try:
                    mtimes.append(os.stat(path).st_mtime)
                except OSError:
                    mtimes.append(None)
            mtimes = tuple(mtimes)
        # The nightly job replaces the files: re-read them without a restart.
        if self._expected is None or mtimes != self._mtimes:
            rates = load_baseline_rates(paths[0]) if paths else {}
            profile = load_hour_profile(paths[1]) if paths else {}
            self._expected = ExpectedCounts(rates, self.fallback, profile)
            self._mtimes = mtimes
        return self._expected

    def score(self, cell_id: str, category: str, window_start: datetime, window_end: datetime,
              observed: int, now_ms: int) -> dict | None:
        midpoint = window_start + (window_end - window_start) / 2
        expected, source = self._expected_counts().expected(
            cell_id, category, self.window_hours, midpoint.astimezone(_TZ).hour)
        p_value = poisson_upper_tail(observed, expected)
        if p_value >= self.threshold:
            return None
        lon, lat = self.district.grid.center_of(cell_id)
        place = self.district.locate(lon, lat)
        start_iso, end_iso = window_start.isoformat(), window_end.isoformat()
        alert_id = hashlib.sha256(f"{cell_id}|{category}|{start_iso}|{end_iso}".encode()).hexdigest()[:24]
        return {
            "alert_id": alert_id,
            "kind": "hotspot",
            "cell_id": cell_id,
            "category": category,
            "category_label": category_label(category),
            "window_start": start_iso,
            "window_end": end_iso,
            "window_end_ms": int(window_end.timestamp() * 1000),
            "observed": int(observed),
            "expected": round(expected, 6),
            "p_value": p_value,
            "score": round(surprise_score(p_value), 4),
            "threshold": self.threshold,
            "severity": severity_for(p_value, self.levels) or self.levels[-1][1],
            "baseline_source": source,
            "district_code": self.district.code,
            "town_code": place.town_code if place else "",
            "town_name": place.town_name if place else "",
            "village_code": place.village_code if place else "",
            "village_name": place.village_name if place else "",
            "lon": round(lon, 6),
            "lat": round(lat, 6),
            "emitted_at_ms": now_ms,
        }


def _score_function(scorer: AlertScorer):
    from pyflink.table import DataTypes
    from pyflink.table.udf import udtf

    @udtf(result_types=[DataTypes.STRING(), DataTypes.STRING()])
    def score_window(cell_id, category, window_start, window_end, observed):
        # Flink hands window bounds over as local wall-clock timestamps.
        start = window_start.replace(tzinfo=_TZ)
        end = window_end.replace(tzinfo=_TZ)
        alert = scorer.score(cell_id, category, start, end, observed, int(time.time() * 1000))
        if alert is not None:
            yield alert["alert_id"], json.dumps(alert, ensure_ascii=False)

    return score_window


def run(settings: Settings, *, follow: bool = False, parallelism: int = 1) -> None:
    """Run the job on Kafka (bounded unless ``follow``, as the normalization job)."""
    hotspot = settings.hotspot
    scorer = AlertScorer(settings.district(), hotspot, settings.lake_table("baselines"))
    excluded = ", ".join(f"'{c}'" for c in hotspot.get("excluded_categories") or []) or "''"
    t_env = streaming_table_env(settings, parallelism=parallelism,
                                checkpoint_interval_s=10 if follow else None)
    t_env.get_config().set("table.exec.source.idle-timeout", "10 s")
    t_env.create_temporary_function("score_window", _score_function(scorer))
    t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE events (
            event_id STRING,
            category STRING,
            cell_id STRING,
            event_time_ms BIGINT,
            ts AS TO_TIMESTAMP_LTZ(event_time_ms, 3),
            WATERMARK FOR ts AS ts - INTERVAL '{int(hotspot["watermark_delay_seconds"])}' SECOND
        ) WITH (
            {kafka_source_options(settings, GROUP_ID, [settings.topic("normalized")], follow)},
            'format' = 'json',
            'json.fail-on-missing-field' = 'false',
            'json.ignore-parse-errors' = 'false'
        )""")
    t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE alerts_out (
            alert_id STRING,
            payload STRING
        ) WITH (
            {kafka_keyed_sink_options(settings, [settings.topic("alerts")], "alert_id")}
        )""")
    slide = int(hotspot["window_slide_minutes"])
    size = int(hotspot["window_size_minutes"])
    insert = f"""
        INSERT INTO alerts_out
        SELECT alert_id, payload
        FROM (
            SELECT cell_id, category, window_start, window_end, COUNT(*) AS observed
            FROM TABLE(HOP(TABLE events, DESCRIPTOR(ts),
                           INTERVAL '{slide}' MINUTE, INTERVAL '{size}' MINUTE))
            WHERE category NOT IN ({excluded})
            GROUP BY cell_id, category, window_start, window_end
            HAVING COUNT(*) >= {int(hotspot["min_observed"])}
        ) AS windows,
        LATERAL TABLE(score_window(cell_id, category, window_start, window_end, observed))
            AS scored(alert_id, payload)"""
    execute_insert(settings, t_env, insert, follow=follow, group_id=GROUP_ID,
                   topics=[settings.topic("normalized")])
