"""Parsing a raw record and checking its fields against the contract.

These are the building blocks of :func:`features.normalization.normalize_event`:
each returns the value it checked or raises :class:`ContractViolation` with
the reason code and a message naming the field and the bad value.
"""

from __future__ import annotations

import json
from datetime import datetime

from features.contract_violation import ContractViolation

__all__ = [
    "parse_raw",
    "require_field",
    "optional_list",
    "parse_timestamp",
    "epoch_ms",
]


def parse_raw(text: str | bytes) -> dict:
    """Parse raw record text into a JSON object.

    Examples
    --------
    >>> parse_raw('{"a": 1}')
    {'a': 1}
    >>> parse_raw('{"a": ')
    Traceback (most recent call last):
    ...
    features.contract_violation.ContractViolation: record is not valid JSON: ...
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
