"""Tests for features.raw_envelope: the guard every raw record passes first."""

from __future__ import annotations

import pytest

from features.contract_violation import ContractViolation
from features.raw_envelope import parse_raw, parse_timestamp
from features.record_limits import ContractLimits


@pytest.mark.parametrize(
    "text, code, message",
    [
        ('{"a": ', "invalid_json", "is not valid JSON"),
        ("[1, 2]", "invalid_json", "must be a JSON object, got list"),
        (b"\xff\xfe", "invalid_encoding", "is not UTF-8"),
        # A surrogate encoded as UTF-8 bytes is not UTF-8 either.
        (b'{"a": "\xed\xa0\x80"}', "invalid_encoding", "is not UTF-8"),
        # ... nor, given as text, a lone surrogate.
        ('{"a": "\ud800"}', "invalid_encoding", "is not UTF-8"),
        ('{"a": "x\\ud800y"}', "invalid_encoding", r"field 'a' holds a lone surrogate"),
        ('{"\\udfff": 1}', "invalid_encoding", r"a key of object '\.' holds a lone surrogate"),
        # Upper-case hex, deep in the record: found, and named by its path.
        (
            '{"a": ["ok", {"b": "\\uDBFF"}]}',
            "invalid_encoding",
            r"field 'a\[1\]\.b' holds a lone surrogate",
        ),
        ('{"lon": NaN}', "invalid_json", "holds NaN, which is not JSON"),
        ('{"lon": -Infinity}', "invalid_json", "holds -Infinity, which is not JSON"),
        ('{"lon": 1e999}', "invalid_json", "a number of 5 characters overflows a 64-bit float"),
        (
            '{"n": 9223372036854775808}',
            "invalid_json",
            "an integer of 19 digits does not fit in 64 bits",
        ),
        ('{"n": ' + "7" * 5000 + "}", "invalid_json", "an integer of 5000 digits does not fit"),
        ('{"a": 1, "a": 2}', "invalid_json", "key 'a' appears more than once"),
        ('{"p": [{"x": 1, "x": 1}]}', "invalid_json", "key 'x' appears more than once"),
        # A byte-order mark is not JSON (as json.loads has it).
        (
            b'\xef\xbb\xbf{"a": 1}',
            "invalid_json",
            r"not valid JSON: Unexpected UTF-8 BOM \(decode using utf-8-sig\): line 1 column 1",
        ),
    ],
)
def test_parse_raw_refuses_what_is_not_a_strict_json_object(text, code, message):
    with pytest.raises(ContractViolation, match=message) as info:
        parse_raw(text)
    assert info.value.reason_code == code


def test_surrogate_pairs_are_text():
    # An escaped pair is one character outside the BMP, as ensure_ascii writes it.
    assert parse_raw('{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}
    assert parse_raw('{"n": -9223372036854775808, "x": 1.5e300}') == {
        "n": -(2**63),
        "x": 1.5e300,
    }


def test_size_is_checked_on_the_bytes_before_decoding():
    limits = ContractLimits(record_bytes=100, output_bytes=200)
    # Not even UTF-8, but too large first: no decoding was attempted.
    with pytest.raises(ContractViolation, match="record is 101 bytes long; the limit is 100"):
        parse_raw(b"\xff" * 101, limits)
    # 34 characters, 100 bytes: the limit is on bytes.
    text = '{"a": "' + "密" * 31 + '"}'
    assert len(text.encode()) == 102
    with pytest.raises(ContractViolation, match="record is 102 bytes long") as info:
        parse_raw(text, limits)
    assert info.value.reason_code == "too_large"


@pytest.mark.parametrize(
    "record, message",
    [
        ('{"a": [[[[[[1]]]]]]}', r"'a\[0\]\[0\]\[0\]' is nested deeper than 4 levels"),
        ('{"persons": [{"phone": "' + "1" * 33 + '"}]}', r"'persons\[0\]\.phone' is 33 .* 32"),
        ('{"attributes": {"text": "' + "x" * 41 + '"}}', r"'attributes\.text' is 41 .* 40"),
        ('{"l": [' + ",".join(["1"] * 9) + "]}", r"list 'l' has 9 items; the limit is 8"),
        ('{"' + "k" * 17 + '": 1}', r"a key of object '\.' is 17 characters long; the limit is 16"),
    ],
)
def test_fields_over_their_limit_are_named_with_size_and_limit(record, message):
    limits = ContractLimits(nesting_depth=4, list_items=8, key_chars=16, text_chars=40)
    with pytest.raises(ContractViolation, match=message) as info:
        parse_raw(record, limits)
    assert info.value.reason_code == "too_large"


def test_nesting_beyond_the_parser_is_refused_not_raised():
    with pytest.raises(ContractViolation, match="nested deeper than the parser goes") as info:
        parse_raw(
            "[" * 60_000 + "]" * 60_000, ContractLimits(record_bytes=200_000, output_bytes=400_000)
        )
    assert info.value.reason_code == "too_large"


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-12:00"])
def test_timestamps_at_the_ends_of_the_calendar_are_refused(value):
    with pytest.raises(ContractViolation, match="lies outside the years 2-9998"):
        parse_timestamp(value, "event_time")
