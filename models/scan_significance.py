"""Significance of space-time scan clusters (时空扫描统计量): Monte Carlo null, Gumbel tail, union bound.

Significance of a cluster found by :mod:`models.cylinder_scan` is the
chance that the *largest* LLR over all cylinders reaches its LLR when the
counts follow the baselines: Monte Carlo replicates of the whole district
(:func:`simulate_null_maxima`), the way SaTScan computes its p-values, with
a Gumbel tail fitted to the replicates (:meth:`NullMaxima.p_value`,
SaTScan's Gumbel p-values) so that p-values far below ``1 / replicates``
are possible. A cylinder must hold at least ``min_observed`` events in the
data and in every replicate alike. The p-value never exceeds the Bonferroni
bound over all cylinders (:func:`union_bound_p`, exact Poisson tails),
which is also used when too few replicates reach any cylinder to fit a
tail. The recurrence interval is SaTScan's: ``1 / (p × looks per day)``
days (Kulldorff 2001, "Prospective time periodic geographical disease
surveillance using a scan statistic", JRSS A 164(1)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from models.cylinder_scan import log_likelihood_ratio
from models.cylinder_zones import CylinderZones

__all__ = [
    "NullMaxima",
    "simulate_null_maxima",
    "union_bound_p",
    "reaching_counts",
    "recurrence_interval_days",
]

_EULER_GAMMA = 0.5772156649015329
# Replicates with events in more than this share of (replicate, cell) pairs are
# scanned as dense arrays (simulate_null_maxima).
DENSE_SHARE = 0.25
# Float32 screening keeps every zone whose LLR is within this of the
# replicate's float32 maximum, plus 1e-6 of the largest count (_dense_maxima).
_SCREEN_MARGIN = 1e-2


@dataclass(frozen=True)
class NullMaxima:
    """Largest LLR of each Monte Carlo replicate, and the tail fitted to them."""

    maxima: np.ndarray
    n_cylinders: int

    @property
    def replicates(self) -> int:
        """Number of Monte Carlo replicates."""
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


def union_bound_p(llr: float, zone_expected, *, min_observed: int = 1, log_weights=None) -> float:
    """Bonferroni bound on P(largest LLR ≥ ``llr``): the sum over cylinders of P(LLR_z ≥ llr).

    With ``log_weights`` (one per row of ``zone_expected``), ``llr`` is a
    weighted scan's score, and a cylinder reaches it when its LLR reaches
    ``llr`` minus its zone's log weight.

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

    e = np.asarray(zone_expected, dtype=float)
    if llr <= 0:
        return 1.0
    if log_weights is None:
        need = np.full(e.shape, float(llr))
    else:
        # A weighted cylinder reaches the score when its LLR reaches score - log weight.
        rows = e.reshape(len(e), -1)
        bar = float(llr) - np.asarray(log_weights, dtype=float).reshape(-1, 1)
        need = np.broadcast_to(bar, rows.shape)
        need = np.maximum(need, 1e-9)
    e, need = e.reshape(-1), need.reshape(-1)
    need = need[e > 0]
    e = e[e > 0]
    if e.size == 0:
        return 1.0
    first = reaching_counts(need, e, min_observed=min_observed)
    return float(min(1.0, poisson.sf(first - 1, e).sum()))


def reaching_counts(llr, expected, *, min_observed: int = 1) -> np.ndarray:
    """The smallest count, above ``expected`` and at least ``min_observed``, whose LLR reaches ``llr``.

    Elementwise over positive ``expected`` (and ``llr``, broadcast): the LLR
    grows with the count above the expectation, so a cylinder's LLR reaches
    ``llr`` exactly when its count reaches this one.

    Examples
    --------
    >>> reaching_counts(20.0, [1.0]).tolist()     # LLR(12, 1) = 18.82, LLR(13, 1) = 21.34
    [13.0]
    >>> reaching_counts(0.1, [1.0], min_observed=5).tolist()
    [5.0]
    """
    e = np.asarray(expected, dtype=float)
    need = np.broadcast_to(np.asarray(llr, dtype=float), e.shape)
    lo = np.maximum(np.floor(e), min_observed - 1).astype(float)  # LLR(lo) < need or lo < min
    hi = np.ceil(e + 2 * need + 3 * np.sqrt(e * need) + min_observed + 2)
    while True:
        short = log_likelihood_ratio(hi, e) < need
        if not short.any():
            break
        hi[short] *= 2
    while True:
        open_ = hi - lo > 1
        if not open_.any():
            break
        mid = np.floor((lo + hi) / 2)
        reach = log_likelihood_ratio(mid, e) >= need
        reach &= mid >= min_observed
        hi = np.where(open_ & reach, mid, hi)
        lo = np.where(open_ & ~reach, mid, lo)
    return hi


def simulate_null_maxima(
    rates,
    bucket_weights,
    durations,
    zones: CylinderZones,
    *,
    min_observed: int = 1,
    replicates: int = 199,
    rng: np.random.Generator | None = None,
    shapes=None,
    log_weights=None,
) -> NullMaxima:
    """Largest LLR of ``replicates`` districts drawn from the baselines.

    With ``log_weights`` (one per zone number), the largest *score*, LLR
    plus the zone's log weight, floored at 0, as the weighted scan ranks
    (:func:`models.cylinder_scan.iter_clusters`).

    With ``shapes`` (each cell's gamma shape, ``inf`` for none), each
    replicate first draws every such cell's rate as ``rate × G``,
    ``G ~ Gamma(shape, 1/shape)``: the gamma–Poisson predictive of a rate
    known only so well (or varying beyond Poisson), while the LLR is still
    taken against the point rate, as the data's is.

    Cell ``j`` expects ``rates[j] * bucket_weights[b]`` events in time bucket
    ``b`` (oldest first); a duration of ``d`` buckets covers the last ``d``.
    Counts are drawn per cell for the whole window, then thinned to each
    shorter duration binomially, longest first (the count over the last
    ``d`` buckets is binomial in the count over a longer span, with the
    share of its weights): the same joint law as independent Poisson draws
    per bucket, drawn only for cells with events and only once per
    duration. Sparse replicates are scanned as sparse matrices; dense ones
    (long windows, busy categories) as dense arrays
    (:func:`_dense_maxima`).

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
    means = np.outer(np.ones(replicates), r * w.sum())
    if shapes is not None:
        a = np.asarray(shapes, dtype=float)
        finite = np.flatnonzero(np.isfinite(a) & (a > 0))
        if finite.size:
            means[:, finite] *= rng.gamma(
                a[finite], 1.0 / a[finite], size=(replicates, finite.size)
            )
    totals = rng.poisson(means)
    rep, cell = np.nonzero(totals)
    if rep.size == 0:
        return NullMaxima(maxima, n_cylinders)
    recent = _recent_counts(totals[rep, cell], w, durations, rng)
    dense = rep.size > DENSE_SHARE * replicates * zones.n_cells
    if dense:
        by_zone = zones.by_zone.astype(np.float32)
        # Every duration writes the same (replicate, cell) places: one grid serves all.
        grid = np.zeros((replicates, zones.n_cells), dtype=np.float32)
    zone_expected = r @ zones.membership
    lw = None if log_weights is None else np.asarray(log_weights, dtype=float)
    for d in durations:
        counts = recent[d]
        e = zone_expected * w[w.size - d :].sum()
        if dense:
            grid[rep, cell] = counts
            _dense_maxima(maxima, by_zone @ grid.T, e, lw, min_observed)
            continue
        keep = counts > 0
        # (rep, cell) come from np.nonzero: sorted by replicate, then cell.
        indptr = np.zeros(replicates + 1, dtype=np.int64)
        np.cumsum(np.bincount(rep[keep], minlength=replicates), out=indptr[1:])
        matrix = sp.csr_matrix(
            (counts[keep].astype(float), cell[keep], indptr), shape=(replicates, zones.n_cells)
        )
        zone_counts = (matrix @ zones.membership).tocsr()
        hit = zone_counts.data >= min_observed
        if not hit.any():
            continue
        llr = np.zeros(zone_counts.data.size)
        llr[hit] = log_likelihood_ratio(zone_counts.data[hit], e[zone_counts.indices[hit]])
        if lw is not None:
            llr = np.where(llr > 0, llr + lw[zone_counts.indices], 0.0)
        starts = zone_counts.indptr[:-1]
        filled = np.flatnonzero(zone_counts.indptr[1:] > starts)
        np.maximum.at(maxima, filled, np.maximum.reduceat(llr, starts[filled]))
    return NullMaxima(maxima, n_cylinders)


def _recent_counts(totals, bucket_weights, durations, rng) -> dict:
    """Counts over the last ``d`` buckets for each duration ``d``, thinned from ``totals``.

    Longest duration first: the count over the last ``d`` buckets is
    binomial in the count over the next longer span, with the share of
    its weight, which is the joint law a multinomial split over the
    buckets gives to nested sums.
    """
    tail = np.cumsum(bucket_weights[::-1])  # tail[d - 1]: weight of the last d buckets
    counts, span_n, span_w = {}, totals, tail[-1]
    for d in sorted(set(durations), reverse=True):
        share = tail[d - 1] / span_w if span_w > 0 else 0.0
        if share < 1:
            span_n = rng.binomial(span_n, share)
        counts[d], span_w = span_n, tail[d - 1]
    return counts


def _dense_maxima(maxima, zone_counts, expected, log_weights, min_observed) -> None:
    """Raise ``maxima`` to each replicate's largest (weighted) LLR over dense zone counts.

    ``zone_counts`` is ``zones x replicates`` in float32, where counts are
    exact. A zone counts when it holds more than it expects and at least
    ``min_observed``: for whole counts that is one comparison with
    ``max(floor(E), min_observed - 1)``, exact in float32. The LLRs are
    screened in float32, whose logarithm is vectorized and many times
    faster than float64's; the zones within a margin of each replicate's
    float32 maximum, far above float32's rounding, are scored again in
    float64, so the maxima are the ones float64 gives.
    """
    o = zone_counts
    e64 = np.asarray(expected, dtype=float)
    floor = np.where(e64 > 0, np.maximum(np.floor(e64), min_observed - 1), np.inf)
    below = o <= floor.astype(np.float32)[:, None]
    if below.all():
        return
    e = e64.astype(np.float32)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        screen = o / e
        np.log(screen, out=screen)
        screen *= o
        screen -= o
        screen += e
    if log_weights is not None:
        screen += log_weights.astype(np.float32)[:, None]
    screen[below] = -np.inf
    top = screen.max(axis=0)
    top[top == -np.inf] = np.inf  # a replicate without such a zone has no candidate
    spread = float(o.max()) + (0.0 if log_weights is None else float(np.abs(log_weights).max()))
    margin = _SCREEN_MARGIN + 1e-6 * spread
    zone, rep = np.nonzero(screen >= (top - margin)[None, :])
    llr = log_likelihood_ratio(o[zone, rep].astype(float), e64[zone])
    if log_weights is not None:
        llr = np.where(llr > 0, llr + log_weights[zone], 0.0)
    np.maximum.at(maxima, rep, llr)


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
