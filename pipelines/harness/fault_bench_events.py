"""The fixed event set of ``zongzhi bench faults``, simulated once for every run.

A district stream of ``hours`` with a planted surge (so that alerts exist),
and two short bursts after it that move the hotspot job's watermark on:

- ``middle``: an hour of events whose latest moves the watermark to the
  middle of the surge, so that the surge's first alerts are out and its
  cluster is open in the job's lifecycle state (the hotspot job is killed
  then), and its later looks come after;
- ``closing``: an hour of events that moves the watermark an hour past the
  stream's end, closing every window of the stream.

An hour, not minutes: a burst starts with few reports (most of its events
are reported later), and a burst too small to reach every partition of the
normalized topic moves no watermark until the idle partition times out.

The hotspot job runs with a watermark allowance (``WATERMARK_DELAY``) far
above the stream's disorder, so that no event of the stream is late in any
run: every run scores the same windows, and its alerts can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pipelines.errors import UsageError
from pipelines.harness.simulation_run import build_simulator
from pipelines.settings import Settings

__all__ = [
    "WATERMARK_DELAY",
    "SURGE_CATEGORY",
    "EventSet",
    "check_stream_hours",
    "simulate_event_set",
]

SURGE_CATEGORY = "public_order.petty_theft"
#: Far more than the normalized stream's disorder (reports arrive up to hours
#: after their events).
WATERMARK_DELAY = timedelta(hours=6)
# The planted surge: from this minute of the stream, this long, this many times the usual.
_SURGE_START_MIN = 90.0
_SURGE_MINUTES = 60.0
_SURGE_MULTIPLIER = 60.0
_BURST = timedelta(hours=1)
_STREAM_END = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class EventSet:
    """The simulated records, in the order they are produced."""

    stream: list
    middle: list
    closing: list

    @property
    def size(self) -> int:
        """Records in all three parts."""
        return len(self.stream) + len(self.middle) + len(self.closing)


def check_stream_hours(hours: float) -> None:
    """Raise :class:`UsageError` unless ``hours`` leaves room for the surge and the middle burst.

    >>> check_stream_hours(9)
    Traceback (most recent call last):
    ...
    pipelines.errors.UsageError: --hours 9 is not allowed; allowed: 2.5 <= hours < 7
    """
    shortest = (_SURGE_START_MIN + _SURGE_MINUTES) / 60
    longest = (_SURGE_START_MIN + _SURGE_MINUTES / 2) / 60 + (WATERMARK_DELAY - _BURST) / timedelta(
        hours=1
    )
    if not shortest <= hours < longest:
        raise UsageError(
            f"--hours {hours:g} is not allowed; allowed: {shortest:g} <= hours < {longest:g}"
        )


def simulate_event_set(settings: Settings, hours: float, seed: int) -> EventSet:
    """Simulate the stream, with its surge in the busiest petty-theft cell, and its bursts.

    ``hours`` must leave room for the surge (minutes 90 to 150 of the stream)
    and end before the middle burst starts (the surge's middle plus the watermark
    allowance, less the burst's hour).
    """
    check_stream_hours(hours)
    end = _STREAM_END
    start = end - timedelta(hours=hours)
    cell = build_simulator(settings, start=start, seed=seed).busiest_cells(SURGE_CATEGORY, 1)[0]
    surge = (cell, SURGE_CATEGORY, _SURGE_START_MIN, _SURGE_MINUTES, _SURGE_MULTIPLIER)
    sim = build_simulator(settings, start=start, seed=seed, surges=[surge])
    surge_middle = start + timedelta(minutes=_SURGE_START_MIN + _SURGE_MINUTES / 2)
    middle_at = surge_middle + WATERMARK_DELAY - _BURST
    closing_at = end + timedelta(hours=1) + WATERMARK_DELAY - _BURST

    def burst(at: datetime, burst_seed: int) -> list:
        return list(build_simulator(settings, start=at, seed=burst_seed).records(at, _BURST))

    return EventSet(
        stream=list(sim.records(start, timedelta(hours=hours))),
        middle=burst(middle_at, seed + 1),
        closing=burst(closing_at, seed + 2),
    )
