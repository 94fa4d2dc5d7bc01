"""The versioned event contract: raw envelope v1 in, normalized record out.

One canonical envelope serves the grid, hotline and video channels (see
``docs/contract.md``). This module validates a raw record and turns it into
the normalized record that every downstream stage reads: coordinates in
WGS-84, a spatial cell, the jurisdiction chain, and personal data replaced by
keyed-hash pseudonyms. A record that breaks the contract is not an exception
for the caller to crash on: :func:`route_raw_record` turns it into a
dead-letter record with a reason code and a message naming the bad value.

Everything here is pure: the caller passes the district, the key and the
clock.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from features.coordinates import CRS, to_wgs84
from features.geography import District
from features.local_time import DISTRICT_TZ
from features.person_keys import person_key_tokens
from features.plate_keys import plate_key_tokens
from features.pseudonymize import pseudonymize, scrub_text
from features.taxonomy import (
    CATEGORIES,
    CATEGORIES_BY_SOURCE,
    SOURCE_LABELS,
    SOURCES,
    category_group,
)

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

CONTRACT_VERSION = 1

#: Why a record was dead-lettered. Every dead-letter record carries one.
REASON_CODES = (
    "invalid_json",
    "missing_field",
    "wrong_type",
    "unsupported_version",
    "source_mismatch",
    "unknown_category",
    "bad_value",
    "outside_district",
    "future_timestamp",
)

NORMALIZED = "normalized"
DEAD_LETTER = "dead_letter"


_REQUIRED_ATTRIBUTES = {
    "grid": ("reporter_id", "description"),
    "hotline": ("ticket_no", "text"),
    "video": ("device_id", "site_id", "device_kind"),
}
# Free-text attributes that may carry identifiers typed by a person.
_FREE_TEXT_ATTRIBUTES = ("description", "text")
_PERSON_FIELDS = (("id_number", "id_hash"), ("phone", "phone_hash"), ("name", "name_hash"))


class ContractViolation(ValueError):
    """A raw record breaks the contract; ``reason_code`` says how."""

    def __init__(self, reason_code: str, message: str):
        if reason_code not in REASON_CODES:
            raise ValueError(
                f"reason_code={reason_code!r} is not one of: {', '.join(REASON_CODES)}"
            )
        super().__init__(message)
        self.reason_code = reason_code


@dataclass(frozen=True)
class NormalizationContext:
    """What normalization needs besides the record itself.

    Parameters
    ----------
    district : District
        Geography used for the cell and the jurisdiction chain.
    key : bytes
        Pseudonymization key (from configuration, never from code).
    max_future_skew_s : int
        How far an event time may lie after its report time, and a report
        time after the processing clock, before it is refused.
    """

    district: District
    key: bytes
    max_future_skew_s: int = 3600


# --------------------------------------------------------------------------
# Parsing and field checks


def parse_raw(text: str | bytes) -> dict:
    """Parse raw record text into a JSON object.

    Examples
    --------
    >>> parse_raw('{"a": 1}')
    {'a': 1}
    >>> parse_raw('{"a": ')
    Traceback (most recent call last):
    ...
    features.contract.ContractViolation: record is not valid JSON: ...
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ContractViolation("invalid_json", f"record is not UTF-8: {exc}") from None
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ContractViolation("invalid_json", f"record is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ContractViolation(
            "invalid_json", f"record must be a JSON object, got {type(obj).__name__}"
        )
    return obj


def _require(obj: dict, field: str, kind, where: str = ""):
    if field not in obj or obj[field] is None:
        raise ContractViolation("missing_field", f"required field '{where}{field}' is missing")
    value = obj[field]
    # bool is an int subclass; a JSON true is never a number or a string here.
    if isinstance(value, bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise ContractViolation(
            "wrong_type",
            f"field '{where}{field}' must be {names}, got {type(value).__name__} {value!r:.40}",
        )
    return value


def _optional_list(obj: dict, field: str) -> list:
    value = obj.get(field, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise ContractViolation(
            "wrong_type", f"field '{field}' must be a list, got {type(value).__name__}"
        )
    return value


def _parse_time(value: str, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ContractViolation(
            "bad_value", f"field '{field}'={value!r:.40} is not an ISO-8601 timestamp"
        ) from None
    if parsed.tzinfo is None:
        raise ContractViolation(
            "bad_value", f"field '{field}'={value!r:.40} has no UTC offset; one is required"
        )
    return parsed


def _epoch_ms(moment: datetime) -> int:
    return int(round(moment.timestamp() * 1000))


# --------------------------------------------------------------------------
# Normalization


def normalize_event(
    obj: dict, ctx: NormalizationContext, now_ms: int, expected_source: str | None = None
) -> dict:
    """Validate a parsed raw envelope and return its normalized record.

    Parameters
    ----------
    obj : dict
        A parsed raw envelope (see :func:`parse_raw`).
    ctx : NormalizationContext
        District, key and tolerances.
    now_ms : int
        The processing clock, epoch milliseconds.
    expected_source : str, optional
        The channel of the topic the record came from; a record claiming
        another source is refused.

    Raises
    ------
    ContractViolation
        With the reason code and a message naming the bad value.
    """
    version = _require(obj, "schema_version", int)
    if version != CONTRACT_VERSION:
        raise ContractViolation(
            "unsupported_version",
            f"schema_version={version} is not supported; allowed: {CONTRACT_VERSION}",
        )
    event_id = _require(obj, "event_id", str).strip()
    if not event_id or len(event_id) > 128:
        raise ContractViolation("bad_value", f"event_id={event_id!r:.40} must be 1-128 characters")
    source = _require(obj, "source", str)
    if source not in SOURCES:
        raise ContractViolation(
            "bad_value", f"source={source!r} is not one of: {', '.join(SOURCES)}"
        )
    if expected_source is not None and source != expected_source:
        raise ContractViolation(
            "source_mismatch",
            f"source={source!r} arrived on the {expected_source!r} channel's topic",
        )
    category = _require(obj, "category", str)
    if category not in CATEGORIES_BY_SOURCE[source]:
        known = "known to another channel" if category in CATEGORIES else "not in the taxonomy"
        raise ContractViolation(
            "unknown_category",
            f"category={category!r} is {known}; allowed for {source}: "
            + ", ".join(sorted(CATEGORIES_BY_SOURCE[source])),
        )

    event_time = _parse_time(_require(obj, "event_time", str), "event_time")
    report_time = _parse_time(_require(obj, "report_time", str), "report_time")
    skew = timedelta(seconds=ctx.max_future_skew_s)
    if event_time > report_time + skew:
        raise ContractViolation(
            "future_timestamp",
            f"event_time={obj['event_time']} is after report_time={obj['report_time']} "
            f"by more than {ctx.max_future_skew_s}s",
        )
    report_ms = _epoch_ms(report_time)
    if report_ms > now_ms + ctx.max_future_skew_s * 1000:
        raise ContractViolation(
            "future_timestamp",
            f"report_time={obj['report_time']} is more than {ctx.max_future_skew_s}s "
            "ahead of the processing clock",
        )

    location = _require(obj, "location", dict)
    lon = _require(location, "lon", (int, float), "location.")
    lat = _require(location, "lat", (int, float), "location.")
    crs = _require(location, "crs", str, "location.")
    if crs not in CRS:
        raise ContractViolation(
            "bad_value", f"location.crs={crs!r} is not one of: {', '.join(CRS)}"
        )
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ContractViolation("bad_value", f"location ({lon}, {lat}) is not finite")
    try:
        wgs_lon, wgs_lat = to_wgs84(float(lon), float(lat), crs)
    except ValueError as exc:
        raise ContractViolation("bad_value", f"location: {exc}") from None
    jurisdiction = ctx.district.locate(wgs_lon, wgs_lat)
    if jurisdiction is None:
        raise ContractViolation(
            "outside_district",
            f"location ({lon}, {lat}) {crs} lies outside {ctx.district.name} ({ctx.district.code})",
        )
    cell_id = ctx.district.grid.cell_of(wgs_lon, wgs_lat)

    persons = [
        _pseudonymize_person(p, i, ctx.key) for i, p in enumerate(_optional_list(obj, "persons"))
    ]
    vehicles = [
        _pseudonymize_vehicle(v, i, ctx.key) for i, v in enumerate(_optional_list(obj, "vehicles"))
    ]
    attributes = _channel_attributes(obj, source, ctx.key)

    local_event_time = event_time.astimezone(DISTRICT_TZ)
    return {
        "schema_version": CONTRACT_VERSION,
        "event_id": event_id,
        "source": source,
        "source_label": SOURCE_LABELS[source],
        "category": category,
        "category_label": CATEGORIES[category],
        "category_group": category_group(category),
        "event_time": local_event_time.isoformat(),
        "event_time_ms": _epoch_ms(event_time),
        "report_time_ms": report_ms,
        "event_date": local_event_time.date().isoformat(),
        "lon": round(wgs_lon, 7),
        "lat": round(wgs_lat, 7),
        "crs": "WGS84",
        "reported_crs": crs,
        "cell_id": cell_id,
        "district_code": jurisdiction.district_code,
        "town_code": jurisdiction.town_code,
        "town_name": jurisdiction.town_name,
        "village_code": jurisdiction.village_code,
        "village_name": jurisdiction.village_name,
        "persons": persons,
        "vehicles": vehicles,
        "attributes": attributes,
    }


def _pseudonymize_person(person, index: int, key: bytes) -> dict:
    where = f"persons[{index}]."
    if not isinstance(person, dict):
        raise ContractViolation(
            "wrong_type", f"field 'persons[{index}]' must be an object, got {type(person).__name__}"
        )
    out = {"role": _require(person, "role", str, where)}
    for field, hashed in _PERSON_FIELDS:
        value = person.get(field)
        if value is None:
            out[hashed] = None
            continue
        if not isinstance(value, str):
            raise ContractViolation(
                "wrong_type", f"field '{where}{field}' must be str, got {type(value).__name__}"
            )
        out[hashed] = _pseudonym(value, field, key, f"{where}{field}")
    # Match keys for mentions without an ID number (features/person_keys.py).
    out.update(person_key_tokens(person.get("name"), person.get("phone"), key))
    return out


def _pseudonymize_vehicle(vehicle, index: int, key: bytes) -> dict:
    where = f"vehicles[{index}]."
    if not isinstance(vehicle, dict):
        raise ContractViolation(
            "wrong_type",
            f"field 'vehicles[{index}]' must be an object, got {type(vehicle).__name__}",
        )
    role = _require(vehicle, "role", str, where)
    plate = _require(vehicle, "plate", str, where)
    # Match keys for misread plates (features/plate_keys.py), hashed here
    # while the plate is still in clear; an unreadable read keeps its token.
    return {
        "role": role,
        "plate_hash": _pseudonym(plate, "plate", key, f"{where}plate"),
        **plate_key_tokens(plate, key),
    }


def _pseudonym(value: str, kind: str, key: bytes, field: str) -> str | None:
    if not value.strip():
        return None
    try:
        return pseudonymize(value, kind, key)
    except ValueError as exc:
        raise ContractViolation("bad_value", f"field '{field}': {exc}") from None


def _channel_attributes(obj: dict, source: str, key: bytes) -> dict:
    attributes = _require(obj, "attributes", dict)
    for field in _REQUIRED_ATTRIBUTES[source]:
        _require(attributes, field, str, "attributes.")
    clean = {}
    for name, value in attributes.items():
        if isinstance(value, str):
            # Identifiers typed into free text never travel in clear either.
            clean[name] = scrub_text(value, key)
        elif value is None or isinstance(value, (bool, int, float)):
            clean[name] = value
        else:
            raise ContractViolation(
                "wrong_type",
                f"field 'attributes.{name}' must be a string, number or boolean, "
                f"got {type(value).__name__}",
            )
    return clean


# --------------------------------------------------------------------------
# Routing


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
