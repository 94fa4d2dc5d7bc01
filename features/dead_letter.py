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
from features.record_limits import ContractLimits, kept_raw_text

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
    limits: ContractLimits | None = None,
) -> dict:
    """Build the dead-letter record for a refused raw record.

    The raw text is kept so nothing is lost, with every identifier found in
    it replaced by its pseudonym: the dead-letter topic holds no personal
    data in clear either. A record longer than
    ``limits.dead_letter_raw_chars`` is kept cut, with a marker giving its
    size (:func:`features.record_limits.kept_raw_text`), and ``raw_bytes``
    says how long it was.
    """
    limits = limits or ContractLimits()
    kept = kept_raw_text(raw, limits) if raw is not None else None
    return {
        "schema_version": CONTRACT_VERSION,
        "reason_code": reason_code,
        "reason": kept_raw_text(reason, _REASON_LIMITS),
        "channel": channel,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "raw_bytes": _size_in_bytes(raw),
        "raw_scrubbed": scrub_text(kept, key) if kept is not None else None,
        "dead_lettered_at_ms": now_ms,
    }


# A reason is one sentence; an unexpected exception's text is cut to this.
_REASON_LIMITS = ContractLimits(dead_letter_raw_chars=500)


def _size_in_bytes(raw) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        return len(raw.encode("utf-8", errors="surrogatepass"))
    return len(raw) if isinstance(raw, (bytes, bytearray, memoryview)) else None


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
        normalized = normalize_event(
            parse_raw(raw, ctx.limits), ctx, now_ms, expected_source=channel
        )
        payload = json.dumps(normalized, ensure_ascii=False, allow_nan=False)
        size = len(payload.encode("utf-8"))
        if size > ctx.limits.output_bytes:
            raise ContractViolation(
                "too_large",
                f"normalized record is {size} bytes long; the limit is {ctx.limits.output_bytes}",
            )
        return NORMALIZED, normalized["event_id"], payload
    except ContractViolation as exc:
        code, reason = exc.reason_code, str(exc)
    except Exception as exc:  # noqa: BLE001 - any surprise is data to route, not a crash
        code, reason = "bad_value", f"unexpected {type(exc).__name__}: {exc}"
    where = dict(channel=channel, topic=topic, partition=partition, offset=offset)
    try:
        letter = dead_letter_record(
            raw, code, reason, **where, key=ctx.key, now_ms=now_ms, limits=ctx.limits
        )
    except Exception as exc:  # noqa: BLE001 - the letter itself must not stop the job
        reason = f"{reason}; its raw text could not be kept ({type(exc).__name__})"
        letter = dead_letter_record(
            None, code, reason, **where, key=ctx.key, now_ms=now_ms, limits=ctx.limits
        )
    return DEAD_LETTER, f"{topic}-{partition}-{offset}", json.dumps(letter, ensure_ascii=False)
