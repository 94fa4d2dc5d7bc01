"""Size limits of a raw record, checked before any costly work.

A raw topic accepts any bytes, so the contract bounds what it reads before
it decodes, parses, hashes or scrubs anything: the whole record
(``record_bytes``), the nesting of its JSON (``nesting_depth``), every list
(``list_items``), every object (``object_keys``), every key (``key_chars``)
and every string (``field_chars`` by field, ``text_chars`` for any other).
A record over a limit is refused with reason code ``too_large`` and a
message naming the field, its size and the limit; nothing it holds grows
into an oversized output. The limits are declared in the ``contract``
section of ``infra/config/zongzhi.yaml`` (see ``docs/contract.md``).

Field names in ``field_chars`` are paths without list indices:
``persons.phone`` bounds the phone of every person.

Examples
--------
>>> limits = ContractLimits()
>>> check_values({"persons": [{"phone": "1" * 40}]}, limits)
Traceback (most recent call last):
...
features.contract_violation.ContractViolation: field 'persons[0].phone' is 40 characters long; the limit is 32
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

from features.contract_violation import ContractViolation
from features.plates import PLATE_SEPARATORS, PROVINCE_ABBREVIATIONS

__all__ = [
    "ContractLimits",
    "DEFAULT_FIELD_CHARS",
    "limits_from_mapping",
    "check_record_size",
    "check_values",
    "kept_raw_text",
]

#: Longest string allowed per field of the envelope (characters).
DEFAULT_FIELD_CHARS = MappingProxyType(
    {
        "event_id": 128,
        "source": 16,
        "category": 64,
        "event_time": 40,
        "report_time": 40,
        "location.crs": 16,
        "persons.role": 32,
        "persons.name": 64,
        "persons.id_number": 32,
        "persons.phone": 32,
        "vehicles.role": 32,
        "vehicles.plate": 32,
    }
)


@dataclass(frozen=True)
class ContractLimits:
    """The contract's size limits (see the module docstring).

    Parameters
    ----------
    record_bytes : int
        Longest raw record, in bytes as it arrived.
    nesting_depth : int
        Deepest nesting of JSON objects and lists (the envelope needs 3).
    list_items, object_keys : int
        Most items of one list, most keys of one object.
    key_chars : int
        Longest key of an object.
    text_chars : int
        Longest string of a field not named in ``field_chars``.
    field_chars : Mapping[str, int]
        Longest string per field path (list indices left out).
    output_bytes : int
        Longest normalized or dead-letter record written (UTF-8); below
        what Kafka accepts (1 MiB per request by default).
    dead_letter_raw_chars : int
        How much of a refused record's text its dead letter keeps.
    """

    record_bytes: int = 65536
    nesting_depth: int = 6
    list_items: int = 32
    object_keys: int = 64
    key_chars: int = 64
    text_chars: int = 8192
    field_chars: Mapping = field(default_factory=lambda: DEFAULT_FIELD_CHARS)
    output_bytes: int = 524288
    dead_letter_raw_chars: int = 16384

    def __post_init__(self):
        for name in (
            "record_bytes",
            "nesting_depth",
            "list_items",
            "object_keys",
            "key_chars",
            "text_chars",
            "output_bytes",
            "dead_letter_raw_chars",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        if self.record_bytes * 4 > self.output_bytes * 2:
            # Scrubbing may double a text's size; the limit keeps that in bounds.
            raise ValueError(
                f"record_bytes={self.record_bytes} must be at most half of "
                f"output_bytes={self.output_bytes}"
            )


def limits_from_mapping(values: Mapping) -> ContractLimits:
    """The limits declared in configuration (``contract.limits``); absent ones keep their default.

    ``field_chars`` there adds to or overrides :data:`DEFAULT_FIELD_CHARS`.

    >>> limits_from_mapping({"record_bytes": 1000, "field_chars": {"persons.phone": 20}})
    ... # doctest: +ELLIPSIS
    ContractLimits(record_bytes=1000, ...)
    >>> limits_from_mapping({"record_bytes": 1000}).field_chars["persons.phone"]
    32
    >>> limits_from_mapping({"bytes": 1})
    Traceback (most recent call last):
    ...
    ValueError: unknown contract limit 'bytes'; allowed: record_bytes, nesting_depth, ...
    """
    names = [f.name for f in fields(ContractLimits)]
    unknown = [k for k in values if k not in names]
    if unknown:
        raise ValueError(f"unknown contract limit {unknown[0]!r}; allowed: {', '.join(names)}")
    given = {k: int(v) for k, v in values.items() if k != "field_chars"}
    chars = dict(DEFAULT_FIELD_CHARS) | {
        str(k): int(v) for k, v in (values.get("field_chars") or {}).items()
    }
    return ContractLimits(**given, field_chars=MappingProxyType(chars))


def check_record_size(size: int, limits: ContractLimits) -> None:
    """Refuse a raw record of ``size`` bytes over ``limits.record_bytes``.

    >>> check_record_size(70000, ContractLimits())
    Traceback (most recent call last):
    ...
    features.contract_violation.ContractViolation: record is 70000 bytes long; the limit is 65536
    """
    if size > limits.record_bytes:
        raise ContractViolation(
            "too_large", f"record is {size} bytes long; the limit is {limits.record_bytes}"
        )


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _path(where) -> str:
    """The path of a value (``persons[0].phone``) from its ``(parent, key or index)`` chain."""
    steps = []
    while where is not None:
        where, step = where
        steps.append(step)
    path = ""
    for step in reversed(steps):
        if isinstance(step, int):
            path += f"[{step}]"
        else:
            path = f"{path}.{step}" if path else step
    return path


def check_values(obj, limits: ContractLimits, *, may_hold_surrogates: bool = True) -> None:
    """Refuse a parsed record whose nesting, lists, objects, keys or strings break a limit.

    Also refuses strings that are not Unicode text: a lone surrogate
    (``"\\ud800"`` in JSON) has no UTF-8 form, so no output could carry it.
    A caller that knows the record's text holds no ``\\ud`` escape (the only
    way JSON parsed from UTF-8 gets a surrogate) passes
    ``may_hold_surrogates=False`` and saves looking.

    Raises
    ------
    ContractViolation
        ``too_large`` naming the field, its size and the limit;
        ``invalid_encoding`` for a lone surrogate.
    """
    # value, where it is ((parent, key or index), rendered only for an error),
    # its path without indices (what field_chars names), depth
    stack = [(obj, None, "", 0)]
    field_chars, text_chars = limits.field_chars, limits.text_chars
    while stack:
        value, where, name, depth = stack.pop()
        if isinstance(value, (dict, list)) and depth >= limits.nesting_depth:
            raise ContractViolation(
                "too_large",
                f"'{_path(where)}' is nested deeper than {limits.nesting_depth} levels, the limit",
            )
        if isinstance(value, str):
            limit = field_chars.get(name, text_chars)
            if len(value) > limit:
                raise ContractViolation(
                    "too_large",
                    f"field '{_path(where)}' is {len(value)} characters long; the limit is {limit}",
                )
            if may_hold_surrogates and _has_surrogate(value):
                raise ContractViolation(
                    "invalid_encoding", f"field '{_path(where)}' holds a lone surrogate, not text"
                )
        elif isinstance(value, dict):
            if len(value) > limits.object_keys:
                raise ContractViolation(
                    "too_large",
                    f"object '{_path(where) or '.'}' has {len(value)} keys; the limit is "
                    f"{limits.object_keys}",
                )
            for key, item in value.items():
                if len(key) > limits.key_chars:
                    raise ContractViolation(
                        "too_large",
                        f"a key of object '{_path(where) or '.'}' is {len(key)} characters "
                        f"long; the limit is {limits.key_chars}",
                    )
                if may_hold_surrogates and _has_surrogate(key):
                    raise ContractViolation(
                        "invalid_encoding",
                        f"a key of object '{_path(where) or '.'}' holds a lone surrogate, not text",
                    )
                stack.append((item, (where, key), f"{name}.{key}" if name else key, depth + 1))
        elif isinstance(value, list):
            if len(value) > limits.list_items:
                raise ContractViolation(
                    "too_large",
                    f"list '{_path(where)}' has {len(value)} items; the limit is "
                    f"{limits.list_items}",
                )
            stack.extend((item, (where, i), name, depth + 1) for i, item in enumerate(value))


# Characters an identifier is made of: cutting through a run of them could
# leave part of one in clear, which scrubbing would no longer recognise.
_IDENTIFIER_CHARS = (
    string.ascii_letters
    + string.digits
    + string.whitespace
    + "".join(sorted(PLATE_SEPARATORS))
    + PROVINCE_ABBREVIATIONS
)


def kept_raw_text(raw, limits: ContractLimits) -> str:
    """The part of a refused record's text its dead letter keeps, always valid text.

    Bytes that are not UTF-8 (and lone surrogates) become U+FFFD; a value
    that is neither bytes nor text is kept as its ``str``. Text
    within ``limits.dead_letter_raw_chars`` is kept whole. Longer text is
    cut there, back to before any run of characters an identifier could be
    made of (so no part of one is left for scrubbing to miss), and ends
    with a marker giving the record's original size in bytes.

    >>> kept_raw_text(b"ab\\xffc".replace(b"\\xff", bytes([0xFF])), ContractLimits())
    'ab\ufffdc'
    >>> kept_raw_text('{"x": "' + "9" * 20000, ContractLimits(dead_letter_raw_chars=20))
    '{"x": "…[truncated: 20007 bytes in all]'
    """
    if isinstance(raw, (bytearray, memoryview)):
        raw = bytes(raw)
    elif not isinstance(raw, bytes):
        raw = str(raw).encode("utf-8", errors="surrogatepass")
    limit = limits.dead_letter_raw_chars
    # A character takes at most 4 bytes: decode no more than can be kept.
    text = raw[: 4 * limit + 4].decode("utf-8", errors="replace")
    if len(raw) <= limit or (len(text) <= limit and len(raw) <= 4 * limit + 4):
        return text
    head = text[:limit].rstrip(_IDENTIFIER_CHARS)
    return f"{head}…[truncated: {len(raw)} bytes in all]"
