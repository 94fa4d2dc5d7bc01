"""``zongzhi eval calibration``: the detector's false alarms on a Poisson null, measured offline.

The budget promises at most ``alert_budget_per_town_month`` false clusters
per town and month, all time scales together. This measures what the
detector really raises when nothing happens, over as many town-weeks as
asked (250 by default), without Flink: it drives each scale's
:meth:`models.hotspot_detector.HotspotDetector.look_arrays` directly, look
after look, as the job's keyed function does.

* **The null.** Events are drawn from the simulator's own law (each cell's
  rate per category times its channel's hour-of-week factor,
  :meth:`DistrictSimulator.cell_rates`, :meth:`DistrictSimulator.week_factors`),
  hour by hour, each event in a 5-minute slice of its hour at random: a
  Poisson process with exactly the intensity the detector expects.
* **The baselines** are that same law (:func:`law_baselines`): what the
  detector would have with perfect nightly baselines. So what is measured is
  the detector's own calibration (its multiple-testing threshold, Gumbel
  tail, discreteness and lifecycle), not the baselines' estimation error.
* **The unit** is the one duty staff see: a cluster (an ``alert_id`` raised
  ``new``), per scale and in total, against the scale's share of the budget,
  with exact Poisson 95 % bounds (Garwood).
* **Warm-up**: the longest scale's window is drawn first and not counted,
  so every counted look sees a full window.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import datetime, timedelta

import numpy as np

from features.baselines import Baselines, hour_of_week
from features.local_time import DISTRICT_TZ
from features.taxonomy import source_of
from models.time_scales import bucket_end_ms
from pipelines.settings import Settings

__all__ = ["law_baselines", "poisson_interval", "run_calibration"]

log = logging.getLogger(__name__)

#: A Monday 00:00 in district time: the null starts on a week's first hour.
START = datetime(2026, 1, 5, tzinfo=DISTRICT_TZ)
#: Expected events per hour where the law has none (must be positive; effectively 0).
_NO_RATE = 1e-9


def law_baselines(simulator, categories) -> tuple[Baselines, list, list, np.ndarray]:
    """The simulator's law as baselines, and its (cell, category) pairs with a positive rate.

    Returns
    -------
    baselines : Baselines
    pair_cells, pair_categories : list of str
    pair_rates : numpy.ndarray
        Events per hour (weekly average) of each pair.
    """
    cell_rates, pair_cells, pair_categories, pair_rates = {}, [], [], []
    for category in sorted(categories):
        for cell, rate in sorted(simulator.cell_rates(category).items()):
            if rate > 0:
                cell_rates[(cell, category)] = rate
                pair_cells.append(cell)
                pair_categories.append(category)
                pair_rates.append(rate)
    baselines = Baselines(cell_rates, {}, simulator.week_factors(), _NO_RATE)
    return baselines, pair_cells, pair_categories, np.array(pair_rates)


def poisson_interval(count: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) two-sided interval for a Poisson mean, having seen ``count``.

    >>> [round(v, 3) for v in poisson_interval(0)], [round(v, 3) for v in poisson_interval(10)]
    ([0.0, 3.689], [4.795, 18.39])
    """
    from scipy.stats import chi2

    alpha = 1 - level
    lower = float(chi2.ppf(alpha / 2, 2 * count) / 2) if count else 0.0
    upper = float(chi2.ppf(1 - alpha / 2, 2 * (count + 1)) / 2)
    return lower, upper


class _Buckets:
    """One scale's recent buckets of counts per (cell, category) pair: end -> counts."""

    def __init__(self, detector, n_pairs: int):
        self.detector = detector
        self.slide_min = detector.slide_min
        self.n_pairs = n_pairs
        self.ends: list[int] = []
        self.counts: list[np.ndarray] = []

    def add(self, end_ms: int, counts: np.ndarray) -> None:
        if self.ends and self.ends[-1] == end_ms:
            self.counts[-1] += counts
        else:
            self.ends.append(end_ms)
            self.counts.append(counts.astype(float))
            del self.ends[: -self.detector.buckets], self.counts[: -self.detector.buckets]

    def window(self, end_ms: int):
        """Rows with events and their counts over each duration ending at ``end_ms``."""
        slide_ms = self.slide_min * 60_000
        durations = [d // self.slide_min for d in self.detector.durations_min]
        values = np.zeros((self.n_pairs, len(durations)))
        for bucket_end, counts in zip(self.ends, self.counts):
            k = int(round((end_ms - bucket_end) / slide_ms))
            for j, d in enumerate(durations):
                if 0 <= k < d:
                    values[:, j] += counts
        rows = np.flatnonzero(values.any(axis=1))
        return rows, values[rows]


def run_calibration(settings: Settings, *, town_weeks: float = 250.0, seed: int = 0) -> dict:
    """Draw ``town_weeks`` of null for the district, look at every scale, count the clusters."""
    from pipelines.harness.simulation_run import build_simulator
    from pipelines.io.platform_state import load_district
    from pipelines.streaming.window_scorer import district_detectors, scored_categories

    if not town_weeks > 0:
        raise ValueError(f"town_weeks={town_weeks!r} must be positive")
    started = time.monotonic()
    hotspot = settings.hotspot
    district = load_district(settings)
    towns = len(district.towns)
    detectors = district_detectors(settings)
    simulator = build_simulator(settings, start=START, seed=seed)
    baselines, pair_cells, pair_categories, pair_rates = law_baselines(
        simulator, scored_categories(hotspot)
    )
    pair_cells = np.array(pair_cells, dtype=object)
    pair_categories = np.array(pair_categories, dtype=object)
    pair_sources = [source_of(c) for c in pair_categories]
    factors = simulator.week_factors()
    sources = sorted(set(pair_sources))
    source_index = np.array([sources.index(s) for s in pair_sources])

    base = detectors[0]
    slide_min = base.slide_min
    slices_per_hour = 60 // slide_min
    if 60 % slide_min:
        raise ValueError(f"window_slide_minutes={slide_min} must divide an hour here")
    weeks = town_weeks / towns
    counted_hours = math.ceil(weeks * 168)
    warm_up_hours = math.ceil(max(d.size_min for d in detectors) / 60)
    rng = np.random.default_rng(seed)
    buckets = [_Buckets(d, len(pair_rates)) for d in detectors]
    counted_from_s = int((START + timedelta(hours=warm_up_hours)).timestamp())
    new_clusters = {d.scale: 0 for d in detectors}
    alarming_looks = {d.scale: 0 for d in detectors}
    looks = {d.scale: 0 for d in detectors}
    events, expected = 0, 0.0
    for hour in range(warm_up_hours + counted_hours):
        hour_start_s = int((START + timedelta(hours=hour)).timestamp())
        how = hour_of_week(hour_start_s)
        factor = np.array([factors.get((s, how), 1.0) for s in sources])[source_index]
        intensity = pair_rates * factor
        expected += float(intensity.sum())
        hour_counts = rng.poisson(intensity)
        events += int(hour_counts.sum())
        pairs = np.repeat(np.arange(len(pair_rates)), hour_counts)
        slice_of = rng.integers(0, slices_per_hour, size=pairs.size)
        for k in range(slices_per_hour):
            end_ms = (hour_start_s + (k + 1) * slide_min * 60) * 1000
            counts = np.bincount(pairs[slice_of == k], minlength=len(pair_rates))
            for scale in buckets:
                scale.add(bucket_end_ms(end_ms, scale.slide_min, DISTRICT_TZ), counts)
            end_s = end_ms // 1000
            if end_s <= counted_from_s:
                continue
            for scale in buckets:
                detector = scale.detector
                if bucket_end_ms(end_ms, scale.slide_min, DISTRICT_TZ) != end_ms:
                    continue
                rows, values = scale.window(end_ms)
                alerts = detector.look_arrays(
                    end_s, pair_cells[rows], pair_categories[rows], values, baselines
                )
                looks[detector.scale] += 1
                for alert in alerts:
                    if alert["status"] == "new":
                        new_clusters[detector.scale] += 1
                    if alert["status"] != "ended":
                        alarming_looks[detector.scale] += 1
        if hour and hour % 168 == 0:
            log.info(
                "calibration: week %d of %d, clusters so far %s",
                hour // 168,
                math.ceil((warm_up_hours + counted_hours) / 168),
                new_clusters,
            )
    months = counted_hours / (24 * 30)
    budget = float(hotspot["alert_budget_per_town_month"])
    by_scale = {}
    for detector in detectors:
        scale = detector.scale
        by_scale[scale] = _judged(
            new_clusters[scale], budget * detector.budget_share * towns * months
        ) | {
            "budget_share": detector.budget_share,
            "threshold": detector.threshold,
            "looks": looks[scale],
            "alarming_looks": alarming_looks[scale],
        }
    total = _judged(sum(new_clusters.values()), budget * towns * months)
    return {
        "method": (
            "Poisson null drawn from the simulator's law, scored against that same law "
            "as baselines, each scale's look function driven directly (no Flink); "
            "false alarms counted in clusters (alerts raised new)"
        ),
        "seed": seed,
        "towns": towns,
        "town_weeks": round(towns * counted_hours / 168, 2),
        "warm_up_hours": warm_up_hours,
        "events": events,
        "expected_events": round(expected, 1),
        "events_per_hour": round(float(pair_rates.sum()), 3),
        "budget_per_town_month": budget,
        "scales": by_scale,
        "total": total,
        "goal": "clusters 0.5-1.0 x the budget, upper 95 % bound <= 1.5 x",
        "seconds": round(time.monotonic() - started, 1),
    }


def _judged(clusters: int, budget: float) -> dict:
    """A cluster count against its budget, with exact Poisson bounds on the rate's ratio."""
    lower, upper = poisson_interval(clusters)
    return {
        "clusters": clusters,
        "budget": round(budget, 3),
        "ratio": round(clusters / budget, 4),
        "lower_95_ratio": round(lower / budget, 4),
        "upper_95_ratio": round(upper / budget, 4),
        "within_goal": 0.5 <= clusters / budget <= 1.0 and upper / budget <= 1.5,
    }
