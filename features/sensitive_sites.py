"""Checkpoints that watch a sensitive place: where a watched vehicle raises an alert.

Plates are read only at license-plate-recognition (``lpr``) checkpoints.
A checkpoint is *sensitive* when a place of a sensitive kind (a school, the
railway station, the reservoir shore, ...) lies within a radius of it:
whoever passes it is on the way there. Each sensitive checkpoint is named
with its nearest such place, what duty staff read in the alert.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from features.district import SITE_KINDS, District

__all__ = ["SensitiveCheckpoint", "SITE_KIND_LABELS", "sensitive_checkpoints"]

#: What duty staff read for each kind of site.
SITE_KIND_LABELS = {
    "camera": "视频监控点",
    "lpr": "卡口",
    "gas_station": "加油站",
    "school": "学校",
    "market": "农贸市场",
    "railway": "火车站",
    "reservoir_shore": "水库岸线",
}


@dataclass(frozen=True)
class SensitiveCheckpoint:
    """A checkpoint within reach of a sensitive place, with its jurisdiction."""

    site_id: str
    site_name: str
    place_id: str
    place_name: str
    place_kind: str
    place_kind_label: str
    distance_m: float
    town_code: str
    town_name: str
    village_code: str
    village_name: str
    cell_id: str
    lon: float
    lat: float


def sensitive_checkpoints(
    district: District, kinds, radius_m: float
) -> dict[str, SensitiveCheckpoint]:
    """The district's ``lpr`` sites within ``radius_m`` of a site of one of ``kinds``.

    Keyed by site id, each with its nearest sensitive place (ties by place id).

    Raises
    ------
    ValueError
        If a kind is not a site kind, or the radius is not a positive number.

    Examples
    --------
    >>> from features.cell_grid import CellGrid
    >>> from features.district import District, Site
    >>> d = District("1", "d", (), (), (
    ...     Site("LPR-1", "lpr", "东卡口", 116.60, 40.20, "t1", lanes=2),
    ...     Site("LPR-2", "lpr", "西卡口", 116.70, 40.20, "t1", lanes=2),
    ...     Site("SCH-1", "school", "中心小学", 116.605, 40.20, "t1")),
    ...     CellGrid(116.55, 40.15, 1000.0), 9000.0)
    >>> found = sensitive_checkpoints(d, ["school"], 1000)
    >>> list(found), found["LPR-1"].place_name, round(found["LPR-1"].distance_m)
    (['LPR-1'], '中心小学', 425)
    """
    kinds = list(kinds)
    unknown = [k for k in kinds if k not in SITE_KINDS]
    if unknown:
        raise ValueError(
            f"sensitive site kind(s) {unknown} are not site kinds; allowed: "
            + ", ".join(SITE_KINDS)
        )
    if not (isinstance(radius_m, (int, float)) and math.isfinite(radius_m) and radius_m > 0):
        raise ValueError(f"sensitive radius_m={radius_m!r} must be a number > 0 (metres)")
    grid = district.grid
    places = [(grid.to_metres(s.lon, s.lat), s) for s in district.sites if s.kind in kinds]
    found = {}
    for site in district.sites_of_kind("lpr"):
        here = grid.to_metres(site.lon, site.lat)
        near = [(math.dist(here, xy), place.site_id, place) for xy, place in places]
        near = [n for n in near if n[0] <= radius_m]
        if not near:
            continue
        distance, _, place = min(near)
        # The jurisdiction chain the normalizer gives the checkpoint's reads.
        where = district.locate(site.lon, site.lat)
        found[site.site_id] = SensitiveCheckpoint(
            site.site_id,
            site.name,
            place.site_id,
            place.name,
            place.kind,
            SITE_KIND_LABELS[place.kind],
            round(distance, 1),
            where.town_code if where else site.town_code,
            where.town_name if where else "",
            where.village_code if where else "",
            where.village_name if where else "",
            grid.cell_of(site.lon, site.lat),
            site.lon,
            site.lat,
        )
    return found
