"""The district model: towns, villages, sites, the cell grid and jurisdictions.

A district (区) is divided into towns and streets (镇街/地区), each made of
villages (村) or communities (社区).  Events are attached to two spatial
keys that stream and batch jobs must compute identically:

* a square **cell** of a fixed size on a local projection, the unit of
  hotspot detection (:class:`CellGrid`);
* the **jurisdiction** chain village → town → district, taken from the
  nearest village centre (:meth:`District.locate`), which decides which
  governance center receives an alert.

The model is synthetic but deterministic: :func:`build_district` places
villages and sites around the approximate town centroids of
``shared/data/miyun_towns.csv`` from a seed.  Reading that file is the
caller's job; this module does no I/O.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

__all__ = [
    "EARTH_RADIUS_M",
    "TOWN_KINDS",
    "VILLAGE_KINDS",
    "SITE_KINDS",
    "Town",
    "Village",
    "Jurisdiction",
    "Site",
    "CellGrid",
    "District",
    "build_district",
]

#: Mean Earth radius (IUGG), metres; used by the local projections below.
EARTH_RADIUS_M = 6_371_008.8
_METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180.0

#: Kinds of town-level units, with the relative activity the model gives
#: them (urban streets are busier than rural towns).
TOWN_KINDS = ("街道", "地区", "镇")
_TOWN_WEIGHT = {"街道": 2.0, "地区": 1.5, "镇": 1.0}

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

# The Miyun towns that get the special sites; a district without them
# simply has none.
_RAILWAY_TOWN = "古北口镇"
_RESERVOIR_TOWNS = ("溪翁庄镇", "不老屯镇", "高岭镇", "太师屯镇")
_RESERVOIR_CENTRE = (116.95, 40.52)  # approximate centre of 密云水库
_SITES_PER_RESERVOIR_TOWN = 2

_CELL_ID = re.compile(r"r(\d{3,})c(\d{3,})")


# ---------------------------------------------------------------- records


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


# ---------------------------------------------------------------- cells


@dataclass(frozen=True)
class CellGrid:
    """Square cells of ``size_m`` metres north-east of an origin.

    Positions are projected with a local equirectangular projection around
    the origin latitude (x = Δlon·R·cos φ₀, y = Δlat·R, R = 6 371 008.8 m);
    over a district the distortion is well under one percent.  Rows grow
    northwards and columns eastwards; a cell id is ``"r{row:03d}c{col:03d}"``.

    Examples
    --------
    >>> grid = CellGrid(origin_lon=116.55, origin_lat=40.15, size_m=1000.0)
    >>> grid.cell_of(116.56, 40.16)
    'r001c000'
    >>> grid.cell_of(*grid.center_of("r012c034"))
    'r012c034'
    >>> grid.neighbours("r001c001")
    ['r000c000', 'r000c001', 'r000c002', 'r001c000', 'r001c002', 'r002c000', 'r002c001', 'r002c002']
    """

    origin_lon: float
    origin_lat: float
    size_m: float

    @cached_property
    def _metres_per_degree_lon(self) -> float:
        return _METRES_PER_DEGREE * math.cos(math.radians(self.origin_lat))

    def to_metres(self, lon: float, lat: float) -> tuple[float, float]:
        """Return ``(x, y)``, metres east and north of the origin."""
        return (
            (lon - self.origin_lon) * self._metres_per_degree_lon,
            (lat - self.origin_lat) * _METRES_PER_DEGREE,
        )

    def from_metres(self, x: float, y: float) -> tuple[float, float]:
        """Return ``(lon, lat)`` of the point ``x`` m east, ``y`` m north of the origin."""
        return (
            self.origin_lon + x / self._metres_per_degree_lon,
            self.origin_lat + y / _METRES_PER_DEGREE,
        )

    def cell_of(self, lon: float, lat: float) -> str:
        """Return the id of the cell containing ``(lon, lat)``.

        Raises
        ------
        ValueError
            If the point lies south or west of the origin (or is not finite).
        """
        x = (lon - self.origin_lon) * self._metres_per_degree_lon
        y = (lat - self.origin_lat) * _METRES_PER_DEGREE
        if not (0.0 <= x < math.inf and 0.0 <= y < math.inf):
            raise ValueError(
                f"point (lon={lon!r}, lat={lat!r}) has no cell: cells exist only "
                f"north-east of the grid origin (lon={self.origin_lon}, "
                f"lat={self.origin_lat})"
            )
        return f"r{int(y // self.size_m):03d}c{int(x // self.size_m):03d}"

    def row_col(self, cell_id: str) -> tuple[int, int]:
        """Return ``(row, col)`` of a cell id.

        Raises
        ------
        ValueError
            If ``cell_id`` is not of the form ``r012c034``.
        """
        match = _CELL_ID.fullmatch(cell_id) if isinstance(cell_id, str) else None
        if match is None:
            raise ValueError(
                f"cell_id={cell_id!r} is malformed; expected 'r<row>c<col>' with "
                "at least three digits each, e.g. 'r012c034'"
            )
        return int(match.group(1)), int(match.group(2))

    def center_of(self, cell_id: str) -> tuple[float, float]:
        """Return ``(lon, lat)`` of the centre of a cell.

        Raises
        ------
        ValueError
            If ``cell_id`` is malformed.
        """
        row, col = self.row_col(cell_id)
        return self.from_metres((col + 0.5) * self.size_m, (row + 0.5) * self.size_m)

    def bounds_m(self, cell_id: str) -> tuple[float, float, float, float]:
        """Return ``(x_min, y_min, x_max, y_max)`` of a cell in projected metres."""
        row, col = self.row_col(cell_id)
        s = self.size_m
        return col * s, row * s, (col + 1) * s, (row + 1) * s

    def neighbours(self, cell_id: str, radius: int = 1) -> list[str]:
        """Return the cells within ``radius`` rows and columns, excluding the cell.

        There are ``(2·radius + 1)² − 1`` of them, fewer along the south and
        west edges of the grid where rows or columns would be negative.  The
        list is sorted.

        Raises
        ------
        ValueError
            If ``cell_id`` is malformed or ``radius`` is negative.
        """
        if not isinstance(radius, int) or radius < 0:
            raise ValueError(f"radius={radius!r} must be an integer >= 0")
        row, col = self.row_col(cell_id)
        return sorted(
            f"r{r:03d}c{c:03d}"
            for r in range(max(row - radius, 0), row + radius + 1)
            for c in range(max(col - radius, 0), col + radius + 1)
            if (r, c) != (row, col)
        )


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
        self._kx0 = _METRES_PER_DEGREE * math.cos(math.radians(grid.origin_lat))
        self._max_d2 = max_distance_m * max_distance_m
        # A point within reach of a village may look farther in the origin
        # projection by the ratio of the east-west scales; widen the buckets
        # by the largest such ratio.
        stretch = max([1.0] + [self._kx0 / _kx(v.lat) for v in villages])
        self._bucket_m = max(max_distance_m * stretch * (1 + 1e-9), 1e-6)
        buckets: dict[tuple[int, int], list] = {}
        for village, jurisdiction in zip(villages, jurisdictions):
            entry = (village.lon, village.lat, _kx(village.lat), jurisdiction)
            bx, by = self._bucket(village.lon, village.lat)
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    buckets.setdefault((bx + dx, by + dy), []).append(entry)
        self._buckets = {key: tuple(entries) for key, entries in buckets.items()}

    def _bucket(self, lon: float, lat: float) -> tuple[int, int]:
        return (
            math.floor((lon - self._lon0) * self._kx0 / self._bucket_m),
            math.floor((lat - self._lat0) * _METRES_PER_DEGREE / self._bucket_m),
        )

    def locate(self, lon: float, lat: float):
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            return None
        candidates = self._buckets.get(self._bucket(lon, lat))
        if candidates is None:
            return None
        best, found = math.inf, None
        ky = _METRES_PER_DEGREE
        for vlon, vlat, kx, jurisdiction in candidates:
            dx = (lon - vlon) * kx
            dy = (lat - vlat) * ky
            d2 = dx * dx + dy * dy
            if d2 < best:
                best, found = d2, jurisdiction
        return found if best <= self._max_d2 else None


def _kx(lat: float) -> float:
    return _METRES_PER_DEGREE * math.cos(math.radians(lat))


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


# ---------------------------------------------------------------- building

# Syllables for plausible village and community names.
_SURNAMES = (
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "赵",
    "黄",
    "周",
    "吴",
    "孙",
    "马",
    "胡",
    "朱",
    "郭",
    "何",
    "高",
    "林",
    "罗",
    "郑",
    "梁",
    "谢",
    "宋",
    "唐",
    "许",
    "韩",
    "冯",
    "邓",
    "曹",
    "彭",
    "曾",
    "田",
    "董",
    "袁",
    "潘",
    "蒋",
    "蔡",
    "杜",
    "程",
    "苏",
    "魏",
    "吕",
    "丁",
    "沈",
    "姚",
    "卢",
    "崔",
    "钟",
    "石",
    "贾",
    "白",
    "孟",
    "秦",
    "史",
    "侯",
    "邵",
    "穆",
    "庞",
    "葛",
    "阎",
)
_VILLAGE_FEATURES = (
    "庄",
    "峪",
    "沟",
    "台",
    "营",
    "店",
    "屯",
    "寨",
    "坨",
    "岭",
    "楼",
    "甸",
    "窑",
    "湾",
    "河",
    "村",
)
_VILLAGE_LINKS = ("家", "各")
_DIRECTIONS = ("东", "西", "南", "北", "前", "后", "上", "下", "大", "小")
_COMMUNITY_ROOTS = (
    "东关",
    "西关",
    "南关",
    "北关",
    "新东",
    "新西",
    "鼓楼",
    "果园",
    "檀州",
    "滨河",
    "云湖",
    "花园",
    "长安",
    "季庄",
    "宾阳",
    "康居",
    "阳光",
    "沿湖",
    "白檀",
    "新华",
    "育才",
    "兴云",
    "明珠",
    "塔南",
    "瑞和",
    "上河",
    "丽苑",
    "清水",
    "绿荫",
    "朝阳",
    "新北",
    "府前",
)
_COMMUNITY_SUFFIXES = ("", "里", "苑", "园", "北区", "南区", "家园")

_CAMERA_PLACES = ("村口", "路口", "广场", "主街", "桥头", "停车场", "商店门前", "卫生室")
_COMPASS = ("东", "东北", "北", "西北", "西", "西南", "南", "东南")
_FUEL_BRANDS = ("中国石化", "中国石油", "中化石油")
_SCHOOL_NAMES = ("中心小学", "中学", "第二小学")


def _village_name(rng: random.Random, kind: str) -> str:
    if kind == "社区":
        return rng.choice(_COMMUNITY_ROOTS) + rng.choice(_COMMUNITY_SUFFIXES) + "社区"
    if rng.random() < 0.6:
        root = rng.choice(_SURNAMES) + rng.choice(_VILLAGE_LINKS) + rng.choice(_VILLAGE_FEATURES)
    else:
        root = rng.choice(_DIRECTIONS) + rng.choice(_SURNAMES) + rng.choice(_VILLAGE_FEATURES)
    return root if root.endswith("村") else root + "村"


def _offset(lon: float, lat: float, distance_m: float, bearing: float) -> tuple[float, float]:
    """Point ``distance_m`` from ``(lon, lat)``; bearing in radians from east, anticlockwise."""
    return (
        round(lon + distance_m * math.cos(bearing) / _kx(lat), 6),
        round(lat + distance_m * math.sin(bearing) / _METRES_PER_DEGREE, 6),
    )


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    # Exact arithmetic: equal weights must get equal quotas, ties broken by order.
    exact = [Fraction(w) for w in weights]
    quotas = [total * w / sum(exact) for w in exact]
    counts = [int(q) for q in quotas]
    by_remainder = sorted(range(len(weights)), key=lambda i: (counts[i] - quotas[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _compass(bearing: float) -> str:
    return _COMPASS[int(round(bearing / (math.pi / 4))) % 8]


def _parse_town_rows(
    town_rows: Iterable[Mapping[str, object]],
) -> list[tuple[str, str, float, float]]:
    parsed = []
    for i, row in enumerate(town_rows):
        missing = [k for k in ("name", "kind", "approx_lat", "approx_lon") if k not in row]
        if missing:
            raise ValueError(
                f"town row {i} ({dict(row)!r}) lacks {', '.join(missing)}; required: "
                "name, kind, approx_lat, approx_lon"
            )
        kind = str(row["kind"])
        if kind not in TOWN_KINDS:
            raise ValueError(f"town row {i}: kind={kind!r} is not one of: " + ", ".join(TOWN_KINDS))
        try:
            lat, lon = float(row["approx_lat"]), float(row["approx_lon"])
        except (TypeError, ValueError):
            raise ValueError(
                f"town row {i}: approx_lat={row['approx_lat']!r}, approx_lon="
                f"{row['approx_lon']!r} must be decimal degrees"
            ) from None
        parsed.append((str(row["name"]), kind, lon, lat))
    if not parsed:
        raise ValueError("town_rows is empty; a district needs at least one town")
    return parsed


def build_district(
    town_rows: Iterable[Mapping[str, object]],
    *,
    code: str,
    name: str,
    seed: int,
    villages_per_town: int,
    cell_size_m: float,
    origin_lon: float,
    origin_lat: float,
    max_village_distance_m: float,
    n_cameras: int = 200,
    n_lpr_sites: int = 75,
    n_gas_stations: int = 39,
) -> District:
    """Build a deterministic synthetic district around given town centres.

    Parameters
    ----------
    town_rows : iterable of mapping
        One mapping per town with keys ``name``, ``kind`` (街道, 地区 or 镇),
        ``approx_lat`` and ``approx_lon`` (numbers or numeric strings, as
        read from ``miyun_towns.csv``); other keys are ignored.
    code, name : str
        District code (e.g. ``"110118"``) and name (e.g. ``"密云区"``).  Town
        ``i`` (0-based, in row order) gets code ``code + f"{i+1:03d}"`` and
        its village ``j`` gets ``town_code + f"{j+1:03d}"``.
    seed : int
        Seed of the private random generator; the same seed and rows give an
        equal district.
    villages_per_town : int
        Villages per town.  Streets (街道) get communities (社区) 0.3–1.5 km
        from the centre, towns (镇) get villages (村) 1–4 km out, areas (地区)
        alternate the two.
    cell_size_m, origin_lon, origin_lat : float
        The cell grid (origin = south-west corner, WGS-84).
    max_village_distance_m : float
        Points farther than this from every village centre are outside.
    n_cameras, n_lpr_sites, n_gas_stations : int
        District totals, split over towns in proportion to the town weights
        (街道 2, 地区 1.5, 镇 1).  Each LPR site has 2–4 lanes.  Every town
        also gets schools (two in a 街道, else one) and a market; 古北口镇
        gets a railway site and the four reservoir towns get two shore sites
        each.

    Returns
    -------
    District

    Raises
    ------
    ValueError
        On an empty or malformed town row, or a non-positive size.

    Examples
    --------
    >>> rows = [{"name": "鼓楼街道", "kind": "街道", "approx_lat": "40.376", "approx_lon": "116.845"}]
    >>> d = build_district(rows, code="110118", name="密云区", seed=1, villages_per_town=2,
    ...                    cell_size_m=1000, origin_lon=116.55, origin_lat=40.15,
    ...                    max_village_distance_m=9000, n_cameras=3, n_lpr_sites=1, n_gas_stations=1)
    >>> [v.code for v in d.villages], [v.kind for v in d.villages]
    (['110118001001', '110118001002'], ['社区', '社区'])
    >>> d.locate(d.villages[1].lon, d.villages[1].lat).village_code
    '110118001002'
    >>> d.locate(121.47, 31.23) is None
    True
    """
    if not isinstance(villages_per_town, int) or not 1 <= villages_per_town <= 999:
        raise ValueError(f"villages_per_town={villages_per_town!r} must be an integer in 1..999")
    for label, value in (
        ("cell_size_m", cell_size_m),
        ("max_village_distance_m", max_village_distance_m),
    ):
        if not value > 0:
            raise ValueError(f"{label}={value!r} must be > 0")
    for label, value in (
        ("n_cameras", n_cameras),
        ("n_lpr_sites", n_lpr_sites),
        ("n_gas_stations", n_gas_stations),
    ):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{label}={value!r} must be an integer >= 0")
    parsed = _parse_town_rows(town_rows)
    rng = random.Random(seed)

    towns = tuple(
        Town(f"{code}{i + 1:03d}", town_name, kind, lon, lat)
        for i, (town_name, kind, lon, lat) in enumerate(parsed)
    )

    villages: list[Village] = []
    used_names: set[str] = set()
    for town in towns:
        start = rng.uniform(0.0, 2 * math.pi)
        step = 2 * math.pi / villages_per_town
        for j in range(villages_per_town):
            if town.kind == "街道" or (town.kind == "地区" and j % 2 == 0):
                kind, distance = "社区", rng.uniform(300.0, 1500.0)
            else:
                kind, distance = "村", rng.uniform(1000.0, 4000.0)
            bearing = start + j * step + rng.uniform(-0.3, 0.3) * step
            for _ in range(1000):
                village_name = _village_name(rng, kind)
                if village_name not in used_names:
                    break
            else:  # pragma: no cover - the name pools hold thousands of names
                raise ValueError(f"ran out of distinct {kind} names")
            used_names.add(village_name)
            lon, lat = _offset(town.lon, town.lat, distance, bearing)
            villages.append(
                Village(f"{town.code}{j + 1:03d}", village_name, town.code, lon, lat, kind)
            )

    weights = [_TOWN_WEIGHT[t.kind] for t in towns]
    cameras = _apportion(n_cameras, weights)
    lprs = _apportion(n_lpr_sites, weights)
    stations = _apportion(n_gas_stations, weights)
    sites: list[Site] = []
    for t_index, town in enumerate(towns):
        own_villages = villages[t_index * villages_per_town : (t_index + 1) * villages_per_town]
        for k in range(cameras[t_index]):
            village = own_villages[k % len(own_villages)]
            lon, lat = _offset(
                village.lon, village.lat, rng.uniform(30.0, 500.0), rng.uniform(0.0, 2 * math.pi)
            )
            sites.append(
                Site(
                    f"CAM-{town.code}-{k + 1:03d}",
                    "camera",
                    f"{village.name}{rng.choice(_CAMERA_PLACES)}监控点",
                    lon,
                    lat,
                    town.code,
                )
            )
        start = rng.uniform(0.0, 2 * math.pi)
        for k in range(lprs[t_index]):
            bearing = (start + k * 2 * math.pi / lprs[t_index] + rng.uniform(-0.3, 0.3)) % (
                2 * math.pi
            )
            lon, lat = _offset(town.lon, town.lat, rng.uniform(1500.0, 3500.0), bearing)
            sites.append(
                Site(
                    f"LPR-{town.code}-{k + 1:03d}",
                    "lpr",
                    f"{town.name}{_compass(bearing)}向卡口{k + 1}号",
                    lon,
                    lat,
                    town.code,
                    lanes=rng.randint(2, 4),
                )
            )
        for k in range(stations[t_index]):
            lon, lat = _offset(
                town.lon, town.lat, rng.uniform(500.0, 3000.0), rng.uniform(0.0, 2 * math.pi)
            )
            sites.append(
                Site(
                    f"GAS-{town.code}-{k + 1:03d}",
                    "gas_station",
                    f"{rng.choice(_FUEL_BRANDS)}{town.name}第{k + 1}加油站",
                    lon,
                    lat,
                    town.code,
                )
            )
        for k in range(2 if town.kind == "街道" else 1):
            lon, lat = _offset(
                town.lon, town.lat, rng.uniform(200.0, 1200.0), rng.uniform(0.0, 2 * math.pi)
            )
            sites.append(
                Site(
                    f"SCH-{town.code}-{k + 1:03d}",
                    "school",
                    f"{town.name}{_SCHOOL_NAMES[k]}",
                    lon,
                    lat,
                    town.code,
                )
            )
        lon, lat = _offset(
            town.lon, town.lat, rng.uniform(100.0, 800.0), rng.uniform(0.0, 2 * math.pi)
        )
        sites.append(
            Site(f"MKT-{town.code}-001", "market", f"{town.name}农贸市场", lon, lat, town.code)
        )
        if town.name == _RAILWAY_TOWN:
            lon, lat = _offset(
                town.lon, town.lat, rng.uniform(500.0, 1500.0), rng.uniform(0.0, 2 * math.pi)
            )
            sites.append(Site(f"RLY-{town.code}-001", "railway", "古北口站", lon, lat, town.code))
        if town.name in _RESERVOIR_TOWNS:
            toward = math.atan2(
                (_RESERVOIR_CENTRE[1] - town.lat) * _METRES_PER_DEGREE,
                (_RESERVOIR_CENTRE[0] - town.lon) * _kx(town.lat),
            )
            for k in range(_SITES_PER_RESERVOIR_TOWN):
                lon, lat = _offset(
                    town.lon, town.lat, rng.uniform(2000.0, 4000.0), toward + rng.uniform(-0.5, 0.5)
                )
                sites.append(
                    Site(
                        f"RSV-{town.code}-{k + 1:03d}",
                        "reservoir_shore",
                        f"密云水库{town.name}岸段{k + 1}号点位",
                        lon,
                        lat,
                        town.code,
                    )
                )

    return District(
        code=code,
        name=name,
        towns=towns,
        villages=tuple(villages),
        sites=tuple(sites),
        grid=CellGrid(float(origin_lon), float(origin_lat), float(cell_size_m)),
        max_village_distance_m=float(max_village_distance_m),
    )
