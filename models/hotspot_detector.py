"""One look of the hotspot detector: from a window's counts to cluster alerts.

The streaming job (``pipelines/streaming/hotspot_job.py``) counts events per cell and
category in Flink SQL and hands this module one row per window end: the
counts of every cell and category over each scan duration ending then.
:meth:`HotspotDetector.look` turns it into alerts:

1. expected counts per cell and duration from the nightly baselines
   (:class:`features.baselines.Baselines`: smoothed rate × hour-of-week
   profile), per category;
2. the prospective space-time scan (:mod:`models.space_time_scan`) finds
   the clusters of the category; each gets a p-value against the largest
   LLR of Monte Carlo districts drawn from the baselines (cached per
   category, baselines and profile) and a recurrence interval;
3. false-alarm control: a category's scan is one test per look, so with
   ``B`` false alarms budgeted per town and month, ``T`` towns, ``C``
   categories and ``L`` looks a month the threshold is
   ``p* = B·T / (L·C)``, and the expected number of false most-likely
   clusters is at most the budget (secondary clusters are tested against
   the same null, conservatively). Per cell, the window's Poisson p-values
   of all cells and categories get Benjamini–Hochberg q-values;
4. local Gi* of the window's counts over each cell's neighbourhood;
5. the lifecycle (:mod:`models.cluster_lifecycle`): one alert per cluster,
   ``new``, ``ongoing``, ``escalating`` or ``ended``.

Pure: no I/O. The caller passes the baselines in, and re-reads them when
the nightly job replaces them.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import false_discovery_control, poisson

from features.baselines import Baselines
from features.taxonomy import CATEGORIES, category_label, source_of
from models.cluster_lifecycle import ENDED, ClusterTracker, Detection
from models.getis_ord import GiStar
from models.space_time_scan import (
    CylinderZones,
    iter_clusters,
    recurrence_interval_days,
    simulate_null_maxima,
    union_bound_p,
)

__all__ = ["Place", "HotspotDetector", "budget_threshold"]

_MINUTES_PER_MONTH = 30 * 24 * 60
_NULL_SCALE_STEP = 1.1


def budget_threshold(
    budget_per_town_month: float, towns: int, categories: int, slide_minutes: float
) -> float:
    """``p* = B·T / (L·C)``: the per-look, per-category p-value that spends the budget.

    Examples
    --------
    One false alarm per town and month, 20 towns, 25 categories, a look
    every 5 minutes (8,640 a month):

    >>> f"{budget_threshold(1.0, 20, 25, 5):.4g}"
    '9.259e-05'
    """
    for name, value in (
        ("budget_per_town_month", budget_per_town_month),
        ("towns", towns),
        ("categories", categories),
        ("slide_minutes", slide_minutes),
    ):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name}={value!r} must be a positive number")
    looks = _MINUTES_PER_MONTH / slide_minutes
    return min(1.0, budget_per_town_month * towns / (looks * categories))


@dataclass(frozen=True)
class Place:
    """Where a cell is: its jurisdiction chain and centre."""

    town_code: str
    town_name: str
    village_code: str
    village_name: str
    lon: float
    lat: float


class HotspotDetector:
    """Score looks (window ends) and keep the alert lifecycle.

    Parameters
    ----------
    cells : sequence of str
        The universe of cells the statistics range over.
    coords : array_like of shape (n, 2)
        Cell centres in metres.
    places : dict
        ``cell -> Place``.
    hotspot : dict
        The ``hotspot`` section of the configuration.
    categories : sequence of str
        The categories scored (the budget is spread over them).
    district_code : str
    towns : int
        Towns the budget is per.
    seed : int
        Seed of the Monte Carlo replicates (reproducible p-values).
    """

    def __init__(
        self,
        cells,
        coords,
        places: dict,
        hotspot: dict,
        categories,
        *,
        district_code: str,
        towns: int,
        seed: int = 0,
    ):
        self.cells = list(cells)
        self.index = {c: i for i, c in enumerate(self.cells)}
        import pandas as pd

        self._cell_index = pd.Index(self.cells)
        self.places = places
        self.district_code = district_code
        self.categories = sorted(set(categories))
        self.slide_min = int(hotspot["window_slide_minutes"])
        self.size_min = int(hotspot["window_size_minutes"])
        self.durations_min = sorted(int(d) for d in hotspot["scan_durations_minutes"])
        bad = [
            d
            for d in self.durations_min
            if d % self.slide_min or not self.slide_min <= d <= self.size_min
        ]
        if bad:
            raise ValueError(
                f"scan_durations_minutes {bad} must be multiples of the slide "
                f"({self.slide_min}) no longer than the window ({self.size_min})"
            )
        self.buckets = self.size_min // self.slide_min
        self.min_observed = int(hotspot["min_observed"])
        self.max_clusters = int(hotspot["max_clusters_per_look"])
        self.replicates = int(hotspot["scan_replicates"])
        self.fdr_q = float(hotspot["fdr_q"])
        self.budget = float(hotspot["alert_budget_per_town_month"])
        self.threshold = budget_threshold(self.budget, towns, len(self.categories), self.slide_min)
        self.looks_per_day = 24 * 60 / self.slide_min
        self.severity_levels = sorted(
            ((float(d), str(n)) for d, n in hotspot["severity_by_recurrence_days"]), reverse=True
        )
        self.zones = CylinderZones(
            coords, float(hotspot["scan_max_radius_m"]), int(hotspot["scan_max_cells"])
        )
        self.weights = self._neighbourhood_weights()
        self.gi_star = GiStar(self.weights)
        self.seed = seed
        lifecycle = hotspot["lifecycle"]
        self.tracker = ClusterTracker(
            self._neighbours,
            slide_s=self.slide_min * 60,
            quiet_looks=int(lifecycle["quiet_looks"]),
            escalation_ratio=float(lifecycle["escalation_ratio"]),
        )
        self._rates: dict = {}
        self._nulls: dict = {}
        self._weights_cache: tuple = (None, None)
        self.stats = {"looks": 0, "unknown_cells": 0, "null_simulations": 0}

    # ------------------------------------------------------------ geometry
    def _neighbourhood_weights(self):
        import scipy.sparse as sp

        rows, cols = np.nonzero(self.zones.neighbours >= 0)
        members = self.zones.neighbours[rows, cols]
        n = len(self.cells)
        return sp.csr_matrix((np.ones(len(rows)), (rows, members)), shape=(n, n))

    def _neighbours(self, cell: str):
        i = self.index.get(cell)
        if i is None:
            return ()
        return [self.cells[j] for j in self.zones.neighbours[i] if j >= 0]

    # ------------------------------------------------------------ baselines
    def _rate_vector(self, baselines: Baselines, category: str):
        key = (baselines.version, category)
        if key not in self._rates:
            rates = np.empty(len(self.cells))
            sources = []
            for i, cell in enumerate(self.cells):
                place = self.places.get(cell)
                rates[i], source = baselines.rate(
                    cell, place.town_code if place else None, category
                )
                sources.append(source)
            self._rates[key] = (rates, sources)
        return self._rates[key]

    def _bucket_weights(self, baselines: Baselines, category: str, window_end_s: int):
        key = (baselines.version, category, window_end_s)
        if self._weights_cache[0] != key:
            source = source_of(category) if category in CATEGORIES else category
            weights, complete = [], True
            for b in range(self.buckets):
                start = window_end_s - (self.buckets - b) * self.slide_min * 60
                hours, full = baselines.profile_hours(source, start, start + self.slide_min * 60)
                weights.append(hours)
                complete &= full
            self._weights_cache = (key, (np.array(weights), complete))
        return self._weights_cache[1]

    def _duration_hours(self, weights) -> np.ndarray:
        return np.array(
            [weights[self.buckets - d // self.slide_min :].sum() for d in self.durations_min]
        )

    def _cell_q_values(self, prepared: dict, baselines: Baselines, window_end_s: int) -> dict:
        """Poisson p-value and BH q-value of every cell with events over the whole window.

        All cells and scored categories count as tested (a cell without
        events has p = 1), so the q-values do not depend on how busy a look
        is. Returns ``category -> (p, q)``, two arrays over all cells.
        """
        p_values, spans = [], []
        for category, (rows, values) in prepared.items():
            rates, _ = self._rate_vector(baselines, category)
            weights, _ = self._bucket_weights(baselines, category, window_end_s)
            p_values.append(poisson.sf(values[:, -1] - 1, rates[rows] * weights.sum()))
            spans.append((category, rows))
        p_seen = np.concatenate(p_values)
        tested = max(len(self.cells) * max(len(self.categories), len(prepared)), p_seen.size)
        p_all = np.ones(tested)
        p_all[: p_seen.size] = p_seen
        q_all = false_discovery_control(p_all)
        by_category, start = {}, 0
        for category, rows in spans:
            p_cells, q_cells = np.ones(len(self.cells)), np.ones(len(self.cells))
            p_cells[rows] = p_seen[start : start + rows.size]
            q_cells[rows] = q_all[start : start + rows.size]
            by_category[category] = (p_cells, q_cells)
            start += rows.size
        return by_category

    def _p_value(self, baselines, category, rates, weights, cluster, zone_expected):
        """The cluster's p-value: Monte Carlo Gumbel tail, capped by the union bound.

        The p-value is at least the cluster's own Poisson tail (its cylinder
        alone reaching its count is one way for the largest LLR to), so a
        cluster whose tail is above the threshold is rejected before the
        null is drawn or the union bound (a pass over every cylinder) is
        summed; most looks end there. Otherwise the p-value is the Gumbel tail
        of the replicates (SaTScan's), or, where too few replicates reached
        any cylinder to fit one, the union bound.
        """
        own_tail = float(poisson.sf(cluster.observed - 1, cluster.expected))
        if own_tail > self.threshold:
            # The largest LLR reaches this one at least as often as this
            # cylinder alone does: not significant, whatever the null says.
            return own_tail, "cylinder tail"
        gumbel, method = self._null(baselines, category, rates, weights).p_value(cluster.llr, 1.0)
        if method == "gumbel":
            return gumbel, method
        # Too few replicates reached any cylinder to fit a tail: the bound decides.
        return union_bound_p(
            cluster.llr, zone_expected(), min_observed=self.min_observed
        ), "union bound"

    def _null(self, baselines: Baselines, category: str, rates, weights):
        """Null maxima for these rates and bucket weights, cached.

        The weights change with the hour-of-week profile at every look, so
        they are quantized: their total up to the next step of 10 % (a
        little more expected, a slightly heavier null), their shape over
        the buckets to 0.01.
        """
        total = float(weights.sum())
        steps = math.ceil(math.log(total) / math.log(_NULL_SCALE_STEP) - 1e-9)
        scaled_total = _NULL_SCALE_STEP**steps
        shape = np.round(weights / total, 2)
        weights = shape / shape.sum() * scaled_total
        key = (baselines.version, category, steps, tuple(shape))
        if key not in self._nulls:
            self.stats["null_simulations"] += 1
            seed = [
                self.seed,
                self.categories.index(category)
                if category in self.categories
                else len(self.categories),
                int(round(float(weights.sum()) * 1e4)),
            ]
            self._nulls[key] = simulate_null_maxima(
                rates,
                weights,
                [d // self.slide_min for d in self.durations_min],
                self.zones,
                min_observed=self.min_observed,
                replicates=self.replicates,
                rng=np.random.default_rng(seed),
            )
        return self._nulls[key]

    # ------------------------------------------------------------ one look
    def look(
        self, window_end_s: int, counts: dict, baselines: Baselines, now_ms: int = 0
    ) -> list[dict]:
        """Alerts of one look.

        ``counts`` maps ``(cell_id, category)`` to the counts over each of
        ``scan_durations_minutes`` (ascending) ending at ``window_end_s``.
        Cells outside the universe are counted in ``stats`` and left out.
        """
        cells, categories, values = [], [], []
        for (cell, category), counts_of in counts.items():
            cells.append(cell)
            categories.append(category)
            values.append(counts_of)
        return self.look_arrays(
            window_end_s,
            cells,
            categories,
            np.array(values, dtype=float).reshape(len(values), len(self.durations_min)),
            baselines,
            now_ms=now_ms,
        )

    def look_arrays(
        self,
        window_end_s: int,
        cells,
        categories,
        values: np.ndarray,
        baselines: Baselines,
        now_ms: int = 0,
    ) -> list[dict]:
        """:meth:`look` with the counts as columns: cell ids, categories, (m, D) counts."""
        self.stats["looks"] += 1
        import pandas as pd

        rows_all = self._cell_index.get_indexer(pd.Index(cells))
        unknown = rows_all < 0
        if unknown.any():
            self.stats["unknown_cells"] += int(unknown.sum())
        codes, names = pd.factorize(pd.Index(categories), sort=True)
        n, n_d = len(self.cells), len(self.durations_min)
        detections, details, prepared = [], {}, {}
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
        for c, category in enumerate(names):
            take = order[bounds[c] : bounds[c + 1]]
            take = take[~unknown[take]]
            if take.size == 0:
                continue
            rows = rows_all[take]
            category_values = values[take]
            prepared[category] = (rows, category_values)
            # No zone can reach min_observed: nothing to scan (most looks of a sparse stream).
            if category_values.max(axis=1).sum() < self.min_observed:
                continue
            rates, sources = self._rate_vector(baselines, category)
            weights, complete = self._bucket_weights(baselines, category, window_end_s)
            duration_hours = self._duration_hours(weights)
            observed = np.zeros((n, n_d))
            observed[rows] = category_values
            expected = (rates, duration_hours)
            clusters = iter_clusters(observed, expected, self.zones, min_observed=self.min_observed)
            gi = None

            def zone_expected(rates=rates, hours=duration_hours):
                # Every cylinder's expected count, for the union bound (rarely needed).
                return np.outer((rates @ self.zones.membership)[self.zones.valid_zone], hours)

            for cluster in itertools.islice(clusters, self.max_clusters):
                p, method = self._p_value(
                    baselines, category, rates, weights, cluster, zone_expected
                )
                if p > self.threshold:
                    # Clusters come by decreasing LLR, and both p-values grow as it falls.
                    break
                if gi is None:
                    gi = self.gi_star.z_scores(observed[:, -1])
                cells = frozenset(self.cells[i] for i in cluster.cells)
                detections.append(Detection(category, cells, cluster.llr))
                details[(category, cells)] = (
                    cluster,
                    p,
                    method,
                    gi,
                    observed,
                    expected,
                    sources,
                    complete,
                )
        if details:
            q_of = self._cell_q_values(prepared, baselines, window_end_s)
            details = {
                key: self._statistics(window_end_s, key[0], *value, q_of)
                for key, value in details.items()
            }
        alerts = []
        for tracked, status in self.tracker.look(window_end_s, detections):
            if status == ENDED:
                alert = dict(tracked.last_alert)
            else:
                alert = dict(details[(tracked.category, tracked.cells)])
                alert.update(
                    first_window_end=_iso(tracked.first_window_end_s),
                    looks=tracked.looks,
                    peak_llr=round(tracked.peak_llr, 6),
                )
                tracked.last_alert = alert
            alert.update(
                alert_id=tracked.cluster_id,
                cluster_id=tracked.cluster_id,
                status=status,
                emitted_at_ms=int(now_ms),
                updated_window_end=_iso(window_end_s),
            )
            alerts.append(alert)
        return alerts

    def _statistics(
        self,
        window_end_s,
        category,
        cluster,
        p,
        method,
        gi,
        observed,
        expected,
        sources,
        complete,
        q_of,
    ) -> dict:
        centre = cluster.cells[0]
        place = self.places.get(self.cells[centre]) or Place("", "", "", "", 0.0, 0.0)
        duration = self.durations_min[cluster.duration_index]
        cell_stats = []
        for i in cluster.cells:
            p_cells, q_cells = q_of.get(category, (None, None))
            p_cell = float(p_cells[i]) if p_cells is not None else 1.0
            q_cell = float(q_cells[i]) if q_cells is not None else 1.0
            cell_stats.append(
                {
                    "cell_id": self.cells[i],
                    "observed": int(observed[i, -1]),
                    "expected": round(float(expected[0][i] * expected[1][-1]), 6),
                    "p_value": p_cell,
                    "q_value": q_cell,
                    "gi_star_z": None if math.isnan(gi[i]) else round(float(gi[i]), 4),
                    "baseline_source": sources[i],
                }
            )
        used = {sources[i] for i in cluster.cells}
        source = used.pop() if len(used) == 1 else "mixed: " + ", ".join(sorted(used))
        if not complete:
            source += ", no week profile"
        ri = recurrence_interval_days(max(p, 1e-300), self.looks_per_day)
        severity = next(
            (name for days, name in self.severity_levels if ri >= days), self.severity_levels[-1][1]
        )
        return {
            "kind": "hotspot",
            "category": category,
            "category_label": category_label(category) if category in CATEGORIES else category,
            "cell_id": self.cells[centre],
            "cells": [self.cells[i] for i in cluster.cells],
            "cell_stats": cell_stats,
            "duration_minutes": duration,
            "window_start": _iso(window_end_s - duration * 60),
            "window_end": _iso(window_end_s),
            "window_end_ms": window_end_s * 1000,
            "observed": int(cluster.observed),
            "expected": round(cluster.expected, 6),
            "llr": round(cluster.llr, 6),
            "p_value": p,
            "p_method": method,
            "recurrence_interval_days": round(ri, 3),
            "score": round(-math.log10(max(p, 1e-300)), 4),
            "threshold": self.threshold,
            "budget_per_town_month": self.budget,
            "gi_star_z": cell_stats[0]["gi_star_z"],
            "severity": severity,
            "baseline_source": source,
            "district_code": self.district_code,
            "town_code": place.town_code,
            "town_name": place.town_name,
            "village_code": place.village_code,
            "village_name": place.village_name,
            "lon": round(place.lon, 6),
            "lat": round(place.lat, 6),
        }


def _iso(epoch_s: int) -> str:
    from datetime import datetime

    from features.local_time import DISTRICT_TZ

    return datetime.fromtimestamp(epoch_s, DISTRICT_TZ).isoformat()
