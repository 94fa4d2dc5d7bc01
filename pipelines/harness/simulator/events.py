"""What one simulated event says, per kind: background, surge, a ring's outing, or an incident several channels report.

Each draw takes the random stream of its component (a channel's background,
one surge, one ring), so the kinds never disturb each other's draws.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from types import MappingProxyType

from features.geography import Site
from features.taxonomy import PLATE_READ
from pipelines.harness.simulator.background import BackgroundModel
from pipelines.harness.simulator.intensity import point_near
from pipelines.harness.simulator.parameters import source_of
from pipelines.harness.simulator.payloads import EventPayloads
from pipelines.harness.simulator.populations import Resident
from pipelines.harness.simulator.records import PlantedIncident, Ring, Surge
from pipelines.harness.simulator.sampling import cumulative, pick
from pipelines.harness.simulator.texts import grid_description, hotline_message, text_details

__all__ = [
    "CAMERA_SHARE",
    "HOTLINE_SHARE",
    "INCIDENT_SPREAD_M",
    "LOCATION_ERROR_M",
    "RING_INCIDENT_PROBABILITY",
    "RING_CATEGORIES",
    "EventMaker",
]

#: A planted incident's reports: the chance a resident calls the hotline too,
#: and the chance the camera nearby raises an alarm.
HOTLINE_SHARE = 0.7
CAMERA_SHARE = 0.5
#: Where a planted incident happens: within this many metres of a camera
#: site (what the camera sees). Each channel then places it with its own
#: error, uniformly over a disc: the grid app's GPS, the geocoded address a
#: hotline caller gives.
INCIDENT_SPREAD_M = 100.0
LOCATION_ERROR_M = MappingProxyType({"grid": 30.0, "hotline": 100.0})
#: The category of a camera's alarm.
CAMERA_ALARM = "video.camera_alarm"

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

    def incident(
        self, rng: random.Random, incident: PlantedIncident, t: int
    ) -> list[tuple[int, str, dict]]:
        """The reports of one incident seen by several channels: its truth rides on each payload.

        The incident happens near a camera site (:data:`INCIDENT_SPREAD_M`);
        each channel places it with its own error (:data:`LOCATION_ERROR_M`).
        A grid worker reports it,
        always; a resident calls the hotline with probability
        :data:`HOTLINE_SHARE` (half the time the party the grid worker
        noted); the camera raises an alarm with probability
        :data:`CAMERA_SHARE` when the kind has a video category. Each
        channel times it with its own error too.
        """
        grid = self.model.district.grid
        sites, weights = self.model.site_weights[CAMERA_ALARM]
        site = sites[pick(rng, cumulative(weights))]
        x0, y0 = grid.to_metres(site.lon, site.lat)

        def near(x: float, y: float, spread_m: float) -> tuple[float, float]:
            angle, radius = rng.uniform(0, 2 * math.pi), spread_m * math.sqrt(rng.random())
            return x + radius * math.cos(angle), y + radius * math.sin(angle)

        def place(channel: str) -> tuple[float, float, int]:
            x, y = near(*spot, LOCATION_ERROR_M[channel])
            return (*grid.from_metres(x, y), self.nearest_village(x, y))

        spot = near(x0, y0, INCIDENT_SPREAD_M)
        lon, lat, village = place("grid")
        party = rng.choice(self.residents[village])
        payloads = self.payloads
        # Both texts name the incident's village, place and particulars.
        district = self.model.district
        names = (
            district.town(district.villages[village].town_code).name,
            district.villages[village].name,
        )
        details = text_details(rng, *names)
        person = payloads.person(rng, "party", party)
        category = incident.categories["grid"]
        report = payloads.grid(rng, category, village, lon, lat, [person], [])
        report["attributes"]["description"] = grid_description(rng, category, *names, details)
        events = [(t + rng.randint(0, 900), "grid", report)]
        if "hotline" in incident.categories and rng.random() < HOTLINE_SHARE:
            lon, lat, caller_village = place("hotline")
            category = incident.categories["hotline"]
            call = payloads.hotline(rng, category, caller_village, lon, lat)
            call["attributes"]["text"] = hotline_message(rng, category, *names, details)
            if rng.random() < 0.5:
                call["persons"] = [{"role": "caller", "phone": party.phone, "_id": party.id_number}]
            events.append((t + rng.randint(-600, 1800), "hotline", call))
        if "video" in incident.categories and rng.random() < CAMERA_SHARE:
            events.append(
                (t + rng.randint(-60, 60), "video", payloads.video(rng, CAMERA_ALARM, site))
            )
        for _, _, payload in events:
            payload["_incident"] = incident.incident_id
        return events
