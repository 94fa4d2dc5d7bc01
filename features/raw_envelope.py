"""Parsing a raw record and checking its fields against the contract.

These are the building blocks of :func:`features.normalization.normalize_event`:
each returns the value it checked or raises :class:`ContractViolation` with
the reason code and a message naming the field and the bad value.
"""

from __future__ import annotations

import json
import math
from datetime import datetime

from features.contract_violation import ContractViolation
from features.record_limits import ContractLimits, check_record_size, check_values

__all__ = [
    "parse_raw",
    "require_field",
    "optional_list",
    "parse_timestamp",
    "epoch_ms",
]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INT64_DIGITS = len(str(_INT64_MAX))
_YEARS = (2, 9998)


def _refuse_constant(name: str):
    raise ContractViolation(
        "invalid_json", f"record holds {name}, which is not JSON; numbers must be finite"
    )


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ContractViolation(
            # The digits are not repeated: a number may be an identifier.
            "invalid_json",
            f"a number of {len(text)} characters overflows a 64-bit float; numbers must be finite",
        )
    return value


def _int64(text: str) -> int:
    # Checked on the text, before int() does work quadratic in its length.
    digits = len(text.lstrip("-"))
    value = int(text) if digits <= _INT64_DIGITS else None
    if value is None or not _INT64_MIN <= value <= _INT64_MAX:
        raise ContractViolation(
            "invalid_json",
            f"an integer of {digits} digits does not fit in 64 bits, the limit",
        )
    return value


def _unique_keys(pairs: list) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ContractViolation(
            "invalid_json", f"key {duplicate!r:.40} appears more than once in one object"
        )
    return obj


# Strict JSON, made once (json.loads with hooks builds a decoder per call).
_DECODER = json.JSONDecoder(
    parse_constant=_refuse_constant,
    parse_float=_finite_float,
    parse_int=_int64,
    object_pairs_hook=_unique_keys,
)


def parse_raw(text: str | bytes, limits: ContractLimits | None = None) -> dict:
    """Parse raw record bytes (or text) into a JSON object, within the contract's limits.

    The checks run cheapest first, so that no costly work is done on a
    record that breaks a limit: its size in bytes, then strict UTF-8, then
    strict JSON (no ``NaN`` or ``Infinity``, no number outside a finite
    64-bit float or a 64-bit integer, no key twice in one object), then
    nesting, list and string sizes and lone surrogates
    (:func:`features.record_limits.check_values`).

    Raises
    ------
    ContractViolation
        ``too_large``, ``invalid_encoding`` or ``invalid_json``, with a
        message naming the bad value.

    Examples
    --------
    >>> parse_raw('{"a": 1}')
    {'a': 1}
    >>> parse_raw('{"a": ')
    Traceback (most recent call last):
    ...
    features.contract_violation.ContractViolation: record is not valid JSON: ...
    >>> parse_raw(b'{"a": "\\xff"}'.replace(b"\\xff", bytes([0xFF])))
    Traceback (most recent call last):
    ...
    features.contract_violation.ContractViolation: record is not UTF-8: ...
    >>> parse_raw('{"lon": NaN}')
    Traceback (most recent call last):
    ...
    features.contract_violation.ContractViolation: record holds NaN, which is not JSON; numbers must be finite
    """
    limits = limits or ContractLimits()
    if isinstance(text, str):
        # Text that cannot be encoded (a lone surrogate) is not UTF-8 either.
        text = text.encode("utf-8", errors="surrogatepass")
    elif isinstance(text, (bytearray, memoryview)):
        text = bytes(text)
    if not isinstance(text, bytes):
        raise ContractViolation(
            "invalid_json", f"record must be bytes or text, got {type(text).__name__}"
        )
    check_record_size(len(text), limits)
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContractViolation("invalid_encoding", f"record is not UTF-8: {exc}") from None
    try:
        if decoded.startswith("\ufeff"):  # as json.loads refuses it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", decoded, 0)
        obj = _DECODER.decode(decoded)
    except json.JSONDecodeError as exc:
        raise ContractViolation("invalid_json", f"record is not valid JSON: {exc}") from None
    except RecursionError:
        raise ContractViolation(
            "too_large",
            f"record is nested deeper than the parser goes; the limit is {limits.nesting_depth}",
        ) from None
    if not isinstance(obj, dict):
        raise ContractViolation(
            "invalid_json", f"record must be a JSON object, got {type(obj).__name__}"
        )
    # Parsed from UTF-8, a string holds a surrogate only through a JSON escape \uD800-\uDFFF.
    check_values(obj, limits, may_hold_surrogates="\\ud" in decoded or "\\uD" in decoded)
    return obj


def require_field(obj: dict, field: str, kind, where: str = ""):
    """Return ``obj[field]``, refusing a missing or mistyped value.

    Parameters
    ----------
    obj : dict
        A JSON object of the record (the envelope or a nested object).
    field : str
        The field to read.
    kind : type or tuple of type
        The allowed type(s); a JSON boolean is never accepted as a number or
        a string.
    where : str, default ""
        Prefix naming the nested object in messages, e.g. ``"location."``.

    Raises
    ------
    ContractViolation
        ``missing_field`` if the field is absent or null, ``wrong_type`` if
        it has another type.

    Examples
    --------
    >>> require_field({"lon": 116.8}, "lon", (int, float), "location.")
    116.8
    """
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


def optional_list(obj: dict, field: str) -> list:
    """Return the list in ``obj[field]``, or an empty list when absent or null.

    Raises
    ------
    ContractViolation
        ``wrong_type`` if the field holds anything but a list.
    """
    value = obj.get(field, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise ContractViolation(
            "wrong_type", f"field '{field}' must be a list, got {type(value).__name__}"
        )
    return value


def parse_timestamp(value: str, field: str) -> datetime:
    """Parse an ISO-8601 timestamp that carries a UTC offset.

    Raises
    ------
    ContractViolation
        ``bad_value`` if ``value`` is not ISO-8601 or has no UTC offset.

    Examples
    --------
    >>> parse_timestamp("2026-11-27T09:15:00+08:00", "event_time").isoformat()
    '2026-11-27T09:15:00+08:00'
    """
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
    if not _YEARS[0] <= parsed.year <= _YEARS[1]:
        # Further out, shifting by the offset or the allowed skew overflows.
        raise ContractViolation(
            "bad_value",
            f"field '{field}'={value!r:.40} lies outside the years {_YEARS[0]}-{_YEARS[1]}",
        )
    return parsed


def epoch_ms(moment: datetime) -> int:
    """Return an aware datetime as epoch milliseconds, rounded.

    Examples
    --------
    >>> from datetime import timezone
    >>> epoch_ms(datetime(1970, 1, 1, 0, 0, 1, 250000, tzinfo=timezone.utc))
    1250
    """
    return int(round(moment.timestamp() * 1000))
