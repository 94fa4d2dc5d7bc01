"""How often an oracle could detect a planted surge at a given false-alarm budget.

A surge of ``m`` times the background over a zone is detectable only when it
adds enough events to stand out from Poisson chance at the level the budget
allows. The *oracle* here is told the surge's zone and category, and spends
the whole false-alarm budget of the zone's town on that one zone: at every
look it compares the zone's count over the last window with the smallest
count that the background reaches with probability at most
``alpha_per_look = budget per town-month / looks per month``. A real
detector does not know the zone or the category and has to share the same
budget over every zone, duration and category of the town, so its recall
can only be lower; the oracle's recall is the reference against which a
recall goal can be judged.

All functions are pure; the randomness comes from the ``rng`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["OraclePower", "alpha_per_look", "critical_count", "oracle_power"]


def alpha_per_look(
    budget_per_town_month: float, slide_minutes: float, days_per_month: float = 30.0
) -> float:
    """The per-look level that spends one town's monthly budget on one zone.

    Examples
    --------
    >>> round(alpha_per_look(1.0, 5), 8)
    0.00011574
    """
    if budget_per_town_month <= 0 or slide_minutes <= 0:
        raise ValueError(
            f"budget_per_town_month={budget_per_town_month} and "
            f"slide_minutes={slide_minutes} must be positive"
        )
    looks = days_per_month * 24 * 60 / slide_minutes
    return budget_per_town_month / looks


def critical_count(expected, alpha: float) -> np.ndarray:
    """The smallest count ``k`` with ``P(Poisson(expected) >= k) <= alpha``.

    Examples
    --------
    >>> critical_count([1.0, 10.0], 1e-4).tolist()
    [7, 25]
    """
    expected = np.asarray(expected, dtype=float)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha} must lie in (0, 1)")
    # ppf(1 - alpha) is the smallest k with P(X <= k) >= 1 - alpha, so
    # P(X >= k + 1) <= alpha.
    return (stats.poisson.ppf(1 - alpha, np.maximum(expected, 1e-12)) + 1).astype(int)


@dataclass(frozen=True)
class OraclePower:
    """Detection probability of one surge and the oracle's delays when it detects."""

    power: float
    #: Median and 90th percentile of (first alarming look's window end - surge
    #: start) in minutes, over the replicates that detect; None if none do.
    median_delay_minutes: float | None
    p90_delay_minutes: float | None


def oracle_power(
    background_per_slice,
    multiplier: float,
    surge_slices: int,
    *,
    slide_minutes: float,
    slices_per_window: int,
    alpha: float,
    replicates: int = 20000,
    rng: np.random.Generator,
) -> OraclePower:
    """Monte Carlo power of the oracle count test against one surge.

    ``background_per_slice`` holds the zone's expected background events in
    each slide-long slice from the surge's first slice on, long enough to
    cover the surge and one window after it (the looks that still see it);
    the first ``surge_slices`` of them carry ``multiplier`` times their
    background. A look at the end of slice ``i`` counts the last
    ``slices_per_window`` slices (the slices before the surge carry the
    background only and are drawn too).

    Examples
    --------
    A surge of 200 expected events over a zone that expects 2 is always seen
    at the first look:

    >>> p = oracle_power([2 / 6] * 18, 100.0, 12, slide_minutes=5, slices_per_window=6,
    ...                  alpha=1e-4, rng=np.random.default_rng(0))
    >>> p.power, p.median_delay_minutes
    (1.0, 5.0)
    """
    mu = np.asarray(background_per_slice, dtype=float)
    if mu.ndim != 1 or mu.size == 0 or np.any(mu < 0):
        raise ValueError("background_per_slice must be a non-empty 1-d array of rates >= 0")
    if not 0 < surge_slices <= mu.size:
        raise ValueError(f"surge_slices={surge_slices} must lie in 1..{mu.size}")
    if multiplier < 1:
        raise ValueError(f"multiplier={multiplier} must be >= 1")
    w = int(slices_per_window)
    # Slices before the surge that the first looks' windows still cover.
    before = np.full(w - 1, mu[0])
    full_mu = np.concatenate([before, mu])
    surged = np.concatenate(
        [before, mu * np.where(np.arange(mu.size) < surge_slices, multiplier, 1.0)]
    )
    counts = rng.poisson(surged, size=(replicates, surged.size))
    # Window sums ending at each slice from the surge's first on.
    cum = np.concatenate(
        [np.zeros((replicates, 1), dtype=np.int64), np.cumsum(counts, axis=1)], axis=1
    )
    ends = np.arange(w, surged.size + 1)
    window_counts = cum[:, ends] - cum[:, ends - w]
    window_mu = np.convolve(full_mu, np.ones(w), mode="valid")
    alarms = window_counts >= critical_count(window_mu, alpha)[None, :]
    detected = alarms.any(axis=1)
    power = float(detected.mean())
    if not detected.any():
        return OraclePower(power, None, None)
    first = alarms[detected].argmax(axis=1)
    delays = (first + 1) * slide_minutes
    return OraclePower(
        round(power, 4),
        float(np.median(delays)),
        float(np.quantile(delays, 0.9, method="inverted_cdf")),
    )
