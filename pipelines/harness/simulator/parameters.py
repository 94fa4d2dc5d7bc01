"""The simulator's parameters checked: each bad value named, with what is allowed.

:class:`~pipelines.harness.simulator.generate.DistrictSimulator` stores its
arguments and checks them here on first use.

Examples
--------
>>> source_of("hotline.transport")
'hotline'
>>> check_surges((), grid=None)
()
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from features.geography import CellGrid, District
from features.taxonomy import CATEGORIES, CATEGORIES_BY_SOURCE, SOURCES
from pipelines.harness.simulator.populations import RESIDENTS_PER_VILLAGE
from pipelines.harness.simulator.records import Surge
from pipelines.harness.simulator.rhythms import epoch_s

__all__ = ["DEFAULT_CHANNEL_MIX", "check_parameters", "check_surges", "source_of"]

DEFAULT_CHANNEL_MIX = {"grid": 0.45, "hotline": 0.25, "video": 0.30}


def check_parameters(
    district: District,
    *,
    events_per_hour,
    channel_mix: Mapping[str, float] | None,
    malformed_fraction,
    n_rings,
    ring_size,
    run_id,
    ring_outings_per_day,
) -> dict[str, float]:
    """Check the simulator's parameters; return each channel's share of the events.

    Raises
    ------
    ValueError
        Naming the first parameter that is not allowed, and what is.
    """
    if not (
        isinstance(events_per_hour, (int, float))
        and events_per_hour > 0
        and math.isfinite(events_per_hour)
    ):
        raise ValueError(f"events_per_hour={events_per_hour!r} must be a number > 0")
    mix = dict(DEFAULT_CHANNEL_MIX if channel_mix is None else channel_mix)
    unknown = sorted(set(mix) - set(SOURCES))
    if unknown:
        raise ValueError(
            f"channel_mix has unknown channels {unknown}; allowed: " + ", ".join(SOURCES)
        )
    if (
        any(not (isinstance(v, (int, float)) and v >= 0) for v in mix.values())
        or abs(sum(mix.values()) - 1.0) > 1e-6
    ):
        raise ValueError(f"channel_mix={mix!r} must have shares >= 0 summing to 1")
    if not (isinstance(malformed_fraction, (int, float)) and 0.0 <= malformed_fraction <= 1.0):
        raise ValueError(f"malformed_fraction={malformed_fraction!r} must be in [0, 1]")
    if not isinstance(n_rings, int) or n_rings < 0:
        raise ValueError(f"n_rings={n_rings!r} must be an integer >= 0")
    if n_rings > len(district.villages):
        raise ValueError(
            f"n_rings={n_rings} exceeds the "
            f"{len(district.villages)} villages (one ring per village)"
        )
    if not isinstance(ring_size, int) or not 2 <= ring_size <= RESIDENTS_PER_VILLAGE:
        raise ValueError(
            f"ring_size={ring_size!r} must be an integer in 2..{RESIDENTS_PER_VILLAGE}"
        )
    if run_id is not None and not (
        isinstance(run_id, str)
        and run_id.isascii()
        and run_id.replace("_", "").isalnum()
        and len(run_id) <= 32
    ):
        raise ValueError(f"run_id={run_id!r} must be 1-32 ASCII letters, digits or '_'")
    if not (
        isinstance(ring_outings_per_day, (int, float)) and 0 <= ring_outings_per_day < math.inf
    ):
        raise ValueError(f"ring_outings_per_day={ring_outings_per_day!r} must be a number >= 0")
    if n_rings and not district.sites_of_kind("lpr"):
        raise ValueError("rings need LPR sites, and the district has none")
    return {source: float(mix.get(source, 0.0)) for source in SOURCES}


def check_surges(surges: Sequence, grid: CellGrid) -> tuple[tuple[Surge, int, int], ...]:
    """Check each surge; return it with its start and end in epoch seconds."""
    checked = []
    for surge in surges:
        if not isinstance(surge, Surge):
            raise ValueError(f"surge {surge!r} must be a Surge")
        grid.row_col(surge.cell_id)
        source_of(surge.category)
        start = epoch_s(surge.start, "surge.start")
        end = epoch_s(surge.end, "surge.end")
        if end <= start:
            raise ValueError(f"surge {surge!r}: end must be after start")
        if not (isinstance(surge.multiplier, (int, float)) and surge.multiplier >= 1):
            raise ValueError(f"surge multiplier={surge.multiplier!r} must be >= 1")
        checked.append((surge, start, end))
    return tuple(checked)


def source_of(category: str) -> str:
    """The channel that reports ``category``; a category outside the taxonomy is refused."""
    for source, categories in CATEGORIES_BY_SOURCE.items():
        if category in categories:
            return source
    raise ValueError(
        f"category={category!r} is not in the taxonomy; allowed: " + ", ".join(sorted(CATEGORIES))
    )
