"""A seeded corpus of adversarial raw records, for the contract's fuzz tests.

Each record starts from a valid envelope (the caller's) and is broken in one
of the ways a raw topic can be: truncated JSON, bytes that are not UTF-8,
lone surrogates, huge fields and records, deep nesting, NaN and infinite
coordinates, numbers out of range, duplicate keys, replayed ids, times in
1900, 1970 and 2100, wrong types, junk bytes, and identifiers in every
written form embedded in free text. The unit tests run it through
:func:`features.dead_letter.route_raw_record`, the integration test through
Kafka and the Flink job.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass

__all__ = ["AdversarialRecord", "KINDS", "adversarial_records"]


@dataclass(frozen=True)
class AdversarialRecord:
    """One raw record: its channel, its bytes (None: a tombstone) and how it was made."""

    channel: str
    value: bytes | None
    kind: str


_FREE_TEXT = {"grid": "description", "hotline": "text", "video": "device_id"}

# Identifiers as people write them in free text.
_IDENTIFIER_TEXTS = (
    "身份证11010519491231002X",
    "证件号 110105 19491231 002X",
    "老身份证110105491231002",
    "电话13800138000",
    "电话138.0013.8000",
    "电话1380 013 8000",
    "电话138—0013—8000",
    "tel13800138000abc",
    "座机010-69041234",
    "+86 138-0013-8000",
    "车牌京A12345",
    "车牌京A·D12345",
    "识别为京G01K3O",
    "车主张伟",
    "电话1380013\n8000",
    "手机138\r\n0013\r\n8000",
    "身份证110105199001\n011234",
    "电话138/0013/8000",
    "电话138_0013_8000",
    "电话１３８００１３８０００",
    "证件11010519491231002x",
    "0086 138 0013 8000",
    "电话壹叁捌零零壹叁捌零零零",
    "车牌京A\n12345",
    "姓名：王一博",
    "联系人张三",
    "姓名：Zhang Wei",
    "name: Li Lei",
    "联系人 WANG Fang",
    "姓名：约翰·史密斯",
)


def _dumps(obj, **kw) -> bytes:
    return json.dumps(obj, ensure_ascii=False, **kw).encode("utf-8", "surrogatepass")


def _with(base: dict, rng: random.Random, path: tuple, value) -> dict:
    out = copy.deepcopy(base)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return out


def _valid(rng, base, channel):
    return _dumps(base)


def _embedded_identifiers(rng, base, channel):
    text = "，".join(rng.sample(_IDENTIFIER_TEXTS, 3))
    return _dumps(_with(base, rng, ("attributes", _FREE_TEXT[channel]), text))


def _truncated(rng, base, channel):
    raw = _dumps(base)
    return raw[: rng.randrange(0, len(raw) - 1)]


def _invalid_utf8(rng, base, channel):
    raw = _dumps(base)
    bad = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80\x80", b"\xfe"])
    at = rng.randrange(1, len(raw) - 1)
    return raw[:at] + bad + raw[at:]


def _lone_surrogate(rng, base, channel):
    escape = rng.choice(["\\ud800", "\\udfff", "\\udbff", "x\\ud83d", "\\ude00y"])
    where = rng.choice(["event_id", "text", "role", "key"])
    marker = "@@SURROGATE@@"
    if where == "event_id":
        obj = _with(base, rng, ("event_id",), base["event_id"] + marker)
    elif where == "text":
        obj = _with(base, rng, ("attributes", _FREE_TEXT[channel]), "说明" + marker)
    elif where == "role":
        obj = _with(base, rng, ("vehicles",), [{"role": marker, "plate": "京A12345"}])
    else:
        obj = _with(base, rng, ("attributes", marker), "x")
    return _dumps(obj).replace(marker.encode(), escape.encode())


def _huge_field(rng, base, channel):
    size = rng.choice([40, 200, 4096, 16_000, 60_000])
    choice = rng.randrange(5)
    if choice == 0:
        obj = _with(base, rng, ("persons",), [{"role": "party", "phone": "1" * size}])
    elif choice == 1:
        obj = _with(base, rng, ("vehicles",), [{"role": "involved", "plate": "京A" + "1" * size}])
    elif choice == 2:
        obj = _with(base, rng, ("event_id",), base["event_id"] + "e" * size)
    elif choice == 3:
        obj = _with(base, rng, ("persons",), [{"role": "party", "name": "张" * size}])
    else:
        obj = _with(
            base, rng, ("attributes", _FREE_TEXT[channel]), "电话13800138000 " * (size // 16)
        )
    return _dumps(obj)


def _huge_record(rng, base, channel):
    # Up to 900 KB: what a Kafka producer accepts by default (1 MiB per request).
    size = rng.choice([70_000, 200_000, 900_000])
    filler = "车牌京A12345，" * (size // 30)
    return _dumps(_with(base, rng, ("attributes", _FREE_TEXT[channel]), filler))


def _deep_nesting(rng, base, channel):
    depth = rng.choice([7, 50, 1_000, 20_000])
    nested = "[" * depth + "1" + "]" * depth
    raw = _dumps(_with(base, rng, ("attributes", "extra"), "@@NEST@@"))
    return raw.replace(b'"@@NEST@@"', nested.encode())


def _bad_number(rng, base, channel):
    token = rng.choice(["NaN", "Infinity", "-Infinity", "1e999", "-1e400", "1" * 30, "1" * 5000])
    field = rng.choice([("location", "lon"), ("location", "lat"), ("attributes", "confidence")])
    raw = _dumps(_with(base, rng, field, "@@NUM@@"))
    return raw.replace(b'"@@NUM@@"', token.encode())


def _duplicate_key(rng, base, channel):
    raw = _dumps(base)
    duplicate = rng.choice(['"event_id": "other"', '"source": "video"', '"category": "x"'])
    return b"{" + duplicate.encode() + b", " + raw[1:]


def _old_or_far_time(rng, base, channel):
    moment = rng.choice(
        [
            "1900-01-01T00:00:00+08:00",
            "1970-01-01T00:00:00+00:00",
            "2100-01-01T00:00:00+08:00",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-12:00",
        ]
    )
    fields = rng.choice([("event_time",), ("report_time",), ("event_time", "report_time")])
    obj = copy.deepcopy(base)
    for f in fields:
        obj[f] = moment
    return _dumps(obj)


def _wrong_type(rng, base, channel):
    field, value = rng.choice(
        [
            ("persons", {"role": "x"}),
            ("vehicles", "京A12345"),
            ("location", [116.8, 40.3]),
            ("schema_version", True),
            ("attributes", None),
            ("event_id", 12345),
            ("persons", [[]]),
            ("vehicles", [{"role": "x", "plate": ["京A12345"]}]),
            ("persons", [{"role": "party"}] * 40),
        ]
    )
    return _dumps(_with(base, rng, (field,), value))


def _junk(rng, base, channel):
    choice = rng.randrange(8)
    if choice == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
    if choice == 1:
        return b""
    if choice == 2:
        return rng.choice([b"null", b"1", b'"text"', b"[]", b"true", b"{}"])
    if choice == 3:
        return "\ufeff".encode() + _dumps(base)  # a byte-order mark
    if choice == 4:
        return _dumps(base).replace(b'"', b"'")
    if choice == 5:
        return _dumps(base) + b"\x00"
    if choice == 6:
        return b" \t\r\n" + _dumps(base) + b"\n"
    return _dumps(base, indent=2)


def _replayed(rng, base, channel):
    # The caller yields this one twice: the same id again.
    return _dumps(base)


#: Kinds of records and their relative weights.
KINDS = {
    "valid": (_valid, 8),
    "embedded_identifiers": (_embedded_identifiers, 8),
    "replayed": (_replayed, 4),
    "truncated": (_truncated, 8),
    "invalid_utf8": (_invalid_utf8, 8),
    "lone_surrogate": (_lone_surrogate, 8),
    "huge_field": (_huge_field, 6),
    "huge_record": (_huge_record, 1),
    "deep_nesting": (_deep_nesting, 5),
    "bad_number": (_bad_number, 8),
    "duplicate_key": (_duplicate_key, 6),
    "old_or_far_time": (_old_or_far_time, 8),
    "wrong_type": (_wrong_type, 8),
    "junk": (_junk, 8),
}


def adversarial_records(
    bases: list[tuple[str, dict]], n: int, seed: int, *, huge: bool = True
) -> list[AdversarialRecord]:
    """``n`` adversarial records made from the valid ``(channel, envelope)`` pairs in ``bases``.

    Every envelope gets a fresh ``event_id`` (``fuzz-<seed>-<i>``) first, so
    that only the replayed kind repeats one. A few records are tombstones
    (no value). ``huge=False`` leaves out the records of hundreds of KB.
    """
    rng = random.Random(seed)
    kinds = [k for k in KINDS if huge or k != "huge_record"]
    weights = [KINDS[k][1] for k in kinds]
    out: list[AdversarialRecord] = []
    i = 0
    while len(out) < n:
        channel, base = bases[rng.randrange(len(bases))]
        base = _with(base, rng, ("event_id",), f"fuzz-{seed}-{i}")
        i += 1
        if rng.random() < 0.002:
            out.append(AdversarialRecord(channel, None, "tombstone"))
            continue
        kind = rng.choices(kinds, weights)[0]
        value = KINDS[kind][0](rng, base, channel)
        out.append(AdversarialRecord(channel, value, kind))
        if kind == "replayed" and len(out) < n:
            out.append(AdversarialRecord(channel, value, kind))
    return out
