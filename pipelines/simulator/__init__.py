"""The district simulator: deterministic raw events for the grid, hotline and video channels.

:mod:`pipelines.simulator.generate` builds the events (pure, no I/O);
:mod:`pipelines.simulator.texts` holds the Chinese text templates.
"""
from pipelines.simulator.generate import (
    CRS_BY_SOURCE,
    MALFORMED_KINDS,
    SCHEMA_VERSION,
    UNKNOWN_CATEGORY_BY_SOURCE,
    DistrictSimulator,
    GroundTruth,
    Ring,
    SimulatedRecord,
    Surge,
)

__all__ = [
    "CRS_BY_SOURCE",
    "MALFORMED_KINDS",
    "SCHEMA_VERSION",
    "UNKNOWN_CATEGORY_BY_SOURCE",
    "DistrictSimulator",
    "GroundTruth",
    "Ring",
    "SimulatedRecord",
    "Surge",
]
