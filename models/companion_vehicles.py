"""Companion vehicles (同行车辆): plates seen together more often than chance allows.

Two vehicles *co-occur* when the same site reads both within ``Δt``. Busy
vehicles at busy sites co-occur by chance, so a count alone says little.
Under independence, vehicle ``a`` read ``n_a,s`` times at site ``s`` and
``b`` read ``n_b,s`` times over an observed span ``T`` co-occur at ``s``
about ``n_a,s · n_b,s · 2Δt / T`` times; the expected count ``μ`` sums that
over the sites both use. The observed count ``k`` is compared with
``Poisson(μ)``, and a pair is a companion pair when

* ``k`` reaches ``min_co_occurrences`` (on at least ``min_days`` days), and
* its p-value stays below ``alpha / m`` (Bonferroni over the ``m`` pairs
  that co-occurred at least once: a pair never seen together cannot be
  flagged, and every pair that could is counted).

Only the pairs that pass the first condition need scoring: on a
10-million-event night millions of pairs meet once by chance, and the
night scores the few that met often enough, with ``m`` counted over all
(``tested``). Their expected counts come from the vehicles' read counts
per site (:func:`expected_for_pairs`), one sparse row product per pair.

Examples
--------
>>> import pandas as pd
>>> pairs = pd.DataFrame({"vehicle_a": ["a", "c"], "vehicle_b": ["b", "d"],
...                       "co_occurrences": [12, 3], "days": [6, 2],
...                       "expected": [0.05, 2.5]})
>>> out = companion_pairs(pairs, alpha=0.01, min_co_occurrences=3, min_days=2)
>>> out[["vehicle_a", "vehicle_b", "companion"]].values.tolist()
[['a', 'b', True], ['c', 'd', False]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["expected_co_occurrences", "expected_for_pairs", "companion_pairs"]


def expected_co_occurrences(reads_a, reads_b, *, window_s: float, span_s: float) -> np.ndarray:
    """Chance co-occurrences at one site: ``n_a · n_b · 2Δt / T`` (elementwise).

    >>> float(expected_co_occurrences(10, 20, window_s=60, span_s=86400)[()])
    0.2777777777777778
    """
    if window_s <= 0 or span_s <= 0:
        raise ValueError(f"window_s={window_s} and span_s={span_s} must be positive")
    return (
        np.asarray(reads_a, dtype=float)
        * np.asarray(reads_b, dtype=float)
        * min(2 * window_s / span_s, 1.0)
    )


def expected_for_pairs(
    vehicle_a,
    vehicle_b,
    site_reads: pd.DataFrame,
    *,
    window_s: float,
    span_s: float,
    chunk: int = 200_000,
) -> np.ndarray:
    """Chance co-occurrences of each pair, summed over the sites both use.

    ``site_reads`` has ``vehicle``, ``site`` and ``reads`` (one row per
    vehicle and site). The pair's expectation is the dot product of the two
    vehicles' read-count rows times :func:`expected_co_occurrences`' factor;
    a vehicle without reads expects nothing.

    >>> reads = pd.DataFrame({"vehicle": ["a", "a", "b", "c"], "site": ["s1", "s2", "s1", "s3"],
    ...                       "reads": [10, 4, 20, 7]})
    >>> expected_for_pairs(["a", "a"], ["b", "c"], reads, window_s=60, span_s=86400).tolist()
    [0.2777777777777778, 0.0]
    """
    from scipy import sparse

    factor = float(expected_co_occurrences(1, 1, window_s=window_s, span_s=span_s))
    vehicles, sites = (
        pd.Index(site_reads["vehicle"].unique()),
        pd.Index(site_reads["site"].unique()),
    )
    matrix = sparse.csr_matrix(
        (
            site_reads["reads"].to_numpy(dtype=float),
            (vehicles.get_indexer(site_reads["vehicle"]), sites.get_indexer(site_reads["site"])),
        ),
        shape=(len(vehicles) + 1, max(len(sites), 1)),
    )  # the last row: a vehicle without reads
    rows_a = vehicles.get_indexer(pd.Index(vehicle_a))
    rows_b = vehicles.get_indexer(pd.Index(vehicle_b))
    rows_a[rows_a < 0], rows_b[rows_b < 0] = len(vehicles), len(vehicles)
    out = np.zeros(len(rows_a))
    for lo in range(0, len(rows_a), chunk):
        hi = lo + chunk
        out[lo:hi] = np.asarray(
            matrix[rows_a[lo:hi]].multiply(matrix[rows_b[lo:hi]]).sum(axis=1)
        ).ravel()
    return out * factor


def companion_pairs(
    pairs: pd.DataFrame,
    *,
    alpha: float,
    min_co_occurrences: int,
    min_days: int,
    tested: int | None = None,
) -> pd.DataFrame:
    """Score co-occurring pairs; flag the companions.

    ``pairs`` has ``vehicle_a``, ``vehicle_b``, ``co_occurrences`` (distinct
    episodes), ``days`` (distinct days with one) and ``expected`` (the sum
    of :func:`expected_co_occurrences` over their shared sites). ``tested``
    is the number of pairs that co-occurred at least once (Bonferroni's
    ``m``), when ``pairs`` holds only some of them; by default, ``pairs``
    is all of them. Adds ``p_value``, ``lift`` (observed over expected) and
    ``companion``; sorted by p-value.
    """
    missing = {"vehicle_a", "vehicle_b", "co_occurrences", "days", "expected"} - set(pairs.columns)
    if missing:
        raise ValueError(f"vehicle pairs lack columns {sorted(missing)}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha} must lie in (0, 1)")
    k = pairs["co_occurrences"].to_numpy(dtype=float)
    mu = np.maximum(pairs["expected"].to_numpy(dtype=float), 1e-12)
    # P(K >= k) under Poisson(mu).
    p = stats.poisson.sf(k - 1, mu)
    if tested is None:
        tested = len(pairs)
    if tested < len(pairs):
        raise ValueError(f"tested={tested} is fewer than the {len(pairs)} pairs given")
    tested = max(tested, 1)
    out = pairs.assign(
        p_value=p,
        lift=k / mu,
        companion=(k >= min_co_occurrences)
        & (pairs["days"].to_numpy() >= min_days)
        & (p <= alpha / tested),
    )
    return out.sort_values(["p_value", "vehicle_a", "vehicle_b"], kind="mergesort").reset_index(
        drop=True
    )
