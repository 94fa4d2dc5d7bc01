"""``zongzhi replay``: a real point file through the hotspot detector, in event time.

The file is mapped onto the event contract by an explicit adapter:

* **time**: one column (ISO-8601 or ``--time-format``), or several
  comma-separated columns read as year, month, day[, hour, minute,
  second] (Vancouver's layout); times without a zone are in ``--tz``;
* **place**: ``--x-col``/``--y-col`` in ``--crs``: ``WGS84`` (lon, lat),
  ``GCJ02``, ``BD09``, or any ``EPSG:<code>`` that pyproj knows (e.g.
  UTM metres), converted to WGS-84; cells are ``--cell-size`` metre
  squares north-east of the data's south-west corner, and the universe is
  every cell of the data's bounding box;
* **category**: ``--category-col`` values as lower-case codes
  (``Other Theft`` → ``other_theft``), or one category ``all``;
* **baselines**: the file's own history, retrospectively: per cell and
  category, events per hour over the file's span, empirical-Bayes shrunk
  toward the area's mean (:class:`models.empirical_bayes.PoissonGammaSmoother`),
  times an hour-of-week profile per category (:func:`jobs.nightly.week_profile.week_profile`).

Then it runs the *same* path as the platform: the events go to the
``replay`` Kafka topic and :func:`pipelines.streaming.hotspot_job.run` scores them
with the same SQL windows and the same :class:`models.hotspot_detector.HotspotDetector`,
writing to the ``replay_alerts`` and ``replay_late`` topics. Broken rows
(missing or unparseable time or coordinates) are counted and reported with
their line numbers; the rest goes on.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import logging
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from features.baselines import Baselines, hour_of_week
from features.geography import CellGrid
from features.local_time import DISTRICT_TZ_NAME
from models.hotspot_detector import HotspotDetector, Place
from pipelines.errors import UsageError
from pipelines.settings import Settings

__all__ = [
    "ReplayError",
    "ReplayPoints",
    "read_points",
    "category_code",
    "to_wgs84",
    "replay_baselines",
    "replay_detector",
    "run_replay",
]

log = logging.getLogger(__name__)
_EXAMPLES = 5


class ReplayError(UsageError):
    """The replay cannot start: a bad argument or an unusable file."""


@dataclass
class ReplayPoints:
    """The readable rows of a file, and what was wrong with the others."""

    time_ms: list = field(default_factory=list)
    lon: list = field(default_factory=list)
    lat: list = field(default_factory=list)
    category: list = field(default_factory=list)
    rows: int = 0
    broken: dict = field(default_factory=dict)
    examples: list = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.broken[reason] = self.broken.get(reason, 0) + 1
        if len(self.examples) < _EXAMPLES:
            self.examples.append({"line": line, "reason": reason})


def category_code(text: str) -> str:
    """A category value as a code: lower case, runs of other characters as ``_``.

    Examples
    --------
    >>> category_code("Theft from Vehicle"), category_code("  B&E / Residential ")
    ('theft_from_vehicle', 'b_e_residential')
    """
    code = re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_")
    return code or "unknown"


def _open(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _zone(name: str):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReplayError(
            f"--tz {name!r} is not a known time zone, e.g. Asia/Shanghai or UTC"
        ) from None


def _time_parser(columns: list[str], time_format: str | None, tz):
    if len(columns) > 1:

        def parse(row):
            parts = [int(float(row[c])) for c in columns]
            return datetime(*parts, tzinfo=tz)
    elif time_format:

        def parse(row):
            moment = datetime.strptime(row[columns[0]].strip(), time_format)
            return moment if moment.tzinfo else moment.replace(tzinfo=tz)
    else:

        def parse(row):
            text = row[columns[0]].strip().replace("Z", "+00:00")
            moment = datetime.fromisoformat(text)
            return moment if moment.tzinfo else moment.replace(tzinfo=tz)

    return parse


def to_wgs84(x: np.ndarray, y: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in ``crs`` to WGS-84 (lon, lat).

    Examples
    --------
    The first Vancouver theft (11XX Burnaby St, West End), UTM zone 10N metres:

    >>> lon, lat = to_wgs84(np.array([490320.299]), np.array([5458606.9208]), "EPSG:26910")
    >>> round(float(lon[0]), 4), round(float(lat[0]), 4)
    (-123.1331, 49.2801)
    """
    name = crs.strip().upper()
    if name in ("WGS84", "EPSG:4326"):
        return x, y
    if name in ("GCJ02", "BD09"):
        from features.coordinates import to_wgs84 as convert

        pairs = [convert(float(a), float(b), name) for a, b in zip(x, y)]
        return (np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
    if not re.fullmatch(r"EPSG:\d+", name):
        raise ReplayError(f"--crs {crs!r} is not supported; use WGS84, GCJ02, BD09 or EPSG:<code>")
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        transformer = Transformer.from_crs(CRS.from_user_input(name), "EPSG:4326", always_xy=True)
    except CRSError:
        raise ReplayError(f"--crs {crs!r} is not a coordinate system pyproj knows") from None
    return transformer.transform(x, y)


def read_points(
    path: Path,
    *,
    time_col: str,
    x_col: str,
    y_col: str,
    crs: str,
    category_col: str | None = None,
    time_format: str | None = None,
    tz: str = DISTRICT_TZ_NAME,
) -> ReplayPoints:
    """Read the usable rows of a CSV (or .csv.gz); count and describe the broken ones."""
    if not path.is_file():
        raise ReplayError(f"{path} is not a readable file")
    zone = _zone(tz)
    columns = [c.strip() for c in time_col.split(",") if c.strip()]
    parse_time = _time_parser(columns, time_format, zone)
    points = ReplayPoints()
    xs, ys = [], []
    try:
        with _open(path) as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            wanted = columns + [x_col, y_col] + ([category_col] if category_col else [])
            missing = [c for c in wanted if c not in header]
            if missing:
                raise ReplayError(
                    f"{path.name} has no column {missing[0]!r}; its columns are "
                    + ", ".join(header)
                )
            for row in reader:
                points.rows += 1
                line = reader.line_num
                if None in row or any(row.get(c) is None for c in wanted):
                    points.reject(line, "wrong number of fields")
                    continue
                try:
                    moment = parse_time(row)
                except (ValueError, TypeError, OverflowError):
                    points.reject(line, "unreadable time")
                    continue
                try:
                    x, y = float(row[x_col]), float(row[y_col])
                except ValueError:
                    points.reject(line, "unreadable coordinates")
                    continue
                if not (math.isfinite(x) and math.isfinite(y)) or (x == 0 and y == 0):
                    points.reject(line, "missing coordinates")
                    continue
                points.time_ms.append(int(moment.timestamp() * 1000))
                xs.append(x)
                ys.append(y)
                points.category.append(category_code(row[category_col]) if category_col else "all")
    except (UnicodeDecodeError, csv.Error, OSError, EOFError) as exc:
        raise ReplayError(f"{path.name} is not a readable CSV: {exc}") from None
    if xs:
        lon, lat = to_wgs84(np.array(xs), np.array(ys), crs)
        good = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        for _ in np.flatnonzero(~good):
            points.reject(-1, "coordinates outside the coordinate system")
        keep = np.flatnonzero(good)
        points.lon = lon[keep].tolist()
        points.lat = lat[keep].tolist()
        points.time_ms = [points.time_ms[i] for i in keep]
        points.category = [points.category[i] for i in keep]
    return points


def _grid(points: ReplayPoints, cell_size_m: float) -> CellGrid:
    # Origin half a cell south-west of the data, so no point sits on an edge.
    probe = CellGrid(min(points.lon), min(points.lat), cell_size_m)
    lon0, lat0 = probe.from_metres(-cell_size_m / 2, -cell_size_m / 2)
    return CellGrid(lon0, lat0, cell_size_m)


def replay_baselines(
    cells: list[str],
    cell_of_point: list[str],
    points: ReplayPoints,
    prior_slots: float,
    fallback: float,
) -> Baselines:
    """Baselines from the file itself (see the module docstring)."""
    import pandas as pd

    from jobs.nightly.week_profile import week_profile
    from models.empirical_bayes import PoissonGammaSmoother

    span_h = max((max(points.time_ms) - min(points.time_ms)) / 3_600_000, 1.0)
    frame = pd.DataFrame(
        {"cell_id": cell_of_point, "category": points.category, "time_ms": points.time_ms}
    )
    cell_rates, town_rates = {}, {}
    for category, group in frame.groupby("category"):
        counts = group.groupby("cell_id").size().reindex(cells, fill_value=0)
        smoother = PoissonGammaSmoother().fit(
            counts.to_numpy(), np.full(len(cells), span_h), np.zeros(len(cells), dtype=int)
        )
        for cell, rate in zip(cells, smoother.smoothed_rates_):
            cell_rates[(cell, category)] = float(rate)
        town_rates[("replay", category)] = float(smoother.prior_mean_[0])
    # Hour-of-week profile per category; every hour of the span was observed.
    start_h = min(points.time_ms) // 3_600_000
    end_h = max(points.time_ms) // 3_600_000
    slot_how = pd.Series([hour_of_week(h * 3600) for h in range(start_h, end_h + 1)])
    slots = slot_how.value_counts().rename_axis("hour_of_week").reset_index(name="slots")
    frame["hour_of_week"] = [hour_of_week(t / 1000) for t in points.time_ms]
    counts = (
        frame.assign(source=frame["category"])
        .groupby(["source", "hour_of_week"], as_index=False)
        .size()
        .rename(columns={"size": "events"})
    )
    profile = week_profile(counts, slots, prior_slots)
    factors = {
        (s, int(h)): float(f)
        for s, h, f in zip(profile["source"], profile["hour_of_week"], profile["factor"])
    }
    return Baselines(cell_rates, town_rates, factors, fallback)


def replay_detector(
    settings: Settings, grid: CellGrid, cells: list[str], categories
) -> HotspotDetector:
    places, coords = {}, []
    for cell in cells:
        lon, lat = grid.center_of(cell)
        places[cell] = Place("replay", "", "", "", lon, lat)
        coords.append(grid.to_metres(lon, lat))
    return HotspotDetector(
        cells,
        coords,
        places,
        settings.hotspot,
        categories,
        district_code="replay",
        towns=1,
        seed=int(settings.raw["district"]["seed"]),
    )


def _bounding_cells(grid: CellGrid, cell_ids: list[str]) -> list[str]:
    rows, cols = zip(*(grid.row_col(c) for c in set(cell_ids)))
    return [
        f"r{r:03d}c{c:03d}"
        for r in range(min(rows), max(rows) + 1)
        for c in range(min(cols), max(cols) + 1)
    ]


def _in_zone(alert: dict, zone) -> dict:
    """The alert with its times in the file's time zone (the detector writes Beijing time)."""
    out = dict(alert)
    for key in ("window_start", "window_end", "first_window_end", "updated_window_end"):
        if out.get(key):
            out[key] = datetime.fromisoformat(out[key]).astimezone(zone).isoformat()
    return out


def _summarize(alerts: list[dict], top: int, zone) -> dict:
    alerts = [_in_zone(a, zone) for a in alerts]
    clusters: dict = {}
    for alert in alerts:
        best = clusters.get(alert["alert_id"])
        if alert["status"] != "ended" and (best is None or alert["llr"] > best["llr"]):
            clusters[alert["alert_id"]] = alert
    ranked = sorted(clusters.values(), key=lambda a: (a["p_value"], -a["llr"]))
    hot: dict = {}
    for alert in ranked:
        for stat in alert["cell_stats"]:
            key = (stat["cell_id"], alert["category"])
            if key not in hot or stat["q_value"] < hot[key]["q_value"]:
                hot[key] = {
                    "category": alert["category"],
                    **stat,
                    "window_end": alert["window_end"],
                }
    fields = (
        "alert_id",
        "category",
        "cells",
        "first_window_end",
        "window_start",
        "window_end",
        "duration_minutes",
        "observed",
        "expected",
        "llr",
        "p_value",
        "p_method",
        "recurrence_interval_days",
        "severity",
        "looks",
        "lon",
        "lat",
        "gi_star_z",
    )
    return {
        "clusters": len(clusters),
        "top_clusters": [{k: a.get(k) for k in fields} for a in ranked[:top]],
        "hot_cells": sorted(hot.values(), key=lambda s: (s["q_value"], s["p_value"]))[:top],
    }


def run_replay(
    settings: Settings,
    path: Path,
    *,
    time_col: str,
    x_col: str,
    y_col: str,
    crs: str,
    category_col: str | None = None,
    time_format: str | None = None,
    tz: str = DISTRICT_TZ_NAME,
    cell_size_m: float | None = None,
    top: int = 10,
) -> dict:
    """Replay a file through Kafka and the Flink hotspot job; return the report."""
    from pipelines.io.kafka import check_reachable, consume_topic_values, reset_topics
    from pipelines.streaming import hotspot_job
    from pipelines.streaming.hotspot_job import BaselineStore, WindowScorer

    points = read_points(
        path,
        time_col=time_col,
        x_col=x_col,
        y_col=y_col,
        crs=crs,
        category_col=category_col,
        time_format=time_format,
        tz=tz,
    )
    if not points.time_ms:
        raise ReplayError(
            f"{path.name}: none of its {points.rows} rows is usable "
            f"({json.dumps(points.broken, ensure_ascii=False)})"
        )
    check_reachable(settings)
    size = float(cell_size_m or settings.raw["district"]["cell_size_m"])
    grid = _grid(points, size)
    cell_ids = [grid.cell_of(lon, lat) for lon, lat in zip(points.lon, points.lat)]
    cells = _bounding_cells(grid, cell_ids)
    categories = sorted(set(points.category))
    hotspot = settings.hotspot
    baselines = replay_baselines(
        cells,
        cell_ids,
        points,
        float(settings.raw["nightly"]["week_profile_prior_slots"]),
        float(hotspot["fallback_rate_per_cell_hour"]),
    )
    detector = replay_detector(settings, grid, cells, categories)
    store = BaselineStore.fixed(baselines)  # the file's own baselines, for the whole replay
    topics = {
        "normalized": settings.topic("replay"),
        "alerts": settings.topic("replay_alerts"),
        "late": settings.topic("replay_late"),
    }
    reset_topics(settings, list(topics.values()))
    _produce(settings, topics["normalized"], points, cell_ids)
    run_id = hashlib.sha256(f"{path.resolve()}|{datetime.now().isoformat()}".encode()).hexdigest()
    hotspot_job.run(
        settings,
        scorer=WindowScorer(detector, store),
        topics=topics,
        group_id=f"zongzhi-replay-{run_id[:12]}",
    )
    alerts = [json.loads(v) for v in consume_topic_values(settings, topics["alerts"])]
    late = len(consume_topic_values(settings, topics["late"]))
    first = datetime.fromtimestamp(min(points.time_ms) / 1000, UTC)
    last = datetime.fromtimestamp(max(points.time_ms) / 1000, UTC)
    return {
        "file": str(path),
        "rows": points.rows,
        "events": len(points.time_ms),
        "broken_rows": sum(points.broken.values()),
        "broken_by_reason": points.broken,
        "broken_examples": points.examples,
        "span": {
            "first": first.isoformat(),
            "last": last.isoformat(),
            "days": round((last - first) / timedelta(days=1), 2),
        },
        "crs": crs,
        "cell_size_m": size,
        "cells": len(cells),
        "categories": categories,
        "late_events": late,
        "alert_updates": len(alerts),
        "threshold": detector.threshold,
        "baselines": "the file's own history (retrospective): EB-smoothed rate per cell and "
        "category over the span, times an hour-of-week profile per category",
        **_summarize(alerts, top, _zone(tz)),
    }


def _produce(settings: Settings, topic: str, points: ReplayPoints, cell_ids: list[str]) -> None:
    from confluent_kafka import Producer

    producer = Producer(
        {"bootstrap.servers": settings.kafka_bootstrap, "linger.ms": 50, "compression.type": "lz4"}
    )
    order = np.argsort(points.time_ms, kind="stable")
    for n, i in enumerate(order):
        event = {
            "event_id": f"replay-{i}",
            "category": points.category[i],
            "cell_id": cell_ids[i],
            "event_time_ms": points.time_ms[i],
        }
        while True:
            try:
                producer.produce(topic, json.dumps(event).encode(), key=str(i).encode())
                break
            except BufferError:
                producer.poll(0.5)
        if n % 10_000 == 0:
            producer.poll(0)
    producer.flush(60)
