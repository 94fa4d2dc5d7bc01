"""Poison records for ``zongzhi bench faults``: bytes a raw topic may receive that no
normalization can accept.

Each poison record is a valid simulated record broken in one way, so that the
normalization job must dead-letter it with a reason and go on: bytes that are
not UTF-8, a lone surrogate's UTF-8 encoding, JSON cut short, a free-text field
larger than the whole-record limit, and text that is not JSON at all. Every one
carries an event id of its own (``poison-<n>``), so that none could be taken
for, or deduplicated against, a real event of the stream.

Examples
--------
>>> from types import SimpleNamespace
>>> valid = SimpleNamespace(
...     source="grid", key="g-1", value='{"event_id": "g-1", "attributes": {}}',
...     event_time_ms=0, report_time_ms=5)
>>> poison = poison_records([valid], count=5, seed=1)
>>> sorted(p.malformed_kind for p in poison) == sorted(POISON_KINDS)
True
>>> all(b"g-1" not in p.value for p in poison)
True
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

__all__ = ["POISON_KINDS", "PoisonRecord", "poison_records"]

#: Characters of the oversized free-text field: well past the contract's
#: whole-record limit (``contract.limits.record_bytes``), well under Kafka's 1 MiB.
HUGE_FIELD_CHARS = 200_000


@dataclass(frozen=True)
class PoisonRecord:
    """One poison record, shaped as a simulated record (``produce_records`` sends it)."""

    source: str
    key: str
    value: bytes
    event_time_ms: int
    report_time_ms: int
    malformed_kind: str


def _renamed(value: str, event_id: str) -> dict:
    envelope = json.loads(value)
    envelope["event_id"] = event_id
    return envelope


def _dumps(envelope: dict) -> bytes:
    return json.dumps(envelope, ensure_ascii=False).encode("utf-8")


def _invalid_utf8(envelope: dict, rng: random.Random) -> bytes:
    raw = _dumps(envelope)
    at = rng.randrange(1, len(raw) - 1)
    return raw[:at] + b"\xff\xfe\xc3" + raw[at:]


def _lone_surrogate(envelope: dict, rng: random.Random) -> bytes:
    # U+D800 encoded as if it were a character: a strict UTF-8 decoder refuses it.
    raw = _dumps(envelope)
    at = raw.index(b'"event_id"')
    return raw[:at] + b'"note": "\xed\xa0\x80", ' + raw[at:]


def _truncated_json(envelope: dict, rng: random.Random) -> bytes:
    raw = _dumps(envelope)
    return raw[: rng.randrange(1, len(raw) - 1)]


def _huge_field(envelope: dict, rng: random.Random) -> bytes:
    attributes = envelope.setdefault("attributes", {})
    attributes["description"] = "盗" * HUGE_FIELD_CHARS
    return _dumps(envelope)


def _not_json(envelope: dict, rng: random.Random) -> bytes:
    return b"\x00\x01 not json " + bytes(rng.randrange(256) for _ in range(32))


_BREAKERS = {
    "invalid_utf8": _invalid_utf8,
    "lone_surrogate": _lone_surrogate,
    "truncated_json": _truncated_json,
    "huge_field": _huge_field,
    "not_json": _not_json,
}

#: The ways a poison record is broken, in the order they are dealt out.
POISON_KINDS = tuple(_BREAKERS)


def poison_records(valid_records, count: int, seed: int) -> list[PoisonRecord]:
    """``count`` poison records made from ``valid_records``, kinds dealt round-robin.

    ``valid_records`` are simulated records (``source``, ``value`` as JSON
    text of an envelope, ``event_time_ms``, ``report_time_ms``), of which
    those whose value parses are used as templates; the same arguments give
    the same records.
    """
    rng = random.Random(seed)
    templates = []
    for record in valid_records:
        try:
            json.loads(record.value)
        except ValueError:
            continue
        templates.append(record)
    if not templates:
        raise ValueError("poison_records needs at least one valid record as a template")
    poison = []
    for n in range(count):
        kind = POISON_KINDS[n % len(POISON_KINDS)]
        template = rng.choice(templates)
        event_id = f"poison-{n}"
        value = _BREAKERS[kind](_renamed(template.value, event_id), rng)
        poison.append(
            PoisonRecord(
                source=template.source,
                key=event_id,
                value=value,
                event_time_ms=template.event_time_ms,
                report_time_ms=template.report_time_ms,
                malformed_kind=kind,
            )
        )
    return poison
