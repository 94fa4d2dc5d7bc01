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
from models.cluster_lifecycle import ENDED, NEW, ClusterTracker, Detection
from models.time_scales import bucket_end_ms
from pipelines.settings import Settings

__all__ = [
    "CURVE_FACTORS",
    "TARGET_RATIO",
    "law_baselines",
    "poisson_interval",
    "clusters_at",
    "run_calibration",
]

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


#: Multiples of each scale's union-bound threshold ``p*_s`` the curve is drawn at.
CURVE_FACTORS = (0.5, 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 8)
#: The share of its budget a suggested factor aims a scale's clusters at.
TARGET_RATIO = 0.75


def clusters_at(looks, threshold: float, tracker) -> tuple[int, int]:
    """New clusters and alarming looks a detector at ``threshold`` raises on recorded looks.

    ``looks`` holds ``(end_s, detections)`` of every look, each detection a
    ``(category, cells, llr, p, duration minutes)`` recorded at a looser threshold: those with
    ``p <= threshold`` are what the look would have reported (clusters come
    by decreasing LLR and p grows as LLR falls), replayed through a fresh
    lifecycle ``tracker``.

    >>> from models.cluster_lifecycle import ClusterTracker
    >>> looks = [(300, [("a", frozenset({"r1"}), 9.0, 1e-4, 5)]), (600, []), (900, []),
    ...          (1200, [("a", frozenset({"r1"}), 8.0, 1e-3, 5)])]
    >>> fresh = lambda: ClusterTracker(lambda c: (), slide_s=300, quiet_looks=2)
    >>> clusters_at(looks, 1e-3, fresh()), clusters_at(looks, 5e-4, fresh())
    ((2, 2), (1, 1))
    """
    new = alarming = 0
    for end_s, detections in looks:
        kept = [Detection(c, cells, llr) for c, cells, llr, p, *_ in detections if p <= threshold]
        alarming += len(kept)
        new += sum(status == NEW for _, status in tracker.look(end_s, kept))
    return new, alarming


class NullLaw:
    """The simulator's law over the scored categories: (cell, category) pairs and their rates.

    Attributes
    ----------
    baselines : Baselines
        The law as the detector's baselines (:func:`law_baselines`).
    cells, categories : numpy.ndarray of str
        Each pair's cell and category.
    rates : numpy.ndarray
        Each pair's events per hour, averaged over the week.
    """

    def __init__(self, simulator, categories):
        self.baselines, cells, categories, self.rates = law_baselines(simulator, categories)
        self.cells = np.array(cells, dtype=object)
        self.categories = np.array(categories, dtype=object)
        pair_sources = [source_of(c) for c in self.categories]
        self._factors = simulator.week_factors()
        self._sources = sorted(set(pair_sources))
        self._source_index = np.array([self._sources.index(s) for s in pair_sources])

    def intensity(self, hour_start_s: int) -> np.ndarray:
        """Each pair's expected events in the hour starting at ``hour_start_s``."""
        how = hour_of_week(hour_start_s)
        factor = np.array([self._factors.get((s, how), 1.0) for s in self._sources])
        return self.rates * factor[self._source_index]


def drive_looks(detectors, law: NullLaw, *, hours: int, warm_up_hours: int, rng, planted=None):
    """Draw the null hour by hour from ``START`` and look at every scale after the warm-up.

    Each hour's events are drawn per pair and spread over its slices at
    random; ``planted(end_ms)``, if given, adds counts per pair to the slice
    ending at ``end_ms`` (surges). Every look after ``warm_up_hours`` is
    recorded: ``(end_s, [(category, cells, llr, p, minutes), ...])`` per scale, the
    detections of the look (alerts not ended), for :func:`clusters_at`.

    Returns
    -------
    recorded : dict
        ``scale -> list of looks``.
    events : int
    expected : float
        Events drawn, and the law's expectation of them (surges left out).
    """
    slide_min = detectors[0].slide_min
    if 60 % slide_min:
        raise ValueError(f"window_slide_minutes={slide_min} must divide an hour here")
    slices_per_hour = 60 // slide_min
    n_pairs = len(law.rates)
    buckets = [_Buckets(d, n_pairs) for d in detectors]
    counted_from_s = int((START + timedelta(hours=warm_up_hours)).timestamp())
    recorded = {d.scale: [] for d in detectors}
    events, expected = 0, 0.0
    for hour in range(warm_up_hours + hours):
        hour_start_s = int((START + timedelta(hours=hour)).timestamp())
        intensity = law.intensity(hour_start_s)
        expected += float(intensity.sum())
        hour_counts = rng.poisson(intensity)
        events += int(hour_counts.sum())
        pairs = np.repeat(np.arange(n_pairs), hour_counts)
        slice_of = rng.integers(0, slices_per_hour, size=pairs.size)
        for k in range(slices_per_hour):
            end_ms = (hour_start_s + (k + 1) * slide_min * 60) * 1000
            counts = np.bincount(pairs[slice_of == k], minlength=n_pairs)
            extra = planted(end_ms) if planted is not None else None
            if extra is not None:
                counts = counts + extra
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
                    end_s, law.cells[rows], law.categories[rows], values, law.baselines
                )
                recorded[detector.scale].append(
                    (
                        end_s,
                        [
                            (
                                a["category"],
                                frozenset(a["cells"]),
                                a["llr"],
                                a["p_value"],
                                a["duration_minutes"],
                            )
                            for a in alerts
                            if a["status"] != ENDED
                        ],
                    )
                )
        if hour and hour % 168 == 0:
            log.info(
                "week %d of %d drawn, looks so far %s",
                hour // 168,
                math.ceil((warm_up_hours + hours) / 168),
                {scale: len(v) for scale, v in recorded.items()},
            )
    return recorded, events, expected


def loosened(detectors, factor: float) -> dict:
    """Set each detector's threshold to ``factor`` (at least its own) times its union bound.

    Returns ``scale -> union-bound threshold``: what the looks are then
    recorded at, for :func:`clusters_at` to replay stricter thresholds.
    """
    union = {}
    for detector in detectors:
        union[detector.scale] = detector.threshold / detector.threshold_factor
        detector.threshold = min(
            1.0, max(factor, detector.threshold_factor) * union[detector.scale]
        )
    return union


def fresh_tracker(detector) -> ClusterTracker:
    """A new lifecycle tracker like ``detector``'s."""
    tracker = detector.tracker
    return ClusterTracker(
        tracker.neighbourhood,
        slide_s=tracker.slide_s,
        scale=tracker.scale,
        quiet_looks=tracker.quiet_looks,
        escalation_ratio=tracker.escalation_ratio,
    )


def run_calibration(settings: Settings, *, town_weeks: float = 250.0, seed: int = 0) -> dict:
    """Draw ``town_weeks`` of null for the district, look at every scale, count the clusters.

    Each scale looks at ``max(CURVE_FACTORS)`` times its union-bound
    threshold and records what it detects; the clusters at the configured
    threshold and along :data:`CURVE_FACTORS` are then replayed from the
    record (:func:`clusters_at`), so one null gives the verification and the
    calibration curve, with the largest factor whose clusters stay within
    :data:`TARGET_RATIO` of the scale's budget suggested.
    """
    from pipelines.harness.simulation_run import build_simulator
    from pipelines.io.platform_state import load_district
    from pipelines.streaming.window_scorer import district_detectors, scored_categories

    if not town_weeks > 0:
        raise ValueError(f"town_weeks={town_weeks!r} must be positive")
    started = time.monotonic()
    hotspot = settings.hotspot
    towns = len(load_district(settings).towns)
    detectors = district_detectors(settings)
    union_thresholds = loosened(detectors, max(CURVE_FACTORS))
    simulator = build_simulator(settings, start=START, seed=seed)
    law = NullLaw(simulator, scored_categories(hotspot))
    counted_hours = math.ceil(town_weeks / towns * 168)
    warm_up_hours = math.ceil(max(d.size_min for d in detectors) / 60)
    recorded, events, expected = drive_looks(
        detectors,
        law,
        hours=counted_hours,
        warm_up_hours=warm_up_hours,
        rng=np.random.default_rng(seed),
    )
    months = counted_hours / (24 * 30)
    budget = float(hotspot["alert_budget_per_town_month"])
    by_scale, total_clusters = {}, 0
    for detector in detectors:
        scale = detector.scale
        looks = recorded[scale]
        union = union_thresholds[scale]
        scale_budget = budget * detector.budget_share * towns * months

        clusters, alarming = clusters_at(
            looks, union * detector.threshold_factor, fresh_tracker(detector)
        )
        total_clusters += clusters
        curve = []
        for f in sorted({*CURVE_FACTORS, detector.threshold_factor}):
            at, _ = clusters_at(looks, min(1.0, union * f), fresh_tracker(detector))
            curve.append({"factor": f, "clusters": at, "ratio": round(at / scale_budget, 4)})
        within = [c["factor"] for c in curve if c["ratio"] <= TARGET_RATIO]
        by_scale[scale] = _judged(clusters, scale_budget) | {
            "budget_share": detector.budget_share,
            "threshold_factor": detector.threshold_factor,
            "threshold": min(1.0, union * detector.threshold_factor),
            "union_bound_threshold": union,
            "looks": len(looks),
            "alarming_looks": alarming,
            "curve": curve,
            "suggested_factor": max(within) if within else None,
        }
    total = _judged(total_clusters, budget * towns * months)
    return {
        "method": (
            "Poisson null drawn from the simulator's law, scored against that same law "
            "as baselines, each scale's look function driven directly (no Flink); "
            "false alarms counted in clusters (alerts raised new) at the configured "
            "thresholds, and along multiples of each scale's union-bound threshold"
        ),
        "seed": seed,
        "towns": towns,
        "town_weeks": round(towns * counted_hours / 168, 2),
        "warm_up_hours": warm_up_hours,
        "events": events,
        "expected_events": round(expected, 1),
        "events_per_hour": round(float(law.rates.sum()), 3),
        "budget_per_town_month": budget,
        "target_ratio": TARGET_RATIO,
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
