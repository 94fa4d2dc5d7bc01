"""Tests for features.contract_violation."""

from __future__ import annotations

import pytest

from features.contract_violation import ContractViolation


def test_reason_code_must_be_declared():
    with pytest.raises(ValueError, match="reason_code='oops' is not one of: invalid_json"):
        ContractViolation("oops", "x")
