"""Who appears in events: residents of each village, vehicles, and the planted rings.

Examples
--------
>>> import random
>>> plates, weights = vehicle_plates(random.Random(1), 3)
>>> len(plates) == len(set(plates)) == len(weights) == 3 * VEHICLES_PER_VILLAGE + TRANSIT_VEHICLES
True
>>> first_read, last_read = weights[0], weights[-1] - weights[-2]  # the first vehicles pass most
>>> plates[0][0] in "京冀津", first_read > last_read
(True, True)
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from features.geography import CellGrid, District, Site
from features.identity import fake_id_number, fake_phone, fake_plate
from pipelines.harness.simulator.records import Ring
from pipelines.harness.simulator.sampling import cumulative
from pipelines.harness.simulator.texts import fake_name

__all__ = [
    "RESIDENTS_PER_VILLAGE",
    "VEHICLES_PER_VILLAGE",
    "TRANSIT_VEHICLES",
    "Resident",
    "village_residents",
    "vehicle_plates",
    "plant_rings",
]

RESIDENTS_PER_VILLAGE = 40
#: Vehicles registered in each village; the first plates, village by village.
VEHICLES_PER_VILLAGE = 5
#: Vehicles from elsewhere that pass the district's checkpoints.
TRANSIT_VEHICLES = 2400


@dataclass(frozen=True)
class Resident:
    """A person living in a village, with the identifiers events may carry."""

    name: str
    id_number: str
    phone: str


def village_residents(district: District, rng: random.Random) -> list[list[Resident]]:
    """The :data:`RESIDENTS_PER_VILLAGE` people of each village, villages in order."""
    region = district.code if len(district.code) == 6 else "110118"
    return [
        [
            Resident(fake_name(rng), fake_id_number(rng, region_code=region), fake_phone(rng))
            for _ in range(RESIDENTS_PER_VILLAGE)
        ]
        for _ in district.villages
    ]


def vehicle_plates(rng: random.Random, n_villages: int) -> tuple[list[str], list[float]]:
    """Distinct plates, village-owned first then transit, with cumulative read weights."""
    n = n_villages * VEHICLES_PER_VILLAGE + TRANSIT_VEHICLES
    seen: set[str] = set()
    plates: list[str] = []
    while len(plates) < n:
        u = rng.random()
        province = "京" if u < 0.75 else ("冀" if u < 0.95 else "津")
        plate = fake_plate(rng, province)
        if plate not in seen:
            seen.add(plate)
            plates.append(plate)
    # A few vehicles pass the checkpoints daily, most rarely.
    return plates, cumulative(1.0 / (i + 50) for i in range(n))


def plant_rings(
    rng: random.Random,
    n_rings: int,
    ring_size: int,
    residents: Sequence[Sequence[Resident]],
    taken_plates: Sequence[str],
    village_xy: Sequence[tuple[float, float]],
    grid: CellGrid,
    lprs: Sequence[Site],
) -> tuple[tuple[Ring, int, tuple[Site, ...]], ...]:
    """Plant ``n_rings`` rings, each in its own village.

    A ring is ``ring_size`` residents of its home village with 2–3 new
    Beijing plates (none in ``taken_plates``); it is returned with its home
    village index and the two LPR sites nearest home, where it is seen.
    """
    homes = rng.sample(range(len(village_xy)), n_rings)
    taken = set(taken_plates)
    rings = []
    for r, home in enumerate(homes):
        members = rng.sample(residents[home], ring_size)
        plates = []
        n_plates = rng.randint(2, 3)
        while len(plates) < n_plates:
            plate = fake_plate(rng, "京")
            if plate not in taken:
                taken.add(plate)
                plates.append(plate)
        x, y = village_xy[home]
        nearest = sorted(
            lprs, key=lambda s: (math.dist(grid.to_metres(s.lon, s.lat), (x, y)), s.site_id)
        )[:2]
        rings.append(
            (
                Ring(f"ring-{r + 1:03d}", tuple(m.id_number for m in members), tuple(plates)),
                home,
                tuple(nearest),
            )
        )
    return tuple(rings)
