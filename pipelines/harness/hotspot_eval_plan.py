"""Where and when ``zongzhi eval hotspots`` plants its surges, and what each should add.

Surges go to distinct busy cells, one category each, spread over the stream
so that each ends well before the next starts; each carries the background
its cells expect, per window and per slide, to price how detectable it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pipelines.errors import UsageError

__all__ = ["SurgePlan", "plan_surges"]


@dataclass(frozen=True)
class SurgePlan:
    """One planted surge: its centre cell, category, time span and strength."""

    cell_id: str
    category: str
    start: datetime
    end: datetime
    multiplier: float
    base_rate_per_hour: float
    #: Every cell the surge covers (the centre cell alone, or its block).
    cells: tuple = ()
    #: Background events the covered cells expect in the surge's first window.
    expected_per_window: float = 0.0
    #: Background events the covered cells expect per slide, from the surge's
    #: start through one window after its end (the looks that can see it).
    expected_per_slice: tuple = ()

    @property
    def covered(self) -> tuple:
        """Every cell the surge covers."""
        return self.cells or (self.cell_id,)


def plan_surges(
    simulator,
    categories,
    *,
    start: datetime,
    hours: float,
    count: int,
    duration_min: float,
    multiplier: float,
    radius: int = 0,
    neighbours=None,
    slide_minutes: int = 5,
    window_minutes: int = 30,
) -> list[SurgePlan]:
    """``count`` surges, spread over the stream, in distinct busy cells and categories.

    Each goes to the busiest cell of a category that no earlier surge used
    (categories taken from the busiest down), and they start one after
    another, an hour after the stream starts, evenly spaced so that each
    ends well before the next starts. With ``radius`` > 0 a surge covers
    the block of cells within ``radius`` rows and columns of its centre
    (``neighbours(cell, radius)``), each at ``multiplier`` × its own rate:
    an incident wave over a neighbourhood rather than one square kilometre.
    """
    ranked = sorted(
        categories, key=lambda c: -simulator.base_rate(simulator.busiest_cells(c, 1)[0], c)
    )
    if count > len(ranked):
        raise UsageError(f"surges={count} exceeds the {len(ranked)} scored categories")
    usable_min = hours * 60 - 60 - duration_min - 30
    if count and usable_min < (count - 1) * (duration_min + 30):
        raise UsageError(
            f"{count} surges of {duration_min:g} min do not fit in {hours:g} h "
            "(each needs its duration plus 30 min, after a first hour)"
        )
    spacing = usable_min / max(count - 1, 1)
    plans, used_cells = [], set()
    for i, category in enumerate(ranked[:count]):
        cell = next(c for c in simulator.busiest_cells(category, 50) if c not in used_cells)
        used_cells.add(cell)
        begin = start + timedelta(minutes=60 + i * spacing)
        begin = begin.replace(second=0, microsecond=0)
        block = (cell, *neighbours(cell, radius)) if radius else (cell,)
        used_cells.update(block)
        window_mid = begin + timedelta(minutes=min(duration_min, 30) / 2)
        expected = (
            sum(simulator.expected_rate(c, category, window_mid) for c in block)
            * min(duration_min, 30)
            / 60
            if hasattr(simulator, "expected_rate")
            else 0.0
        )
        slices = int(-(-(duration_min + window_minutes) // slide_minutes))
        per_slice = (
            tuple(
                sum(
                    simulator.expected_rate(
                        c, category, begin + timedelta(minutes=(k + 0.5) * slide_minutes)
                    )
                    for c in block
                )
                * slide_minutes
                / 60
                for k in range(slices)
            )
            if hasattr(simulator, "expected_rate")
            else ()
        )
        plans.append(
            SurgePlan(
                cell,
                category,
                begin,
                begin + timedelta(minutes=duration_min),
                multiplier,
                sum(simulator.base_rate(c, category) for c in block),
                tuple(block),
                expected,
                per_slice,
            )
        )
    return plans
