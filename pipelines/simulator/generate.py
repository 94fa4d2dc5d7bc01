"""Deterministic generator of raw events for the three channels, with ground truth.

The simulator stands in for the grid app, the hotline and the video tier.
It writes nothing: :meth:`DistrictSimulator.records` yields
:class:`SimulatedRecord` values (a Kafka key and a JSON value in the raw
envelope v1) in report-time order, and :meth:`DistrictSimulator.ground_truth`
says what was planted: surges in a cell and category, and rings of people
and vehicles that keep appearing together.

The background model
--------------------
* **Rate.** ``events_per_hour`` is the long-run average over all channels,
  split by ``channel_mix`` and then by fixed category shares.
* **Rhythm.** Each channel has an hour-of-day profile (Asia/Shanghai) and a
  day-of-week factor, both with mean 1, so the intensity at time ``t`` is
  ``base_rate × hour_factor × weekday_factor``; arrivals are a Poisson
  process, piecewise constant per hour.
* **Space.** Grid and hotline events fall around a village centre chosen
  with weight town-kind weight × a per-village activity factor × a
  category affinity for 村 or 社区, scattered by an isotropic Gaussian
  (σ = 250 m around a 社区, 400 m around a 村) on the grid's projection.
  Plate reads happen at LPR sites (weight ∝ lanes × town weight), camera
  alarms at cameras.  :meth:`DistrictSimulator.base_rate` integrates this
  model exactly over a cell.
* **Delays.** Report time − event time is uniform in 0–300 s (grid),
  60–600 s (hotline) and 0–3 s (video).

Every random draw comes from a private :class:`random.Random` seeded from
``seed`` and the name of the component (background per channel, each surge,
each ring, malformation), so adding a surge leaves the background events
unchanged.
"""
from __future__ import annotations

import heapq
import json
import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from functools import cached_property
from typing import Iterator, Mapping

from features.coordinates import wgs84_to_bd09, wgs84_to_gcj02
from features.geography import District, Site
from features.identity import fake_id_number, fake_phone, fake_plate
from features.taxonomy import CATEGORIES, CATEGORIES_BY_SOURCE, SOURCES
from pipelines.simulator.texts import fake_name, grid_description, hotline_message

__all__ = [
    "SCHEMA_VERSION",
    "CRS_BY_SOURCE",
    "MALFORMED_KINDS",
    "UNKNOWN_CATEGORY_BY_SOURCE",
    "Surge",
    "Ring",
    "SimulatedRecord",
    "GroundTruth",
    "DistrictSimulator",
]

#: Version of the raw envelope written by the simulator.
SCHEMA_VERSION = 1

#: The coordinate system each channel reports in: the grid app uses the
#: phone map SDK (GCJ-02), the hotline geocodes with Baidu (BD-09), and video
#: devices are surveyed in WGS-84.
CRS_BY_SOURCE = {"grid": "GCJ02", "hotline": "BD09", "video": "WGS84"}

#: Defect codes of malformed records, in the order they are assigned.
MALFORMED_KINDS = (
    "invalid_json", "missing_field", "wrong_type", "outside_district",
    "unknown_category", "future_timestamp",
)

#: Category codes used by ``unknown_category`` records; none is in the taxonomy.
UNKNOWN_CATEGORY_BY_SOURCE = {
    "grid": "public_order.ufo_sighting",
    "hotline": "hotline.ufo_sighting",
    "video": "video.ufo_sighting",
}

DEFAULT_CHANNEL_MIX = {"grid": 0.45, "hotline": 0.25, "video": 0.30}

_UTC_OFFSET_S = 8 * 3600  # Asia/Shanghai has had no daylight saving since 1991
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)

# Relative hour-of-day intensity (local time); normalised to mean 1 on use.
_HOUR_PROFILE = {
    "grid": (0.15, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.6, 1.9, 1.8, 1.5,
             1.0, 1.0, 1.5, 1.8, 1.9, 1.6, 1.1, 0.8, 0.6, 0.4, 0.3, 0.2),
    # The hotline is answered around the clock but citizens call by day.
    "hotline": (0.05, 0.03, 0.02, 0.02, 0.02, 0.05, 0.2, 0.8, 1.8, 2.4, 2.3, 1.9,
                1.2, 1.3, 2.0, 2.2, 2.1, 1.7, 1.0, 0.7, 0.5, 0.3, 0.15, 0.08),
    # Plate reads and alarms follow traffic: morning and evening rush.
    "video": (0.3, 0.2, 0.15, 0.15, 0.2, 0.4, 1.0, 1.9, 2.1, 1.5, 1.2, 1.1,
              1.1, 1.1, 1.2, 1.4, 1.7, 2.0, 1.7, 1.2, 0.9, 0.7, 0.5, 0.4),
}
# Relative day-of-week intensity, Monday first; normalised to mean 1 on use.
# Weekend tourism (古北口, the reservoir) raises traffic; offices close.
_WEEKDAY_FACTOR = {
    "grid": (1.0, 1.0, 1.0, 1.0, 1.0, 0.7, 0.7),
    "hotline": (1.1, 1.0, 1.0, 1.0, 1.0, 0.6, 0.5),
    "video": (1.0, 1.0, 1.0, 1.0, 1.1, 1.2, 1.15),
}

# Share of each category within its channel.
_CATEGORY_SHARE = {
    "public_order.suspicious_person": 0.12,
    "public_order.suspicious_vehicle": 0.08,
    "public_order.petty_theft": 0.10,
    "public_order.fight": 0.06,
    "environment.cult_leaflet": 0.03,
    "environment.illegal_dumping": 0.18,
    "environment.burning": 0.12,
    "environment.late_garbage_collection": 0.18,
    "construction.illegal_construction": 0.13,
    "hotline.urban_rural_construction": 0.26,
    "hotline.labour_social_security": 0.14,
    "hotline.education_culture_sports": 0.10,
    "hotline.health_family_planning": 0.10,
    "hotline.transport": 0.14,
    "hotline.commerce_tourism": 0.10,
    "hotline.environmental_protection": 0.16,
    "video.plate_read": 0.85,
    "video.camera_alarm": 0.15,
}
# How much more often a category happens around a 村 or a 社区.
_KIND_AFFINITY = {
    "environment.burning": {"村": 3.0, "社区": 0.2},
    "construction.illegal_construction": {"村": 2.0, "社区": 0.5},
    "environment.illegal_dumping": {"村": 1.5, "社区": 0.7},
    "environment.late_garbage_collection": {"村": 0.6, "社区": 2.0},
    "hotline.urban_rural_construction": {"村": 0.7, "社区": 1.8},
    "hotline.commerce_tourism": {"村": 0.8, "社区": 1.5},
}
_TOWN_WEIGHT = {"街道": 2.0, "地区": 1.5, "镇": 1.0}
_SCATTER_M = {"社区": 250.0, "村": 400.0}
_REPORT_DELAY_S = {"grid": (0, 300), "hotline": (60, 600), "video": (0, 3)}

_RESIDENTS_PER_VILLAGE = 40
_VEHICLES_PER_VILLAGE = 5
_TRANSIT_VEHICLES = 2400
_GRID_STAFF_PER_VILLAGE = 2
_RING_EPISODES_PER_DAY = 4.0
_RING_INCIDENT_PROBABILITY = 0.6
_RING_CATEGORIES = (
    "public_order.suspicious_person", "public_order.suspicious_vehicle",
    "public_order.fight", "public_order.petty_theft",
)
_SHANGHAI = (121.47, 31.23)


# ---------------------------------------------------------------- values

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


@dataclass(frozen=True)
class GroundTruth:
    """What the simulator planted."""

    surges: tuple[Surge, ...]
    rings: tuple[Ring, ...]

    def to_dict(self) -> dict:
        """Return a JSON-ready dict (times as ISO-8601 strings)."""
        return {
            "surges": [
                {"cell_id": s.cell_id, "category": s.category,
                 "start": s.start.isoformat(), "end": s.end.isoformat(),
                 "multiplier": s.multiplier}
                for s in self.surges
            ],
            "rings": [
                {"ring_id": r.ring_id, "person_ids": list(r.person_ids),
                 "plates": list(r.plates)}
                for r in self.rings
            ],
        }


# ---------------------------------------------------------------- helpers

def _normalised(values) -> tuple[float, ...]:
    mean = sum(values) / len(values)
    return tuple(v / mean for v in values)


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def _cumulative(weights) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    return bisect_right(cumulative, rng.random() * cumulative[-1])


class _Clock:
    """Formats epoch seconds as Asia/Shanghai ISO-8601 text, caching dates."""

    def __init__(self):
        self._dates: dict[int, tuple[str, str]] = {}

    def day(self, epoch_s: int) -> tuple[str, str]:
        """Return ``("2026-11-27", "20261127")`` for the local date of ``epoch_s``."""
        day = (epoch_s + _UTC_OFFSET_S) // 86400
        cached = self._dates.get(day)
        if cached is None:
            iso = date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
            cached = self._dates[day] = (iso, iso.replace("-", ""))
        return cached

    def iso(self, epoch_s: int) -> str:
        seconds = (epoch_s + _UTC_OFFSET_S) % 86400
        return (f"{self.day(epoch_s)[0]}T{seconds // 3600:02d}:"
                f"{seconds // 60 % 60:02d}:{seconds % 60:02d}+08:00")


def _local_hour_weekday(epoch_s: int) -> tuple[int, int]:
    local = epoch_s + _UTC_OFFSET_S
    return local // 3600 % 24, (local // 86400 + _EPOCH_WEEKDAY) % 7


def _epoch_s(moment: datetime, label: str) -> int:
    if not isinstance(moment, datetime) or moment.tzinfo is None \
            or moment.utcoffset() is None:
        raise ValueError(
            f"{label}={moment!r} must be a timezone-aware datetime, e.g. "
            "datetime(2026, 11, 27, tzinfo=timezone(timedelta(hours=8)))")
    return math.floor(moment.timestamp())


@dataclass(frozen=True)
class _Resident:
    name: str
    id_number: str
    phone: str


# ---------------------------------------------------------------- simulator

class DistrictSimulator:
    """Generate raw events for a district, with planted surges and rings.

    Parameters
    ----------
    district : District
        The district model (see :func:`features.geography.build_district`).
    seed : int
        Seed of every random draw; the same arguments give the same records.
    events_per_hour : float, default 400
        Long-run average rate over all channels (config ``simulator``).
    channel_mix : mapping of str to float, optional
        Share of each channel, summing to 1; defaults to the config's
        ``{"grid": 0.45, "hotline": 0.25, "video": 0.30}``.
    malformed_fraction : float, default 0
        Fraction of records to corrupt; exactly ``floor(n × fraction)`` of
        the first ``n`` records are malformed, spread evenly, and the defect
        kinds rotate through :data:`MALFORMED_KINDS`.
    surges : sequence of Surge
        Surges to plant on top of the background.
    n_rings : int, default 0
        Number of rings to plant, each around its own village.
    ring_size : int, default 4
        People per ring; each ring also has 2–3 vehicles (at least two, so
        they can be seen travelling together).
    run_id : str, optional
        Tag put into every event id (``grid-<run_id>-20261127-000001``) so
        that several runs written to the same topics never share an id; by
        default ids are ``grid-20261127-000001``, unique within one run only.

    Notes
    -----
    The constructor only stores its arguments; they are checked, and the
    model is built, on first use.

    Examples
    --------
    >>> from features.geography import build_district
    >>> rows = [{"name": "鼓楼街道", "kind": "街道", "approx_lat": 40.376, "approx_lon": 116.845}]
    >>> district = build_district(rows, code="110118", name="密云区", seed=1,
    ...     villages_per_town=3, cell_size_m=1000, origin_lon=116.55, origin_lat=40.15,
    ...     max_village_distance_m=9000, n_cameras=2, n_lpr_sites=1, n_gas_stations=1)
    >>> sim = DistrictSimulator(district, seed=7, events_per_hour=100)
    >>> start = datetime.fromisoformat("2026-11-27T09:00:00+08:00")
    >>> records = list(sim.records(start, timedelta(minutes=30)))
    >>> all(a.report_time_ms <= b.report_time_ms for a, b in zip(records, records[1:]))
    True
    >>> records == list(DistrictSimulator(district, seed=7, events_per_hour=100)
    ...                 .records(start, timedelta(minutes=30)))
    True
    """

    def __init__(self, district: District, *, seed: int, events_per_hour: float = 400.0,
                 channel_mix: Mapping[str, float] | None = None,
                 malformed_fraction: float = 0.0, surges=(), n_rings: int = 0,
                 ring_size: int = 4, run_id: str | None = None):
        self.district = district
        self.seed = seed
        self.events_per_hour = events_per_hour
        self.channel_mix = channel_mix
        self.malformed_fraction = malformed_fraction
        self.surges = surges
        self.n_rings = n_rings
        self.ring_size = ring_size
        self.run_id = run_id

    # ------------------------------------------------------------ validation

    def _rng(self, component: str) -> random.Random:
        # A string seed is hashed with SHA-512 by random.Random: stable
        # across runs and independent of PYTHONHASHSEED.
        return random.Random(f"{self.seed}:{component}")

    @cached_property
    def _mix(self) -> dict[str, float]:
        if not (isinstance(self.events_per_hour, (int, float))
                and self.events_per_hour > 0 and math.isfinite(self.events_per_hour)):
            raise ValueError(f"events_per_hour={self.events_per_hour!r} must be a number > 0")
        mix = dict(DEFAULT_CHANNEL_MIX if self.channel_mix is None else self.channel_mix)
        unknown = sorted(set(mix) - set(SOURCES))
        if unknown:
            raise ValueError(f"channel_mix has unknown channels {unknown}; allowed: "
                             + ", ".join(SOURCES))
        if any(not (isinstance(v, (int, float)) and v >= 0) for v in mix.values()) \
                or abs(sum(mix.values()) - 1.0) > 1e-6:
            raise ValueError(f"channel_mix={mix!r} must have shares >= 0 summing to 1")
        if not (isinstance(self.malformed_fraction, (int, float))
                and 0.0 <= self.malformed_fraction <= 1.0):
            raise ValueError(
                f"malformed_fraction={self.malformed_fraction!r} must be in [0, 1]")
        if not isinstance(self.n_rings, int) or self.n_rings < 0:
            raise ValueError(f"n_rings={self.n_rings!r} must be an integer >= 0")
        if self.n_rings > len(self.district.villages):
            raise ValueError(f"n_rings={self.n_rings} exceeds the "
                             f"{len(self.district.villages)} villages (one ring per village)")
        if not isinstance(self.ring_size, int) or not 2 <= self.ring_size <= _RESIDENTS_PER_VILLAGE:
            raise ValueError(f"ring_size={self.ring_size!r} must be an integer in "
                             f"2..{_RESIDENTS_PER_VILLAGE}")
        if self.run_id is not None and not (
                isinstance(self.run_id, str) and self.run_id.isascii()
                and self.run_id.replace("_", "").isalnum() and len(self.run_id) <= 32):
            raise ValueError(f"run_id={self.run_id!r} must be 1-32 ASCII letters, digits or '_'")
        if self.n_rings and not self.district.sites_of_kind("lpr"):
            raise ValueError("rings need LPR sites, and the district has none")
        return {source: float(mix.get(source, 0.0)) for source in SOURCES}

    @cached_property
    def _surges(self) -> tuple[tuple[Surge, int, int], ...]:
        checked = []
        for surge in self.surges:
            if not isinstance(surge, Surge):
                raise ValueError(f"surge {surge!r} must be a Surge")
            self.district.grid.row_col(surge.cell_id)
            self._source_of(surge.category)
            start = _epoch_s(surge.start, "surge.start")
            end = _epoch_s(surge.end, "surge.end")
            if end <= start:
                raise ValueError(f"surge {surge!r}: end must be after start")
            if not (isinstance(surge.multiplier, (int, float)) and surge.multiplier >= 1):
                raise ValueError(f"surge multiplier={surge.multiplier!r} must be >= 1")
            checked.append((surge, start, end))
        return tuple(checked)

    def _validate(self) -> None:
        """Check every parameter (building the lazily cached pieces that do so)."""
        for name in ("_mix", "_surges", "_rings"):
            getattr(self, name)

    @staticmethod
    def _source_of(category: str) -> str:
        for source, categories in CATEGORIES_BY_SOURCE.items():
            if category in categories:
                return source
        raise ValueError(f"category={category!r} is not in the taxonomy; allowed: "
                         + ", ".join(sorted(CATEGORIES)))

    # ------------------------------------------------------------ the model

    @cached_property
    def _profiles(self) -> dict[str, tuple[tuple[float, ...], tuple[float, ...]]]:
        return {s: (_normalised(_HOUR_PROFILE[s]), _normalised(_WEEKDAY_FACTOR[s]))
                for s in SOURCES}

    @cached_property
    def _category_rates(self) -> dict[str, float]:
        """Long-run events/hour of each category over the whole district."""
        mix = self._mix
        rates = {}
        for source in SOURCES:
            categories = sorted(CATEGORIES_BY_SOURCE[source])
            total = sum(_CATEGORY_SHARE[c] for c in categories)
            for c in categories:
                rates[c] = self.events_per_hour * mix[source] * _CATEGORY_SHARE[c] / total
        return rates

    @cached_property
    def _village_xy(self) -> list[tuple[float, float]]:
        grid = self.district.grid
        return [grid.to_metres(v.lon, v.lat) for v in self.district.villages]

    @cached_property
    def _village_weights(self) -> dict[str, list[float]]:
        """Unnormalised weight of each village for each grid/hotline category."""
        district = self.district
        rng = self._rng("activity")
        activity = [rng.lognormvariate(0.0, 0.5) for _ in district.villages]
        town_kind = {t.code: t.kind for t in district.towns}
        weights = {}
        for source in ("grid", "hotline"):
            for c in sorted(CATEGORIES_BY_SOURCE[source]):
                affinity = _KIND_AFFINITY.get(c, {})
                weights[c] = [
                    _TOWN_WEIGHT.get(town_kind[v.town_code], 1.0) * a * affinity.get(v.kind, 1.0)
                    for v, a in zip(district.villages, activity)
                ]
        return weights

    @cached_property
    def _site_weights(self) -> dict[str, tuple[tuple[Site, ...], list[float]]]:
        town_kind = {t.code: t.kind for t in self.district.towns}
        lprs = self.district.sites_of_kind("lpr")
        cameras = self.district.sites_of_kind("camera")
        return {
            "video.plate_read": (lprs, [s.lanes * _TOWN_WEIGHT.get(town_kind[s.town_code], 1.0)
                                        for s in lprs]),
            "video.camera_alarm": (cameras, [_TOWN_WEIGHT.get(town_kind[s.town_code], 1.0)
                                             for s in cameras]),
        }

    @cached_property
    def _samplers(self) -> dict[str, list[float]]:
        """Cumulative weights used to draw a village (or site) per category."""
        samplers = {c: _cumulative(w) for c, w in self._village_weights.items()}
        for c, (sites, w) in self._site_weights.items():
            samplers[c] = _cumulative(w) if sites else []
        return samplers

    def _cell_rates(self, category: str) -> dict[str, float]:
        cache = self.__dict__.setdefault("_cell_rate_cache", {})
        if category in cache:
            return cache[category]
        self._source_of(category)
        rate = self._category_rates[category]
        grid = self.district.grid
        size = grid.size_m
        rates: dict[str, float] = {}
        if category in self._site_weights:
            sites, weights = self._site_weights[category]
            total = sum(weights)
            for site, w in zip(sites, weights):
                cell = grid.cell_of(site.lon, site.lat)
                rates[cell] = rates.get(cell, 0.0) + rate * w / total
        else:
            weights = self._village_weights[category]
            total = sum(weights)
            for village, (x, y), w in zip(self.district.villages, self._village_xy, weights):
                sigma = _SCATTER_M[village.kind]
                share = rate * w / total
                cols = self._axis_masses(x, sigma, size)
                rows = self._axis_masses(y, sigma, size)
                for row, p_row in rows:
                    for col, p_col in cols:
                        cell = f"r{row:03d}c{col:03d}"
                        rates[cell] = rates.get(cell, 0.0) + share * p_row * p_col
        cache[category] = rates
        return rates

    @staticmethod
    def _axis_masses(centre: float, sigma: float, size: float) -> list[tuple[int, float]]:
        """Gaussian mass per cell index along one axis (±8σ covers all but 1e-15)."""
        first = max(math.floor((centre - 8 * sigma) / size), 0)
        last = math.floor((centre + 8 * sigma) / size)
        return [(i, _phi(((i + 1) * size - centre) / sigma) - _phi((i * size - centre) / sigma))
                for i in range(first, last + 1)]

    def base_rate(self, cell_id: str, category: str) -> float:
        """Expected events per hour of ``category`` in ``cell_id``, averaged over the week.

        The rate at a given moment is this times the channel's hour-of-day and
        day-of-week factors (see :meth:`expected_rate`).

        Raises
        ------
        ValueError
            If the cell id is malformed or the category is not in the taxonomy.
        """
        self.district.grid.row_col(cell_id)
        return self._cell_rates(category).get(cell_id, 0.0)

    def expected_rate(self, cell_id: str, category: str, at: datetime) -> float:
        """Expected events per hour of ``category`` in ``cell_id`` at the moment ``at``."""
        base = self.base_rate(cell_id, category)
        hour, weekday = _local_hour_weekday(_epoch_s(at, "at"))
        hours, days = self._profiles[self._source_of(category)]
        return base * hours[hour] * days[weekday]

    def busiest_cells(self, category: str, n: int) -> list[str]:
        """The ``n`` cells with the highest :meth:`base_rate` for ``category`` (ties by id)."""
        rates = self._cell_rates(category)
        return sorted(rates, key=lambda cell: (-rates[cell], cell))[:n]

    # ------------------------------------------------------------ populations

    @cached_property
    def _residents(self) -> list[list[_Resident]]:
        """People living in each village; events draw their persons from here."""
        rng = self._rng("residents")
        region = self.district.code if len(self.district.code) == 6 else "110118"
        return [[_Resident(fake_name(rng), fake_id_number(rng, region_code=region),
                           fake_phone(rng))
                 for _ in range(_RESIDENTS_PER_VILLAGE)]
                for _ in self.district.villages]

    @cached_property
    def _plates(self) -> tuple[list[str], list[float]]:
        """Vehicle plates: village-owned first, then transit; with read weights."""
        rng = self._rng("vehicles")
        n = len(self.district.villages) * _VEHICLES_PER_VILLAGE + _TRANSIT_VEHICLES
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
        return plates, _cumulative(1.0 / (i + 50) for i in range(n))

    @cached_property
    def _rings(self) -> tuple[tuple[Ring, int, tuple[Site, ...]], ...]:
        """Each ring with its home village index and its two LPR sites."""
        self._mix  # noqa: B018 - checks n_rings and ring_size first
        if self.n_rings == 0:
            return ()
        rng = self._rng("rings")
        villages = self.district.villages
        homes = rng.sample(range(len(villages)), self.n_rings)
        taken = set(self._plates[0])
        lprs = self.district.sites_of_kind("lpr")
        rings = []
        for r, home in enumerate(homes):
            members = rng.sample(self._residents[home], self.ring_size)
            plates = []
            n_plates = rng.randint(2, 3)
            while len(plates) < n_plates:
                plate = fake_plate(rng, "京")
                if plate not in taken:
                    taken.add(plate)
                    plates.append(plate)
            x, y = self._village_xy[home]
            grid = self.district.grid
            nearest = sorted(lprs, key=lambda s: (math.dist(grid.to_metres(s.lon, s.lat), (x, y)),
                                                  s.site_id))[:2]
            rings.append((Ring(f"ring-{r + 1:03d}", tuple(m.id_number for m in members),
                               tuple(plates)), home, tuple(nearest)))
        return tuple(rings)

    def ground_truth(self) -> GroundTruth:
        """Return the planted surges and rings."""
        return GroundTruth(surges=tuple(s for s, _, _ in self._surges),
                           rings=tuple(r for r, _, _ in self._rings))

    # ------------------------------------------------------------ events

    def _point_near(self, rng: random.Random, village_index: int) -> tuple[float, float]:
        x, y = self._village_xy[village_index]
        sigma = _SCATTER_M[self.district.villages[village_index].kind]
        return self.district.grid.from_metres(x + rng.gauss(0.0, sigma), y + rng.gauss(0.0, sigma))

    def _location(self, source: str, lon: float, lat: float) -> dict:
        crs = CRS_BY_SOURCE[source]
        if crs == "GCJ02":
            lon, lat = wgs84_to_gcj02(lon, lat)
        elif crs == "BD09":
            lon, lat = wgs84_to_bd09(lon, lat)
        return {"lon": round(lon, 6), "lat": round(lat, 6), "crs": crs}

    @staticmethod
    def _person(rng: random.Random, role: str, resident: _Resident, full: bool = False) -> dict:
        person = {"role": role, "name": resident.name}
        if full or rng.random() < 0.8:
            person["id_number"] = resident.id_number
        if full or rng.random() < 0.7:
            person["phone"] = resident.phone
        return person

    def _grid_people(self, rng: random.Random, category: str, village_index: int):
        residents = self._residents[village_index]
        plates = self._plates[0]
        own_plates = plates[village_index * _VEHICLES_PER_VILLAGE:
                            (village_index + 1) * _VEHICLES_PER_VILLAGE]
        persons, vehicles = [], []
        if category == "public_order.suspicious_person":
            persons.append(self._person(rng, "suspect", rng.choice(residents))
                           if rng.random() < 0.5 else {"role": "suspect"})
        elif category == "public_order.suspicious_vehicle":
            vehicles.append({"role": "suspect", "plate": plates[_pick(rng, self._plates[1])]})
        elif category == "public_order.petty_theft":
            persons.append(self._person(rng, "victim", rng.choice(residents)))
            if rng.random() < 0.3:
                persons.append(self._person(rng, "suspect", rng.choice(residents)))
        elif category == "public_order.fight":
            for resident in rng.sample(residents, rng.randint(2, 3)):
                persons.append(self._person(rng, "party", resident))
            if rng.random() < 0.3:
                persons.append(self._person(rng, "witness", rng.choice(residents)))
        elif category == "environment.cult_leaflet":
            if rng.random() < 0.2:
                persons.append(self._person(rng, "suspect", rng.choice(residents)))
        elif category == "environment.illegal_dumping":
            if rng.random() < 0.3:
                persons.append(self._person(rng, "suspect", rng.choice(residents)))
            if rng.random() < 0.3:
                vehicles.append({"role": "involved", "plate": rng.choice(own_plates)})
        elif category == "environment.burning":
            if rng.random() < 0.6:
                persons.append(self._person(rng, "party", rng.choice(residents)))
        elif category == "construction.illegal_construction":
            if rng.random() < 0.9:
                persons.append(self._person(rng, "party", rng.choice(residents)))
        return persons, vehicles

    def _names(self, village_index: int) -> tuple[str, str]:
        village = self.district.villages[village_index]
        return self.district.town(village.town_code).name, village.name

    def _grid_event(self, rng, category, village_index, lon, lat, persons=None, vehicles=None):
        if persons is None:
            persons, vehicles = self._grid_people(rng, category, village_index)
        town, village = self._names(village_index)
        staff = village_index * _GRID_STAFF_PER_VILLAGE + rng.randrange(_GRID_STAFF_PER_VILLAGE)
        return {
            "category": category,
            "location": self._location("grid", lon, lat),
            "persons": persons,
            "vehicles": vehicles,
            "attributes": {"reporter_id": f"G{staff + 1:04d}",
                           "description": grid_description(rng, category, town, village)},
        }

    def _hotline_event(self, rng, category, village_index, lon, lat):
        resident = rng.choice(self._residents[village_index])
        caller = {"role": "caller", "phone": resident.phone}
        if rng.random() < 0.5:
            caller["name"] = resident.name
        town, village = self._names(village_index)
        return {
            "category": category,
            "location": self._location("hotline", lon, lat),
            "persons": [caller],
            "vehicles": [],
            "attributes": {"text": hotline_message(rng, category, town, village)},
        }

    def _video_event(self, rng, category, site: Site, plate: str | None = None):
        if category == "video.plate_read":
            lane = rng.randint(1, site.lanes)
            if plate is None:
                plate = self._plates[0][_pick(rng, self._plates[1])]
            attributes = {"device_id": f"{site.site_id}-L{lane}", "site_id": site.site_id,
                          "device_kind": "lpr", "lane": lane,
                          "confidence": round(rng.uniform(0.80, 0.999), 3)}
            vehicles = [{"role": "observed", "plate": plate}]
        else:
            attributes = {"device_id": f"{site.site_id}-V1", "site_id": site.site_id,
                          "device_kind": "camera"}
            vehicles = []
        return {
            "category": category,
            "location": {"lon": round(site.lon, 6), "lat": round(site.lat, 6), "crs": "WGS84"},
            "persons": [],
            "vehicles": vehicles,
            "attributes": attributes,
        }

    def _background_event(self, rng, source: str, category: str) -> dict:
        index = _pick(rng, self._samplers[category])
        if source == "video":
            return self._video_event(rng, category, self._site_weights[category][0][index])
        lon, lat = self._point_near(rng, index)
        if source == "grid":
            return self._grid_event(rng, category, index, lon, lat)
        return self._hotline_event(rng, category, index, lon, lat)

    def _nearest_village(self, x: float, y: float) -> int:
        return min(range(len(self._village_xy)),
                   key=lambda i: (self._village_xy[i][0] - x) ** 2 + (self._village_xy[i][1] - y) ** 2)

    def _surge_event(self, rng, surge: Surge) -> dict | None:
        source = self._source_of(surge.category)
        grid = self.district.grid
        if source == "video":
            sites, weights = self._site_weights[surge.category]
            in_cell = [(s, w) for s, w in zip(sites, weights)
                       if grid.cell_of(s.lon, s.lat) == surge.cell_id]
            if not in_cell:
                return None
            site = in_cell[_pick(rng, _cumulative(w for _, w in in_cell))][0]
            return self._video_event(rng, surge.category, site)
        x0, y0, x1, y1 = grid.bounds_m(surge.cell_id)
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        lon, lat = grid.from_metres(x, y)
        index = self._nearest_village(x, y)
        if source == "grid":
            return self._grid_event(rng, surge.category, index, lon, lat)
        return self._hotline_event(rng, surge.category, index, lon, lat)

    def _ring_episode(self, rng, ring_index: int, t: int) -> list[tuple[int, str, dict]]:
        """The events of one ring outing: a convoy past an LPR site, maybe an incident."""
        ring, home, sites = self._rings[ring_index]
        events = []
        site = rng.choice(sites)
        when = t
        for plate in ring.plates:
            events.append((when, "video", self._video_event(rng, "video.plate_read", site, plate)))
            when += rng.randint(20, 150)
        if rng.random() < _RING_INCIDENT_PROBABILITY:
            by_id = {r.id_number: r for r in self._residents[home]}
            persons = [self._person(rng, "suspect", by_id[pid], full=True)
                       for pid in ring.person_ids]
            vehicles = [{"role": "suspect", "plate": p} for p in ring.plates]
            category = rng.choice(_RING_CATEGORIES)
            lon, lat = self._point_near(rng, home)
            events.append((t + rng.randint(300, 1800), "grid",
                           self._grid_event(rng, category, home, lon, lat, persons, vehicles)))
        return events

    # ------------------------------------------------------------ the stream

    def records(self, start: datetime, duration: timedelta) -> Iterator[SimulatedRecord]:
        """Yield the records of events occurring in ``[start, start + duration)``.

        Records come in report-time order (ties in generation order); times
        are whole seconds.  Event ids are ``"{source}-{yyyymmdd}-{n:06d}"``
        (``"{source}-{run_id}-{yyyymmdd}-{n:06d}"`` with a ``run_id``), the
        date being the event's local date and ``n`` counting each channel's
        records in stream order from 1; the record key is the event id.

        Raises
        ------
        ValueError
            If ``start`` is naive, ``duration`` is negative, or a parameter of
            the simulator is invalid.
        """
        start_s = _epoch_s(start, "start")
        if not isinstance(duration, timedelta) or duration < timedelta(0):
            raise ValueError(f"duration={duration!r} must be a timedelta >= 0")
        self._validate()  # now, not at the first next()
        return self._stream(start_s, start_s + math.floor(duration.total_seconds()))

    def _stream(self, start_s: int, end_s: int) -> Iterator[SimulatedRecord]:
        emitter = _Emitter(self)
        pending: list = []
        sequence = 0

        def push(event_s: int, source: str, payload: dict, delay_rng: random.Random):
            nonlocal sequence
            if start_s <= event_s < end_s:
                lo, hi = _REPORT_DELAY_S[source]
                sequence += 1
                heapq.heappush(pending, (event_s + delay_rng.randint(lo, hi), sequence,
                                         event_s, source, payload))

        background = {s: self._rng(f"background:{s}") for s in SOURCES}
        surge_rngs = [self._rng(f"surge:{i}") for i in range(len(self._surges))]
        ring_rngs = [self._rng(f"ring:{i}") for i in range(len(self._rings))]
        category_lists = {s: sorted(CATEGORIES_BY_SOURCE[s]) for s in SOURCES}
        category_cums = {s: _cumulative(self._category_rates[c] for c in category_lists[s])
                         for s in SOURCES}

        hour_start = start_s - (start_s % 3600)
        while hour_start < end_s:
            lo, hi = max(hour_start, start_s), min(hour_start + 3600, end_s)
            hour, weekday = _local_hour_weekday(hour_start)
            for source in SOURCES:
                hours, days = self._profiles[source]
                rate_s = self.events_per_hour * self._mix[source] * hours[hour] * days[weekday] / 3600
                rng = background[source]
                for t in _arrivals(rng, lo, hi, rate_s):
                    category = category_lists[source][_pick(rng, category_cums[source])]
                    push(t, source, self._background_event(rng, source, category), rng)
            for (surge, s0, s1), rng in zip(self._surges, surge_rngs):
                a, b = max(lo, s0), min(hi, s1)
                if a >= b:
                    continue
                source = self._source_of(surge.category)
                hours, days = self._profiles[source]
                rate_s = ((surge.multiplier - 1) * self.base_rate(surge.cell_id, surge.category)
                          * hours[hour] * days[weekday] / 3600)
                for t in _arrivals(rng, a, b, rate_s):
                    payload = self._surge_event(rng, surge)
                    if payload is not None:
                        push(t, source, payload, rng)
            hours, days = self._profiles["grid"]
            ring_rate_s = _RING_EPISODES_PER_DAY / 86400 * hours[hour] * days[weekday]
            for r, rng in enumerate(ring_rngs):
                for t in _arrivals(rng, lo, hi, ring_rate_s):
                    for event_s, source, payload in self._ring_episode(rng, r, t):
                        push(event_s, source, payload, rng)
            # Everything generated later happens at or after `hi`, and is
            # reported no earlier, so what is reported before `hi` is final.
            while pending and pending[0][0] < hi:
                yield emitter.emit(*heapq.heappop(pending))
            hour_start += 3600
        while pending:
            yield emitter.emit(*heapq.heappop(pending))


def _arrivals(rng: random.Random, lo: int, hi: int, rate_per_s: float) -> Iterator[int]:
    """Whole-second arrival times of a Poisson process of constant rate in [lo, hi)."""
    if rate_per_s <= 0:
        return
    t = float(lo)
    while True:
        t += rng.expovariate(rate_per_s)
        if t >= hi:
            return
        yield int(t)


class _Emitter:
    """Numbers, corrupts and serializes events in stream order."""

    def __init__(self, simulator: DistrictSimulator):
        self._clock = _Clock()
        self._counters = {s: 0 for s in SOURCES}
        self._tickets: dict[str, int] = {}
        fraction = Fraction(simulator.malformed_fraction).limit_denominator(1_000_000)
        self._num, self._den = fraction.numerator, fraction.denominator
        self._emitted = 0
        self._malformed = 0
        self._variants = {kind: 0 for kind in MALFORMED_KINDS}
        self._rng = simulator._rng("malformed")
        self._prefix = {s: f"{s}-{simulator.run_id}-" if simulator.run_id else f"{s}-"
                        for s in SOURCES}

    def emit(self, report_s: int, _sequence: int, event_s: int, source: str,
             payload: dict) -> SimulatedRecord:
        clock = self._clock
        self._counters[source] += 1
        day_iso, day_compact = clock.day(event_s)
        event_id = f"{self._prefix[source]}{day_compact}-{self._counters[source]:06d}"
        attributes = payload["attributes"]
        if source == "hotline":
            n = self._tickets[day_compact] = self._tickets.get(day_compact, 0) + 1
            attributes = {"ticket_no": f"12345-{day_compact}-{n:04d}", **attributes}
        envelope = {
            "schema_version": SCHEMA_VERSION,
            "event_id": event_id,
            "source": source,
            "category": payload["category"],
            "event_time": clock.iso(event_s),
            "report_time": clock.iso(report_s),
            "location": payload["location"],
            "persons": payload["persons"],
            "vehicles": payload["vehicles"],
            "attributes": attributes,
        }
        self._emitted += 1
        kind = None
        # Exactly floor(n * fraction) of the first n records are malformed.
        if (self._emitted * self._num) // self._den > ((self._emitted - 1) * self._num) // self._den:
            kind = MALFORMED_KINDS[self._malformed % len(MALFORMED_KINDS)]
            self._malformed += 1
            value, event_s = self._corrupt(kind, envelope, source, report_s, event_s)
        else:
            value = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
        return SimulatedRecord(source, event_id, value, event_s * 1000, report_s * 1000, kind)

    def _corrupt(self, kind: str, envelope: dict, source: str, report_s: int,
                 event_s: int) -> tuple[str, int]:
        """Return the value with exactly one defect of ``kind``, and its event time."""
        variant = self._variants[kind]
        self._variants[kind] += 1
        rng = self._rng
        if kind == "invalid_json":
            text = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
            if variant % 3 == 0:  # truncated in transit
                return text[:rng.randint(1, len(text) - 1)], event_s
            if variant % 3 == 1:  # written by hand with single quotes
                return text.replace('"', "'"), event_s
            return text + "}", event_s  # trailing garbage
        envelope = dict(envelope)
        if kind == "missing_field":
            del envelope[("event_id", "category", "event_time", "location")[variant % 4]]
        elif kind == "wrong_type":
            if variant % 3 == 0:
                envelope["location"] = {**envelope["location"],
                                        "lon": str(envelope["location"]["lon"])}
            elif variant % 3 == 1:
                envelope["schema_version"] = str(SCHEMA_VERSION)
            else:
                envelope["persons"] = {"items": envelope["persons"]}
        elif kind == "outside_district":
            lon = _SHANGHAI[0] + rng.uniform(-0.05, 0.05)
            lat = _SHANGHAI[1] + rng.uniform(-0.05, 0.05)
            crs = CRS_BY_SOURCE[source]
            if crs == "GCJ02":
                lon, lat = wgs84_to_gcj02(lon, lat)
            elif crs == "BD09":
                lon, lat = wgs84_to_bd09(lon, lat)
            envelope["location"] = {"lon": round(lon, 6), "lat": round(lat, 6), "crs": crs}
        elif kind == "unknown_category":
            envelope["category"] = UNKNOWN_CATEGORY_BY_SOURCE[source]
        elif kind == "future_timestamp":
            event_s = report_s + 2 * 86400 + rng.randint(0, 86400)
            envelope["event_time"] = self._clock.iso(event_s)
        return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")), event_s
