"""The district model: towns, villages, sites and their jurisdictions.

A district (区) is divided into towns and streets (镇街/地区), each made of
villages (村) or communities (社区).  The **jurisdiction** chain village →
town → district of an event is taken from the nearest village centre
(:meth:`District.locate`) and decides which governance center receives an
alert.  The records here are plain frozen dataclasses; build a district with
:func:`features.district_builder.build_district`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

from features.cell_grid import CellGrid
from features.local_projection import METRES_PER_DEGREE, metres_per_degree_lon

__all__ = [
    "TOWN_KINDS",
    "VILLAGE_KINDS",
    "SITE_KINDS",
    "Town",
    "Village",
    "Jurisdiction",
    "Site",
    "District",
]

#: Kinds of town-level units (the district builder gives each a relative
#: activity: urban streets are busier than rural towns).
TOWN_KINDS = ("街道", "地区", "镇")

#: Kinds of village-level units.
VILLAGE_KINDS = ("村", "社区")

#: Kinds of fixed sites; video devices sit at ``camera`` and ``lpr`` sites.
SITE_KINDS = (
    "camera",
    "lpr",
    "gas_station",
    "school",
    "market",
    "railway",
    "reservoir_shore",
)


@dataclass(frozen=True)
class Town:
    """A town, street or area (镇/街道/地区) with its approximate centre (WGS-84)."""

    code: str
    name: str
    kind: str
    lon: float
    lat: float


@dataclass(frozen=True)
class Village:
    """A village (村) or community (社区) with its centre (WGS-84)."""

    code: str
    name: str
    town_code: str
    lon: float
    lat: float
    kind: str


@dataclass(frozen=True)
class Jurisdiction:
    """The chain village → town → district that owns a location."""

    district_code: str
    district_name: str
    town_code: str
    town_name: str
    village_code: str
    village_name: str


@dataclass(frozen=True)
class Site:
    """A fixed place: a video device site, a gas station, a school, ...

    ``lanes`` is the number of monitored lanes of a license-plate-recognition
    (``lpr``) site and 0 for every other kind.
    """

    site_id: str
    kind: str
    name: str
    lon: float
    lat: float
    town_code: str
    lanes: int = 0


# ---------------------------------------------------------------- district


class _VillageLocator:
    """Nearest-village lookup over square buckets of side >= the reach.

    Every village is registered in the 3x3 buckets around its own, so the
    bucket of a query point holds every village that can be within reach;
    distances use each village's own east-west scale, so no trigonometry
    runs per query.
    """

    __slots__ = ("_lon0", "_lat0", "_kx0", "_bucket_m", "_max_d2", "_buckets")

    def __init__(self, villages, jurisdictions, grid: CellGrid, max_distance_m: float):
        self._lon0 = grid.origin_lon
        self._lat0 = grid.origin_lat
        self._kx0 = METRES_PER_DEGREE * math.cos(math.radians(grid.origin_lat))
        self._max_d2 = max_distance_m * max_distance_m
        # A point within reach of a village may look farther in the origin
        # projection by the ratio of the east-west scales; widen the buckets
        # by the largest such ratio.
        stretch = max([1.0] + [self._kx0 / metres_per_degree_lon(v.lat) for v in villages])
        self._bucket_m = max(max_distance_m * stretch * (1 + 1e-9), 1e-6)
        buckets: dict[tuple[int, int], list] = {}
        for village, jurisdiction in zip(villages, jurisdictions):
            entry = (village.lon, village.lat, metres_per_degree_lon(village.lat), jurisdiction)
            bx, by = self._bucket(village.lon, village.lat)
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    buckets.setdefault((bx + dx, by + dy), []).append(entry)
        self._buckets = {key: tuple(entries) for key, entries in buckets.items()}

    def _bucket(self, lon: float, lat: float) -> tuple[int, int]:
        return (
            math.floor((lon - self._lon0) * self._kx0 / self._bucket_m),
            math.floor((lat - self._lat0) * METRES_PER_DEGREE / self._bucket_m),
        )

    def locate(self, lon: float, lat: float):
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            return None
        candidates = self._buckets.get(self._bucket(lon, lat))
        if candidates is None:
            return None
        best, found = math.inf, None
        ky = METRES_PER_DEGREE
        for vlon, vlat, kx, jurisdiction in candidates:
            dx = (lon - vlon) * kx
            dy = (lat - vlat) * ky
            d2 = dx * dx + dy * dy
            if d2 < best:
                best, found = d2, jurisdiction
        return found if best <= self._max_d2 else None


@dataclass(frozen=True)
class District:
    """A district: its towns, villages, sites and cell grid.

    Build one with :func:`build_district`.  Lookup tables are built lazily on
    first use, never in the constructor.
    """

    code: str
    name: str
    towns: tuple[Town, ...]
    villages: tuple[Village, ...]
    sites: tuple[Site, ...]
    grid: CellGrid
    max_village_distance_m: float

    @cached_property
    def _towns_by_code(self) -> dict[str, Town]:
        return {t.code: t for t in self.towns}

    @cached_property
    def _villages_by_code(self) -> dict[str, Village]:
        return {v.code: v for v in self.villages}

    @cached_property
    def _jurisdictions(self) -> dict[str, Jurisdiction]:
        towns = self._towns_by_code
        return {
            v.code: Jurisdiction(
                self.code, self.name, v.town_code, towns[v.town_code].name, v.code, v.name
            )
            for v in self.villages
        }

    @cached_property
    def _locator(self) -> _VillageLocator:
        jurisdictions = self._jurisdictions
        return _VillageLocator(
            self.villages,
            [jurisdictions[v.code] for v in self.villages],
            self.grid,
            self.max_village_distance_m,
        )

    def town(self, code: str) -> Town:
        """Return the town with this code.

        Raises
        ------
        ValueError
            If no town has this code.
        """
        try:
            return self._towns_by_code[code]
        except (KeyError, TypeError):
            raise ValueError(
                f"town code={code!r} is not a town of {self.name}; allowed: "
                + ", ".join(t.code for t in self.towns)
            ) from None

    def village(self, code: str) -> Village:
        """Return the village with this code.

        Raises
        ------
        ValueError
            If no village has this code.
        """
        try:
            return self._villages_by_code[code]
        except (KeyError, TypeError):
            raise ValueError(
                f"village code={code!r} is not a village of {self.name}; allowed: "
                f"the {len(self.villages)} codes {self.villages[0].code} ... "
                f"{self.villages[-1].code} listed in District.villages"
                if self.villages
                else f"village code={code!r}: {self.name} has no villages"
            ) from None

    def jurisdiction_of(self, village_code: str) -> Jurisdiction:
        """Return the jurisdiction chain of a village."""
        self.village(village_code)
        return self._jurisdictions[village_code]

    def villages_of(self, town_code: str) -> tuple[Village, ...]:
        """Return the villages of a town, in code order."""
        self.town(town_code)
        return tuple(v for v in self.villages if v.town_code == town_code)

    def sites_of_kind(self, kind: str) -> tuple[Site, ...]:
        """Return the sites of one kind, in id order.

        Raises
        ------
        ValueError
            If ``kind`` is not one of :data:`SITE_KINDS`.
        """
        if kind not in SITE_KINDS:
            raise ValueError(f"site kind={kind!r} is not one of: " + ", ".join(SITE_KINDS))
        return tuple(s for s in self.sites if s.kind == kind)

    def locate(self, lon: float, lat: float) -> Jurisdiction | None:
        """Return the jurisdiction of the nearest village centre to a WGS-84 point.

        Distances are measured on a local equirectangular projection around
        each village.  Returns ``None`` when the nearest village is farther
        than ``max_village_distance_m`` (the point is outside the district)
        or the coordinates are not finite degrees.
        """
        return self._locator.locate(lon, lat)

    @cached_property
    def cells(self) -> tuple[str, ...]:
        """The cells whose centre lies in the district, sorted by id.

        This is the universe the hotspot statistics (Gi*, the scan) and the
        nightly baselines range over: a cell with no event is still a cell.
        """
        reach = self.max_village_distance_m + self.grid.size_m
        xs, ys = zip(*(self.grid.to_metres(v.lon, v.lat) for v in self.villages))
        size = self.grid.size_m
        row_lo, row_hi = max(int((min(ys) - reach) // size), 0), int((max(ys) + reach) // size)
        col_lo, col_hi = max(int((min(xs) - reach) // size), 0), int((max(xs) + reach) // size)
        found = []
        for row in range(row_lo, row_hi + 1):
            for col in range(col_lo, col_hi + 1):
                cell = f"r{row:03d}c{col:03d}"
                if self.locate(*self.grid.center_of(cell)) is not None:
                    found.append(cell)
        return tuple(found)
