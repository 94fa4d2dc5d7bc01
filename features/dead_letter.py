"""Routing: every raw record is normalized or dead-lettered with a reason.

At the system's edge bad input is data, not an exception: a record that
breaks the contract becomes a dead-letter record carrying its reason code,
a message naming the bad value and the raw text with identifiers scrubbed.
:func:`route_raw_record` never raises, which keeps the streaming job alive.
"""

from __future__ import annotations

import json

from features.contract_violation import CONTRACT_VERSION, ContractViolation
from features.normalization import NormalizationContext, normalize_event
from features.pseudonymize import scrub_text
from features.raw_envelope import parse_raw

__all__ = [
    "NORMALIZED",
    "DEAD_LETTER",
    "dead_letter_record",
    "route_raw_record",
]

#: Destinations of :func:`route_raw_record`.
NORMALIZED = "normalized"
DEAD_LETTER = "dead_letter"


def dead_letter_record(
    raw: str | bytes,
    reason_code: str,
    reason: str,
    *,
    channel: str | None,
    topic: str | None,
    partition: int | None,
    offset: int | None,
    key: bytes,
    now_ms: int,
) -> dict:
    """Build the dead-letter record for a refused raw record.

    The raw text is kept so nothing is lost, with every identifier found in
    it replaced by its pseudonym: the dead-letter topic holds no personal
    data in clear either.
    """
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    return {
        "schema_version": CONTRACT_VERSION,
        "reason_code": reason_code,
        "reason": reason,
        "channel": channel,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "raw_scrubbed": scrub_text(raw, key) if raw is not None else None,
        "dead_lettered_at_ms": now_ms,
    }


def route_raw_record(
    raw: str | bytes | None,
    ctx: NormalizationContext,
    now_ms: int,
    *,
    channel: str | None = None,
    topic: str | None = None,
    partition: int | None = None,
    offset: int | None = None,
) -> tuple[str, str, str]:
    """Normalize one raw record, or dead-letter it with a reason.

    Returns
    -------
    (destination, key, value)
        ``destination`` is :data:`NORMALIZED` or :data:`DEAD_LETTER`;
        ``key`` is the record key to write (event id, or topic/partition/offset
        for a dead letter); ``value`` is the JSON text.

    No exception escapes for any input: that is what keeps the streaming job
    alive on bad data.
    """
    try:
        if raw is None:
            raise ContractViolation("invalid_json", "record has no value")
        normalized = normalize_event(parse_raw(raw), ctx, now_ms, expected_source=channel)
        return NORMALIZED, normalized["event_id"], json.dumps(normalized, ensure_ascii=False)
    except ContractViolation as exc:
        code, reason = exc.reason_code, str(exc)
    except Exception as exc:  # noqa: BLE001 - any surprise is data to route, not a crash
        code, reason = "bad_value", f"unexpected {type(exc).__name__}: {exc}"
    letter = dead_letter_record(
        raw,
        code,
        reason,
        channel=channel,
        topic=topic,
        partition=partition,
        offset=offset,
        key=ctx.key,
        now_ms=now_ms,
    )
    return DEAD_LETTER, f"{topic}-{partition}-{offset}", json.dumps(letter, ensure_ascii=False)
