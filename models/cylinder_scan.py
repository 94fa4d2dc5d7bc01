"""Prospective expectation-based Poisson space-time scan (时空扫描统计量): the clusters of a look.

At every window end the detector asks: is there a cylinder (a circle of
cells × a stretch of time ending now) with more events than the baselines
expect? This is Kulldorff's prospective space-time scan (Kulldorff 2001,
"Prospective time periodic geographical disease surveillance using a scan
statistic", JRSS A 164(1)) with the expected counts taken from the nightly
baselines instead of conditioned on the window's total, the
*expectation-based* Poisson scan of Neill et al. (2005). For a cylinder with
``O`` events where ``E`` are expected the log-likelihood ratio is

.. math::

    \\mathrm{LLR} = O \\ln\\frac{O}{E} - (O - E) \\quad (O > E), \\qquad 0 \\text{ otherwise.}

Zones are circles (:class:`models.cylinder_zones.CylinderZones`);
durations are a few numbers of the most recent time buckets (window
slides). Clusters are the zones with the highest LLR that share no cell, as
SaTScan reports secondary clusters. A cylinder must hold at least
``min_observed`` events. How significant a cluster is, is the business of
:mod:`models.scan_significance`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from models.cylinder_zones import CylinderZones

__all__ = ["ScanCluster", "log_likelihood_ratio", "scan", "iter_clusters"]


def log_likelihood_ratio(observed, expected) -> np.ndarray:
    """Elementwise expectation-based Poisson LLR; 0 where ``observed <= expected``.

    Examples
    --------
    >>> log_likelihood_ratio([6, 1, 0], [2.0, 2.0, 0.5]).round(6)
    array([2.591674, 0.      , 0.      ])
    """
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    out = np.zeros(np.broadcast(o, e).shape)
    high = np.broadcast_to(o > e, out.shape) & np.broadcast_to(e > 0, out.shape)
    ob, eb = np.broadcast_to(o, out.shape)[high], np.broadcast_to(e, out.shape)[high]
    out[high] = ob * np.log(ob / eb) - (ob - eb)
    return out


@dataclass(frozen=True)
class ScanCluster:
    """One cluster: a zone over the most recent ``duration`` buckets."""

    zone: int
    cells: tuple[int, ...]
    duration_index: int
    observed: float
    expected: float
    llr: float
    #: What clusters are ranked and judged by: the LLR plus the zone's log weight
    #: (:func:`iter_clusters`); the LLR itself without weights.
    score: float | None = None

    @property
    def statistic(self) -> float:
        """The score when the scan was weighted, else the LLR."""
        return self.llr if self.score is None else self.score


def scan(
    observed, expected, zones: CylinderZones, *, min_observed: int = 1, max_clusters: int = 5
) -> list[ScanCluster]:
    """The clusters of one look, by decreasing LLR, sharing no cell.

    Parameters
    ----------
    observed, expected : array_like of shape (n, D)
        Events and expected events per cell over each duration (column),
        durations ending at the window's end.
    zones : CylinderZones
    min_observed : int
        A cylinder needs at least this many events.
    max_clusters : int
        Report at most this many clusters.

    Examples
    --------
    >>> zones = CylinderZones([[0, 0], [1000, 0], [5000, 0]], max_radius_m=1500, max_cells=2)
    >>> o = np.array([[4.0], [5.0], [1.0]])
    >>> e = np.array([[1.0], [1.0], [1.0]])
    >>> [(c.cells, c.observed, c.expected, round(c.llr, 4)) for c in scan(o, e, zones)]
    [((0, 1), 9.0, 2.0, 6.5367)]
    """
    return list(
        itertools.islice(
            iter_clusters(observed, expected, zones, min_observed=min_observed), max_clusters
        )
    )


def iter_clusters(
    observed, expected, zones: CylinderZones, *, min_observed: int = 1, log_weights=None
):
    """Yield the clusters of :func:`scan` lazily, by decreasing LLR.

    With ``log_weights`` (one per zone number, ``zones.membership``'s
    columns), clusters come by decreasing *score*, the LLR plus the zone's
    log weight: a weighted scan, which spends the false-alarm budget
    unevenly over zones as weighted Bonferroni does (Roeder & Wasserman
    2009), as long as its null is drawn with the same weights
    (:func:`models.scan_significance.simulate_null_maxima`).

    Only zones that can reach ``min_observed`` events in some duration are
    scored, and each further cluster costs one arg-max: a caller that stops
    after a cluster that is not significant (later ones are less so) pays
    for the statistic of one look and little more. ``expected`` may also be
    a pair ``(rates, hours)``, meaning ``numpy.outer(rates, hours)``, which
    is then formed for the scored zones only.

    Examples
    --------
    >>> zones = CylinderZones([[0, 0], [1000, 0], [5000, 0]], max_radius_m=1500, max_cells=2)
    >>> o = np.array([[4.0], [5.0], [1.0]])
    >>> first = next(iter_clusters(o, ([1.0, 1.0, 1.0], [1.0]), zones, min_observed=5))
    >>> first.cells, first.observed
    ((0, 1), 9.0)
    """
    o = np.asarray(observed, dtype=float)
    if isinstance(expected, tuple):
        rates, hours = (np.asarray(v, dtype=float) for v in expected)
        shape = (rates.shape[0], hours.shape[0]) if rates.ndim == hours.ndim == 1 else None
    else:
        e = np.asarray(expected, dtype=float)
        shape = e.shape
    if o.ndim != 2 or o.shape != shape or o.shape[0] != zones.n_cells:
        raise ValueError(
            f"observed {o.shape} and expected {shape} must both be ({zones.n_cells}, durations)"
        )
    # A zone's count in any duration is at most its sum of each cell's largest.
    upper = zones.by_zone @ (o[:, 0] if o.shape[1] == 1 else o.max(axis=1))
    candidates = np.flatnonzero((upper >= min_observed) & zones.valid_zone)
    if candidates.size == 0:
        return
    rows = zones.by_zone[candidates]
    zo = np.asarray(rows @ o)
    if isinstance(expected, tuple):
        ze = np.outer(rows @ rates, hours)
    else:
        ze = np.asarray(rows @ e)
    llr = np.zeros_like(zo)
    scored = (zo >= min_observed) & (zo > ze) & (ze > 0)
    o_s, e_s = zo[scored], ze[scored]
    llr[scored] = o_s * np.log(o_s / e_s) - (o_s - e_s)
    n_durations = o.shape[1]
    if log_weights is None:
        rank = llr
    else:
        rank = np.where(llr > 0, llr + np.asarray(log_weights, dtype=float)[candidates, None], 0.0)
    while True:
        position = int(np.argmax(rank))
        k, d = divmod(position, n_durations)
        if not rank[k, d] > 0:
            return
        zone = int(candidates[k])
        cells = zones.cells_of(zone)
        yield ScanCluster(
            zone,
            tuple(int(c) for c in cells),
            d,
            float(zo[k, d]),
            float(ze[k, d]),
            float(llr[k, d]),
            None if log_weights is None else float(rank[k, d]),
        )
        # Later clusters share no cell with this one.
        overlapping = zones.membership[cells].indices
        rank[np.isin(candidates, overlapping)] = 0.0
