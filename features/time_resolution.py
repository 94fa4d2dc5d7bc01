"""How finely each event's time is known, read from the times themselves.

Real files write times at different resolutions: to the second, to the
minute, to the hour, or a date alone written as midnight. A file may mix
them: times of day where the time is known and midnight (or the hour) where
it is not. An event whose time is known to the day only must not vote in a
5-minute slice: a day's date-only events would all fall in the slice after
midnight and make a "cluster" of nothing.

The reading, per file and then per event:

1. **Base resolution**: the finest level some time leaves: ``second`` if
   any time has seconds, else ``minute`` if any has minutes, else ``hour``
   if any has an hour, else ``day``.
2. **Heaping**: a coarser level is *heaped* when the share of times on its
   grid (whole minutes, whole hours, midnight) exceeds :data:`HEAPING_FACTOR`
   times what the level below it would give by chance (1/60 of times at
   whole minutes if they were to the second, 1/60 at whole hours, 1/24 at
   midnight).
3. **Per event**: its file's base resolution, or the coarsest heaped level
   whose grid it sits on.

Times are read on two clocks, the local one (``utc_offset_s`` per event,
daylight saving included) and UTC, and the coarser reading wins: a date
written as midnight UTC is a date, whatever the local clock says.
"""

from __future__ import annotations

import numpy as np

__all__ = ["HEAPING_FACTOR", "LEVELS", "event_resolutions", "resolution_summary"]

#: Resolution levels, finest first, with their length in seconds.
LEVELS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
#: A level is heaped when this many times more times sit on its grid than chance gives.
HEAPING_FACTOR = 5.0
_NAMES = list(LEVELS)


def _on_grids(seconds_of_day: np.ndarray) -> np.ndarray:
    """Per event and level: whether its time sits on the level's grid (columns as :data:`LEVELS`)."""
    return np.column_stack([seconds_of_day % step == 0 for step in LEVELS.values()])


def _levels(seconds_of_day: np.ndarray) -> tuple[np.ndarray, dict]:
    """Per-event level index on one clock, and the shares on each grid."""
    on = _on_grids(seconds_of_day)
    n = len(seconds_of_day)
    shares = on.mean(axis=0) if n else np.zeros(len(LEVELS))
    # The finest level some time leaves: the level below the coarsest grid every time is on.
    base = max(k for k in range(len(LEVELS)) if on[:, k].all()) if n else 0
    level = np.full(n, base)
    heaped = {}
    for k in range(base + 1, len(LEVELS)):
        chance = shares[k - 1] * LEVELS[_NAMES[k - 1]] / LEVELS[_NAMES[k]]
        heaped[_NAMES[k]] = bool(shares[k] > HEAPING_FACTOR * chance)
        if heaped[_NAMES[k]]:
            level[on[:, k]] = k
    return level, {"base": _NAMES[base], "shares": shares, "heaped": heaped}


def event_resolutions(time_ms, utc_offset_s) -> np.ndarray:
    """Each event's resolution in seconds (a value of :data:`LEVELS`).

    ``time_ms`` are epoch milliseconds; ``utc_offset_s`` the local clock's
    offset from UTC at each time (a number or one per event).

    Examples
    --------
    >>> day = 86_400_000
    >>> # Two dates written as midnight UTC, and times to the second.
    >>> times = [0, day, 3 * day + 45_296_000 + 7_000, 4 * day + 51_000]
    >>> event_resolutions(times, 0).tolist()
    [86400, 86400, 1, 1]
    """
    time_s = np.asarray(time_ms, dtype=np.int64) // 1000
    offset = np.broadcast_to(np.asarray(utc_offset_s, dtype=np.int64), time_s.shape)
    local, _ = _levels((time_s + offset) % 86400)
    utc, _ = _levels(time_s % 86400)
    steps = np.array(list(LEVELS.values()))
    return steps[np.maximum(local, utc)]


def resolution_summary(time_ms, utc_offset_s, finest_scale_s: int) -> dict:
    """What the times say, and how many are fine enough to vote at ``finest_scale_s``.

    Examples
    --------
    >>> summary = resolution_summary([0, 86_400_000, 172_800_000], 0, 300)
    >>> summary["events_by_resolution"], summary["voting"], summary["held_out"]
    ({'day': 3}, 0, 3)
    """
    resolution = event_resolutions(time_ms, utc_offset_s)
    time_s = np.asarray(time_ms, dtype=np.int64) // 1000
    offset = np.broadcast_to(np.asarray(utc_offset_s, dtype=np.int64), time_s.shape)
    _, local = _levels((time_s + offset) % 86400)
    by_level = {
        name: int((resolution == step).sum())
        for name, step in LEVELS.items()
        if (resolution == step).any()
    }
    voting = int((resolution <= finest_scale_s).sum())
    return {
        "base": local["base"],
        "share_on_whole_minutes": round(float(local["shares"][1]), 4),
        "share_on_whole_hours": round(float(local["shares"][2]), 4),
        "share_at_midnight": round(float(local["shares"][3]), 4),
        "heaped": local["heaped"],
        "events_by_resolution": by_level,
        "finest_scale_s": finest_scale_s,
        "voting": voting,
        "held_out": int(resolution.size - voting),
    }
