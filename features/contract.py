"""The versioned event contract: raw envelope v1 in, normalized record out.

One canonical envelope serves the grid, hotline and video channels (see
``docs/contract.md``). A raw record is validated and turned into the
normalized record that every downstream stage reads: coordinates in WGS-84,
a spatial cell, the jurisdiction chain, and personal data replaced by
keyed-hash pseudonyms. A record that breaks the contract is not an exception
for the caller to crash on: :func:`route_raw_record` turns it into a
dead-letter record with a reason code and a message naming the bad value.

Everything here is pure: the caller passes the district, the key and the
clock.

This module gathers the public names of the contract modules, one concept
each:

* :mod:`features.contract_violation` — the version and the reason codes;
* :mod:`features.raw_envelope` — parsing and field checks;
* :mod:`features.record_pseudonyms` — persons, vehicles and attributes;
* :mod:`features.normalization` — :func:`normalize_event`;
* :mod:`features.dead_letter` — :func:`route_raw_record`.
"""

from __future__ import annotations

from features.contract_violation import CONTRACT_VERSION, REASON_CODES, ContractViolation
from features.dead_letter import DEAD_LETTER, NORMALIZED, dead_letter_record, route_raw_record
from features.normalization import NormalizationContext, normalize_event
from features.raw_envelope import parse_raw

__all__ = [
    "CONTRACT_VERSION",
    "REASON_CODES",
    "ContractViolation",
    "NormalizationContext",
    "parse_raw",
    "normalize_event",
    "dead_letter_record",
    "route_raw_record",
    "NORMALIZED",
    "DEAD_LETTER",
]
