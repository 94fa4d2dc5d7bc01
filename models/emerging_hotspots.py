"""Emerging hot spot patterns (时空热点模式) of per-cell Gi* time series.

Each cell carries one Gi* z-score and p-value per time step (oldest first).
A step is *hot* when ``z > 0`` and ``p < alpha`` and *cold* when ``z < 0``
and ``p < alpha``. The Mann-Kendall test on the z-scores says whether the
intensity of clustering rises or falls over time. Together they give each
cell one of the patterns of ArcGIS Pro's Emerging Hot Spot Analysis
("How Emerging Hot Spot Analysis works", pro.arcgis.com /
doc.arcgis.com ``learnmoreemerging.htm``). With ``share`` the fraction of
steps that are hot and ``last`` the final step, the documented rules are:

* new: hot at ``last`` and never hot before;
* consecutive: an uninterrupted run of at least two hot steps ending at
  ``last``, never hot before the run, ``share < 90 %``;
* intensifying / diminishing: ``share >= 90 %`` including ``last``, and a
  significant increasing / decreasing trend;
* persistent: ``share >= 90 %`` with no significant trend;
* sporadic: hot at ``last``, on again and off again, ``share < 90 %``,
  never cold;
* oscillating: hot at ``last``, cold at some earlier step, ``share < 90 %``;
* historical: not hot at ``last`` but ``share >= 90 %``.

The documentation leaves two overlaps open, resolved here as follows.
Persistent also requires a hot final step, since "historical" covers the
cells at ``>= 90 %`` whose final step is not hot. A cell that was cold and
then hot only at the end fits both new/consecutive and oscillating; the
first pattern in the documentation's table order wins (new, consecutive,
..., oscillating, historical), so it is new or consecutive.

Cold patterns mirror the hot ones: a cold pattern of ``z`` is the hot
pattern of ``-z``, so "intensifying cold" means the z-scores fall
significantly. A pattern decided by the final step (hot or cold) wins over
the other side's "historical" pattern.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

__all__ = ["PATTERNS", "PATTERN_LABELS", "mann_kendall", "classify_emerging"]

_KINDS = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)
_KIND_ZH = ("新增", "连续", "加剧", "持续", "减弱", "零星", "振荡", "历史")

#: Pattern identifiers, hot first, then cold, then ``"no_pattern"``.
PATTERNS = (
    tuple(f"{kind}_hot_spot" for kind in _KINDS)
    + tuple(f"{kind}_cold_spot" for kind in _KINDS)
    + ("no_pattern",)
)

#: Chinese display label of every pattern identifier (for Superset).
PATTERN_LABELS = {
    **{f"{kind}_hot_spot": f"{zh}热点" for kind, zh in zip(_KINDS, _KIND_ZH)},
    **{f"{kind}_cold_spot": f"{zh}冷点" for kind, zh in zip(_KINDS, _KIND_ZH)},
    "no_pattern": "无模式",
}


def _as_series(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 2:
        raise ValueError(f"{name} has shape {array.shape}, but must be 2-D (n_cells, n_steps)")
    if array.shape[1] < 2:
        raise ValueError(f"{name} has {array.shape[1]} time step(s), but at least 2 are needed")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values; all must be finite")
    return array


def mann_kendall(series):
    """Two-sided Mann-Kendall trend test of every row, oldest value first.

    ``S = sum_{i<j} sign(x_j - x_i)``; its variance under no trend, with the
    tie correction, is ``(n(n-1)(2n+5) - sum_t t(t-1)(2t+5)) / 18`` over the
    groups of ``t`` tied values; ``z = sign(S) (|S| - 1) / sqrt(var)`` (with
    continuity correction, as R ``trend::mk.test``) and
    ``p = 2 P(Z > |z|)``. A constant row has ``var = 0``; it gets
    ``z = 0`` and ``p = 1``.

    Parameters
    ----------
    series : array_like of shape (n_cells, n_steps)
        Finite values, ``n_steps >= 2``, one row per cell.

    Returns
    -------
    s, z, p : ndarray of shape (n_cells,)
        Mann-Kendall statistic (integer-valued floats), normal score and
        two-sided p-value.

    Examples
    --------
    >>> s, z, p = mann_kendall([[1.0, 2.0, 3.0, 4.0], [2.0, 1.0, 1.0, 2.0]])
    >>> s.tolist()
    [6.0, 0.0]
    >>> round(float(z[0]), 4), round(float(p[0]), 4)
    (1.6984, 0.0894)
    """
    x = _as_series(series, "series")
    n_steps = x.shape[1]
    s = np.zeros(x.shape[0])
    # Loop over lags, not pairs of cells: memory stays n_cells * n_steps.
    for lag in range(1, n_steps):
        s += np.sign(x[:, lag:] - x[:, :-lag]).sum(axis=1)
    # A value in a tie group of size t has t equal values (itself included);
    # summing (t-1)(2t+5) over values gives sum_t t(t-1)(2t+5) over groups.
    tie_sizes = np.zeros(x.shape)
    for step in range(n_steps):
        tie_sizes += x == x[:, step : step + 1]
    ties = ((tie_sizes - 1.0) * (2.0 * tie_sizes + 5.0)).sum(axis=1)
    var = (n_steps * (n_steps - 1) * (2 * n_steps + 5) - ties) / 18.0
    z = np.zeros_like(s)
    varies = var > 0
    z[varies] = np.sign(s[varies]) * (np.abs(s[varies]) - 1.0) / np.sqrt(var[varies])
    p = 2.0 * ndtr(-np.abs(z))
    return s, z, p


def _check_level(value, name: str) -> float:
    value = float(value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name}={value!r} provided, but it must lie strictly between 0 and 1")
    return value


def _hot_patterns(z, p, alpha, trend_alpha) -> np.ndarray:
    """Hot pattern of every row as an index into ``_KINDS`` (-1: none)."""
    hot = (z > 0) & (p < alpha)
    cold = (z < 0) & (p < alpha)
    n_steps = z.shape[1]
    n_hot = hot.sum(axis=1)
    # Integer comparison, so that exactly 90 % is never lost to rounding.
    mostly_hot = 10 * n_hot >= 9 * n_steps
    last_hot = hot[:, -1]
    # Length of the run of hot steps that ends at the final step.
    not_hot_reversed = ~hot[:, ::-1]
    final_run = np.where(not_hot_reversed.any(axis=1), not_hot_reversed.argmax(axis=1), n_steps)
    hot_before_run = n_hot > final_run
    ever_cold = cold.any(axis=1)
    s, _, trend_p = mann_kendall(z)
    rising = (trend_p < trend_alpha) & (s > 0)
    falling = (trend_p < trend_alpha) & (s < 0)

    rules = [  # same order as _KINDS: the first rule that holds wins
        last_hot & (n_hot == 1),
        last_hot & (final_run >= 2) & ~hot_before_run & ~mostly_hot,
        last_hot & mostly_hot & rising,
        last_hot & mostly_hot & ~rising & ~falling,
        last_hot & mostly_hot & falling,
        last_hot & hot_before_run & ~mostly_hot & ~ever_cold,
        last_hot & hot_before_run & ~mostly_hot & ever_cold,
        ~last_hot & mostly_hot,
    ]
    kind = np.full(z.shape[0], -1)
    for index, holds in reversed(list(enumerate(rules))):
        kind[holds] = index
    return kind


def classify_emerging(z, p, *, alpha: float = 0.05, trend_alpha: float = 0.05) -> np.ndarray:
    """Emerging hot/cold spot pattern of every cell's Gi* time series.

    Parameters
    ----------
    z, p : array_like of shape (n_cells, n_steps)
        Gi* z-scores and their p-values per cell and time step, oldest step
        first; ``n_steps >= 2``, p-values in ``[0, 1]``.
    alpha : float, default 0.05
        A step is hot (cold) when ``p < alpha`` and ``z > 0`` (``z < 0``).
    trend_alpha : float, default 0.05
        Significance level of the Mann-Kendall trend of ``z``.

    Returns
    -------
    ndarray of str, shape (n_cells,)
        One identifier from :data:`PATTERNS` per cell; map it through
        :data:`PATTERN_LABELS` for the Chinese label.

    Examples
    --------
    >>> z = [[0.5, 0.4, 3.0], [3.0, 0.2, 3.1], [-3.0, -2.5, 0.1]]
    >>> p = [[0.6, 0.7, 0.01], [0.01, 0.8, 0.01], [0.01, 0.01, 0.9]]
    >>> labels = classify_emerging(z, p)
    >>> labels.tolist()
    ['new_hot_spot', 'sporadic_hot_spot', 'no_pattern']
    >>> PATTERN_LABELS[labels[0]]
    '新增热点'
    """
    z_array = _as_series(z, "z")
    p_array = _as_series(p, "p")
    if z_array.shape != p_array.shape:
        raise ValueError(
            f"z has shape {z_array.shape} but p has shape {p_array.shape}; they must match"
        )
    if ((p_array < 0) | (p_array > 1)).any():
        bad = float(p_array[(p_array < 0) | (p_array > 1)][0])
        raise ValueError(f"p contains {bad!r}, but p-values must lie in [0, 1]")
    alpha = _check_level(alpha, "alpha")
    trend_alpha = _check_level(trend_alpha, "trend_alpha")

    hot_kind = _hot_patterns(z_array, p_array, alpha, trend_alpha)
    cold_kind = _hot_patterns(-z_array, p_array, alpha, trend_alpha)
    historical = _KINDS.index("historical")
    n_kinds = len(_KINDS)
    # Index into PATTERNS; a pattern decided by the final step beats the
    # other side's "historical" (the two sides never both hold otherwise).
    choice = np.full(z_array.shape[0], len(PATTERNS) - 1)
    for side, offset in ((cold_kind, n_kinds), (hot_kind, 0)):
        found = side >= 0
        choice[found & (side == historical)] = side[found & (side == historical)] + offset
    for side, offset in ((cold_kind, n_kinds), (hot_kind, 0)):
        current = (side >= 0) & (side != historical)
        choice[current] = side[current] + offset
    return np.asarray(PATTERNS, dtype=object)[choice].astype(str)
