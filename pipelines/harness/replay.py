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
* **time resolution**: read from the times themselves
  (:mod:`features.time_resolution`): an event whose time is known only to
  the hour or the day (a date written as midnight, times heaped on whole
  hours) does not vote in the detector's 5-minute slices; the report says
  what it found and how many events it held out, and a file of dates alone
  is not scored at all;
* **category**: ``--category-col`` values as lower-case codes
  (``Other Theft`` → ``other_theft``), or one category ``all``;
* **baselines**: the file's own history: per cell and category, events
  per hour, empirical-Bayes shrunk toward the area's mean
  (:class:`models.empirical_bayes.PoissonGammaSmoother`), times an
  hour-of-week profile per category (:func:`jobs.nightly.week_profile.week_profile`).
  Prospectively by default (``--baselines prospective``): each day's from
  the events before it, as a live platform would have had them, after a
  ``--warm-up-days`` warm-up that is not scored; ``retrospective`` uses the
  whole span, future included.

With ``--null permute`` it replays a copy of the file whose times are
permuted within each category too, and reports that copy's clusters (all
false) against the budget, and the file's against the copy's.

Then it runs the *same* path as the platform: the events go to the
``replay`` Kafka topic and :func:`pipelines.streaming.hotspot_job.run` scores them
with the same SQL windows and the same :class:`models.hotspot_detector.HotspotDetector`,
writing to the ``replay_alerts`` and ``replay_late`` topics. Broken rows
(missing or unparseable time or coordinates) are counted and reported with
their line numbers; the rest goes on.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from features.baselines import Baselines, hour_of_week
from features.geography import CellGrid
from features.local_time import DISTRICT_TZ_NAME
from features.time_resolution import event_resolutions, resolution_summary
from models.hotspot_detector import HotspotDetector, Place, scale_detectors
from models.time_scales import time_scales
from pipelines.harness.replay_points import (
    ReplayError,
    ReplayPoints,
    category_code,
    read_points,
    time_zone,
    to_wgs84,
)
from pipelines.harness.replay_summary import summarize_alerts
from pipelines.io.kafka import (
    RecordProducer,
    check_reachable,
    consume_topic_values,
    reset_topics,
)
from pipelines.settings import Settings

# The file-reading names are re-exported: callers import them from here.
__all__ = [
    "ReplayError",
    "ReplayPoints",
    "read_points",
    "category_code",
    "to_wgs84",
    "replay_baselines",
    "ProspectiveBaselines",
    "ReplayProgress",
    "replay_detectors",
    "replay_zones",
    "column_zones",
    "replay_messages",
    "run_replay",
    "fine_enough",
    "permuted_within_category",
    "null_comparison",
]

log = logging.getLogger(__name__)

#: The tails a replay's detector may use (``--tails``).
TAILS = ("gamma-poisson", "poisson")
#: The replay's producer: small batches are fine, the file is read once.
PRODUCER_CONFIG = {"linger.ms": 50, "compression.type": "lz4"}


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
    hours_of_week: list[int] | None = None,
    until_ms: int | None = None,
    rate_uncertainty: bool = True,
) -> Baselines:
    """Baselines from the file itself (see the module docstring).

    ``hours_of_week`` (each point's, if known) saves reading them again;
    ``until_ms`` ends the observed span later than the last point (a
    prospective day's start). With ``rate_uncertainty``, each cell's rate
    carries its empirical-Bayes posterior shape (prior shape plus the
    cell's events): a rate learnt from few events is uncertain, and the
    detector's tails become gamma–Poisson instead of Poisson.
    """
    import pandas as pd

    from jobs.nightly.week_profile import week_profile
    from models.empirical_bayes import PoissonGammaSmoother

    end_ms = max(points.time_ms) if until_ms is None else until_ms
    span_h = max((end_ms - min(points.time_ms)) / 3_600_000, 1.0)
    frame = pd.DataFrame(
        {"cell_id": cell_of_point, "category": points.category, "time_ms": points.time_ms}
    )
    cell_rates, town_rates, cell_shapes = {}, {}, {}
    for category, group in frame.groupby("category"):
        counts = group.groupby("cell_id").size().reindex(cells, fill_value=0)
        smoother = PoissonGammaSmoother().fit(
            counts.to_numpy(), np.full(len(cells), span_h), np.zeros(len(cells), dtype=int)
        )
        for cell, rate in zip(cells, smoother.smoothed_rates_):
            cell_rates[(cell, category)] = float(rate)
        prior_shape = float(smoother.alpha_[0])
        if rate_uncertainty and np.isfinite(prior_shape):
            for cell, n in zip(cells, counts.to_numpy()):
                cell_shapes[(cell, category)] = prior_shape + float(n)
        town_rates[("replay", category)] = float(smoother.prior_mean_[0])
    # Hour-of-week profile per category; every hour of the span was observed.
    start_h = min(points.time_ms) // 3_600_000
    end_h = (end_ms - 1 if until_ms is not None else end_ms) // 3_600_000
    slot_how = pd.Series([hour_of_week(h * 3600) for h in range(start_h, end_h + 1)])
    slots = slot_how.value_counts().rename_axis("hour_of_week").reset_index(name="slots")
    frame["hour_of_week"] = (
        hours_of_week
        if hours_of_week is not None
        else [hour_of_week(t / 1000) for t in points.time_ms]
    )
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
    return Baselines(cell_rates, town_rates, factors, fallback, cell_shapes)


class ReplayProgress:
    """Where the scoring is, written to ``path`` at most every ``every_s`` seconds of wall time.

    Called after each look (:class:`pipelines.streaming.window_scorer.WindowScorer`),
    inside Flink's Python, whose output the command does not see: it writes
    one line (the event time reached, the looks made, the clusters raised so
    far) to ``path``, which :func:`echo_progress` prints on the command's stderr.
    """

    def __init__(self, tag: str, tz: str, path: Path, every_s: float = 5.0):
        self.tag = tag
        self.tz = tz
        self.path = Path(path)
        self.every_s = every_s
        self.looks = 0
        self.clusters: set = set()
        self._last = None

    def __call__(self, look_s: int, alerts: list[dict]) -> None:
        """Count the look and its clusters; write where the replay is when it is time to."""
        import time

        self.looks += 1
        self.clusters.update(a["alert_id"] for a in alerts)
        now = time.monotonic()
        if self._last is None or now - self._last >= self.every_s:
            self._last = now
            reached = datetime.fromtimestamp(look_s, time_zone(self.tz))
            line = (
                f"replay ({self.tag}): event time {reached:%Y-%m-%d %H:%M}, "
                f"{self.looks} looks, {len(self.clusters)} clusters so far"
            )
            scratch = self.path.with_suffix(".tmp")
            scratch.write_text(line, encoding="utf-8")
            scratch.replace(self.path)


@contextmanager
def echo_progress(path: Path, every_s: float = 2.0):
    """While the block runs, log each new line :class:`ReplayProgress` writes to ``path``."""
    import threading

    stop = threading.Event()

    def echo():
        said = None
        while not stop.wait(every_s):
            try:
                line = Path(path).read_text(encoding="utf-8")
            except OSError:
                continue
            if line != said:
                log.info("%s", line)
                said = line

    Path(path).unlink(missing_ok=True)
    thread = threading.Thread(target=echo, name="replay-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


class ProspectiveBaselines:
    """A replay's baselines as a live platform would have had them: each day's from the days before.

    A look at ``t`` is scored against :func:`replay_baselines` of the file's
    events before ``t``'s day (UTC days); the first ``warm_up_days`` of the
    file are not scored (:meth:`at` answers None). One day's baselines are
    built once, at the day's first look.
    """

    def __init__(
        self,
        cells: list[str],
        cell_of_point: list[str],
        points: ReplayPoints,
        prior_slots: float,
        fallback: float,
        warm_up_days: float,
        rate_uncertainty: bool = True,
    ):
        self.rate_uncertainty = rate_uncertainty
        order = np.argsort(points.time_ms, kind="stable")
        self.time_ms = np.asarray(points.time_ms, dtype=np.int64)[order]
        self.cells = cells
        self.cell_of_point = [cell_of_point[i] for i in order]
        self.category = [points.category[i] for i in order]
        self.hours_of_week = [hour_of_week(int(t) / 1000) for t in self.time_ms]
        self.prior_slots = prior_slots
        self.fallback = fallback
        self.scored_from_ms = int(self.time_ms[0] + warm_up_days * 86_400_000)
        self._day = None
        self._baselines = None

    def at(self, look_s: int) -> Baselines | None:
        """The baselines of ``look_s``'s day, from the events before it; None in the warm-up."""
        if look_s * 1000 < self.scored_from_ms:
            return None
        day = look_s // 86400
        if day != self._day:
            n = int(np.searchsorted(self.time_ms, day * 86_400_000, side="left"))
            if n == 0:
                return None
            past = ReplayPoints(time_ms=self.time_ms[:n].tolist(), category=self.category[:n])
            self._baselines = replay_baselines(
                self.cells,
                self.cell_of_point[:n],
                past,
                self.prior_slots,
                self.fallback,
                self.hours_of_week[:n],
                until_ms=day * 86_400_000,
                rate_uncertainty=self.rate_uncertainty,
            )
            self._day = day
        return self._baselines


def replay_zones(grid: CellGrid, cells: list[str], cell_ids: list[str], zones: int, seed: int):
    """``cell -> zone`` for ``zones`` areas of the file: k-means of its events' places.

    The zones are the budget's unit, as the towns are the district's: each
    zone may raise ``alert_budget_per_town_month`` false clusters a month.
    Centres are fitted to the events (so busy parts get more zones); every
    cell of the bounding box joins its nearest centre.

    >>> grid = CellGrid(0.0, 0.0, 500)
    >>> cells = ["r000c000", "r000c001", "r000c009", "r000c010"]
    >>> zone = replay_zones(grid, cells, cells[:2] * 3 + cells[2:] * 3, 2, seed=0)
    >>> zone["r000c000"] == zone["r000c001"] != zone["r000c009"] == zone["r000c010"]
    True
    """
    from sklearn.cluster import KMeans

    seen = sorted(set(cell_ids))
    if not 1 <= zones <= len(seen):
        raise ReplayError(
            f"--zones {zones}: must be from 1 to the {len(seen)} cells the file's events fall in"
        )
    events = np.array([grid.to_metres(*grid.center_of(c)) for c in cell_ids])
    centres = KMeans(n_clusters=zones, n_init=4, random_state=seed).fit(events).cluster_centers_
    points = np.array([grid.to_metres(*grid.center_of(c)) for c in cells])
    nearest = np.argmin(((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)
    # Zones numbered west to east, so that names do not depend on k-means' order.
    order = np.argsort(np.argsort(centres[:, 0], kind="stable"), kind="stable")
    return {cell: f"z{order[k] + 1:02d}" for cell, k in zip(cells, nearest)}


def column_zones(grid: CellGrid, cells: list[str], cell_ids: list[str], areas: list[str]):
    """``cell -> zone`` from the areas the file's rows name (``--zone-col``).

    Each cell with events joins the area most of them name (ties: the
    first in sorted order); a cell without any joins the nearest cell that
    has one. Rows that name no area do not vote.

    >>> grid = CellGrid(0.0, 0.0, 500)
    >>> cells = ["r000c000", "r000c001", "r000c002", "r000c009"]
    >>> ids = ["r000c000", "r000c000", "r000c001", "r000c009"]
    >>> column_zones(grid, cells, ids, ["West", "", "West", "East"])
    {'r000c000': 'West', 'r000c001': 'West', 'r000c002': 'West', 'r000c009': 'East'}
    """
    from collections import Counter

    votes: dict = {}
    for cell, area in zip(cell_ids, areas, strict=True):
        if area:
            votes.setdefault(cell, Counter())[area] += 1
    if not votes:
        raise ReplayError("--zone-col: no row names an area; the column is empty")
    named = {
        cell: min(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        for cell, counter in votes.items()
    }
    voters = sorted(named)
    points = np.array([grid.to_metres(*grid.center_of(c)) for c in voters])
    zone_of = {}
    for cell in cells:
        if cell in named:
            zone_of[cell] = named[cell]
            continue
        here = np.array(grid.to_metres(*grid.center_of(cell)))
        zone_of[cell] = named[voters[int(np.argmin(((points - here) ** 2).sum(axis=1)))]]
    return zone_of


def replay_detectors(
    settings: Settings, grid: CellGrid, cells: list[str], categories, zone_of: dict | None = None
) -> list[HotspotDetector]:
    """The platform's detectors over the file's cells, one per time scale, the base window's first.

    The budget's unit is the zone (``zone_of``: cell -> zone; None: one area).
    """
    zone_of = zone_of or {}
    places, coords = {}, []
    for cell in cells:
        lon, lat = grid.center_of(cell)
        places[cell] = Place(zone_of.get(cell, "replay"), "", "", "", lon, lat)
        coords.append(grid.to_metres(lon, lat))
    return scale_detectors(
        cells,
        coords,
        places,
        settings.hotspot,
        categories,
        district_code="replay",
        towns=max(len(set(zone_of.values())), 1),
        seed=settings.section("district").integer("seed"),
    )


def _bounding_cells(grid: CellGrid, cell_ids: list[str]) -> list[str]:
    rows, cols = zip(*(grid.row_col(c) for c in set(cell_ids)))
    return [
        f"r{r:03d}c{c:03d}"
        for r in range(min(rows), max(rows) + 1)
        for c in range(min(cols), max(cols) + 1)
    ]


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
    null: str | None = None,
    seed: int = 0,
    baselines: str = "prospective",
    warm_up_days: float = 14.0,
    zones: int = 1,
    zone_col: str | None = None,
    tails: str = "gamma-poisson",
) -> dict:
    """Replay a file through Kafka and the Flink hotspot job; return the report.

    ``baselines`` is ``prospective`` (:class:`ProspectiveBaselines`, after
    ``warm_up_days``) or ``retrospective`` (the whole file's, future
    included). With ``null="permute"``, a copy with its times permuted within each
    category (:func:`permuted_within_category`, ``seed``) is replayed too,
    and the report's ``null`` compares its clusters with the budget and
    with the file's (:func:`null_comparison`). ``zones`` areas
    (:func:`replay_zones`) are the budget's unit, each allowed the budget
    per month as a district's towns are; or, with ``zone_col``, the areas
    that column names (:func:`column_zones`).
    """
    from pipelines.streaming import hotspot_job
    from pipelines.streaming.hotspot_job import BaselineStore, WindowScorer

    log.info("replay: reading %s", path.name)
    points = read_points(
        path,
        time_col=time_col,
        x_col=x_col,
        y_col=y_col,
        crs=crs,
        category_col=category_col,
        time_format=time_format,
        tz=tz,
        zone_col=zone_col,
    )
    if zone_col and zones > 1:
        raise ReplayError(
            f"--zones {zones} and --zone-col {zone_col!r}: give one unit for the budget"
        )
    if not points.time_ms:
        raise ReplayError(
            f"{path.name}: none of its {points.rows} rows is usable "
            f"({json.dumps(points.broken, ensure_ascii=False)})"
        )
    hotspot = settings.hotspot
    read = len(points.time_ms)
    scales = time_scales(hotspot)
    resolution, points = fine_enough(points, tz, {s.name: s.slide_min * 60 for s in scales})
    if not points.time_ms:
        return {
            **_file_report(path, read, points, crs),
            "time_resolution": resolution,
            "not_scored": f"no event's time is finer than the detector's "
            f"{scales[-1].slide_min}-minute slides at its coarsest scale (the file's times "
            f"are to the {resolution['base']}): counted in one slice, a day's events would "
            "make a cluster of nothing",
            **summarize_alerts([], top, time_zone(tz)),
        }
    check_reachable(settings)
    size = float(cell_size_m) if cell_size_m else settings.section("district").number("cell_size_m")
    grid = _grid(points, size)
    cell_ids = [grid.cell_of(lon, lat) for lon, lat in zip(points.lon, points.lat)]
    cells = _bounding_cells(grid, cell_ids)
    categories = sorted(set(points.category))
    if zone_col:
        zone_of = column_zones(grid, cells, cell_ids, points.area)
        zones = len(set(zone_of.values()))
    else:
        zone_of = replay_zones(grid, cells, cell_ids, zones, seed) if zones > 1 else None
    prior_slots = settings.section("nightly").number("week_profile_prior_slots")
    fallback = float(hotspot["fallback_rate_per_cell_hour"])

    if tails not in TAILS:
        raise ReplayError(f"--tails {tails!r}: must be one of {', '.join(TAILS)}")
    uncertain = tails == "gamma-poisson"

    def store_of(replayed: ReplayPoints):
        if baselines == "prospective":
            return ProspectiveBaselines(
                cells, cell_ids, replayed, prior_slots, fallback, warm_up_days, uncertain
            )
        return BaselineStore.fixed(
            replay_baselines(
                cells, cell_ids, replayed, prior_slots, fallback, rate_uncertainty=uncertain
            )
        )

    if baselines == "prospective":
        how = (
            f"prospective: each day's from the file's events before it (EB-smoothed rate per "
            f"cell and category times an hour-of-week profile per category), after a warm-up "
            f"of {warm_up_days:g} days that is not scored"
        )
    else:
        how = (
            "retrospective: the file's whole span, future included: EB-smoothed rate per "
            "cell and category times an hour-of-week profile per category"
        )

    def scored(replayed: ReplayPoints, tag: str) -> tuple[list[dict], int, list]:
        detectors = replay_detectors(settings, grid, cells, categories, zone_of)
        topics = {
            "normalized": settings.topic("replay"),
            "alerts": settings.topic("replay_alerts"),
            "late": settings.topic("replay_late"),
        }
        reset_topics(settings, list(topics.values()))
        _produce(settings, topics["normalized"], replayed, cell_ids)
        run_id = hashlib.sha256(
            f"{path.resolve()}|{tag}|{datetime.now().isoformat()}".encode()
        ).hexdigest()
        progress = settings.var / "replay" / f"progress-{run_id[:12]}.txt"
        progress.parent.mkdir(parents=True, exist_ok=True)
        with echo_progress(progress):
            hotspot_job.run(
                settings,
                scorer=WindowScorer(
                    detectors[0],
                    store_of(replayed),
                    on_look=ReplayProgress(tag, tz, progress),
                    longer=detectors[1:],
                    tz=time_zone(tz),
                ),
                topics=topics,
                group_id=f"zongzhi-replay-{run_id[:12]}",
            )
        progress.unlink(missing_ok=True)
        alerts = [json.loads(v) for v in consume_topic_values(settings, topics["alerts"])]
        return alerts, len(consume_topic_values(settings, topics["late"])), detectors

    alerts, late, detectors = scored(points, "file")
    scored_days = (max(points.time_ms) - min(points.time_ms)) / 86_400_000
    if baselines == "prospective":
        scored_days = max(scored_days - warm_up_days, 0.0)
    summary = summarize_alerts(alerts, top, time_zone(tz))
    null_report = None
    if null == "permute":
        null_alerts, _, _ = scored(permuted_within_category(points, seed), "permuted")
        null_summary = summarize_alerts(null_alerts, top, time_zone(tz))
        budget = float(hotspot["alert_budget_per_town_month"]) * zones
        null_report = null_comparison(
            summary["clusters"],
            null_summary["clusters"],
            budget_per_month=budget,
            days=scored_days,
            seed=seed,
        )
        null_report["by_scale"] = {
            scale.name: null_comparison(
                summary["clusters_by_scale"].get(scale.name, 0),
                null_summary["clusters_by_scale"].get(scale.name, 0),
                budget_per_month=budget * scale.budget_share,
                days=scored_days,
                seed=seed,
            )
            for scale in scales
        }
    return {
        **_file_report(path, read, points, crs),
        "time_resolution": resolution,
        "cell_size_m": size,
        "cells": len(cells),
        "categories": categories,
        "late_events": late,
        "alert_updates": len(alerts),
        "zones": zones,
        **({"zone_col": zone_col} if zone_col else {}),
        "threshold": detectors[0].threshold,
        "scales": {
            d.scale: {
                "slide_minutes": d.slide_min,
                "durations_minutes": d.durations_min,
                "budget_share": d.budget_share,
                "threshold": d.threshold,
            }
            for d in detectors
        },
        "baselines": how,
        "tails": (
            "gamma-poisson: each cell's rate uncertain as its empirical-Bayes posterior "
            "(shape: prior shape + the cell's events)"
            if uncertain
            else "poisson: rates taken as known"
        ),
        **summary,
        **({"null": null_report} if null_report else {}),
    }


def permuted_within_category(points: ReplayPoints, seed: int) -> ReplayPoints:
    """The file with its times shuffled among the events of each category.

    Each event keeps its place and category, and each category its times:
    what is left of clustering in space and time is chance, so every
    cluster of the copy is a false alarm.

    Examples
    --------
    >>> points = ReplayPoints(time_ms=[1, 2, 3, 4], lon=[0, 1, 2, 3], lat=[0, 1, 2, 3],
    ...                       category=["a", "b", "a", "b"])
    >>> copy = permuted_within_category(points, seed=0)
    >>> sorted(copy.time_ms[0::2]), sorted(copy.time_ms[1::2]), copy.lon == points.lon
    ([1, 3], [2, 4], True)
    """
    rng = np.random.default_rng(seed)
    times = np.asarray(points.time_ms, dtype=np.int64)
    category = np.asarray(points.category, dtype=object)
    minutes = np.asarray(points.resolution_min or np.zeros(len(times)), dtype=np.int64)
    shuffled, shuffled_minutes = times.copy(), minutes.copy()
    for value in sorted(set(points.category)):
        at = np.flatnonzero(category == value)
        source = rng.permutation(at)
        shuffled[at] = times[source]
        # A time keeps its resolution: a date moves as a date.
        shuffled_minutes[at] = minutes[source]
    return replace(
        points,
        time_ms=shuffled.tolist(),
        resolution_min=shuffled_minutes.tolist() if points.resolution_min else [],
    )


def null_comparison(real: int, null: int, *, budget_per_month: float, days: float, seed: int):
    """The permuted copy's clusters against the budget, and against the real file's.

    The budget for the span is ``budget_per_month`` (the replay is one area)
    times its months; the copy's clusters are a Poisson count, whose exact
    95 % upper bound is given beside it. Real against null: under equal
    rates, the real file's share of the two counts is Binomial(n, 1/2); the
    one-sided p-value says how unlikely that many more real clusters are.

    Examples
    --------
    >>> r = null_comparison(30, 10, budget_per_month=2.0, days=60.0, seed=0)
    >>> r["budget"], r["within_budget"], r["real_vs_null"]["p_value"] < 0.01
    (4.0, False, True)
    """
    from scipy.stats import binomtest, chi2

    budget = budget_per_month * days / 30
    upper = float(chi2.ppf(0.975, 2 * (null + 1)) / 2)
    return {
        "method": f"times permuted within each category (seed {seed}); every cluster is false",
        "clusters": null,
        "scored_days": round(days, 2),
        "budget": round(budget, 3),
        "within_budget": null <= budget,
        "upper_95": round(upper, 3),
        "upper_95_over_budget": round(upper / budget, 3) if budget else None,
        "real_vs_null": {
            "real_clusters": real,
            "null_clusters": null,
            "p_value": round(float(binomtest(real, real + null, 0.5, "greater").pvalue), 6)
            if real + null
            else None,
        },
    }


def _file_report(path: Path, read: int, points: ReplayPoints, crs: str) -> dict:
    """The report's account of the file: rows, events read and scored, broken rows, span."""
    report = {
        "file": str(path),
        "rows": points.rows,
        "events": read,
        "events_scored": len(points.time_ms),
        "broken_rows": sum(points.broken.values()),
        "broken_by_reason": points.broken,
        "broken_examples": points.examples,
        "crs": crs,
    }
    if points.time_ms:
        first = datetime.fromtimestamp(min(points.time_ms) / 1000, UTC)
        last = datetime.fromtimestamp(max(points.time_ms) / 1000, UTC)
        report["span"] = {
            "first": first.isoformat(),
            "last": last.isoformat(),
            "days": round((last - first) / timedelta(days=1), 2),
        }
    return report


def fine_enough(points: ReplayPoints, tz: str, slides_s: dict) -> tuple[dict, ReplayPoints]:
    """What the file's times say (:func:`features.time_resolution.resolution_summary`), and its
    events whose time is known at least to the coarsest scale's slide, each with its resolution.

    ``slides_s`` maps each time scale to its slide in seconds, the base
    window's first. An event votes at the scales whose slide is no finer
    than its time (:meth:`models.time_scales.TimeScale.admits`); the
    summary counts the voters of each scale.

    Examples
    --------
    >>> day = 86_400_000
    >>> points = ReplayPoints(time_ms=[0, day, day + 45_296_000, 2 * day + 3_000],
    ...                       lon=[1, 2, 3, 4], lat=[1, 2, 3, 4], category=list("abcd"))
    >>> summary, kept = fine_enough(points, "UTC", {"minutes": 300, "hours": 3600})
    >>> summary["events_by_resolution"], summary["voting_by_scale"], kept.category
    ({'second': 2, 'day': 2}, {'minutes': 2, 'hours': 2}, ['c', 'd'])
    >>> fine_enough(points, "UTC", {"minutes": 300, "days": 86400})[1].resolution_min
    [1440, 1440, 0, 0]
    """
    zone = time_zone(tz)
    offsets = [
        int(datetime.fromtimestamp(ms / 1000, zone).utcoffset().total_seconds())
        for ms in points.time_ms
    ]
    summary = resolution_summary(points.time_ms, offsets, next(iter(slides_s.values())))
    resolution = event_resolutions(points.time_ms, offsets)
    summary["voting_by_scale"] = {
        name: int((resolution <= slide).sum()) for name, slide in slides_s.items()
    }
    keep = resolution <= max(slides_s.values())
    minutes = [int(r) // 60 if r > 60 else 0 for r in resolution]
    kept = ReplayPoints(
        time_ms=[v for v, k in zip(points.time_ms, keep, strict=True) if k],
        lon=[v for v, k in zip(points.lon, keep, strict=True) if k],
        lat=[v for v, k in zip(points.lat, keep, strict=True) if k],
        category=[v for v, k in zip(points.category, keep, strict=True) if k],
        area=[v for v, k in zip(points.area, keep, strict=True) if k] if points.area else [],
        resolution_min=[v for v, k in zip(minutes, keep, strict=True) if k],
        rows=points.rows,
        broken=points.broken,
        examples=points.examples,
    )
    return summary, kept


def replay_messages(points: ReplayPoints, cell_ids: list[str]) -> Iterator[tuple]:
    """``(key, value, None)`` per point, in event-time order: the events the hotspot job reads.

    The key is the point's row among the readable ones; ties keep file order.

    Examples
    --------
    >>> points = ReplayPoints(time_ms=[2000, 1000], category=["theft", "fight"])
    >>> [(key, json.loads(value)["event_id"]) for key, value, _ in
    ...  replay_messages(points, ["r000c001", "r000c000"])]
    [(b'1', 'replay-1'), (b'0', 'replay-0')]
    """
    for i in np.argsort(points.time_ms, kind="stable"):
        event = {
            "event_id": f"replay-{i}",
            "category": points.category[i],
            "cell_id": cell_ids[i],
            "event_time_ms": points.time_ms[i],
        }
        if points.resolution_min and points.resolution_min[i]:
            event["time_resolution_minutes"] = points.resolution_min[i]
        yield str(i).encode(), json.dumps(event).encode(), None


def _produce(settings: Settings, topic: str, points: ReplayPoints, cell_ids: list[str]) -> None:
    with RecordProducer(settings, PRODUCER_CONFIG, flush_timeout=60.0) as producer:
        for n, (key, value, _) in enumerate(replay_messages(points, cell_ids)):
            producer.send(topic, value, key=key)
            if n % 10_000 == 0:
                producer.poll(0)
            if n and n % 50_000 == 0:
                log.info("replay: %d of %d events sent to %s", n, len(points.time_ms), topic)
    log.info("replay: %d events sent; the hotspot job scores them now", len(points.time_ms))
