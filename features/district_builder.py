"""The district builder: a deterministic synthetic district from town centres.

:func:`build_district` places villages and sites around the approximate town
centroids of ``shared/data/miyun_towns.csv`` from a seed.  Reading that file
is the caller's job; this module does no I/O.  Village placement lives here,
site placement in :mod:`features.site_placement` and the name pools in
:mod:`features.place_names`; all draw from one generator, in a fixed order.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping

from features.cell_grid import CellGrid
from features.district import TOWN_KINDS, District, Town, Village
from features.local_projection import offset_point
from features.place_names import draw_village_name
from features.site_placement import place_sites

__all__ = ["build_district"]


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
                village_name = draw_village_name(rng, kind)
                if village_name not in used_names:
                    break
            else:  # pragma: no cover - the name pools hold thousands of names
                raise ValueError(f"ran out of distinct {kind} names")
            used_names.add(village_name)
            lon, lat = offset_point(town.lon, town.lat, distance, bearing)
            villages.append(
                Village(f"{town.code}{j + 1:03d}", village_name, town.code, lon, lat, kind)
            )

    sites = place_sites(
        rng,
        towns,
        villages,
        villages_per_town,
        n_cameras=n_cameras,
        n_lpr_sites=n_lpr_sites,
        n_gas_stations=n_gas_stations,
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
