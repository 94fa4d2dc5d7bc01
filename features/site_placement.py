"""Placement of the fixed sites of a synthetic district.

Every town gets cameras, license-plate-recognition (LPR) sites and gas
stations in proportion to its weight (街道 2, 地区 1.5, 镇 1), schools (two in
a 街道, else one) and a market; 古北口镇 gets a railway site and the four
reservoir towns get two shore sites each.  Positions are drawn from the
builder's generator, in a fixed order, so a seeded district always gets the
same sites.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

from features.district import Site, Town, Village
from features.local_projection import METRES_PER_DEGREE, metres_per_degree_lon, offset_point

__all__ = ["place_sites"]

# Relative activity of each town kind: urban streets are busier than rural
# towns.
_TOWN_WEIGHT = {"街道": 2.0, "地区": 1.5, "镇": 1.0}

# The Miyun towns that get the special sites; a district without them
# simply has none.
_RAILWAY_TOWN = "古北口镇"
_RESERVOIR_TOWNS = ("溪翁庄镇", "不老屯镇", "高岭镇", "太师屯镇")
_RESERVOIR_CENTRE = (116.95, 40.52)  # approximate centre of 密云水库
_SITES_PER_RESERVOIR_TOWN = 2

_CAMERA_PLACES = ("村口", "路口", "广场", "主街", "桥头", "停车场", "商店门前", "卫生室")
_COMPASS = ("东", "东北", "北", "西北", "西", "西南", "南", "东南")
_FUEL_BRANDS = ("中国石化", "中国石油", "中化石油")
_SCHOOL_NAMES = ("中心小学", "中学", "第二小学")


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


def place_sites(
    rng: random.Random,
    towns: tuple[Town, ...],
    villages: list[Village],
    villages_per_town: int,
    *,
    n_cameras: int,
    n_lpr_sites: int,
    n_gas_stations: int,
) -> list[Site]:
    """Place the fixed sites of every town, drawing positions from ``rng``.

    Parameters
    ----------
    rng : random.Random
        The builder's generator, in the state left by village placement.
    towns : tuple of Town
        The towns, in code order.
    villages : list of Village
        The villages, ``villages_per_town`` per town in town order; cameras
        sit near them.
    villages_per_town : int
        Villages per town.
    n_cameras, n_lpr_sites, n_gas_stations : int
        District totals, split over towns in proportion to the town weights
        (largest remainder).  Each LPR site has 2–4 lanes.

    Returns
    -------
    list of Site
        Town by town: cameras, LPR sites, gas stations, schools, the market,
        then the railway and reservoir-shore sites where the town has them.
    """
    weights = [_TOWN_WEIGHT[t.kind] for t in towns]
    cameras = _apportion(n_cameras, weights)
    lprs = _apportion(n_lpr_sites, weights)
    stations = _apportion(n_gas_stations, weights)
    sites: list[Site] = []
    for t_index, town in enumerate(towns):
        own_villages = villages[t_index * villages_per_town : (t_index + 1) * villages_per_town]
        for k in range(cameras[t_index]):
            village = own_villages[k % len(own_villages)]
            lon, lat = offset_point(
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
            lon, lat = offset_point(town.lon, town.lat, rng.uniform(1500.0, 3500.0), bearing)
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
            lon, lat = offset_point(
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
            lon, lat = offset_point(
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
        lon, lat = offset_point(
            town.lon, town.lat, rng.uniform(100.0, 800.0), rng.uniform(0.0, 2 * math.pi)
        )
        sites.append(
            Site(f"MKT-{town.code}-001", "market", f"{town.name}农贸市场", lon, lat, town.code)
        )
        if town.name == _RAILWAY_TOWN:
            lon, lat = offset_point(
                town.lon, town.lat, rng.uniform(500.0, 1500.0), rng.uniform(0.0, 2 * math.pi)
            )
            sites.append(Site(f"RLY-{town.code}-001", "railway", "古北口站", lon, lat, town.code))
        if town.name in _RESERVOIR_TOWNS:
            toward = math.atan2(
                (_RESERVOIR_CENTRE[1] - town.lat) * METRES_PER_DEGREE,
                (_RESERVOIR_CENTRE[0] - town.lon) * metres_per_degree_lon(town.lat),
            )
            for k in range(_SITES_PER_RESERVOIR_TOWN):
                lon, lat = offset_point(
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
    return sites
