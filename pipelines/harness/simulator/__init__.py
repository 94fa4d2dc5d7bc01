"""The district simulator: deterministic raw events for the grid, hotline and video channels.

:mod:`pipelines.harness.simulator.generate` builds the events (pure, no I/O) from
the pieces in :mod:`~pipelines.harness.simulator.records` (the value types),
:mod:`~pipelines.harness.simulator.parameters` (the checks of its parameters),
:mod:`~pipelines.harness.simulator.rhythms` (daily and weekly rhythms, local time),
:mod:`~pipelines.harness.simulator.sampling` (weighted draws, Poisson arrivals),
:mod:`~pipelines.harness.simulator.intensity` and
:mod:`~pipelines.harness.simulator.background` (where and how often),
:mod:`~pipelines.harness.simulator.populations` (residents, vehicles, rings),
:mod:`~pipelines.harness.simulator.events` (each kind of event),
:mod:`~pipelines.harness.simulator.payloads` (what each channel reports),
:mod:`~pipelines.harness.simulator.envelope` and :mod:`~pipelines.harness.simulator.defects`
(the raw envelope and malformed records); :mod:`pipelines.harness.simulator.texts`
holds the Chinese text templates and :mod:`pipelines.harness.simulator.produce`
writes the records to Kafka.
"""

from pipelines.harness.simulator.generate import DistrictSimulator
from pipelines.harness.simulator.records import (
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
