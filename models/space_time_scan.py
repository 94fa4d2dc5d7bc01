"""Prospective expectation-based Poisson space-time scan (时空扫描统计量), in one import.

Kulldorff's prospective space-time scan (Kulldorff 2001, "Prospective time
periodic geographical disease surveillance using a scan statistic", JRSS A
164(1)) with expected counts from the nightly baselines, the
expectation-based Poisson scan of Neill et al. (2005), comes in three
parts, one module each:

- :mod:`models.cylinder_zones`: the circular zones, each cell with its
  nearest cells (:class:`CylinderZones`);
- :mod:`models.cylinder_scan`: the log-likelihood ratio
  ``O ln(O / E) - (O - E)`` of a cylinder and the clusters of one look
  (:func:`scan`, :func:`iter_clusters`);
- :mod:`models.scan_significance`: p-values from Monte Carlo null maxima
  with a Gumbel tail (:func:`simulate_null_maxima`), the union bound
  (:func:`union_bound_p`) and SaTScan's recurrence interval
  (:func:`recurrence_interval_days`).

This module re-exports their public names.
"""

from __future__ import annotations

from models.cylinder_scan import ScanCluster, iter_clusters, log_likelihood_ratio, scan
from models.cylinder_zones import CylinderZones
from models.scan_significance import (
    NullMaxima,
    recurrence_interval_days,
    simulate_null_maxima,
    union_bound_p,
)

__all__ = [
    "CylinderZones",
    "ScanCluster",
    "NullMaxima",
    "log_likelihood_ratio",
    "scan",
    "iter_clusters",
    "simulate_null_maxima",
    "union_bound_p",
    "recurrence_interval_days",
]
