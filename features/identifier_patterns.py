"""Regular expressions that find personal identifiers in free text.

The compiled ``*_PATTERN`` expressions find ID numbers, mobile numbers and
licence plates embedded in free text (a hotline transcript, a grid worker's
description, a refused record's raw text); scrubbing replaces each match by
its pseudonym.  They refuse to match inside longer runs of ASCII letters,
digits or underscores (so a 20-digit number or a pseudonym token is not
split).
"""

from __future__ import annotations

import re

from features.plates import PLATE_ALNUM, PLATE_LETTERS, PLATE_SEPARATORS, PROVINCE_ABBREVIATIONS

__all__ = [
    "ID_NUMBER_PATTERN",
    "PHONE_PATTERN",
    "PLATE_PATTERN",
    "MISREAD_PLATE_PATTERN",
]

# Letters never adjacent to an identifier found in free text: ASCII
# alphanumerics and underscore (pseudonym tokens consist of these).
_NOT_GLUED_BEFORE = r"(?<![0-9A-Za-z_])"
_NOT_GLUED_AFTER = r"(?![0-9A-Za-z_])"

#: Finds 18-character ID numbers (structural check of region, birth date
#: and check character, not of the check digit's correctness).
ID_NUMBER_PATTERN = re.compile(
    _NOT_GLUED_BEFORE
    + r"[1-9][0-9]{5}"  # administrative region
    + r"(?:18|19|20)[0-9]{2}"  # birth year
    + r"(?:0[1-9]|1[0-2])"  # birth month
    + r"(?:0[1-9]|[12][0-9]|3[01])"  # birth day
    + r"[0-9]{3}"  # sequence code
    + r"[0-9Xx]"  # check character
    + _NOT_GLUED_AFTER
)

#: Finds mainland mobile numbers, optionally with a ``+86``/``0086``/``86``
#: country code and space or hyphen separators in 3-4-4 grouping
#: (``138 0013 8000``, ``+86 138-0013-8000``).
PHONE_PATTERN = re.compile(
    _NOT_GLUED_BEFORE
    + r"(?:(?:\+|00)?86[ -]?)?"
    + r"1[3-9][0-9](?:[ -]?[0-9]{4}){2}"
    + _NOT_GLUED_AFTER
)

_PLATE_SEP_CLASS = "[ " + re.escape("".join(sorted(PLATE_SEPARATORS))) + "]?"

#: Finds plates in free text: province + letter + 5 (ordinary) or 6
#: (new-energy) alphanumerics, case-insensitive, optionally with one space,
#: middle dot or hyphen after the province and after the letter.
PLATE_PATTERN = re.compile(
    f"[{PROVINCE_ABBREVIATIONS}]"
    + _PLATE_SEP_CLASS
    + f"[{PLATE_LETTERS}]"
    + _PLATE_SEP_CLASS
    + f"[{PLATE_ALNUM}]{{5,6}}"
    + _NOT_GLUED_AFTER,
    re.IGNORECASE | re.ASCII,
)


#: Finds plates *as a camera may have read them* in free text: a province
#: character, then 4 to 7 letters or digits (any letter, including the I and
#: O that legal plates never carry, and one character more or fewer than a
#: legal plate). Scrubbing uses it after :data:`PLATE_PATTERN`, so that a
#: misread plate in a refused record's raw text is not kept in clear.
MISREAD_PLATE_PATTERN = re.compile(
    f"[{PROVINCE_ABBREVIATIONS}]" + _PLATE_SEP_CLASS + "[0-9A-Z]{4,7}" + _NOT_GLUED_AFTER,
    re.IGNORECASE | re.ASCII,
)
