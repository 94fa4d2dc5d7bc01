"""Per-cell surprise under a Poisson null: how unlikely is a window's count?

The hotspot job's v1 score. A window with ``observed`` events where the
baseline expects ``expected`` gets the upper-tail probability
``P(N >= observed | N ~ Poisson(expected))``; it is an alert when that is
below a threshold. Later statistics (negative binomial, Gi*, scans) sit
beside this module.
"""

from __future__ import annotations

import math

from scipy.stats import poisson

__all__ = ["poisson_upper_tail", "surprise_score", "severity_for"]


def poisson_upper_tail(observed: int, expected: float) -> float:
    """``P(N >= observed)`` for ``N ~ Poisson(expected)``.

    Examples
    --------
    >>> round(poisson_upper_tail(3, 1.0), 6)   # 1 - e^-1 (1 + 1 + 1/2)
    0.080301
    >>> poisson_upper_tail(0, 2.0)
    1.0
    """
    if observed < 0:
        raise ValueError(f"observed={observed} must be >= 0")
    if not expected > 0 or not math.isfinite(expected):
        raise ValueError(f"expected={expected} must be a positive finite number")
    if observed == 0:
        return 1.0
    return float(poisson.sf(observed - 1, expected))


def surprise_score(p_value: float) -> float:
    """``-log10(p)``, capped at 300 for p that underflows to 0.

    Examples
    --------
    >>> surprise_score(1e-6)
    6.0
    """
    if not 0 <= p_value <= 1:
        raise ValueError(f"p_value={p_value} must lie in [0, 1]")
    return 300.0 if p_value <= 1e-300 else -math.log10(p_value)


def severity_for(p_value: float, levels: list[tuple[float, str]]) -> str | None:
    """The first severity whose p-value bound the window beats, or None.

    ``levels`` is ordered from the strictest bound to the loosest.

    Examples
    --------
    >>> levels = [(1e-9, "红色"), (1e-7, "橙色"), (1e-6, "黄色")]
    >>> severity_for(5e-8, levels), severity_for(1e-3, levels)
    ('橙色', None)
    """
    for bound, name in levels:
        if p_value < bound:
            return name
    return None
