"""The detector's time scales (时间尺度): minutes for live surges, hours to weeks for near-repeats.

Today's window (``window_slide_minutes``, ``window_size_minutes``,
``scan_durations_minutes``) sees a surge of the last half hour. Real
incidents also cluster over hours to about two weeks (near-repeat crime),
which that window cannot see. Each of ``hotspot.longer_scales`` is a
scan of its own: it looks every ``slide_minutes``, over cylinders of
``durations_minutes`` ending at the look, within ``window_minutes``.

**One false-alarm budget.** ``alert_budget_per_town_month`` is shared:
a longer scale spends its ``budget_share`` of it, the base window what is
left. Each scale's per-look threshold is then
``p*_s = share_s · B · T / (L_s · C)`` with ``L_s`` its looks a month
(:func:`models.hotspot_scoring.budget_threshold`), so the expected false
clusters of all scales together stay within ``B`` per town and month.

**Buckets.** A longer scale counts events in buckets of its slide, each
the union of the base slices that end in ``(end - slide, end]``; bucket
ends are whole multiples of the slide in district time
(:func:`bucket_end_ms`), so a day's bucket is a district calendar day. An
event whose time is known only to the hour, or to the day, is written at
the start of its hour (or day) and so lands in its true bucket at every
scale at least that coarse; it must not vote at finer ones
(:meth:`TimeScale.admits`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "BASE_SCALE",
    "TimeScale",
    "time_scales",
    "bucket_end_ms",
    "scale_looks",
    "is_look",
    "scale_window",
]

#: The name of the base window's scale.
BASE_SCALE = "minutes"


@dataclass(frozen=True)
class TimeScale:
    """One scale of the scan: its looks, window, durations and share of the budget.

    Examples
    --------
    >>> days = TimeScale("days", 1440, 20160, (1440, 10080), 0.25)
    >>> days.buckets, days.durations_in_buckets
    (14, [1, 7])
    >>> days.admits(60), days.admits(1440), TimeScale("hours", 60, 720, (60,), 0.2).admits(1440)
    (True, True, False)
    """

    name: str
    slide_min: int
    size_min: int
    durations_min: tuple[int, ...]
    budget_share: float
    #: The per-look threshold is ``threshold_factor × p*_s``: calibrated by
    #: ``zongzhi eval calibration`` so that the clusters, not the looks,
    #: spend the scale's share (1: the union-bound threshold itself).
    threshold_factor: float = 1.0

    @property
    def buckets(self) -> int:
        """Buckets (slides) in the scale's window."""
        return self.size_min // self.slide_min

    @property
    def durations_in_buckets(self) -> list[int]:
        """Each duration as a number of the scale's buckets."""
        return [d // self.slide_min for d in self.durations_min]

    def admits(self, resolution_min: int) -> bool:
        """Whether an event whose time is known to ``resolution_min`` minutes votes at this scale."""
        return resolution_min <= self.slide_min

    def settings(self, hotspot: dict) -> dict:
        """The ``hotspot`` section as a detector of this scale reads it."""
        return {
            **hotspot,
            "window_slide_minutes": self.slide_min,
            "window_size_minutes": self.size_min,
            "scan_durations_minutes": list(self.durations_min),
            "threshold_factor": self.threshold_factor,
        }


def time_scales(hotspot: dict) -> list[TimeScale]:
    """The base window's scale, then ``hotspot.longer_scales``, by increasing slide.

    The base scale keeps the budget the longer ones leave.

    Examples
    --------
    >>> scales = time_scales({
    ...     "window_slide_minutes": 5, "window_size_minutes": 30,
    ...     "scan_durations_minutes": [5, 30],
    ...     "longer_scales": [{"name": "days", "slide_minutes": 1440, "window_minutes": 4320,
    ...                        "durations_minutes": [1440, 4320], "budget_share": 0.25}]})
    >>> [(s.name, s.slide_min, s.budget_share) for s in scales]
    [('minutes', 5, 0.75), ('days', 1440, 0.25)]
    """
    longer = [
        TimeScale(
            str(s["name"]),
            int(s["slide_minutes"]),
            int(s["window_minutes"]),
            tuple(int(d) for d in s["durations_minutes"]),
            float(s["budget_share"]),
            float(s.get("threshold_factor", 1.0)),
        )
        for s in hotspot.get("longer_scales") or ()
    ]
    base = TimeScale(
        BASE_SCALE,
        int(hotspot["window_slide_minutes"]),
        int(hotspot["window_size_minutes"]),
        tuple(int(d) for d in hotspot["scan_durations_minutes"]),
        1.0 - sum(s.budget_share for s in longer),
        float(hotspot.get("threshold_factor", 1.0)),
    )
    return [base, *sorted(longer, key=lambda s: s.slide_min)]


def bucket_end_ms(slice_end_ms: int, slide_min: int, tz) -> int:
    """The end of the bucket of ``slide_min`` minutes that holds the slice ending at ``slice_end_ms``.

    Buckets are ``(end - slide, end]``, their ends on ``tz``'s clock: whole
    multiples of the slide after local midnight when it divides a day,
    local midnights whose day number (proleptic ordinal) is a multiple of
    the days when it is whole days. A day under daylight saving is then 23
    or 25 hours long, as a calendar day is.

    Examples
    --------
    District time is UTC+8: the slice ending 2026-11-02 08:05 local (00:05
    UTC) is in the hour ending 09:00 local and the day ending at the next
    local midnight; the slice ending exactly at midnight is the day's last.

    >>> from datetime import datetime, timezone
    >>> from zoneinfo import ZoneInfo
    >>> tz = ZoneInfo("Asia/Shanghai")
    >>> ms = lambda s: int(datetime.fromisoformat(s).timestamp() * 1000)
    >>> iso = lambda v: datetime.fromtimestamp(v / 1000, tz).isoformat()
    >>> iso(bucket_end_ms(ms("2026-11-02T00:05:00+00:00"), 60, tz))
    '2026-11-02T09:00:00+08:00'
    >>> iso(bucket_end_ms(ms("2026-11-02T00:05:00+00:00"), 1440, tz))
    '2026-11-03T00:00:00+08:00'
    >>> iso(bucket_end_ms(ms("2026-11-01T16:00:00+00:00"), 1440, tz))
    '2026-11-02T00:00:00+08:00'
    """
    local = datetime.fromtimestamp(slice_end_ms / 1000, tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if slide_min < 1440:
        minutes = (local.replace(tzinfo=None) - midnight) / timedelta(minutes=1)
        end = midnight + timedelta(minutes=math.ceil(minutes / slide_min) * slide_min)
    else:
        days = slide_min // 1440
        ordinal = midnight.toordinal() + (local.replace(tzinfo=None) > midnight)
        end = datetime.fromordinal(-(-ordinal // days) * days)
    return int(end.replace(tzinfo=tz).timestamp() * 1000)


def scale_looks(bucket_end: int, scale: TimeScale, tz) -> list[int]:
    """The look ends (epoch ms) whose window holds the bucket ending at ``bucket_end``.

    >>> from datetime import timezone
    >>> scale_looks(3_600_000, TimeScale("hours", 60, 180, (60, 180), 0.2), timezone.utc)
    [3600000, 7200000, 10800000]
    """
    ends = [bucket_end]
    while len(ends) < scale.buckets:
        ends.append(bucket_end_ms(ends[-1] + 1, scale.slide_min, tz))
    return ends


def is_look(end_ms: int, scale: TimeScale, tz) -> bool:
    """Whether ``end_ms`` is a bucket end, and so a look, of ``scale``.

    >>> from datetime import timezone
    >>> hours = TimeScale("hours", 60, 180, (60,), 0.2)
    >>> is_look(7_200_000, hours, timezone.utc), is_look(7_500_000, hours, timezone.utc)
    (True, False)
    """
    return bucket_end_ms(end_ms, scale.slide_min, tz) == end_ms


def scale_window(bucket_ends, look_end_ms: int, scale: TimeScale) -> tuple[list, list]:
    """The bucket ends the look ending at ``look_end_ms`` holds, and those no later look needs.

    Half a slide of margin on each side, so that a calendar day of 23 or
    25 hours counts as one bucket.

    >>> days = TimeScale("days", 1440, 2880, (1440, 2880), 0.2)
    >>> d = 86_400_000
    >>> scale_window([d, 2 * d, 3 * d], 3 * d, days)
    ([172800000, 259200000], [86400000, 172800000])
    """
    slide_ms = scale.slide_min * 60_000
    first = look_end_ms - (scale.buckets - 0.5) * slide_ms
    held = sorted(e for e in bucket_ends if first < e <= look_end_ms)
    done = sorted(e for e in bucket_ends if e < first + slide_ms)
    return held, done
