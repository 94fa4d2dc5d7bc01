"""Tests for features.contract: every name callers import still resolves.

Validation, normalization and routing are tested in
``test_contract_violation.py``, ``test_raw_envelope.py``,
``test_normalization.py``, ``test_record_pseudonyms.py`` and
``test_dead_letter.py``.
"""

import pytest

from features import contract, contract_violation, dead_letter, normalization, raw_envelope

HOMES = {
    "CONTRACT_VERSION": contract_violation,
    "REASON_CODES": contract_violation,
    "ContractViolation": contract_violation,
    "NormalizationContext": normalization,
    "parse_raw": raw_envelope,
    "normalize_event": normalization,
    "dead_letter_record": dead_letter,
    "route_raw_record": dead_letter,
    "NORMALIZED": dead_letter,
    "DEAD_LETTER": dead_letter,
}


def test_all_lists_exactly_the_re_exported_names():
    assert sorted(contract.__all__) == sorted(HOMES)


@pytest.mark.parametrize("name", sorted(HOMES))
def test_each_name_is_the_object_of_its_home_module(name):
    assert getattr(contract, name) is getattr(HOMES[name], name)
