"""What the simulator produces: raw records, planted surges and rings, and their constants.

Examples
--------
>>> GroundTruth(surges=(), rings=(Ring("ring-001", ("110118199001011234",), ("京A12345",)),)
...             ).to_dict()["rings"]
[{'ring_id': 'ring-001', 'person_ids': ['110118199001011234'], 'plates': ['京A12345']}]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from features.coordinates import wgs84_to_bd09, wgs84_to_gcj02

__all__ = [
    "SCHEMA_VERSION",
    "CRS_BY_SOURCE",
    "MALFORMED_KINDS",
    "UNKNOWN_CATEGORY_BY_SOURCE",
    "Surge",
    "Ring",
    "PlantedIncident",
    "SimulatedRecord",
    "GroundTruth",
    "reported_location",
]

#: Version of the raw envelope written by the simulator.
SCHEMA_VERSION = 1

#: The coordinate system each channel reports in: the grid app uses the
#: phone map SDK (GCJ-02), the hotline geocodes with Baidu (BD-09), and video
#: devices are surveyed in WGS-84.
CRS_BY_SOURCE = {"grid": "GCJ02", "hotline": "BD09", "video": "WGS84"}

#: Defect codes of malformed records, in the order they are assigned.
MALFORMED_KINDS = (
    "invalid_json",
    "missing_field",
    "wrong_type",
    "outside_district",
    "unknown_category",
    "future_timestamp",
)

#: Category codes used by ``unknown_category`` records; none is in the taxonomy.
UNKNOWN_CATEGORY_BY_SOURCE = {
    "grid": "public_order.ufo_sighting",
    "hotline": "hotline.ufo_sighting",
    "video": "video.ufo_sighting",
}


@dataclass(frozen=True)
class Surge:
    """A planted surge: ``multiplier`` × the background in one cell and category.

    ``start`` and ``end`` are timezone-aware; the surge covers ``[start, end)``.
    """

    cell_id: str
    category: str
    start: datetime
    end: datetime
    multiplier: float


@dataclass(frozen=True)
class Ring:
    """A planted ring: people (ID numbers) and vehicles (plates) that act together."""

    ring_id: str
    person_ids: tuple[str, ...]
    plates: tuple[str, ...]


@dataclass(frozen=True)
class PlantedIncident:
    """One incident reported by several channels: its id and each channel's category for it."""

    incident_id: str
    kind: str
    categories: dict[str, str]


@dataclass(frozen=True)
class SimulatedRecord:
    """One record for a raw topic.

    ``value`` is the JSON text of the envelope (or, for ``invalid_json``,
    text that is not JSON); ``malformed_kind`` is one of
    :data:`MALFORMED_KINDS` or ``None`` for a valid record.  Times are epoch
    milliseconds of the times written in the value.
    """

    source: str
    key: str
    value: str
    event_time_ms: int
    report_time_ms: int
    malformed_kind: str | None
    #: Who the record's person and vehicle entries really are, in entry
    #: order: ``{"persons": [ID numbers], "vehicles": [plates]}``; never in
    #: ``value`` (see :mod:`pipelines.harness.simulator.noise`); and
    #: ``"incident"``, the planted incident it reports, if any.
    truth: dict | None = None


@dataclass(frozen=True)
class GroundTruth:
    """What the simulator planted."""

    surges: tuple[Surge, ...]
    rings: tuple[Ring, ...]

    def to_dict(self) -> dict:
        """Return a JSON-ready dict (times as ISO-8601 strings)."""
        return {
            "surges": [
                {
                    "cell_id": s.cell_id,
                    "category": s.category,
                    "start": s.start.isoformat(),
                    "end": s.end.isoformat(),
                    "multiplier": s.multiplier,
                }
                for s in self.surges
            ],
            "rings": [
                {"ring_id": r.ring_id, "person_ids": list(r.person_ids), "plates": list(r.plates)}
                for r in self.rings
            ],
        }


def reported_location(source: str, lon: float, lat: float) -> dict:
    """The envelope ``location`` of a WGS-84 point as ``source`` reports it.

    Examples
    --------
    >>> reported_location("video", 116.8451234567, 40.376)
    {'lon': 116.845123, 'lat': 40.376, 'crs': 'WGS84'}
    """
    crs = CRS_BY_SOURCE[source]
    if crs == "GCJ02":
        lon, lat = wgs84_to_gcj02(lon, lat)
    elif crs == "BD09":
        lon, lat = wgs84_to_bd09(lon, lat)
    return {"lon": round(lon, 6), "lat": round(lat, 6), "crs": crs}
