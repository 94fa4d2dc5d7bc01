"""False-alarm budgets (误报预算) for the streaming hotspot detector.

The detector looks at every (cell, category, sliding window) and raises an
alarm when the Poisson upper-tail p-value of the window's count falls below
a threshold. Duty staff think in *alarms per town per month*, not in
per-test p-values, so this module translates between the two:

* :func:`per_window_threshold` spreads a budget of expected false alarms
  per town per month evenly over all the looks the detector takes in that
  town and month (a Bonferroni-style allocation of the expected count);
* :func:`benjamini_hochberg` and :func:`bh_threshold` control the false
  discovery rate of one batch of looks instead (Benjamini & Hochberg 1995);
* :func:`achieved_false_alarm_rate` reports what was actually published,
  in the same unit as the budget.

Under the null hypothesis a valid p-value satisfies ``P(p <= t) <= t``, so
with ``L`` looks the expected number of alarms is at most ``L * t``
whatever the dependence between the looks (linearity of expectation).
"""

from __future__ import annotations

import math
import operator

import numpy as np

__all__ = [
    "MINUTES_PER_DAY",
    "per_window_threshold",
    "benjamini_hochberg",
    "bh_threshold",
    "achieved_false_alarm_rate",
]

MINUTES_PER_DAY = 24 * 60


def _positive_number(name: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} must be a positive finite number") from None
    if isinstance(value, bool) or not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name}={value!r} must be a positive finite number")
    return number


def _positive_integer(name: str, value) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name}={value!r} must be a positive integer")
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name}={value!r} must be a positive integer") from None
    if number <= 0:
        raise ValueError(f"{name}={value!r} must be a positive integer")
    return number


def per_window_threshold(
    budget_per_town_month: float,
    cells_per_town: int,
    categories: int,
    slide_minutes: float,
    days_per_month: float = 30.0,
) -> float:
    """Per-test p-value threshold that spends a monthly false-alarm budget.

    A new window ends every ``slide_minutes`` minutes, and each one is tested
    once per cell and category, so a town takes

    .. math::

        L = \\text{cells} \\times \\text{categories} \\times
            \\frac{1440 \\cdot \\text{days\\_per\\_month}}{\\text{slide\\_minutes}}

    looks per month, and the threshold is ``budget / L``. Under the null
    every look alarms with probability at most the threshold, so the
    expected number of false alarms per town per month is at most the
    budget. The window *length* does not enter: only how often a window
    is looked at does.

    Overlapping windows share events, so their p-values are positively
    correlated and alarms come in runs: one surge can alarm in several
    consecutive windows. The budget counts every alarming window, so the
    expected number of distinct alarm *episodes* is lower than the budget;
    in that sense the threshold is conservative.

    Parameters
    ----------
    budget_per_town_month : float
        Expected false alarms per town per month that duty staff accept.
        Positive, and at most the number of looks (else the threshold
        would exceed 1).
    cells_per_town : int
        Grid cells in a town (positive).
    categories : int
        Event categories scored separately (positive).
    slide_minutes : float
        Minutes between the ends of consecutive windows (positive).
    days_per_month : float, default 30.0
        Length of the budget's month in days (positive).

    Returns
    -------
    float
        The p-value threshold, in (0, 1].

    Raises
    ------
    ValueError
        If an argument is not positive and finite (integers for counts of
        cells and categories), or the budget exceeds the number of looks.

    Examples
    --------
    Two false alarms per town per month, 400 cells, 10 categories and a
    window every 5 minutes: 400 * 10 * 8640 = 34,560,000 looks.

    >>> per_window_threshold(2.0, 400, 10, 5.0)
    5.787037037037037e-08
    """
    budget = _positive_number("budget_per_town_month", budget_per_town_month)
    cells = _positive_integer("cells_per_town", cells_per_town)
    n_categories = _positive_integer("categories", categories)
    slide = _positive_number("slide_minutes", slide_minutes)
    days = _positive_number("days_per_month", days_per_month)

    windows_per_month = days * MINUTES_PER_DAY / slide
    looks = cells * n_categories * windows_per_month
    if budget > looks:
        raise ValueError(
            f"budget_per_town_month={budget_per_town_month!r} exceeds the "
            f"{looks:g} looks per town per month; it must be at most the number of looks"
        )
    return budget / looks


def _validated_p_values(p_values) -> np.ndarray:
    p = np.asarray(p_values, dtype=float)
    finite = p[~np.isnan(p)]
    bad = finite[(finite < 0) | (finite > 1)]
    if bad.size:
        raise ValueError(
            f"p_values contain {float(bad[0])!r}; p-values must lie in [0, 1] or be NaN"
        )
    return p


def _validated_q(q) -> float:
    try:
        level = float(q)
    except (TypeError, ValueError):
        raise ValueError(f"q={q!r} must lie in (0, 1]") from None
    if isinstance(q, bool) or not 0 < level <= 1:
        raise ValueError(f"q={q!r} must lie in (0, 1]")
    return level


def _bh_cutoff(p: np.ndarray, q: float) -> float | None:
    """Largest rejected p-value, or None when nothing is rejected."""
    tested = np.sort(p[~np.isnan(p)], axis=None)
    m = tested.size
    if m == 0:
        return None
    # Step-up: the largest rank i with p_(i) <= i q / m decides; every
    # smaller p-value is rejected too, even if it misses its own line.
    below = tested <= np.arange(1, m + 1) * (q / m)
    if not below.any():
        return None
    return float(tested[np.flatnonzero(below)[-1]])


def benjamini_hochberg(p_values, q: float) -> np.ndarray:
    """Which hypotheses the Benjamini-Hochberg step-up procedure rejects.

    Sort the ``m`` tested p-values, find the largest rank ``k`` with
    ``p_(k) <= k q / m`` and reject the ``k`` smallest (Benjamini &
    Hochberg 1995). For independent or positively dependent (PRDS)
    tests the false discovery rate is at most ``q``.

    NaN marks a look that was not tested (for instance, no baseline yet):
    it is never rejected and does not count in ``m``, as in R's
    ``p.adjust``.

    Parameters
    ----------
    p_values : array_like of float
        P-values in [0, 1], any shape; NaN allowed.
    q : float
        Target false discovery rate, in (0, 1].

    Returns
    -------
    numpy.ndarray of bool
        Same shape as ``p_values``; True where the hypothesis is rejected.

    Raises
    ------
    ValueError
        If a p-value lies outside [0, 1] or ``q`` outside (0, 1].

    Examples
    --------
    With four tested p-values the lines are 0.0125, 0.025, 0.0375 and 0.05.
    The sorted 0.028 misses its line but 0.036 meets its own, so both are
    rejected (step-up):

    >>> benjamini_hochberg([0.01, 0.036, 0.028, 0.5, float("nan")], q=0.05)
    array([ True,  True,  True, False, False])
    """
    p = _validated_p_values(p_values)
    level = _validated_q(q)
    cutoff = _bh_cutoff(p, level)
    if cutoff is None:
        return np.zeros(p.shape, dtype=bool)
    # NaN compares False, so untested looks stay unrejected.
    return p <= cutoff


def bh_threshold(p_values, q: float) -> float:
    """The largest p-value the Benjamini-Hochberg procedure rejects.

    Every p-value at or below it is rejected; 0.0 when nothing is.

    Parameters
    ----------
    p_values : array_like of float
        P-values in [0, 1], any shape; NaN (untested) is ignored.
    q : float
        Target false discovery rate, in (0, 1].

    Returns
    -------
    float
        The data-dependent p-value threshold.

    Raises
    ------
    ValueError
        If a p-value lies outside [0, 1] or ``q`` outside (0, 1].

    Examples
    --------
    >>> bh_threshold([0.01, 0.036, 0.028, 0.5], q=0.05)
    0.036
    >>> bh_threshold([0.2, 0.9], q=0.05)
    0.0
    """
    p = _validated_p_values(p_values)
    cutoff = _bh_cutoff(p, _validated_q(q))
    return 0.0 if cutoff is None else cutoff


def achieved_false_alarm_rate(alarm_count: float, towns: float, months: float) -> float:
    """Alarms per town per month actually raised, to set beside the budget.

    Parameters
    ----------
    alarm_count : float
        Alarms raised (non-negative), e.g. those closed as false by duty
        staff.
    towns : float
        Towns covered (positive).
    months : float
        Months observed (positive; fractions allowed).

    Returns
    -------
    float
        ``alarm_count / (towns * months)``.

    Raises
    ------
    ValueError
        If ``alarm_count`` is negative or not finite, or ``towns`` or
        ``months`` is not positive and finite.

    Examples
    --------
    >>> achieved_false_alarm_rate(36, towns=12, months=1.5)
    2.0
    """
    try:
        alarms = float(alarm_count)
    except (TypeError, ValueError):
        raise ValueError(
            f"alarm_count={alarm_count!r} must be a non-negative finite number"
        ) from None
    if isinstance(alarm_count, bool) or not math.isfinite(alarms) or alarms < 0:
        raise ValueError(f"alarm_count={alarm_count!r} must be a non-negative finite number")
    return alarms / (_positive_number("towns", towns) * _positive_number("months", months))
