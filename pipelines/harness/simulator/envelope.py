"""Turning payloads into raw records: numbering, the envelope v1, the malformed share.

Examples
--------
>>> import json, random
>>> emitter = Emitter(0.5, random.Random(0), run_id="demo")
>>> payload = {"category": "hotline.transport",
...            "location": {"lon": 116.8, "lat": 40.4, "crs": "BD09"},
...            "persons": [], "vehicles": [], "attributes": {"text": "..."}}
>>> first = emitter.emit(1795743060, 1, 1795743000, "hotline", payload)
>>> first.key, first.malformed_kind, json.loads(first.value)["attributes"]["ticket_no"]
('hotline-demo-20261127-000001', None, '12345-20261127-0001')
>>> emitter.emit(1795743060, 2, 1795743000, "hotline", payload).malformed_kind
'invalid_json'
"""

from __future__ import annotations

import json
import random
from fractions import Fraction

from features.taxonomy import PLATE_READ, SOURCES
from pipelines.harness.simulator.defects import corrupt
from pipelines.harness.simulator.noise import IdentityNoise
from pipelines.harness.simulator.records import MALFORMED_KINDS, SCHEMA_VERSION, SimulatedRecord
from pipelines.harness.simulator.rhythms import Clock

__all__ = ["Emitter"]


class Emitter:
    """Numbers, corrupts and serializes events in stream order.

    Parameters
    ----------
    malformed_fraction : float
        Exactly ``floor(n × fraction)`` of the first ``n`` records are
        malformed, the kinds rotating through :data:`MALFORMED_KINDS`.
    rng : random.Random
        Draws the details of the defects.
    run_id : str or None
        Tag put into every event id, if given.
    """

    def __init__(
        self,
        malformed_fraction: float,
        rng: random.Random,
        run_id: str | None,
        noise: IdentityNoise | None = None,
    ):
        self._clock = Clock()
        self._counters = {s: 0 for s in SOURCES}
        self._tickets: dict[str, int] = {}
        fraction = Fraction(malformed_fraction).limit_denominator(1_000_000)
        self._num, self._den = fraction.numerator, fraction.denominator
        self._emitted = 0
        self._malformed = 0
        self._variants = {kind: 0 for kind in MALFORMED_KINDS}
        self._rng = rng
        self._prefix = {s: f"{s}-{run_id}-" if run_id else f"{s}-" for s in SOURCES}
        self._noise = noise or IdentityNoise(
            random.Random(0), name_typo=0.0, phone_typo=0.0, plate_misread=0.0
        )

    def emit(
        self, report_s: int, _sequence: int, event_s: int, source: str, payload: dict
    ) -> SimulatedRecord:
        """The next record of ``source``: the payload in an envelope, maybe corrupted."""
        clock = self._clock
        self._counters[source] += 1
        day_iso, day_compact = clock.day(event_s)
        event_id = f"{self._prefix[source]}{day_compact}-{self._counters[source]:06d}"
        attributes = payload["attributes"]
        if source == "hotline":
            n = self._tickets[day_compact] = self._tickets.get(day_compact, 0) + 1
            attributes = {"ticket_no": f"12345-{day_compact}-{n:04d}", **attributes}
        persons, vehicles, truth = self._noise.apply(
            payload["persons"], payload["vehicles"], plate_read=payload["category"] == PLATE_READ
        )
        if "_incident" in payload:
            truth = {**truth, "incident": payload["_incident"]}
        envelope = {
            "schema_version": SCHEMA_VERSION,
            "event_id": event_id,
            "source": source,
            "category": payload["category"],
            "event_time": clock.iso(event_s),
            "report_time": clock.iso(report_s),
            "location": payload["location"],
            "persons": persons,
            "vehicles": vehicles,
            "attributes": attributes,
        }
        self._emitted += 1
        kind = None
        # Exactly floor(n * fraction) of the first n records are malformed.
        if (self._emitted * self._num) // self._den > (
            (self._emitted - 1) * self._num
        ) // self._den:
            kind = MALFORMED_KINDS[self._malformed % len(MALFORMED_KINDS)]
            self._malformed += 1
            variant = self._variants[kind]
            self._variants[kind] += 1
            value, event_s = corrupt(
                kind, variant, envelope, source, report_s, event_s, self._rng, clock
            )
        else:
            value = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
        return SimulatedRecord(
            source, event_id, value, event_s * 1000, report_s * 1000, kind, truth
        )
