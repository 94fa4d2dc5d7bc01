"""Time scales: their buckets on a local clock, windows across daylight saving, the shared budget."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from models.time_scales import (
    TimeScale,
    bucket_end_ms,
    is_look,
    scale_looks,
    scale_window,
    time_scales,
)

VANCOUVER = ZoneInfo("America/Vancouver")
HOURS = TimeScale("hours", 60, 720, (60, 180, 360, 720), 0.25)
DAYS = TimeScale("days", 1440, 20160, (1440, 4320, 10080, 20160), 0.25)


def ms(text: str, tz=VANCOUVER) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=tz).timestamp() * 1000)


def test_the_base_window_keeps_the_budget_the_longer_scales_leave():
    scales = time_scales(
        {
            "window_slide_minutes": 5,
            "window_size_minutes": 30,
            "scan_durations_minutes": [5, 10, 15, 30],
            "longer_scales": [
                {
                    "name": "days",
                    "slide_minutes": 1440,
                    "window_minutes": 20160,
                    "durations_minutes": [1440, 4320, 10080, 20160],
                    "budget_share": 0.25,
                },
                {
                    "name": "hours",
                    "slide_minutes": 60,
                    "window_minutes": 720,
                    "durations_minutes": [60, 180, 360, 720],
                    "budget_share": 0.25,
                },
            ],
        }
    )
    assert [(s.name, s.buckets, s.budget_share) for s in scales] == [
        ("minutes", 6, 0.5),
        ("hours", 12, 0.25),
        ("days", 14, 0.25),
    ]
    assert sum(s.budget_share for s in scales) == pytest.approx(1.0)


def test_a_date_only_event_written_at_local_midnight_lands_in_its_own_calendar_day():
    # The slice holding 00:00 ends 00:05; its day bucket ends at the next midnight.
    end = bucket_end_ms(ms("2026-03-08T00:05:00"), 1440, VANCOUVER)
    assert end == ms("2026-03-09T00:00:00")
    # 8 March 2026 is the spring-forward day in Vancouver: 23 hours long.
    assert end - ms("2026-03-08T00:00:00") == 23 * 3_600_000
    assert bucket_end_ms(ms("2026-03-08T23:55:00"), 1440, VANCOUVER) == end
    assert is_look(end, DAYS, VANCOUVER) and not is_look(end - 3_600_000, DAYS, VANCOUVER)


def test_looks_follow_calendar_days_and_a_short_day_is_still_one_bucket():
    first = ms("2026-03-01T00:00:00")
    looks = scale_looks(first, DAYS, VANCOUVER)
    assert len(looks) == 14
    assert looks[-1] == ms("2026-03-14T00:00:00")
    assert all(is_look(end, DAYS, VANCOUVER) for end in looks)
    # The look ending 15 March holds the 14 days ending 2 to 15 March, 8 March included.
    ends = [ms(f"2026-03-{d:02d}T00:00:00") for d in range(1, 16)]
    held, done = scale_window(ends, ends[-1], DAYS)
    assert held == ends[1:]
    assert done == ends[:2]


def test_hour_buckets_end_on_whole_local_hours():
    assert bucket_end_ms(ms("2026-11-02T08:05:00"), 60, VANCOUVER) == ms("2026-11-02T09:00:00")
    assert bucket_end_ms(ms("2026-11-02T09:00:00"), 60, VANCOUVER) == ms("2026-11-02T09:00:00")
    assert [t.admits(m) for t in (HOURS, DAYS) for m in (0, 60, 1440)] == [
        True,
        True,
        False,
        True,
        True,
        True,
    ]
