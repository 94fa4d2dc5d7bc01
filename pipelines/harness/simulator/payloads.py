"""What each channel says about an event: category, location, persons, vehicles, attributes.

A payload is the part of the raw envelope that depends on the channel; the
event id, the times and the hotline ticket number are added when the event
is emitted (see :mod:`pipelines.harness.simulator.envelope`). Person entries carry
their resident's ID number under ``_id``, the truth that the envelope takes
out (:mod:`pipelines.harness.simulator.noise`).

Examples
--------
>>> import random
>>> resident = Resident("王芳", "110118199001011234", "13800000000")
>>> EventPayloads.person(random.Random(0), "victim", resident, full=True)
{'role': 'victim', 'name': '王芳', '_id': '110118199001011234', 'id_number': '110118199001011234', 'phone': '13800000000'}
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from features.geography import District, Site
from features.taxonomy import PLATE_READ
from pipelines.harness.simulator.populations import VEHICLES_PER_VILLAGE, Resident
from pipelines.harness.simulator.records import reported_location
from pipelines.harness.simulator.sampling import pick
from pipelines.harness.simulator.texts import grid_description, hotline_message

__all__ = ["GRID_STAFF_PER_VILLAGE", "EventPayloads"]

#: Grid staff (网格员) per village; reporter ids are numbered village by village.
GRID_STAFF_PER_VILLAGE = 2


class EventPayloads:
    """Builds channel payloads from a district's residents and vehicles.

    Parameters
    ----------
    district : District
        The district the events happen in.
    residents : sequence of sequence of Resident
        The people of each village (see :func:`~pipelines.harness.simulator.populations.village_residents`).
    plates : tuple of (list of str, list of float)
        Plates and their cumulative read weights (see
        :func:`~pipelines.harness.simulator.populations.vehicle_plates`).
    """

    def __init__(
        self,
        district: District,
        residents: Sequence[Sequence[Resident]],
        plates: tuple[list[str], list[float]],
    ):
        self.district = district
        self.residents = residents
        self.plates = plates

    @staticmethod
    def person(rng: random.Random, role: str, resident: Resident, full: bool = False) -> dict:
        """A person entry; unless ``full``, the ID number and phone are sometimes missing."""
        # `_id` is the truth, for evaluations; the envelope takes it out.
        person = {"role": role, "name": resident.name, "_id": resident.id_number}
        if full or rng.random() < 0.8:
            person["id_number"] = resident.id_number
        if full or rng.random() < 0.7:
            person["phone"] = resident.phone
        return person

    def grid_people(
        self, rng: random.Random, category: str, village_index: int
    ) -> tuple[list[dict], list[dict]]:
        """The persons and vehicles a grid worker notes for ``category`` in a village."""
        residents = self.residents[village_index]
        plates = self.plates[0]
        own_plates = plates[
            village_index * VEHICLES_PER_VILLAGE : (village_index + 1) * VEHICLES_PER_VILLAGE
        ]
        persons, vehicles = [], []
        if category == "public_order.suspicious_person":
            persons.append(
                self.person(rng, "suspect", rng.choice(residents))
                if rng.random() < 0.5
                else {"role": "suspect"}
            )
        elif category == "public_order.suspicious_vehicle":
            vehicles.append({"role": "suspect", "plate": plates[pick(rng, self.plates[1])]})
        elif category == "public_order.petty_theft":
            persons.append(self.person(rng, "victim", rng.choice(residents)))
            if rng.random() < 0.3:
                persons.append(self.person(rng, "suspect", rng.choice(residents)))
        elif category == "public_order.fight":
            for resident in rng.sample(residents, rng.randint(2, 3)):
                persons.append(self.person(rng, "party", resident))
            if rng.random() < 0.3:
                persons.append(self.person(rng, "witness", rng.choice(residents)))
        elif category == "environment.cult_leaflet":
            if rng.random() < 0.2:
                persons.append(self.person(rng, "suspect", rng.choice(residents)))
        elif category == "environment.illegal_dumping":
            if rng.random() < 0.3:
                persons.append(self.person(rng, "suspect", rng.choice(residents)))
            if rng.random() < 0.3:
                vehicles.append({"role": "involved", "plate": rng.choice(own_plates)})
        elif category == "environment.burning":
            if rng.random() < 0.6:
                persons.append(self.person(rng, "party", rng.choice(residents)))
        elif category == "construction.illegal_construction":
            if rng.random() < 0.9:
                persons.append(self.person(rng, "party", rng.choice(residents)))
        return persons, vehicles

    def _names(self, village_index: int) -> tuple[str, str]:
        village = self.district.villages[village_index]
        return self.district.town(village.town_code).name, village.name

    def grid(
        self,
        rng: random.Random,
        category: str,
        village_index: int,
        lon: float,
        lat: float,
        persons: list | None = None,
        vehicles: list | None = None,
    ) -> dict:
        """A grid-app report; persons and vehicles are drawn unless given."""
        if persons is None:
            persons, vehicles = self.grid_people(rng, category, village_index)
        town, village = self._names(village_index)
        staff = village_index * GRID_STAFF_PER_VILLAGE + rng.randrange(GRID_STAFF_PER_VILLAGE)
        return {
            "category": category,
            "location": reported_location("grid", lon, lat),
            "persons": persons,
            "vehicles": vehicles,
            "attributes": {
                "reporter_id": f"G{staff + 1:04d}",
                "description": grid_description(rng, category, town, village),
            },
        }

    def hotline(
        self, rng: random.Random, category: str, village_index: int, lon: float, lat: float
    ) -> dict:
        """A 12345 hotline call from a resident of the village."""
        resident = rng.choice(self.residents[village_index])
        caller = {"role": "caller", "phone": resident.phone, "_id": resident.id_number}
        if rng.random() < 0.5:
            caller["name"] = resident.name
        town, village = self._names(village_index)
        return {
            "category": category,
            "location": reported_location("hotline", lon, lat),
            "persons": [caller],
            "vehicles": [],
            "attributes": {"text": hotline_message(rng, category, town, village)},
        }

    def video(
        self, rng: random.Random, category: str, site: Site, plate: str | None = None
    ) -> dict:
        """A plate read (of ``plate``, or a drawn vehicle) or a camera alarm at ``site``."""
        if category == PLATE_READ:
            lane = rng.randint(1, site.lanes)
            if plate is None:
                plate = self.plates[0][pick(rng, self.plates[1])]
            attributes = {
                "device_id": f"{site.site_id}-L{lane}",
                "site_id": site.site_id,
                "device_kind": "lpr",
                "lane": lane,
                "confidence": round(rng.uniform(0.80, 0.999), 3),
            }
            vehicles = [{"role": "observed", "plate": plate}]
        else:
            attributes = {
                "device_id": f"{site.site_id}-V1",
                "site_id": site.site_id,
                "device_kind": "camera",
            }
            vehicles = []
        return {
            "category": category,
            "location": reported_location("video", site.lon, site.lat),
            "persons": [],
            "vehicles": vehicles,
            "attributes": attributes,
        }
