"""Malformed records: one defect of each kind in ``MALFORMED_KINDS``, in a few variants.

Each kind comes in a few variants, taken in turn (``variant`` counts the
records of that kind so far), so that a short run still shows every variant.

Examples
--------
>>> import json, random
>>> envelope = {"schema_version": 1, "event_id": "grid-20261127-000001",
...             "category": "environment.burning",
...             "event_time": "2026-11-27T09:30:00+08:00",
...             "location": {"lon": 116.8, "lat": 40.4, "crs": "GCJ02"}, "persons": []}
>>> value, _ = corrupt("missing_field", 1, envelope, "grid", 1795743000, 1795743000,
...                    random.Random(0), Clock())
>>> "category" in json.loads(value), "category" in envelope
(False, True)
>>> corrupt("wrong_type", 1, envelope, "grid", 1795743000, 1795743000,
...         random.Random(0), Clock())[0][:22]
'{"schema_version":"1",'
"""

from __future__ import annotations

import json
import random

from pipelines.harness.simulator.records import (
    SCHEMA_VERSION,
    UNKNOWN_CATEGORY_BY_SOURCE,
    reported_location,
)
from pipelines.harness.simulator.rhythms import Clock

__all__ = ["corrupt"]

# Where ``outside_district`` records claim to be: central Shanghai (WGS-84).
_SHANGHAI = (121.47, 31.23)


def corrupt(
    kind: str,
    variant: int,
    envelope: dict,
    source: str,
    report_s: int,
    event_s: int,
    rng: random.Random,
    clock: Clock,
) -> tuple[str, int]:
    """Return the value with exactly one defect of ``kind``, and its event time.

    ``envelope`` is left unchanged; ``clock`` formats a ``future_timestamp``.
    """
    if kind == "invalid_json":
        text = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
        if variant % 3 == 0:  # truncated in transit
            return text[: rng.randint(1, len(text) - 1)], event_s
        if variant % 3 == 1:  # written by hand with single quotes
            return text.replace('"', "'"), event_s
        return text + "}", event_s  # trailing garbage
    envelope = dict(envelope)
    if kind == "missing_field":
        # A hotline record without its category is no defect where the
        # router fills it (docs/contract.md): it loses its report time instead.
        category = "report_time" if source == "hotline" else "category"
        del envelope[("event_id", category, "event_time", "location")[variant % 4]]
    elif kind == "wrong_type":
        if variant % 3 == 0:
            envelope["location"] = {**envelope["location"], "lon": str(envelope["location"]["lon"])}
        elif variant % 3 == 1:
            envelope["schema_version"] = str(SCHEMA_VERSION)
        else:
            envelope["persons"] = {"items": envelope["persons"]}
    elif kind == "outside_district":
        lon = _SHANGHAI[0] + rng.uniform(-0.05, 0.05)
        lat = _SHANGHAI[1] + rng.uniform(-0.05, 0.05)
        envelope["location"] = reported_location(source, lon, lat)
    elif kind == "unknown_category":
        envelope["category"] = UNKNOWN_CATEGORY_BY_SOURCE[source]
    elif kind == "future_timestamp":
        event_s = report_s + 2 * 86400 + rng.randint(0, 86400)
        envelope["event_time"] = clock.iso(event_s)
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")), event_s
