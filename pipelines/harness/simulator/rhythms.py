"""When events happen: each channel's daily and weekly rhythm, report delays, local time.

All times are whole epoch seconds; local time is Asia/Shanghai (UTC+8), which
has had no daylight saving since 1991, so it is computed by arithmetic.

Examples
--------
>>> local_hour_weekday(epoch_s(datetime.fromisoformat("2026-11-27T09:30:00+08:00"), "at"))
(9, 4)
>>> hours, days = channel_profiles()["grid"]
>>> round(sum(hours) / 24, 9), round(sum(days) / 7, 9)
(1.0, 1.0)
"""

from __future__ import annotations

import math
from datetime import date, datetime

from features.local_time import UTC_OFFSET_S

__all__ = [
    "HOUR_PROFILE",
    "WEEKDAY_FACTOR",
    "REPORT_DELAY_S",
    "channel_profiles",
    "local_hour_weekday",
    "epoch_s",
    "Clock",
]

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)

#: Relative hour-of-day intensity (local time); normalised to mean 1 on use.
HOUR_PROFILE = {
    "grid": (
        0.15,
        0.1,
        0.1,
        0.1,
        0.1,
        0.2,
        0.5,
        1.0,
        1.6,
        1.9,
        1.8,
        1.5,
        1.0,
        1.0,
        1.5,
        1.8,
        1.9,
        1.6,
        1.1,
        0.8,
        0.6,
        0.4,
        0.3,
        0.2,
    ),
    # The hotline is answered around the clock but citizens call by day.
    "hotline": (
        0.05,
        0.03,
        0.02,
        0.02,
        0.02,
        0.05,
        0.2,
        0.8,
        1.8,
        2.4,
        2.3,
        1.9,
        1.2,
        1.3,
        2.0,
        2.2,
        2.1,
        1.7,
        1.0,
        0.7,
        0.5,
        0.3,
        0.15,
        0.08,
    ),
    # Plate reads and alarms follow traffic: morning and evening rush.
    "video": (
        0.3,
        0.2,
        0.15,
        0.15,
        0.2,
        0.4,
        1.0,
        1.9,
        2.1,
        1.5,
        1.2,
        1.1,
        1.1,
        1.1,
        1.2,
        1.4,
        1.7,
        2.0,
        1.7,
        1.2,
        0.9,
        0.7,
        0.5,
        0.4,
    ),
}
#: Relative day-of-week intensity, Monday first; normalised to mean 1 on use.
#: Weekend tourism (古北口, the reservoir) raises traffic; offices close.
WEEKDAY_FACTOR = {
    "grid": (1.0, 1.0, 1.0, 1.0, 1.0, 0.7, 0.7),
    "hotline": (1.1, 1.0, 1.0, 1.0, 1.0, 0.6, 0.5),
    "video": (1.0, 1.0, 1.0, 1.0, 1.1, 1.2, 1.15),
}
#: Report time − event time, uniform in ``[lo, hi]`` seconds, per channel.
REPORT_DELAY_S = {"grid": (0, 300), "hotline": (60, 600), "video": (0, 3)}


def _normalised(values) -> tuple[float, ...]:
    mean = sum(values) / len(values)
    return tuple(v / mean for v in values)


def channel_profiles() -> dict[str, tuple[tuple[float, ...], tuple[float, ...]]]:
    """Each channel's ``(hour_factors, weekday_factors)``, both of mean 1."""
    return {s: (_normalised(HOUR_PROFILE[s]), _normalised(WEEKDAY_FACTOR[s])) for s in HOUR_PROFILE}


def local_hour_weekday(epoch_s: int) -> tuple[int, int]:
    """The local hour (0–23) and weekday (Monday = 0) of ``epoch_s``."""
    local = epoch_s + UTC_OFFSET_S
    return local // 3600 % 24, (local // 86400 + _EPOCH_WEEKDAY) % 7


def epoch_s(moment: datetime, label: str) -> int:
    """Whole epoch seconds of a timezone-aware ``moment`` (``label`` names it in errors)."""
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{label}={moment!r} must be a timezone-aware datetime, e.g. "
            "datetime(2026, 11, 27, tzinfo=timezone(timedelta(hours=8)))"
        )
    return math.floor(moment.timestamp())


class Clock:
    """Formats epoch seconds as Asia/Shanghai ISO-8601 text, caching dates.

    Examples
    --------
    >>> clock = Clock()
    >>> clock.iso(1795743000), clock.day(1795743000)
    ('2026-11-27T09:30:00+08:00', ('2026-11-27', '20261127'))
    """

    def __init__(self):
        self._dates: dict[int, tuple[str, str]] = {}

    def day(self, epoch_s: int) -> tuple[str, str]:
        """Return ``("2026-11-27", "20261127")`` for the local date of ``epoch_s``."""
        day = (epoch_s + UTC_OFFSET_S) // 86400
        cached = self._dates.get(day)
        if cached is None:
            iso = date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
            cached = self._dates[day] = (iso, iso.replace("-", ""))
        return cached

    def iso(self, epoch_s: int) -> str:
        """Return ``"2026-11-27T09:30:00+08:00"`` for ``epoch_s``."""
        seconds = (epoch_s + UTC_OFFSET_S) % 86400
        return (
            f"{self.day(epoch_s)[0]}T{seconds // 3600:02d}:"
            f"{seconds // 60 % 60:02d}:{seconds % 60:02d}+08:00"
        )
