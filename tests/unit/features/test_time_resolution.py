from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from features.time_resolution import event_resolutions, resolution_summary

DAY_MS = 86_400_000
RNG = np.random.default_rng(3)


def _ms(seconds):
    return (np.asarray(seconds, dtype=np.int64) * 1000).tolist()


def test_times_to_the_second_are_all_seconds():
    seconds = RNG.integers(0, 60 * 86400, 5000)
    assert set(event_resolutions(_ms(seconds), 0).tolist()) == {1}


def test_minute_times_heaped_on_whole_hours_hold_the_hour_ones_out():
    # 800 times to the minute, 200 more on whole hours: 20 % on the hour
    # where minutes give 1/60 by chance.
    minutes = RNG.integers(0, 30 * 1440, 800) * 60
    hours = RNG.integers(0, 30 * 24, 200) * 3600
    resolution = event_resolutions(_ms(np.concatenate([minutes, hours])), 0)
    on_hour = np.concatenate([minutes, hours]) % 3600 == 0
    assert (resolution[on_hour] == 3600).all()
    assert (resolution[~on_hour] == 60).all()
    summary = resolution_summary(_ms(np.concatenate([minutes, hours])), 0, 300)
    assert summary["base"] == "minute" and summary["heaped"] == {"hour": True, "day": False}
    assert summary["voting"] == int((~on_hour).sum())
    assert summary["voting"] + summary["held_out"] == 1000


def test_minute_times_not_heaped_keep_their_whole_hours():
    # Whole hours only as often as chance gives: each event is to the minute.
    minutes = np.arange(0, 30 * 1440) * 60
    assert set(event_resolutions(_ms(minutes), 0).tolist()) == {60}


def test_dates_written_as_midnight_are_days_on_either_clock():
    dates = np.arange(0, 200) * 86400
    assert set(event_resolutions(_ms(dates), 0).tolist()) == {86400}
    # Midnight UTC is 19:00 or 20:00 in New York, with daylight saving: still dates.
    zone = ZoneInfo("America/New_York")
    offsets = [
        int(datetime.fromtimestamp(s, zone).utcoffset().total_seconds()) for s in dates.tolist()
    ]
    assert set(offsets) == {-5 * 3600, -4 * 3600}
    assert set(event_resolutions(_ms(dates), offsets).tolist()) == {86400}
    # Local midnights (a local date) are dates too.
    local = dates - np.asarray(offsets)
    assert set(event_resolutions(_ms(local), offsets).tolist()) == {86400}


def test_a_day_of_mixed_times_keeps_the_timed_events_voting():
    timed = RNG.integers(0, 30 * 86400, 300)
    dates = RNG.integers(0, 30, 100) * 86400
    summary = resolution_summary(_ms(np.concatenate([timed, dates])), 8 * 3600, 300)
    # Local midnight at UTC+8 is 16:00 UTC: the dates are read on the UTC clock.
    assert summary["events_by_resolution"]["day"] == 100
    assert summary["voting"] == 300 and summary["finest_scale_s"] == 300


def test_no_event_has_no_resolution():
    summary = resolution_summary([], 0, 300)
    assert (summary["voting"], summary["held_out"], summary["events_by_resolution"]) == (0, 0, {})
