"""Routing: every raw record is normalized or dead-lettered with a reason.

At the system's edge bad input is data, not an exception: a record that
breaks the contract becomes a dead-letter record carrying its reason code,
a message naming the bad value and the raw text, both with identifiers
scrubbed. :func:`route_raw_record` never raises, which keeps the streaming
job alive.
"""

from __future__ import annotations

import json
import re

from features.contract_violation import CONTRACT_VERSION, ContractViolation
from features.free_text_scrub import record_identifiers, scrub_text
from features.normalization import NormalizationContext, normalize_event
from features.pseudonymize import TOKEN_PATTERN
from features.raw_envelope import parse_raw
from features.record_limits import ContractLimits, kept_raw_text
from features.record_pseudonyms import event_token
from features.roles import person_role, vehicle_role

__all__ = [
    "NORMALIZED",
    "DEAD_LETTER",
    "dead_letter_record",
    "route_raw_record",
]

#: Destinations of :func:`route_raw_record`.
NORMALIZED = "normalized"
DEAD_LETTER = "dead_letter"

# In text that is not JSON: \\uXXXX escapes (which would hide a name or a
# number from the patterns), and the identifier fields of what looks like an
# envelope, their value up to its closing quote or the end of the text.
_UNICODE_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})")
_IDENTIFIER_FIELD = re.compile(
    r'"(name|id_number|phone|plate)"\s{0,8}:\s{0,8}"((?:[^"\\\n]|\\.){1,256})'
)
_EVENT_ID_FIELD = re.compile(r'("event_id"\s{0,8}:\s{0,8}")((?:[^"\\\n]|\\.){1,128})"')


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
    data in clear either. Raw text that parses as JSON is scrubbed value by
    value and name by name (with the record's own names, phones, ID numbers
    and plates as known identifiers, its ``event_id`` as its token, its roles
    mapped onto :mod:`features.roles`) and written back as JSON. Other text
    is scrubbed as it is, after its ``\\uXXXX`` escapes are decoded, with the
    known identifiers of its ``"name": "..."``-like fields and a complete
    ``"event_id": "..."`` replaced by its token. The reason, which quotes
    the bad value, is scrubbed the same way. Text that cannot be encoded as
    UTF-8 (lone surrogates) is replaced by ``?``. A record longer than
    ``limits.dead_letter_raw_chars`` is cut before it is scrubbed, with a
    marker giving its size (:func:`features.record_limits.kept_raw_text`),
    and ``raw_bytes`` says how long it was.
    """
    limits = limits or ContractLimits()
    known = ()
    raw_scrubbed = None
    if raw is not None:
        known, raw_scrubbed = _scrubbed_raw(kept_raw_text(raw, limits), key)
    return {
        "schema_version": CONTRACT_VERSION,
        "reason_code": reason_code,
        "reason": _encodable(scrub_text(kept_raw_text(reason, _REASON_LIMITS), key, known)),
        "channel": channel,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "raw_bytes": _size_in_bytes(raw),
        "raw_scrubbed": raw_scrubbed,
        "dead_lettered_at_ms": now_ms,
    }


def _scrubbed_raw(raw: str, key: bytes) -> tuple[tuple, str]:
    """The record's known identifiers, and its text scrubbed."""
    try:
        obj = _encodable_value(json.loads(raw))
        known = record_identifiers(obj)
        scrubbed = json.dumps(
            _scrub_value(_vocabulary_roles(obj), key, known, top=True), ensure_ascii=False
        )
    except (ValueError, RecursionError):
        text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), raw)
        known = tuple((m.group(2), m.group(1)) for m in _IDENTIFIER_FIELD.finditer(text))
        text = _EVENT_ID_FIELD.sub(
            lambda m: m.group(1) + _event_id_token(m.group(2).strip(), key) + '"', text
        )
        scrubbed = scrub_text(text, key, known)
    return known, _encodable(scrubbed)


def _vocabulary_roles(obj):
    """The envelope with its roles mapped as normalization maps them."""
    if not isinstance(obj, dict):
        return obj
    out = dict(obj)
    for field, role_of in (("persons", person_role), ("vehicles", vehicle_role)):
        if isinstance(obj.get(field), list):
            out[field] = [
                {**entry, "role": role_of(entry["role"])}
                if isinstance(entry, dict) and isinstance(entry.get("role"), str)
                else entry
                for entry in obj[field]
            ]
    return out


def _scrub_value(value, key: bytes, known: tuple, top: bool = False):
    if isinstance(value, str):
        return scrub_text(value, key, known)
    if isinstance(value, dict):
        out = {}
        for name, item in value.items():
            if top and name == "event_id" and isinstance(item, str) and item.strip():
                out[name] = _event_id_token(item.strip(), key)
            else:
                out[scrub_text(name, key, known)] = _scrub_value(item, key, known)
        return out
    if isinstance(value, list):
        return [_scrub_value(item, key, known) for item in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # A phone or an ID number sent as a JSON number is hidden too.
        text = json.dumps(value)
        scrubbed = scrub_text(text, key, known)
        return value if scrubbed == text else scrubbed
    return value


def _event_id_token(event_id: str, key) -> str:
    """The id's token; an id that is a token already (a normalized record's) is kept."""
    return event_id if TOKEN_PATTERN.fullmatch(event_id) else event_token(event_id, key)


def _encodable_value(value):
    """A parsed record with its lone surrogates (from ``\\ud800`` escapes) replaced."""
    if isinstance(value, str):
        return _encodable(value)
    if isinstance(value, dict):
        return {_encodable(name): _encodable_value(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_encodable_value(item) for item in value]
    return value


def _encodable(text: str) -> str:
    return text.encode("utf-8", errors="replace").decode("utf-8")


# A reason is one sentence; an unexpected exception's text is cut to this.
_REASON_LIMITS = ContractLimits(dead_letter_raw_chars=500)


def _size_in_bytes(raw) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        return len(raw.encode("utf-8", errors="surrogatepass"))
    return len(raw) if isinstance(raw, (bytes, bytearray, memoryview)) else None


# Made once: json.dumps with options builds an encoder per call.
_NORMALIZED_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
_LETTER_JSON = json.JSONEncoder(ensure_ascii=False)


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
        ``key`` is the record key to write (the event id's token, or
        topic/partition/offset for a dead letter); ``value`` is the JSON text.

    No exception escapes for any input: that is what keeps the streaming job
    alive on bad data.
    """
    try:
        if raw is None:
            raise ContractViolation("invalid_json", "record has no value")
        normalized = normalize_event(
            parse_raw(raw, ctx.limits), ctx, now_ms, expected_source=channel
        )
        payload = _NORMALIZED_JSON.encode(normalized)
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
    return DEAD_LETTER, f"{topic}-{partition}-{offset}", _LETTER_JSON.encode(letter)
