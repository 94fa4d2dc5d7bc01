"""The district simulator: deterministic raw events for the grid, hotline and video channels.

:mod:`pipelines.simulator.generate` builds the events (pure, no I/O) from
the pieces in :mod:`~pipelines.simulator.records` (the value types),
:mod:`~pipelines.simulator.rhythms` (daily and weekly rhythms, local time),
:mod:`~pipelines.simulator.sampling` (weighted draws, Poisson arrivals),
:mod:`~pipelines.simulator.intensity` (where and how often),
:mod:`~pipelines.simulator.populations` (residents, vehicles, rings),
:mod:`~pipelines.simulator.payloads` (what each channel reports),
:mod:`~pipelines.simulator.envelope` and :mod:`~pipelines.simulator.defects`
(the raw envelope and malformed records); :mod:`pipelines.simulator.texts`
holds the Chinese text templates and :mod:`pipelines.simulator.produce`
writes the records to Kafka.
"""
from pipelines.simulator.generate import DistrictSimulator
from pipelines.simulator.records import (
    CRS_BY_SOURCE,
    MALFORMED_KINDS,
    SCHEMA_VERSION,
    UNKNOWN_CATEGORY_BY_SOURCE,
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
