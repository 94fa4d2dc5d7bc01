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

This module gathers the public names of the geography modules, one concept
each:

* :mod:`features.local_projection` — the local projection (``EARTH_RADIUS_M``);
* :mod:`features.cell_grid` — :class:`CellGrid`;
* :mod:`features.district` — the records and :class:`District`;
* :mod:`features.district_builder` — :func:`build_district`, with
  :mod:`features.site_placement` and :mod:`features.place_names`.
"""

from __future__ import annotations

from features.cell_grid import CellGrid
from features.district import (
    SITE_KINDS,
    TOWN_KINDS,
    VILLAGE_KINDS,
    District,
    Jurisdiction,
    Site,
    Town,
    Village,
)
from features.district_builder import build_district
from features.local_projection import EARTH_RADIUS_M

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
