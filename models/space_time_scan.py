"""Prospective expectation-based Poisson space-time scan (时空扫描统计量).

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

Zones are circles: each cell with its nearest cells out to ``max_radius_m``
(at most ``max_cells``), as in SaTScan; durations are a few numbers of the
most recent time buckets (window slides). Clusters are the zones with the
highest LLR that share no cell, as SaTScan reports secondary clusters.

Significance of a cluster is the chance that the *largest* LLR over all
cylinders reaches its LLR when the counts follow the baselines: Monte Carlo
replicates of the whole district, the way SaTScan computes its p-values,
with a Gumbel tail fitted to the replicates (SaTScan's Gumbel p-values) so
that p-values far below ``1 / replicates`` are possible. A cylinder must
hold at least ``min_observed`` events in the data and in every replicate
alike. The p-value never exceeds the Bonferroni bound over all cylinders
(:func:`union_bound_p`, exact Poisson tails), which is also used when too
few replicates reach any cylinder to fit a tail. The
recurrence interval is SaTScan's: ``1 / (p × looks per day)`` days.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

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

_EULER_GAMMA = 0.5772156649015329


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


class CylinderZones:
    """Circular zones of a set of cells: each centre with its nearest cells.

    Parameters
    ----------
    coords : array_like of shape (n, 2)
        Cell centres in metres (any planar projection).
    max_radius_m : float
        A zone holds the cells whose centre lies within this distance of the
        zone's centre cell.
    max_cells : int
        And at most this many cells.

    Attributes
    ----------
    neighbours : numpy.ndarray of shape (n, max_cells)
        Row ``i`` lists cell ``i`` and then its nearest cells by distance
        (ties by index); ``-1`` pads rows with fewer cells in reach. Zone
        ``(i, k)`` is the first ``k + 1`` entries of row ``i``.
    membership : scipy.sparse.csr_matrix of shape (n, n * max_cells)
        ``membership[j, i * max_cells + k] = 1`` when cell ``j`` is in zone
        ``(i, k)``; zone sums of per-cell values ``v`` are ``v @ membership``.

    Examples
    --------
    >>> zones = CylinderZones([[0, 0], [1000, 0], [3000, 0]], max_radius_m=1500, max_cells=3)
    >>> zones.neighbours
    array([[ 0,  1, -1],
           [ 1,  0, -1],
           [ 2, -1, -1]])
    >>> zones.n_zones   # {0}, {0, 1}, {1}, {1, 0}, {2}
    5
    """

    def __init__(self, coords, max_radius_m: float, max_cells: int):
        xy = np.asarray(coords, dtype=float)
        if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) == 0:
            raise ValueError(f"coords has shape {xy.shape}; it must be (n, 2) with n >= 1")
        if not (math.isfinite(max_radius_m) and max_radius_m >= 0):
            raise ValueError(f"max_radius_m={max_radius_m!r} must be a finite number >= 0")
        if isinstance(max_cells, bool) or not isinstance(max_cells, int) or max_cells < 1:
            raise ValueError(f"max_cells={max_cells!r} must be an integer >= 1")
        from scipy.spatial import cKDTree

        n = len(xy)
        k = min(max_cells, n)
        distances, index = cKDTree(xy).query(xy, k=k)
        distances = distances.reshape(n, k)
        index = index.reshape(n, k)
        # Stable order by (distance, index): cKDTree breaks ties arbitrarily.
        order = np.lexsort((index, np.round(distances, 6)), axis=1)
        index = np.take_along_axis(index, order, axis=1)
        distances = np.take_along_axis(distances, order, axis=1)
        index[distances > max_radius_m + 1e-9] = -1
        if k < max_cells:
            index = np.hstack([index, np.full((n, max_cells - k), -1)])
        self.neighbours = index
        self.n_cells = n
        self.max_cells = max_cells
        rows, cols = [], []
        for depth in range(max_cells):
            members = index[:, depth]
            valid = members >= 0
            centres = np.nonzero(valid)[0]
            for k_zone in range(depth, max_cells):
                zone_valid = index[centres, k_zone] >= 0
                rows.append(members[centres][zone_valid])
                cols.append(centres[zone_valid] * max_cells + k_zone)
        rows = np.concatenate(rows)
        cols = np.concatenate(cols)
        self.membership = sp.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(n, n * max_cells)
        )
        #: The transpose, zones by cells: zone sums are ``by_zone @ values``.
        self.by_zone = self.membership.T.tocsr()
        self.valid_zone = (index >= 0).reshape(-1)

    @property
    def n_zones(self) -> int:
        return int(self.valid_zone.sum())

    def cells_of(self, zone: int) -> np.ndarray:
        """Cell indices of zone number ``zone`` (``centre * max_cells + k``)."""
        centre, k = divmod(int(zone), self.max_cells)
        return self.neighbours[centre, : k + 1].copy()


@dataclass(frozen=True)
class ScanCluster:
    """One cluster: a zone over the most recent ``duration`` buckets."""

    zone: int
    cells: tuple[int, ...]
    duration_index: int
    observed: float
    expected: float
    llr: float


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


def iter_clusters(observed, expected, zones: CylinderZones, *, min_observed: int = 1):
    """Yield the clusters of :func:`scan` lazily, by decreasing LLR.

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
    while True:
        position = int(np.argmax(llr))
        k, d = divmod(position, n_durations)
        if not llr[k, d] > 0:
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
        )
        # Later clusters share no cell with this one.
        overlapping = zones.membership[cells].indices
        llr[np.isin(candidates, overlapping)] = 0.0


@dataclass(frozen=True)
class NullMaxima:
    """Largest LLR of each Monte Carlo replicate, and the tail fitted to them."""

    maxima: np.ndarray
    n_cylinders: int

    @property
    def replicates(self) -> int:
        return int(self.maxima.size)

    def p_value(self, llr: float, bound: float = 1.0, *, min_tail: int = 20) -> tuple[float, str]:
        """P(largest LLR ≥ ``llr``) under the baselines, and how it was computed.

        ``'gumbel'``: a Gumbel tail fitted by moments to the replicates that
        reached any cylinder, times the share that did, capped at ``bound``
        (:func:`union_bound_p`, a valid upper bound); ``'union bound'``:
        fewer than ``min_tail`` replicates reached a cylinder, or the bound
        is smaller.

        Examples
        --------
        >>> NullMaxima(np.zeros(99), n_cylinders=1000).p_value(15.0, 2e-5)
        (2e-05, 'union bound')
        >>> p, how = NullMaxima(np.linspace(1, 8, 99), n_cylinders=1000).p_value(15.0)
        >>> round(p, 6), how    # beta = 1.600, mu = 3.577: exp(-(15 - mu) / beta)
        (0.000792, 'gumbel')
        """
        positive = self.maxima[self.maxima > 0]
        if positive.size < min_tail:
            return bound, "union bound"
        share = positive.size / self.maxima.size
        beta = float(positive.std(ddof=1)) * math.sqrt(6) / math.pi
        if not beta > 0:
            return bound, "union bound"
        mu = float(positive.mean()) - _EULER_GAMMA * beta
        tail = share * -math.expm1(-math.exp(-(llr - mu) / beta))
        return (tail, "gumbel") if tail < bound else (bound, "union bound")


def union_bound_p(llr: float, zone_expected, *, min_observed: int = 1) -> float:
    """Bonferroni bound on P(largest LLR ≥ ``llr``): the sum over cylinders of P(LLR_z ≥ llr).

    For a cylinder expecting ``E`` events the LLR grows with the count above
    ``E``, so ``LLR_z ≥ llr`` exactly when the count reaches the smallest
    integer ``o* > E`` (and ``≥ min_observed``) with ``LLR(o*, E) ≥ llr``;
    its probability is the Poisson tail at ``o*``. Valid whatever the
    dependence between cylinders.

    Examples
    --------
    One cylinder expecting 1 event: LLR(13, 1) = 21.34 is the first count
    at or above 20 (LLR(12, 1) = 18.82), and P(N ≥ 13 | 1) = 6.36e-11.

    >>> f"{union_bound_p(20.0, [[1.0]]):.3g}"
    '6.36e-11'
    """
    from scipy.stats import poisson

    e = np.asarray(zone_expected, dtype=float).reshape(-1)
    e = e[e > 0]
    if e.size == 0 or llr <= 0:
        return 1.0
    lo = np.maximum(np.floor(e), min_observed - 1).astype(float)  # LLR(lo) < llr or lo < min
    hi = np.ceil(e + 2 * llr + 3 * np.sqrt(e * llr) + min_observed + 2)
    while True:
        short = log_likelihood_ratio(hi, e) < llr
        if not short.any():
            break
        hi[short] *= 2
    while True:
        open_ = hi - lo > 1
        if not open_.any():
            break
        mid = np.floor((lo + hi) / 2)
        reach = log_likelihood_ratio(mid, e) >= llr
        reach &= mid >= min_observed
        hi = np.where(open_ & reach, mid, hi)
        lo = np.where(open_ & ~reach, mid, lo)
    return float(min(1.0, poisson.sf(hi - 1, e).sum()))


def simulate_null_maxima(
    rates,
    bucket_weights,
    durations,
    zones: CylinderZones,
    *,
    min_observed: int = 1,
    replicates: int = 199,
    rng: np.random.Generator | None = None,
) -> NullMaxima:
    """Largest LLR of ``replicates`` districts drawn from the baselines.

    Cell ``j`` expects ``rates[j] * bucket_weights[b]`` events in time bucket
    ``b`` (oldest first); a duration of ``d`` buckets covers the last ``d``.
    Counts are drawn per cell for the whole window and split over buckets
    multinomially, which gives the same joint law as independent Poisson
    draws per bucket; only cells with events are touched, so a replicate
    costs in proportion to its events, not to the number of cells.

    Examples
    --------
    >>> zones = CylinderZones([[0, 0], [1000, 0]], max_radius_m=1500, max_cells=2)
    >>> null = simulate_null_maxima([0.5, 0.5], [1.0], [1], zones, replicates=99,
    ...                             rng=np.random.default_rng(1))
    >>> null.replicates, null.n_cylinders
    (99, 4)
    """
    r = np.asarray(rates, dtype=float)
    w = np.asarray(bucket_weights, dtype=float)
    durations = [int(d) for d in durations]
    if r.shape != (zones.n_cells,) or (r < 0).any() or not np.isfinite(r).all():
        raise ValueError(f"rates must be {zones.n_cells} non-negative finite numbers")
    if w.ndim != 1 or w.size == 0 or (w < 0).any() or not w.sum() > 0:
        raise ValueError(f"bucket_weights={w.tolist()} must be non-negative with a positive sum")
    if not durations or min(durations) < 1 or max(durations) > w.size:
        raise ValueError(f"durations={durations} must lie between 1 and {w.size} buckets")
    rng = rng or np.random.default_rng()
    n_cylinders = zones.n_zones * len(durations)
    maxima = np.zeros(replicates)
    totals = rng.poisson(np.outer(np.ones(replicates), r * w.sum()))
    rep, cell = np.nonzero(totals)
    if rep.size == 0:
        return NullMaxima(maxima, n_cylinders)
    split = rng.multinomial(totals[rep, cell], w / w.sum())
    zone_expected = r @ zones.membership
    for d in durations:
        counts = split[:, w.size - d :].sum(axis=1)
        keep = counts > 0
        matrix = sp.csr_matrix(
            (counts[keep].astype(float), (rep[keep], cell[keep])), shape=(replicates, zones.n_cells)
        )
        zone_counts = (matrix @ zones.membership).tocoo()
        hit = zone_counts.data >= min_observed
        if not hit.any():
            continue
        o = zone_counts.data[hit]
        e = zone_expected[zone_counts.col[hit]] * w[w.size - d :].sum()
        llr = log_likelihood_ratio(o, e)
        np.maximum.at(maxima, zone_counts.row[hit], llr)
    return NullMaxima(maxima, n_cylinders)


def recurrence_interval_days(p_value: float, looks_per_day: float) -> float:
    """SaTScan's recurrence interval: ``1 / (p × looks per day)``, in days.

    Examples
    --------
    >>> recurrence_interval_days(1e-4, 288)
    34.72222222222222
    """
    if not 0 < p_value <= 1:
        raise ValueError(f"p_value={p_value!r} must lie in (0, 1]")
    if not looks_per_day > 0:
        raise ValueError(f"looks_per_day={looks_per_day!r} must be positive")
    return 1.0 / (p_value * looks_per_day)
