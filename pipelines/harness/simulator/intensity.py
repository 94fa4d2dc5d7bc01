"""Where and how often background events happen: category shares, weights, per-cell rates.

Grid and hotline events fall around a village centre chosen with weight
town-kind weight × a per-village activity factor × a category affinity for
村 or 社区, scattered by an isotropic Gaussian (σ = :data:`SCATTER_M`) on the
grid's projection; plate reads happen at LPR sites (weight ∝ lanes × town
weight), camera alarms at cameras.  :func:`village_cell_rates` and
:func:`site_cell_rates` integrate this model exactly over the cells.

Examples
--------
>>> masses = axis_masses(5500.0, 400.0, 1000.0)  # σ = 400 m, 1 km cells
>>> [(i, round(p, 3)) for i, p in masses if p > 0.01]
[(4, 0.106), (5, 0.789), (6, 0.106)]
>>> round(sum(p for _, p in masses), 12)
1.0
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

from features.geography import CellGrid, District, Site, Village
from features.taxonomy import CATEGORIES_BY_SOURCE, SOURCES

__all__ = [
    "CATEGORY_SHARE",
    "KIND_AFFINITY",
    "TOWN_WEIGHT",
    "SCATTER_M",
    "category_rates",
    "village_weights",
    "site_weights",
    "village_cell_rates",
    "site_cell_rates",
    "axis_masses",
    "point_near",
]

#: Share of each category within its channel.
CATEGORY_SHARE = {
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
#: How much more often a category happens around a 村 or a 社区.
KIND_AFFINITY = {
    "environment.burning": {"村": 3.0, "社区": 0.2},
    "construction.illegal_construction": {"村": 2.0, "社区": 0.5},
    "environment.illegal_dumping": {"村": 1.5, "社区": 0.7},
    "environment.late_garbage_collection": {"村": 0.6, "社区": 2.0},
    "hotline.urban_rural_construction": {"村": 0.7, "社区": 1.8},
    "hotline.commerce_tourism": {"村": 0.8, "社区": 1.5},
}
#: Relative activity of a town by its kind.
TOWN_WEIGHT = {"街道": 2.0, "地区": 1.5, "镇": 1.0}
#: σ in metres of the scatter of events around a village centre, by village kind.
SCATTER_M = {"社区": 250.0, "村": 400.0}


def category_rates(events_per_hour: float, mix: Mapping[str, float]) -> dict[str, float]:
    """Long-run events/hour of each category over the whole district."""
    rates = {}
    for source in SOURCES:
        categories = sorted(CATEGORIES_BY_SOURCE[source])
        total = sum(CATEGORY_SHARE[c] for c in categories)
        for c in categories:
            rates[c] = events_per_hour * mix[source] * CATEGORY_SHARE[c] / total
    return rates


def village_weights(district: District, rng: random.Random) -> dict[str, list[float]]:
    """Unnormalised weight of each village for each grid/hotline category.

    ``rng`` draws each village's activity factor (log-normal, σ = 0.5).
    """
    activity = [rng.lognormvariate(0.0, 0.5) for _ in district.villages]
    town_kind = {t.code: t.kind for t in district.towns}
    weights = {}
    for source in ("grid", "hotline"):
        for c in sorted(CATEGORIES_BY_SOURCE[source]):
            affinity = KIND_AFFINITY.get(c, {})
            weights[c] = [
                TOWN_WEIGHT.get(town_kind[v.town_code], 1.0) * a * affinity.get(v.kind, 1.0)
                for v, a in zip(district.villages, activity)
            ]
    return weights


def site_weights(district: District) -> dict[str, tuple[tuple[Site, ...], list[float]]]:
    """The sites of each video category with their unnormalised weights."""
    town_kind = {t.code: t.kind for t in district.towns}
    lprs = district.sites_of_kind("lpr")
    cameras = district.sites_of_kind("camera")
    return {
        "video.plate_read": (
            lprs,
            [s.lanes * TOWN_WEIGHT.get(town_kind[s.town_code], 1.0) for s in lprs],
        ),
        "video.camera_alarm": (
            cameras,
            [TOWN_WEIGHT.get(town_kind[s.town_code], 1.0) for s in cameras],
        ),
    }


def site_cell_rates(
    grid: CellGrid, sites: Sequence[Site], weights: Sequence[float], rate: float
) -> dict[str, float]:
    """Split ``rate`` over the cells of ``sites`` in proportion to ``weights``."""
    rates: dict[str, float] = {}
    total = sum(weights)
    for site, w in zip(sites, weights):
        cell = grid.cell_of(site.lon, site.lat)
        rates[cell] = rates.get(cell, 0.0) + rate * w / total
    return rates


def village_cell_rates(
    grid: CellGrid,
    villages: Sequence[Village],
    village_xy: Sequence[tuple[float, float]],
    weights: Sequence[float],
    rate: float,
) -> dict[str, float]:
    """Split ``rate`` over the villages by ``weights``, then over the cells by the scatter."""
    size = grid.size_m
    rates: dict[str, float] = {}
    total = sum(weights)
    for village, (x, y), w in zip(villages, village_xy, weights):
        sigma = SCATTER_M[village.kind]
        share = rate * w / total
        cols = axis_masses(x, sigma, size)
        rows = axis_masses(y, sigma, size)
        for row, p_row in rows:
            for col, p_col in cols:
                cell = f"r{row:03d}c{col:03d}"
                rates[cell] = rates.get(cell, 0.0) + share * p_row * p_col
    return rates


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def axis_masses(centre: float, sigma: float, size: float) -> list[tuple[int, float]]:
    """Gaussian mass per cell index along one axis (±8σ covers all but 1e-15)."""
    first = max(math.floor((centre - 8 * sigma) / size), 0)
    last = math.floor((centre + 8 * sigma) / size)
    return [
        (i, _phi(((i + 1) * size - centre) / sigma) - _phi((i * size - centre) / sigma))
        for i in range(first, last + 1)
    ]


def point_near(
    rng: random.Random, grid: CellGrid, xy: tuple[float, float], kind: str
) -> tuple[float, float]:
    """A WGS-84 point scattered around the village at ``xy`` (metres) of ``kind``."""
    x, y = xy
    sigma = SCATTER_M[kind]
    return grid.from_metres(x + rng.gauss(0.0, sigma), y + rng.gauss(0.0, sigma))
