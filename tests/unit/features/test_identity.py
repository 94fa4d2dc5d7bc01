"""Tests for features.identity: every name callers import still resolves.

ID numbers, phone numbers, plates and the text patterns are tested in
``test_id_numbers.py``, ``test_phone_numbers.py``, ``test_plates.py`` and
``test_identifier_patterns.py``.
"""

import pytest

from features import id_numbers, identifier_patterns, identity, phone_numbers, plates

HOMES = {
    "PROVINCE_ABBREVIATIONS": plates,
    "PLATE_LETTERS": plates,
    "ID_NUMBER_PATTERN": identifier_patterns,
    "PHONE_PATTERN": identifier_patterns,
    "PLATE_PATTERN": identifier_patterns,
    "MISREAD_PLATE_PATTERN": identifier_patterns,
    "id_check_digit": id_numbers,
    "is_valid_id_number": id_numbers,
    "fake_id_number": id_numbers,
    "is_valid_phone": phone_numbers,
    "fake_phone": phone_numbers,
    "normalize_plate": plates,
    "is_valid_plate": plates,
    "fake_plate": plates,
}


def test_all_lists_exactly_the_re_exported_names():
    assert sorted(identity.__all__) == sorted(HOMES)


@pytest.mark.parametrize("name", sorted(HOMES))
def test_each_name_is_the_object_of_its_home_module(name):
    assert getattr(identity, name) is getattr(HOMES[name], name)
