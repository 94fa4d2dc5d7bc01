"""Tests for features.raw_envelope."""

from __future__ import annotations

import pytest

from features.contract_violation import ContractViolation
from features.raw_envelope import parse_raw


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"a": ', "is not valid JSON"),
        ("[1, 2]", "must be a JSON object, got list"),
        (b"\xff\xfe", "is not UTF-8"),
    ],
)
def test_parse_raw_refuses_non_objects(text, message):
    with pytest.raises(ContractViolation, match=message) as info:
        parse_raw(text)
    assert info.value.reason_code == "invalid_json"
