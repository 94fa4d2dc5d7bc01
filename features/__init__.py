"""Pure logic shared by the streaming and the batch jobs.

One concept per module; the most used names are re-exported here.
"""

from features.contract import (
    CONTRACT_VERSION,
    REASON_CODES,
    ContractViolation,
    NormalizationContext,
    normalize_event,
    route_raw_record,
)
from features.coordinates import CRS, to_wgs84
from features.geography import CellGrid, District, Jurisdiction, build_district
from features.pseudonymize import pseudonymize, scrub_text
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
