"""One look of the hotspot detector: from a window's counts to cluster alerts.

The streaming job (``pipelines/streaming/hotspot_job.py``) counts events per cell and
category in Flink SQL and hands this module one row per window end: the
counts of every cell and category over each scan duration ending then.
:meth:`HotspotDetector.look` turns it into alerts:

1. expected counts per cell and duration from the nightly baselines
   (:class:`features.baselines.Baselines`: smoothed rate × hour-of-week
   profile), per category (:mod:`models.hotspot_expectation`);
2. the prospective space-time scan (:mod:`models.space_time_scan`) finds
   the clusters of the category; each gets a p-value against the largest
   LLR of Monte Carlo districts drawn from the baselines (cached per
   category, baselines and profile) and a recurrence interval. Where the
   baselines give a rate's gamma shape (an uncertain or overdispersed rate,
   :meth:`features.baselines.Baselines.shape`), the cluster's own tail is
   gamma–Poisson and each Monte Carlo district draws its rates from the
   gamma first (:func:`models.scan_significance.simulate_null_maxima`).
   With ``zone_weight_power`` > 0 the scan is weighted toward busy zones
   (:func:`models.hotspot_scoring.zone_log_weights`): clusters are ranked,
   and the null's maxima taken, by LLR plus the zone's log weight;
3. false-alarm control: a category's scan is one test per look, so with
   ``B`` false alarms budgeted per town and month, ``T`` towns, ``C``
   categories and ``L`` looks a month the threshold is
   ``p* = B·T / (L·C)``, and the expected number of false most-likely
   clusters is at most the budget (secondary clusters are tested against
   the same null, conservatively). Per cell, the window's Poisson p-values
   of all cells and categories get Benjamini–Hochberg q-values
   (:mod:`models.hotspot_scoring`);
4. local Gi* of the window's counts over each cell's neighbourhood;
5. the lifecycle (:mod:`models.cluster_lifecycle`): one alert per cluster,
   ``new``, ``ongoing``, ``escalating`` or ``ended``, laid out by
   :mod:`models.hotspot_alerts`.

Pure: no I/O. The caller passes the baselines in, and re-reads them when
the nightly job replaces them.
"""

from __future__ import annotations

import functools
import hashlib
import itertools

import numpy as np

from features.baselines import Baselines
from models.cluster_lifecycle import ENDED, ClusterTracker, Detection
from models.cylinder_scan import iter_clusters
from models.cylinder_zones import CylinderZones
from models.getis_ord import GiStar
from models.hotspot_alerts import AlertContext, Place, local_iso
from models.hotspot_expectation import BaselineExpectation
from models.hotspot_scoring import (
    budget_threshold,
    cell_q_values,
    cluster_p_value,
    quantized_bucket_weights,
    single_cell_floor,
    zone_log_weights,
    zone_shape,
)
from models.scan_significance import simulate_null_maxima
from models.time_scales import BASE_SCALE, TimeScale, time_scales

__all__ = ["Place", "HotspotDetector", "budget_threshold", "scale_detectors"]


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
    null_store : mutable mapping, optional
        ``key -> NullMaxima`` kept across job starts (by default a dict, for
        this detector's life); its keys are :meth:`null_key`.
    scale : str
        The time scale this detector looks at (:mod:`models.time_scales`);
        ``hotspot``'s window settings are that scale's.
    budget_share : float
        The share of ``alert_budget_per_town_month`` this scale spends.
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
        null_store=None,
        scale: str = BASE_SCALE,
        budget_share: float = 1.0,
    ):
        if not 0 < budget_share <= 1:
            raise ValueError(f"budget_share={budget_share!r} must lie in (0, 1]")
        self.scale = scale
        self.budget_share = float(budget_share)
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
        self.threshold_factor = float(hotspot.get("threshold_factor", 1.0))
        self.zone_weight_power = float(hotspot.get("zone_weight_power", 0.0))
        if not self.zone_weight_power >= 0:
            raise ValueError(f"zone_weight_power={self.zone_weight_power!r} must be >= 0")
        if not self.threshold_factor > 0:
            raise ValueError(f"threshold_factor={self.threshold_factor!r} must be positive")
        self.threshold = min(
            1.0,
            self.threshold_factor
            * budget_threshold(
                self.budget * self.budget_share, towns, len(self.categories), self.slide_min
            ),
        )
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
            scale="" if scale == BASE_SCALE else scale,
            quiet_looks=int(lifecycle["quiet_looks"]),
            escalation_ratio=float(lifecycle["escalation_ratio"]),
        )
        self.expectation = BaselineExpectation(
            self.cells,
            self.places,
            buckets=self.buckets,
            slide_min=self.slide_min,
            durations_min=self.durations_min,
        )
        self._nulls: dict = {}
        self._log_weights: dict = {}
        self.null_store = {} if null_store is None else null_store
        self._null_inputs = self._null_fingerprint()
        self.stats = {"looks": 0, "unknown_cells": 0, "null_simulations": 0, "nulls_loaded": 0}

    @property
    def time_scale(self) -> TimeScale:
        """The scale this detector looks at, with its share of the budget."""
        return TimeScale(
            self.scale,
            self.slide_min,
            self.size_min,
            tuple(self.durations_min),
            self.budget_share,
            self.threshold_factor,
        )

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

    # ------------------------------------------------------------ p- and q-values
    def _cell_q_values(self, prepared: dict, baselines: Baselines, window_end_s: int) -> dict:
        """:func:`~models.hotspot_scoring.cell_q_values` of the look's counts over the whole window."""
        window_tests = {}
        for category, (rows, values) in prepared.items():
            rates, _ = self.expectation.rate_vector(baselines, category)
            weights, _ = self.expectation.bucket_weights(baselines, category, window_end_s)
            window_tests[category] = (rows, values[:, -1], rates[rows] * weights.sum())
        return cell_q_values(window_tests, len(self.cells), len(self.categories))

    def _null_fingerprint(self) -> bytes:
        """What every null draw depends on besides rates, weights and seed: zones and settings."""
        membership = self.zones.membership.tocsr()
        digest = hashlib.blake2b(digest_size=16)
        for part in (membership.indptr, membership.indices, membership.data):
            digest.update(np.ascontiguousarray(part).tobytes())
        digest.update(
            repr(
                (membership.shape, self.durations_min, self.slide_min)
                + (self.min_observed, self.replicates, self.seed)
            ).encode()
        )
        return digest.digest()

    def null_key(self, rates, weights, seed, shapes=None) -> str:
        """The content key of one null draw: its rates, weights, seed and shapes, zones and settings.

        Two detectors that would draw the same null maxima give the same key,
        so a :attr:`null_store` that outlives the job is shared safely.
        """
        digest = hashlib.blake2b(self._null_inputs, digest_size=20)
        for part in (rates, weights, seed):
            digest.update(np.ascontiguousarray(part, dtype=float).tobytes())
        if shapes is not None:  # Poisson draws keep the keys they had
            digest.update(b"shapes")
            digest.update(np.ascontiguousarray(shapes, dtype=float).tobytes())
        if self.zone_weight_power:  # so do unweighted scans
            digest.update(f"zone weights {self.zone_weight_power!r}".encode())
        return digest.hexdigest()

    def zone_weights(self, baselines: Baselines, category: str, rates):
        """The category's zone log weights (:func:`~models.hotspot_scoring.zone_log_weights`).

        ``None`` when ``zone_weight_power`` is 0 (an unweighted scan). Kept
        per baseline version and category.
        """
        if not self.zone_weight_power:
            return None
        key = (baselines.version, category)
        if key not in self._log_weights:
            self._log_weights[key] = zone_log_weights(
                rates @ self.zones.membership, self.zones.valid_zone, self.zone_weight_power
            )
        return self._log_weights[key]

    def _null(self, baselines: Baselines, category: str, rates, weights):
        """Null maxima for these rates and bucket weights, cached.

        The weights are quantized (:func:`~models.hotspot_scoring.quantized_bucket_weights`)
        so that looks with similar weights share one simulation. A draw is
        kept in memory and in :attr:`null_store`, where a later start finds it.
        """
        steps, shape, weights = quantized_bucket_weights(weights)
        key = (baselines.version, category, steps, tuple(shape))
        if key not in self._nulls:
            seed = [
                self.seed,
                self.categories.index(category)
                if category in self.categories
                else len(self.categories),
                int(round(float(weights.sum()) * 1e4)),
            ]
            shapes = self.expectation.shape_vector(baselines, category)
            overdispersed = bool(np.isfinite(shapes).any())
            stored = self.null_key(rates, weights, seed, shapes if overdispersed else None)
            try:
                self._nulls[key] = self.null_store[stored]
                self.stats["nulls_loaded"] += 1
            except KeyError:
                self.stats["null_simulations"] += 1
                self._nulls[key] = simulate_null_maxima(
                    rates,
                    weights,
                    [d // self.slide_min for d in self.durations_min],
                    self.zones,
                    min_observed=self.min_observed,
                    replicates=self.replicates,
                    rng=np.random.default_rng(seed),
                    shapes=shapes if overdispersed else None,
                    log_weights=self.zone_weights(baselines, category, rates),
                )
                self.null_store[stored] = self._nulls[key]
        return self._nulls[key]

    def prepare_nulls(self, baselines: Baselines, window_end_s: int) -> None:
        """Draw (or load) every category's null maxima for the look at ``window_end_s``.

        What a look would draw when a cluster first needs it, done ahead:
        a bench draws them before its timed runs, so that every run loads
        them from :attr:`null_store` alike.
        """
        for category in self.categories:
            rates, _ = self.expectation.rate_vector(baselines, category)
            weights, _ = self.expectation.bucket_weights(baselines, category, window_end_s)
            self._null(baselines, category, rates, weights)

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
            rates, sources = self.expectation.rate_vector(baselines, category)
            weights, complete = self.expectation.bucket_weights(baselines, category, window_end_s)
            duration_hours = self.expectation.duration_hours(weights)
            observed = np.zeros((n, n_d))
            observed[rows] = category_values
            expected = (rates, duration_hours)
            log_weights = self.zone_weights(baselines, category, rates)
            clusters = iter_clusters(
                observed,
                expected,
                self.zones,
                min_observed=self.min_observed,
                log_weights=log_weights,
            )
            gi = None

            def zone_expected(rates=rates, hours=duration_hours, log_weights=log_weights):
                # Every cylinder's expected count and its zone's log weight, for the
                # union bound (rarely needed).
                valid = self.zones.valid_zone
                return (
                    np.outer((rates @ self.zones.membership)[valid], hours),
                    None if log_weights is None else log_weights[valid],
                )

            shapes = self.expectation.shape_vector(baselines, category)

            def cell_floor(cluster, rates=rates, hours=duration_hours, shapes=shapes):
                # Single cells over the cluster's duration: disjoint cylinders.
                hours_d = hours[cluster.duration_index]
                return single_cell_floor(
                    cluster.llr, rates * hours_d, shapes, min_observed=self.min_observed
                )

            for cluster in itertools.islice(clusters, self.max_clusters):
                members = list(cluster.cells)
                p, method = cluster_p_value(
                    cluster,
                    self.threshold,
                    functools.partial(self._null, baselines, category, rates, weights),
                    zone_expected,
                    min_observed=self.min_observed,
                    shape=zone_shape(rates[members], shapes[members]),
                    cell_floor=cell_floor if log_weights is None else None,
                )
                if p > self.threshold:
                    # Clusters come by decreasing score (LLR, unweighted), and both
                    # p-values grow as it falls.
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
            context = AlertContext(
                self.cells,
                self.places,
                self.durations_min,
                self.looks_per_day,
                self.severity_levels,
                self.threshold,
                self.budget,
                self.district_code,
                self.scale,
                self.budget_share,
            )
            details = {
                key: context.cluster_alert(window_end_s, key[0], *value, q_of)
                for key, value in details.items()
            }
        alerts = []
        for tracked, status in self.tracker.look(window_end_s, detections):
            if status == ENDED:
                alert = dict(tracked.last_alert)
            else:
                alert = dict(details[(tracked.category, tracked.cells)])
                alert.update(
                    first_window_end=local_iso(tracked.first_window_end_s),
                    looks=tracked.looks,
                    peak_llr=round(tracked.peak_llr, 6),
                )
                tracked.last_alert = alert
            alert.update(
                alert_id=tracked.cluster_id,
                cluster_id=tracked.cluster_id,
                status=status,
                emitted_at_ms=int(now_ms),
                updated_window_end=local_iso(window_end_s),
            )
            alerts.append(alert)
        return alerts


def scale_detectors(cells, coords, places, hotspot, categories, *, longer=True, **kwargs):
    """One :class:`HotspotDetector` per time scale (:func:`models.time_scales.time_scales`).

    The base window's comes first; each reads ``hotspot`` as its scale has
    it and spends its scale's share of the budget. ``longer=False``: the
    base window's alone. ``kwargs`` go to every detector (district code,
    towns, seed, null store).
    """
    scales = time_scales(hotspot)
    return [
        HotspotDetector(
            cells,
            coords,
            places,
            scale.settings(hotspot),
            categories,
            scale=scale.name,
            budget_share=scale.budget_share,
            **kwargs,
        )
        for scale in (scales if longer else scales[:1])
    ]
