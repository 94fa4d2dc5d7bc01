"""Alert payloads of the hotspot detector (热点预警): one flat dict per cluster and look.

An alert names where (the cluster's cells, the centre cell's town and
village, its centre point), when (the scanned duration ending at the
window's end, in the district's local time) and how unusual: observed and
expected events, the scan's LLR, the p-value and how it was computed, the
score ``-log10 p``, and SaTScan's recurrence interval ``1 / (p × looks per
day)`` days (Kulldorff 2001), which picks the severity level. Each cell of
the cluster carries its own Poisson p-value, BH q-value and Gi* z-score,
and the baseline its expectation came from.

The numbers are computed by :class:`models.hotspot_detector.HotspotDetector`
and :mod:`models.hotspot_scoring`; this module only lays them out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from features.local_time import DISTRICT_TZ
from features.taxonomy import CATEGORIES, category_label
from models.scan_significance import recurrence_interval_days

__all__ = ["Place", "AlertContext", "local_iso"]


@dataclass(frozen=True)
class Place:
    """Where a cell is: its jurisdiction chain and centre."""

    town_code: str
    town_name: str
    village_code: str
    village_name: str
    lon: float
    lat: float


def local_iso(epoch_s: int) -> str:
    """ISO 8601 text of an epoch time in the district's time zone.

    Parameters
    ----------
    epoch_s : int
        Seconds since the epoch.

    Returns
    -------
    str
        For example ``'2026-11-23T10:00:00+08:00'``.
    """
    return datetime.fromtimestamp(epoch_s, DISTRICT_TZ).isoformat()


@dataclass(frozen=True)
class AlertContext:
    """What every alert of one detector shares: its cells, their places and its thresholds.

    Attributes
    ----------
    cells : list of str
        The detector's cells; clusters name cells by index into it.
    places : dict
        ``cell -> Place``; a cell without one gets an empty place.
    durations_min : list of int
        The scan durations, ascending; a cluster names one by index.
    looks_per_day : float
        For the recurrence interval.
    severity_levels : list of (float, str)
        ``(days, name)`` by decreasing days: the first level whose days the
        recurrence interval reaches, else the last.
    threshold : float
        The budget's ``p*``.
    budget : float
        False alarms budgeted per town and month.
    district_code : str
    scale : str
        The time scale of the detector (:mod:`models.time_scales`).
    budget_share : float
        Its share of the budget.
    """

    cells: list
    places: dict
    durations_min: list
    looks_per_day: float
    severity_levels: list
    threshold: float
    budget: float
    district_code: str
    scale: str = "minutes"
    budget_share: float = 1.0

    def cluster_alert(
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
        """The alert of one cluster of one look, before its lifecycle fields.

        Parameters
        ----------
        window_end_s : int
            The look's window end, epoch seconds.
        category : str
        cluster : models.space_time_scan.ScanCluster
        p, method : float, str
            The cluster's p-value and how it was computed
            (:func:`models.hotspot_scoring.cluster_p_value`).
        gi : numpy.ndarray
            Gi* z of every cell over the whole window (NaN where undefined).
        observed : numpy.ndarray of shape (n_cells, durations)
        expected : tuple
            ``(rates, duration_hours)``: expected events are their outer product.
        sources : list of str
            The baseline each cell's rate came from.
        complete : bool
            Whether the hour-of-week profile covered the whole window.
        q_of : dict
            ``category -> (p, q)`` over all cells
            (:func:`models.hotspot_scoring.cell_q_values`).

        Returns
        -------
        dict
            The alert's fields, JSON-ready.
        """
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
            "window_start": local_iso(window_end_s - duration * 60),
            "window_end": local_iso(window_end_s),
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
            "scale": self.scale,
            "budget_share": self.budget_share,
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
