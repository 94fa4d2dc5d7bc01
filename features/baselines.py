"""Expected counts per cell, category and stretch of time, from the nightly baselines.

The nightly job (``jobs/nightly/job.py``) writes three tables to the lake:

* a smoothed rate per cell and category (events per hour averaged over the
  week; empirical-Bayes shrunk toward the cell's neighbourhood and town, and
  scaled by the cell's reporting effort);
* a prior rate per town and category, for a cell of the town the nightly job
  has no row for;
* an hour-of-week profile per channel: how much busier than its weekly
  average each hour of the week is (mean 1).

The expected count of a cell over ``[start, end)`` is the rate times the
integral of the channel's profile over that stretch, in hours:
``rate × ∫ factor(hour_of_week(t)) dt``. Every lookup says where its rate
came from (``baseline_source``):

``nightly``
    the cell's own smoothed rate;
``nightly town prior``
    no row for the cell: its town's prior rate;
``fallback``
    no baseline at all (no nightly run yet, an unknown cell or town, or a
    missing or unreadable baseline table): the configured fallback rate.

``, no week profile`` is appended when part of the stretch had no profile
factor and a factor of 1 was used instead.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

from features.local_time import DISTRICT_TZ
from features.taxonomy import source_of

__all__ = [
    "Baselines",
    "NIGHTLY",
    "TOWN_PRIOR",
    "FALLBACK",
    "NO_PROFILE",
    "hour_of_week",
]

NIGHTLY = "nightly"
TOWN_PRIOR = "nightly town prior"
FALLBACK = "fallback"
NO_PROFILE = ", no week profile"

_HOUR_S = 3600
_VERSIONS = itertools.count(1)
_WEEK_H = 168


def hour_of_week(epoch_s: float) -> int:
    """Hour of the week in Beijing time: 0 is Monday 00:00–01:00, 167 Sunday 23:00.

    Examples
    --------
    >>> hour_of_week(datetime(2026, 11, 23, 0, 30, tzinfo=DISTRICT_TZ).timestamp())  # a Monday
    0
    >>> hour_of_week(datetime(2026, 11, 29, 23, 59, tzinfo=DISTRICT_TZ).timestamp())  # Sunday
    167
    """
    local = datetime.fromtimestamp(epoch_s, DISTRICT_TZ)
    return local.weekday() * 24 + local.hour


@dataclass(frozen=True)
class Baselines:
    """Look up expected counts.

    Parameters
    ----------
    cell_rates : dict
        ``(cell_id, category) -> events per hour``.
    town_rates : dict
        ``(town_code, category) -> events per cell and hour``.
    week_factors : dict
        ``(source, hour_of_week) -> factor`` (mean 1 over the week).
    fallback_rate_per_hour : float
        Used where neither table has a positive rate.
    cell_shapes : dict
        ``(cell_id, category) -> shape``: how uncertain or overdispersed the
        cell's rate is, as the shape ``a`` of a gamma multiplier of mean 1
        (variance ``1/a``): the count over a stretch is then gamma–Poisson
        (negative binomial) rather than Poisson. Absent: Poisson (``a = ∞``).

    Examples
    --------
    >>> b = Baselines({("r001c001", "public_order.fight"): 0.5},
    ...               {("t1", "public_order.fight"): 0.1}, {("grid", 9): 2.0}, 0.25)
    >>> t0 = datetime(2026, 11, 23, 9, 0, tzinfo=DISTRICT_TZ).timestamp()  # Monday 09:00
    >>> b.expected("r001c001", "t1", "public_order.fight", t0, t0 + 1800)
    (0.5, 'nightly')
    >>> b.expected("r009c009", "t1", "public_order.fight", t0, t0 + 1800)
    (0.1, 'nightly town prior')
    >>> b.expected("r009c009", "t2", "public_order.fight", t0 + 3600, t0 + 5400)
    (0.125, 'fallback, no week profile')
    """

    cell_rates: dict = field(default_factory=dict)
    town_rates: dict = field(default_factory=dict)
    week_factors: dict = field(default_factory=dict)
    fallback_rate_per_hour: float = 0.25
    cell_shapes: dict = field(default_factory=dict)
    #: Distinct for every table set made in this process, for caches keyed by baselines.
    version: int = field(default_factory=lambda: next(_VERSIONS), compare=False, repr=False)

    def __post_init__(self):
        if not self.fallback_rate_per_hour > 0:
            raise ValueError(f"fallback_rate_per_hour={self.fallback_rate_per_hour} must be > 0")

    def rate(self, cell_id: str, town_code: str | None, category: str) -> tuple[float, str]:
        """Events per hour (weekly average) of a cell and category, and its source."""
        rate = self.cell_rates.get((cell_id, category))
        if rate is not None and rate > 0:
            return float(rate), NIGHTLY
        rate = self.town_rates.get((town_code, category))
        if rate is not None and rate > 0:
            return float(rate), TOWN_PRIOR
        return self.fallback_rate_per_hour, FALLBACK

    def shape(self, cell_id: str, category: str) -> float:
        """The gamma shape of a cell's rate (see ``cell_shapes``); ``inf``: Poisson.

        >>> Baselines(cell_shapes={("r1", "fight"): 4.0}).shape("r1", "fight")
        4.0
        >>> Baselines().shape("r1", "fight")
        inf
        """
        shape = self.cell_shapes.get((cell_id, category))
        return float(shape) if shape is not None and shape > 0 else float("inf")

    def profile_hours(self, source: str, start_s: float, end_s: float) -> tuple[float, bool]:
        """``∫ factor dt`` over ``[start_s, end_s)`` in hours, and whether every hour had a factor.

        Examples
        --------
        >>> b = Baselines(week_factors={("grid", 0): 2.0, ("grid", 1): 0.5})
        >>> t0 = datetime(2026, 11, 23, 0, 30, tzinfo=DISTRICT_TZ).timestamp()
        >>> b.profile_hours("grid", t0, t0 + 3600)   # half an hour at 2, half at 0.5
        (1.25, True)
        """
        if end_s < start_s:
            raise ValueError(f"end_s={end_s} is before start_s={start_s}")
        total, complete, t = 0.0, True, float(start_s)
        while t < end_s:
            boundary = min((t // _HOUR_S + 1) * _HOUR_S, end_s)
            factor = self.week_factors.get((source, hour_of_week(t)))
            if factor is None or not factor > 0:
                factor, complete = 1.0, False
            total += factor * (boundary - t) / _HOUR_S
            t = boundary
        return total, complete

    def expected(
        self, cell_id: str, town_code: str | None, category: str, start_s: float, end_s: float
    ) -> tuple[float, str]:
        """Expected count of a cell and category over ``[start_s, end_s)``, and its source."""
        rate, source = self.rate(cell_id, town_code, category)
        hours, complete = self.profile_hours(source_of(category), start_s, end_s)
        return rate * hours, source if complete else source + NO_PROFILE
