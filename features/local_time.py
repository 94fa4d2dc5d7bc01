"""The district's local time: one declaration for every layer.

Beijing time (UTC+8) has had no daylight saving since 1991, so a fixed offset
is exact. Baselines, windows, nights and the simulator's rhythms all count
hours in it; the Flink and Spark sessions are set to :data:`DISTRICT_TZ_NAME`.

Examples
--------
>>> from datetime import datetime
>>> datetime(2026, 11, 23, 0, 30, tzinfo=DISTRICT_TZ).isoformat()
'2026-11-23T00:30:00+08:00'
>>> UTC_OFFSET_S
28800
"""

from __future__ import annotations

from datetime import timedelta, timezone

__all__ = ["DISTRICT_TZ", "DISTRICT_TZ_NAME", "UTC_OFFSET_S"]

#: The IANA name of the district's time zone, for engine sessions.
DISTRICT_TZ_NAME = "Asia/Shanghai"
#: Seconds to add to an epoch time to get the district's wall-clock seconds.
UTC_OFFSET_S = 8 * 3600
#: The district's local time as a ``tzinfo``.
DISTRICT_TZ = timezone(timedelta(seconds=UTC_OFFSET_S), DISTRICT_TZ_NAME)
