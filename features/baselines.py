"""Expected counts per cell and category, from the nightly baselines.

The nightly job writes a rate (events per hour, averaged over the day) per
cell and category, and a district-wide hour-of-day profile per channel: how
much busier than its daily average each hour of the day is. The streaming
job turns them into the expected count of a window:
``rate × profile[channel, hour of the window's midpoint] × window hours``.
The profile is estimated from the whole district, so it is dense even where
a cell's own counts are sparse. A cell or category the nightly job has not
seen yet scores against the documented fallback rate, and an hour without a
profile against a factor of 1; the alert says which (``baseline_source``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from features.taxonomy import source_of

__all__ = ["ExpectedCounts", "NIGHTLY", "FALLBACK"]

NIGHTLY = "nightly"
FALLBACK = "fallback"


@dataclass(frozen=True)
class ExpectedCounts:
    """Look up the expected count of a window.

    Parameters
    ----------
    rates : dict
        ``(cell_id, category) -> events per hour``.
    fallback_rate_per_hour : float
        Used where ``rates`` has no positive entry.
    hour_factors : dict
        ``(source, hour_of_day) -> factor`` (mean 1 over the day).

    Examples
    --------
    >>> e = ExpectedCounts({("r001c001", "public_order.fight"): 0.5}, 0.1,
    ...                    {("grid", 9): 2.0})
    >>> e.expected("r001c001", "public_order.fight", window_hours=2.0, hour_of_day=9)
    (2.0, 'nightly')
    >>> e.expected("r001c001", "public_order.fight", window_hours=2.0, hour_of_day=3)
    (1.0, 'nightly, no hour profile')
    >>> e.expected("r009c009", "public_order.fight", window_hours=2.0, hour_of_day=9)
    (0.2, 'fallback')
    """

    rates: dict = field(default_factory=dict)
    fallback_rate_per_hour: float = 0.25
    hour_factors: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.fallback_rate_per_hour > 0:
            raise ValueError(
                f"fallback_rate_per_hour={self.fallback_rate_per_hour} must be > 0"
            )

    def expected(self, cell_id: str, category: str, window_hours: float,
                 hour_of_day: int | None = None) -> tuple[float, str]:
        rate = self.rates.get((cell_id, category))
        if rate is None or rate <= 0:
            return self.fallback_rate_per_hour * window_hours, FALLBACK
        source = source_of(category)
        factor = self.hour_factors.get((source, hour_of_day)) if hour_of_day is not None else None
        if factor is None or factor <= 0:
            return rate * window_hours, f"{NIGHTLY}, no hour profile"
        return rate * factor * window_hours, NIGHTLY

