"""What one simulated event says, per kind: background, surge, or a ring's outing.

Each draw takes the random stream of its component (a channel's background,
one surge, one ring), so the kinds never disturb each other's draws.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from features.geography import Site
from features.taxonomy import PLATE_READ
from pipelines.harness.simulator.background import BackgroundModel
from pipelines.harness.simulator.intensity import point_near
from pipelines.harness.simulator.parameters import source_of
from pipelines.harness.simulator.payloads import EventPayloads
from pipelines.harness.simulator.populations import Resident
from pipelines.harness.simulator.records import Ring, Surge
from pipelines.harness.simulator.sampling import cumulative, pick

__all__ = ["RING_INCIDENT_PROBABILITY", "RING_CATEGORIES", "EventMaker"]

#: Chance that a ring's outing ends in an incident a grid worker reports.
RING_INCIDENT_PROBABILITY = 0.6
#: The categories of those incidents.
RING_CATEGORIES = (
    "public_order.suspicious_person",
    "public_order.suspicious_vehicle",
    "public_order.fight",
    "public_order.petty_theft",
)


class EventMaker:
    """Draws the payloads of events from the background model and the populations.

    Parameters
    ----------
    model : BackgroundModel
        Where events happen (villages, sites and their weights).
    payloads : EventPayloads
        What each channel reports.
    residents : sequence of sequence of Resident
        The people of each village.
    rings : sequence of (Ring, int, tuple of Site)
        Each planted ring with its home village index and its two LPR sites.
    """

    def __init__(
        self,
        model: BackgroundModel,
        payloads: EventPayloads,
        residents: Sequence[Sequence[Resident]],
        rings: Sequence[tuple[Ring, int, tuple[Site, ...]]],
    ):
        self.model = model
        self.payloads = payloads
        self.residents = residents
        self.rings = rings

    def point_near(self, rng: random.Random, village_index: int) -> tuple[float, float]:
        """A WGS-84 point scattered around a village."""
        district = self.model.district
        return point_near(
            rng,
            district.grid,
            self.model.village_xy[village_index],
            district.villages[village_index].kind,
        )

    def background(self, rng: random.Random, source: str, category: str) -> dict:
        """A background event of ``category`` at a village or site drawn by weight."""
        index = pick(rng, self.model.samplers[category])
        if source == "video":
            return self.payloads.video(rng, category, self.model.site_weights[category][0][index])
        lon, lat = self.point_near(rng, index)
        if source == "grid":
            return self.payloads.grid(rng, category, index, lon, lat)
        return self.payloads.hotline(rng, category, index, lon, lat)

    def nearest_village(self, x: float, y: float) -> int:
        """The index of the village whose centre is nearest the point (in metres)."""
        village_xy = self.model.village_xy
        return min(
            range(len(village_xy)),
            key=lambda i: (village_xy[i][0] - x) ** 2 + (village_xy[i][1] - y) ** 2,
        )

    def surge(self, rng: random.Random, surge: Surge) -> dict | None:
        """An extra event in the surge's cell (``None``: no site of its category there)."""
        source = source_of(surge.category)
        grid = self.model.district.grid
        if source == "video":
            sites, weights = self.model.site_weights[surge.category]
            in_cell = [
                (s, w)
                for s, w in zip(sites, weights)
                if grid.cell_of(s.lon, s.lat) == surge.cell_id
            ]
            if not in_cell:
                return None
            site = in_cell[pick(rng, cumulative(w for _, w in in_cell))][0]
            return self.payloads.video(rng, surge.category, site)
        x0, y0, x1, y1 = grid.bounds_m(surge.cell_id)
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        lon, lat = grid.from_metres(x, y)
        index = self.nearest_village(x, y)
        if source == "grid":
            return self.payloads.grid(rng, surge.category, index, lon, lat)
        return self.payloads.hotline(rng, surge.category, index, lon, lat)

    def ring_outing(
        self, rng: random.Random, ring_index: int, t: int
    ) -> list[tuple[int, str, dict]]:
        """The events of one ring outing: a convoy past an LPR site, maybe an incident."""
        ring, home, sites = self.rings[ring_index]
        payloads = self.payloads
        events = []
        site = rng.choice(sites)
        when = t
        for plate in ring.plates:
            events.append((when, "video", payloads.video(rng, PLATE_READ, site, plate)))
            when += rng.randint(20, 150)
        if rng.random() < RING_INCIDENT_PROBABILITY:
            by_id = {r.id_number: r for r in self.residents[home]}
            persons = [
                payloads.person(rng, "suspect", by_id[pid], full=True) for pid in ring.person_ids
            ]
            vehicles = [{"role": "suspect", "plate": p} for p in ring.plates]
            category = rng.choice(RING_CATEGORIES)
            lon, lat = self.point_near(rng, home)
            events.append(
                (
                    t + rng.randint(300, 1800),
                    "grid",
                    payloads.grid(rng, category, home, lon, lat, persons, vehicles),
                )
            )
        return events
