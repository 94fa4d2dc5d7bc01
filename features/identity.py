"""Chinese personal identifiers: validation, fake generation, text patterns.

Covers three identifiers that appear in social-governance records:

* resident identity card numbers (GB 11643-1999, 18 characters),
* mainland mobile phone numbers (11 digits, ``1[3-9]xxxxxxxxx``),
* motor-vehicle licence plates (province abbreviation + letter + 5 or 6
  alphanumerics).

The ``fake_*`` functions draw from a caller-supplied :class:`random.Random`
so the simulator's data is reproducible; they never touch global state.
The compiled ``*_PATTERN`` regular expressions find identifiers embedded in
free text; they refuse to match inside longer runs of ASCII letters, digits
or underscores (so a 20-digit number or a pseudonym token is not split).

This module gathers the public names of the identifier modules, one concept
each: :mod:`features.id_numbers`, :mod:`features.phone_numbers`,
:mod:`features.plates` and :mod:`features.identifier_patterns`.
"""

from __future__ import annotations

from features.id_numbers import fake_id_number, id_check_digit, is_valid_id_number
from features.identifier_patterns import (
    ID_NUMBER_PATTERN,
    MISREAD_PLATE_PATTERN,
    PHONE_PATTERN,
    PLATE_PATTERN,
)
from features.phone_numbers import fake_phone, is_valid_phone
from features.plates import (
    PLATE_LETTERS,
    PROVINCE_ABBREVIATIONS,
    fake_plate,
    is_valid_plate,
    normalize_plate,
)

__all__ = [
    "PROVINCE_ABBREVIATIONS",
    "PLATE_LETTERS",
    "ID_NUMBER_PATTERN",
    "PHONE_PATTERN",
    "PLATE_PATTERN",
    "MISREAD_PLATE_PATTERN",
    "id_check_digit",
    "is_valid_id_number",
    "fake_id_number",
    "is_valid_phone",
    "fake_phone",
    "normalize_plate",
    "is_valid_plate",
    "fake_plate",
]
