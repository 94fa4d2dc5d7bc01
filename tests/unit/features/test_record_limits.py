"""Size limits through routing: an oversized record becomes a small dead letter.

The ``ctx`` and ``grid_event`` fixtures are in ``conftest.py``.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from features.dead_letter import DEAD_LETTER, NORMALIZED, route_raw_record
from features.record_limits import ContractLimits, kept_raw_text, limits_from_mapping

from .contract_reference import NOW_MS


def _route(raw, ctx):
    return route_raw_record(
        raw, ctx, NOW_MS, channel="grid", topic="zz.raw.grid", partition=0, offset=7
    )


def test_a_4_kb_phone_is_refused_naming_field_size_and_limit(ctx, grid_event):
    grid_event["persons"][0]["phone"] = "1" * 4096
    destination, key, value = _route(json.dumps(grid_event), ctx)
    letter = json.loads(value)
    assert (destination, key) == (DEAD_LETTER, "zz.raw.grid-0-7")
    assert letter["reason_code"] == "too_large"
    assert letter["reason"] == ("field 'persons[0].phone' is 4096 characters long; the limit is 32")
    # Before, the phone's 4096 deletion keys made 125 KB of output.
    assert len(value.encode()) < 6000


def test_a_huge_record_is_dead_lettered_cut_with_its_size(ctx, grid_event):
    grid_event["attributes"]["description"] = "电话13800138000 " + "很" * 2_000_000
    raw = json.dumps(grid_event, ensure_ascii=False).encode()
    destination, _, value = _route(raw, ctx)
    letter = json.loads(value)
    assert destination == DEAD_LETTER
    assert letter["reason"] == f"record is {len(raw)} bytes long; the limit is 65536"
    assert letter["raw_bytes"] == len(raw)
    assert letter["raw_scrubbed"].endswith(f"…[truncated: {len(raw)} bytes in all]")
    assert "13800138000" not in letter["raw_scrubbed"]
    # The dead letter fits where the raw record did not (1 MiB per Kafka request).
    assert len(value.encode()) < ctx.limits.output_bytes < 1024 * 1024


def test_cutting_never_leaves_part_of_an_identifier():
    limits = ContractLimits(dead_letter_raw_chars=20)
    kept = kept_raw_text('{"d": "车牌京A12345，电话13800138000"}', limits)
    # The cut fell after "13" of the phone number: those digits are dropped.
    assert kept == '{"d": "车牌京A12345，电话…[truncated: 44 bytes in all]'
    # Cut inside the plate, the plate goes too.
    kept = kept_raw_text(
        '{"d": "车牌京A12345，电话13800138000"}', ContractLimits(dead_letter_raw_chars=12)
    )
    assert kept == '{"d": "车牌…[truncated: 44 bytes in all]'


@pytest.mark.parametrize(
    "raw, code",
    [
        (b'{"event_id": "\xff"}', "invalid_encoding"),
        (b'{"event_id": "\xed\xa0\x80"}', "invalid_encoding"),
        ('{"event_id": "\\ud800"}', "invalid_encoding"),
        ('{"event_id": "\ud800"}', "invalid_encoding"),
        ('{"location": {"lon": NaN}}', "invalid_json"),
        ("[" * 100_000, "too_large"),
    ],
)
def test_bytes_that_are_not_text_become_valid_utf8_dead_letters(ctx, raw, code):
    destination, _, value = _route(raw, ctx)
    assert destination == DEAD_LETTER
    letter = json.loads(value.encode("utf-8"))  # strict: no surrogate slipped through
    assert letter["reason_code"] == code


def test_output_over_the_limit_is_dead_lettered(ctx, grid_event):
    small = dataclasses.replace(ctx, limits=ContractLimits(record_bytes=700, output_bytes=1400))
    destination, _, value = _route(json.dumps(grid_event), ctx)
    assert destination == NORMALIZED
    size = len(value.encode())
    assert 1400 < size
    destination, _, value = _route(json.dumps(grid_event), small)
    letter = json.loads(value)
    assert destination == DEAD_LETTER
    assert letter["reason"] == f"normalized record is {size} bytes long; the limit is 1400"


def test_limits_are_read_from_configuration_by_name():
    limits = limits_from_mapping({"record_bytes": 4096, "field_chars": {"persons.phone": 20}})
    assert (limits.record_bytes, limits.field_chars["persons.phone"]) == (4096, 20)
    assert limits.field_chars["vehicles.plate"] == 32
    with pytest.raises(ValueError, match="record_bytes=4096 must be at most half"):
        limits_from_mapping({"record_bytes": 4096, "output_bytes": 4096})


@pytest.mark.parametrize(
    "raw, code, kept",
    [
        (bytearray(b'{"a": 1}'), "missing_field", '{"a": 1}'),
        (memoryview(b"\xff"), "invalid_encoding", "\ufffd"),
        (12345, "invalid_json", "12345"),
        (["x"], "invalid_json", "['x']"),
    ],
)
def test_values_of_any_type_are_dead_lettered_not_raised(ctx, raw, code, kept):
    destination, _, value = _route(raw, ctx)
    letter = json.loads(value)
    assert destination == DEAD_LETTER
    assert (letter["reason_code"], letter["raw_scrubbed"]) == (code, kept)
