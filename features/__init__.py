"""Pure logic shared by the streaming and the batch jobs.

One concept per module; the most used names are re-exported here.
"""

from features.cell_grid import CellGrid
from features.contract_violation import CONTRACT_VERSION, REASON_CODES, ContractViolation
from features.coordinates import CRS, to_wgs84
from features.dead_letter import route_raw_record
from features.district import District, Jurisdiction
from features.district_builder import build_district
from features.free_text_scrub import scrub_text
from features.normalization import NormalizationContext, normalize_event
from features.pseudonymize import pseudonymize
from features.taxonomy import CATEGORIES, CATEGORIES_BY_SOURCE, SOURCES, category_label

__all__ = [
    "CONTRACT_VERSION",
    "REASON_CODES",
    "ContractViolation",
    "NormalizationContext",
    "normalize_event",
    "route_raw_record",
    "CRS",
    "to_wgs84",
    "CellGrid",
    "District",
    "Jurisdiction",
    "build_district",
    "pseudonymize",
    "scrub_text",
    "CATEGORIES",
    "CATEGORIES_BY_SOURCE",
    "SOURCES",
    "category_label",
]
