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

__all__ = [
    "OraclePower",
    "alpha_per_look",
    "critical_count",
    "oracle_power",
    "cusum_alarms",
    "cusum_threshold",
    "cusum_power",
    "three_oracles",
    "power_weighted_median",
]


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
    mu = _surge_background(background_per_slice, surge_slices)
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


def _surge_background(background_per_slice, surge_slices: int) -> np.ndarray:
    """The background per slice as an array, checked against the surge's slices."""
    mu = np.asarray(background_per_slice, dtype=float)
    if mu.ndim != 1 or mu.size == 0 or np.any(mu < 0):
        raise ValueError("background_per_slice must be a non-empty 1-d array of rates >= 0")
    if not 0 < surge_slices <= mu.size:
        raise ValueError(f"surge_slices={surge_slices} must lie in 1..{mu.size}")
    return mu


def three_oracles(
    background_per_slice,
    multiplier: float,
    surge_slices: int,
    *,
    slide_minutes: float,
    slices_per_window: int,
    budget_per_town_month: float,
    towns: int,
    rng: np.random.Generator,
) -> dict:
    """The three references of a surge, each told its zone and category.

    ``single_window``: :func:`oracle_power`, one window at the per-town
    budget; ``cusum_town``: :func:`cusum_power` at the per-town budget,
    counted in clusters; ``cusum_district``: the same CUSUM spending the
    whole district's budget (``towns`` towns) on the zone.

    Examples
    --------
    >>> refs = three_oracles([0.3] * 18, 3.0, 12, slide_minutes=5, slices_per_window=6,
    ...                      budget_per_town_month=1.0, towns=20, rng=np.random.default_rng(0))
    >>> list(refs), refs["single_window"].power < refs["cusum_district"].power
    (['single_window', 'cusum_town', 'cusum_district'], True)
    """
    per_look = budget_per_town_month / (30 * 24 * 60 / slide_minutes)
    single = oracle_power(
        background_per_slice,
        multiplier,
        surge_slices,
        slide_minutes=slide_minutes,
        slices_per_window=slices_per_window,
        alpha=alpha_per_look(budget_per_town_month, slide_minutes),
        rng=rng,
    )
    refs = {"single_window": single}
    for name, rate in (("cusum_town", per_look), ("cusum_district", per_look * towns)):
        refs[name] = (
            cusum_power(
                background_per_slice,
                multiplier,
                surge_slices,
                slide_minutes=slide_minutes,
                slices_after=slices_per_window,
                clusters_per_look=min(rate, 0.5),
                replicates=1000,
                rng=rng,
            )
            if multiplier > 1
            else single
        )
    return refs


def cusum_alarms(counts, background, multiplier: float, h: float, quiet_looks: int = 2):
    """Alarms of a Poisson CUSUM told the zone, and the clusters they make.

    At each look the statistic gains ``x ln m − (m − 1) μ`` (the log
    likelihood ratio of a count ``x`` under ``m`` times the background
    ``μ`` against the background, Lucas 1985), floored at 0; it alarms at
    ``h`` and restarts from 0. Alarms fewer than ``quiet_looks`` looks
    apart belong to one cluster, as the detector's lifecycle has them.

    Parameters
    ----------
    counts : numpy.ndarray of shape (paths, looks)
    background : numpy.ndarray of shape (looks,)
        Expected background events per look.

    Returns
    -------
    alarms : numpy.ndarray of bool, shape (paths, looks)
    clusters : numpy.ndarray of int, shape (paths,)

    Examples
    --------
    >>> a, c = cusum_alarms(np.array([[0, 9, 0, 0, 0, 8]]), np.full(6, 1.0), 3.0, 5.0)
    >>> a.astype(int).tolist(), c.tolist()
    ([[0, 1, 0, 0, 0, 1]], [2])
    """
    x = np.asarray(counts, dtype=float)
    mu = np.broadcast_to(np.asarray(background, dtype=float), x.shape[1:])
    gain = x * np.log(multiplier) - (multiplier - 1.0) * mu[None, :]
    s = np.zeros(x.shape[0])
    alarms = np.zeros(x.shape, dtype=bool)
    last = np.full(x.shape[0], -(10**9))
    clusters = np.zeros(x.shape[0], dtype=int)
    for t in range(x.shape[1]):
        s = np.maximum(0.0, s + gain[:, t])
        hit = s >= h
        alarms[:, t] = hit
        clusters += hit & (t - last > quiet_looks)
        last = np.where(hit, t, last)
        s[hit] = 0.0
    return alarms, clusters


def cusum_threshold(
    background: float,
    multiplier: float,
    clusters_per_look: float,
    *,
    rng: np.random.Generator,
    paths: int = 400,
    looks: int = 4000,
    quiet_looks: int = 2,
) -> float:
    """The CUSUM threshold ``h`` whose null clusters come at ``clusters_per_look``.

    Bisection on one set of simulated null paths (common random numbers, so
    the rate falls as ``h`` grows), of ``looks`` looks each at a constant
    background. When even the bisection's largest ``h`` is too frequent on
    the sample, that ``h`` is returned.

    Examples
    --------
    A background of 1 event per look against 3 times it, at one cluster a
    month of 5-minute looks:

    >>> h = cusum_threshold(1.0, 3.0, 1 / 8640, rng=np.random.default_rng(0))
    >>> round(h, 2)
    7.38
    """
    if not 0 < clusters_per_look < 1:
        raise ValueError(f"clusters_per_look={clusters_per_look} must lie in (0, 1)")
    counts = rng.poisson(max(background, 1e-12), size=(paths, looks))
    lo, hi = 0.0, 1.0
    while _cusum_rate(counts, background, multiplier, hi, quiet_looks) > clusters_per_look:
        lo, hi = hi, hi * 2
        if hi > 1e4:
            return hi
    for _ in range(30):
        mid = (lo + hi) / 2
        if _cusum_rate(counts, background, multiplier, mid, quiet_looks) > clusters_per_look:
            lo = mid
        else:
            hi = mid
    return hi


def _cusum_rate(counts, background, multiplier, h, quiet_looks) -> float:
    _, clusters = cusum_alarms(
        counts, np.full(counts.shape[1], background), multiplier, h, quiet_looks
    )
    return float(clusters.sum()) / counts.size


def cusum_power(
    background_per_slice,
    multiplier: float,
    surge_slices: int,
    *,
    slide_minutes: float,
    slices_after: int,
    clusters_per_look: float,
    replicates: int = 4000,
    rng: np.random.Generator,
) -> OraclePower:
    """Monte Carlo power of a CUSUM told the surge's zone, at ``clusters_per_look`` null clusters.

    ``background_per_slice`` as :func:`oracle_power`; the CUSUM starts at 0
    at the surge's first slice (its usual state on a quiet background) and
    detects when it alarms before ``slices_after`` slices past the surge.
    Its threshold comes from :func:`cusum_threshold` at the mean background.

    Examples
    --------
    >>> p = cusum_power([2 / 6] * 18, 100.0, 12, slide_minutes=5, slices_after=6,
    ...                 clusters_per_look=1 / 8640, rng=np.random.default_rng(0))
    >>> p.power, p.median_delay_minutes
    (1.0, 5.0)
    """
    mu = _surge_background(background_per_slice, surge_slices)
    if multiplier <= 1:
        raise ValueError(f"multiplier={multiplier} must be > 1")
    span = min(mu.size, surge_slices + int(slices_after))
    mu = mu[:span]
    h = cusum_threshold(float(mu.mean()), multiplier, clusters_per_look, rng=rng)
    surged = mu * np.where(np.arange(span) < surge_slices, multiplier, 1.0)
    counts = rng.poisson(surged, size=(replicates, span))
    alarms, _ = cusum_alarms(counts, mu, multiplier, h)
    detected = alarms.any(axis=1)
    power = float(detected.mean())
    if not detected.any():
        return OraclePower(power, None, None)
    delays = (alarms[detected].argmax(axis=1) + 1) * slide_minutes
    return OraclePower(
        round(power, 4),
        float(np.median(delays)),
        float(np.quantile(delays, 0.9, method="inverted_cdf")),
    )


def power_weighted_median(delays, powers) -> float | None:
    """The median of per-surge delays, each surge weighted by its power (None without power).

    >>> power_weighted_median([10, 20, 60], [0.1, 0.8, 0.1])
    20.0
    """
    pairs = sorted((d, p) for d, p in zip(delays, powers) if d is not None and p > 0)
    total = sum(p for _, p in pairs)
    if not total:
        return None
    running = 0.0
    for delay, power in pairs:
        running += power
        if running >= total / 2:
            return float(delay)
    return float(pairs[-1][0])
