"""Scoring one look of the hotspot detector: the alert budget, cluster p-values, cell q-values.

Pieces of :meth:`models.hotspot_detector.HotspotDetector.look` that are
plain functions of their inputs:

- false-alarm control (:func:`budget_threshold`): a category's scan is one
  test per look, so with ``B`` false alarms budgeted per town and month,
  ``T`` towns, ``C`` categories and ``L`` looks a month the threshold is

  .. math::

      p^* = \\frac{B \\, T}{L \\, C},

  and the expected number of false most-likely clusters is at most the
  budget (secondary clusters are tested against the same null,
  conservatively);
- a cluster's p-value (:func:`cluster_p_value`): its cylinder's own Poisson
  tail decides when that alone is above ``p*``; otherwise the Gumbel tail of
  Monte Carlo null maxima (Kulldorff 2001, SaTScan; see
  :mod:`models.scan_significance`), or the union bound where too few
  replicates reached any cylinder;
- the null maxima are drawn for bucket weights quantized by
  :func:`quantized_bucket_weights`, so that looks can share them;
- per cell (:func:`cell_q_values`), the window's Poisson p-values of all
  cells and categories get Benjamini–Hochberg q-values (Benjamini and
  Hochberg 1995, JRSS B 57(1)).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import false_discovery_control, nbinom, poisson

from models.scan_significance import reaching_counts, union_bound_p

__all__ = [
    "budget_threshold",
    "count_tail",
    "zone_shape",
    "cluster_p_value",
    "single_cell_floor",
    "quantized_bucket_weights",
    "zone_log_weights",
    "cell_q_values",
]

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


def count_tail(observed: float, expected: float, shape: float = math.inf) -> float:
    """``P(N >= observed)`` for a count of mean ``expected``: Poisson, or gamma–Poisson of ``shape``.

    A gamma–Poisson (negative binomial) count of shape ``k`` has variance
    ``E + E²/k``; ``k = inf`` is Poisson.

    >>> round(count_tail(10, 4.0), 5), round(count_tail(10, 4.0, 5.0), 5)
    (0.00813, 0.0389)
    """
    if not math.isfinite(shape):
        return float(poisson.sf(observed - 1, expected))
    return float(nbinom.sf(observed - 1, shape, shape / (shape + expected)))


def zone_shape(expected_by_cell, shapes) -> float:
    """The gamma shape of a zone's sum, matched on its variance: ``(Σe)² / Σ(e²/a)``.

    >>> zone_shape([1.0, 1.0], [4.0, float("inf")]), zone_shape([1.0], [float("inf")])
    (16.0, inf)
    """
    e = np.asarray(expected_by_cell, dtype=float)
    a = np.asarray(shapes, dtype=float)
    excess = float(np.sum(np.where(np.isfinite(a), e**2 / np.where(np.isfinite(a), a, 1.0), 0.0)))
    return float(e.sum() ** 2 / excess) if excess > 0 else math.inf


def single_cell_floor(llr: float, cell_expected, shapes=None, *, min_observed: int = 1) -> float:
    """P(some single cell reaches ``llr``): a lower bound on the largest LLR's p-value.

    Single cells over one duration are disjoint cylinders, whose counts are
    independent under the baselines (Poisson, or gamma–Poisson of each
    cell's shape, as the Monte Carlo null draws them). The largest LLR over
    all cylinders reaches ``llr`` whenever one of them does, so its p-value
    is at least ``1 - Π (1 - P(LLR_j ≥ llr))``. Summed over a district's
    cells this is far above one cylinder's own tail: an LLR that thousands
    of cells could each reach by chance is no cluster, and no null need be
    drawn to say so.

    Examples
    --------
    Two cells expecting 1 event each: LLR(13, 1) = 21.34 is the first count
    at or above 20, and P(N ≥ 13 | 1) = 6.36e-11 for each.

    >>> f"{single_cell_floor(20.0, [1.0, 1.0]):.4g}"
    '1.272e-10'
    """
    e = np.asarray(cell_expected, dtype=float)
    if llr <= 0:
        return 1.0
    a = np.full(e.shape, np.inf) if shapes is None else np.asarray(shapes, dtype=float)
    keep = e > 0
    e, a = e[keep], a[keep]
    if e.size == 0:
        return 0.0
    first = reaching_counts(llr, e, min_observed=min_observed)
    tail = poisson.sf(first - 1, e)
    gamma = np.isfinite(a) & (a > 0)
    if gamma.any():
        k = a[gamma]
        tail[gamma] = nbinom.sf(first[gamma] - 1, k, k / (k + e[gamma]))
    return float(-np.expm1(np.log1p(-np.minimum(tail, 1.0 - 1e-16)).sum()))


def cluster_p_value(
    cluster,
    threshold,
    null_maxima,
    zone_expected,
    *,
    min_observed,
    shape: float = math.inf,
    cell_floor=None,
):
    """The cluster's p-value: Monte Carlo Gumbel tail, capped by the union bound.

    The p-value is at least the cluster's own Poisson tail (its cylinder
    alone reaching its count is one way for the largest LLR to), so a
    cluster whose tail is above the threshold is rejected before the
    null is drawn or the union bound (a pass over every cylinder) is
    summed; most looks end there. It is also at least the chance that
    some single cell reaches its LLR (:func:`single_cell_floor`), which
    rejects most of the rest without a null. Otherwise the p-value is the Gumbel tail
    of the replicates (SaTScan's), or, where too few replicates reached
    any cylinder to fit one, the union bound.

    Parameters
    ----------
    cluster : models.space_time_scan.ScanCluster
    threshold : float
        The budget's ``p*`` (:func:`budget_threshold`).
    null_maxima : callable
        ``null_maxima()`` returns the :class:`models.space_time_scan.NullMaxima`
        of the look's category; called only when the own tail is below
        ``threshold``.
    zone_expected : callable
        ``zone_expected()`` returns every cylinder's expected count (valid
        zones by durations) and the zones' log weights (``None``: the scan
        is not weighted), for the union bound; called only when the Gumbel
        tail cannot be fitted.
    min_observed : int
        Events a cylinder needs, as in the scan.
    shape : float
        The zone's gamma shape (:func:`zone_shape`): its own tail is
        gamma–Poisson then; ``inf``: Poisson.
    cell_floor : callable, optional
        ``cell_floor(cluster)`` returns :func:`single_cell_floor` at the
        cluster's LLR and duration; a cluster whose floor is above the
        threshold is rejected before the null is drawn. ``None``: no such
        check (a weighted scan, whose statistic is not the LLR alone).

    Returns
    -------
    p_value : float
    method : {'cylinder tail', 'cell tails', 'gumbel', 'union bound'}
    """
    own_tail = count_tail(cluster.observed, cluster.expected, shape)
    if own_tail > threshold:
        # The largest LLR reaches this one at least as often as this
        # cylinder alone does: not significant, whatever the null says.
        return own_tail, "cylinder tail"
    if cell_floor is not None:
        floor = cell_floor(cluster)
        if floor > threshold:
            # Nor does it when single cells alone reach its LLR too often.
            return floor, "cell tails"
    gumbel, method = null_maxima().p_value(cluster.statistic, 1.0)
    if method == "gumbel":
        return gumbel, method
    # Too few replicates reached any cylinder to fit a tail: the bound decides.
    expected, log_weights = zone_expected()
    return (
        union_bound_p(
            cluster.statistic, expected, min_observed=min_observed, log_weights=log_weights
        ),
        "union bound",
    )


def zone_log_weights(zone_rates, valid, power: float, *, floor: float = 1e-6) -> np.ndarray:
    """Log weights of a weighted scan: each zone's rate to ``power``, mean weight 1.

    A surge multiplies events where they happen, and a zone expecting
    almost none can hardly show one at a false-alarm rate duty staff
    accept: spending the budget evenly over every zone wastes most of it
    where nothing is detectable. Weighting zone ``z`` by
    ``w_z ∝ rate_z ** power`` (mean 1 over the valid zones, so the
    weights sum to the number of zones, as weighted Bonferroni asks)
    moves it toward busy zones; ``power = 0`` is the unweighted scan.
    Weights are floored at ``floor`` (log weights at ``ln floor``), and
    invalid zones get the floor.

    Examples
    --------
    >>> zone_log_weights([1.0, 4.0, 0.0], [True, True, False], 1.0).round(4)
    array([ -0.9163,   0.47  , -13.8155])
    """
    r = np.asarray(zone_rates, dtype=float)
    ok = np.asarray(valid, dtype=bool) & (r > 0)
    if not power >= 0:
        raise ValueError(f"power={power!r} must be >= 0")
    w = np.zeros(r.shape)
    w[ok] = r[ok] ** power
    n_valid = int(np.count_nonzero(valid))
    total = w.sum()
    if total > 0:
        w *= n_valid / total
    return np.log(np.maximum(w, floor))


def quantized_bucket_weights(weights):
    """Bucket weights quantized so that looks with similar weights share one null.

    The weights change with the hour-of-week profile at every look, so
    they are quantized: their total up to the next step of 10 % (a
    little more expected, a slightly heavier null), their shape over
    the buckets to 0.01.

    Parameters
    ----------
    weights : numpy.ndarray of shape (buckets,)
        Baseline hours per time bucket, oldest first, with a positive total.

    Returns
    -------
    steps : int
        The quantized total is ``1.1 ** steps``.
    shape : numpy.ndarray
        The weights' shares of the total, rounded to 0.01.
    quantized : numpy.ndarray
        ``shape`` rescaled to the quantized total.
    """
    total = float(weights.sum())
    steps = math.ceil(math.log(total) / math.log(_NULL_SCALE_STEP) - 1e-9)
    scaled_total = _NULL_SCALE_STEP**steps
    shape = np.round(weights / total, 2)
    return steps, shape, shape / shape.sum() * scaled_total


def cell_q_values(window_tests: dict, n_cells: int, n_categories: int) -> dict:
    """Poisson p-value and BH q-value of every cell with events over the whole window.

    All cells and scored categories count as tested (a cell without
    events has p = 1), so the q-values do not depend on how busy a look
    is.

    Parameters
    ----------
    window_tests : dict
        ``category -> (rows, observed, expected)``: the indices of the cells
        with events, their events and their expected events over the whole
        window.
    n_cells : int
        Cells of the universe.
    n_categories : int
        Categories scored.

    Returns
    -------
    dict
        ``category -> (p, q)``, two arrays over all cells.
    """
    p_values, spans = [], []
    for category, (rows, observed, expected) in window_tests.items():
        p_values.append(poisson.sf(observed - 1, expected))
        spans.append((category, rows))
    p_seen = np.concatenate(p_values)
    tested = max(n_cells * max(n_categories, len(window_tests)), p_seen.size)
    p_all = np.ones(tested)
    p_all[: p_seen.size] = p_seen
    q_all = false_discovery_control(p_all)
    by_category, start = {}, 0
    for category, rows in spans:
        p_cells, q_cells = np.ones(n_cells), np.ones(n_cells)
        p_cells[rows] = p_seen[start : start + rows.size]
        q_cells[rows] = q_all[start : start + rows.size]
        by_category[category] = (p_cells, q_cells)
        start += rows.size
    return by_category
