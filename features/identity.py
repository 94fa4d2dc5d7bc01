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
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata

__all__ = [
    "PROVINCE_ABBREVIATIONS",
    "PLATE_LETTERS",
    "ID_NUMBER_PATTERN",
    "PHONE_PATTERN",
    "PLATE_PATTERN",
    "id_check_digit",
    "is_valid_id_number",
    "fake_id_number",
    "is_valid_phone",
    "fake_phone",
    "normalize_plate",
    "is_valid_plate",
    "fake_plate",
]

# --------------------------------------------------------------------------
# Identity card numbers (GB 11643-1999)
# --------------------------------------------------------------------------

# Weight of position i (1-based, left to right) is 2**(18 - i) mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Check character indexed by (weighted sum mod 11).
_ID_CHECK_CHARS = "10X98765432"

# Birth years representable by the (18|19|20)YY part of the number.
_ID_MIN_YEAR = 1800
_ID_MAX_YEAR = 2099

_ID_SHAPE = re.compile(r"[0-9]{17}[0-9Xx]")
_DIGITS17 = re.compile(r"[0-9]{17}")
_REGION_CODE = re.compile(r"[1-9][0-9]{5}")

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


def id_check_digit(first17):
    """Compute the GB 11643-1999 check character (ISO 7064 MOD 11-2).

    Parameters
    ----------
    first17 : str
        The first 17 characters of the ID number, all ASCII digits.

    Returns
    -------
    str
        One of ``"0"``..``"9"`` or ``"X"``.

    Raises
    ------
    ValueError
        If ``first17`` is not exactly 17 ASCII digits.

    Examples
    --------
    >>> id_check_digit("11010519491231002")
    'X'
    >>> id_check_digit("44052418800101001")
    '4'
    """
    if not isinstance(first17, str) or not _DIGITS17.fullmatch(first17):
        raise ValueError(f"first17={first17!r} provided, but must be exactly 17 ASCII digits")
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK_CHARS[total % 11]


def _valid_birth_date(yyyymmdd):
    year, month, day = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:])
    if not _ID_MIN_YEAR <= year <= _ID_MAX_YEAR:
        return False
    try:
        _dt.date(year, month, day)
    except ValueError:
        return False
    return True


def is_valid_id_number(s):
    """Return True if ``s`` is a well-formed 18-character ID number.

    Checks: 17 ASCII digits followed by a digit or ``X``/``x``; positions
    7-14 form a real calendar date ``YYYYMMDD`` with year 1800..2099; the
    check character is correct.  The region code is not looked up.

    Parameters
    ----------
    s : str
        Candidate ID number (no surrounding whitespace).

    Returns
    -------
    bool
        False for anything that is not a valid ID number, including
        non-strings.

    Examples
    --------
    >>> is_valid_id_number("11010519491231002X")
    True
    >>> is_valid_id_number("110105194912310021")
    False
    """
    if not isinstance(s, str) or not _ID_SHAPE.fullmatch(s):
        return False
    if not _valid_birth_date(s[6:14]):
        return False
    return id_check_digit(s[:17]) == s[17].upper()


def fake_id_number(rng, region_code="110118", birth_year_range=(1950, 2005)):
    """Draw a random, valid ID number.

    Parameters
    ----------
    rng : random.Random
        Source of randomness; the result is a deterministic function of
        its state.
    region_code : str, default "110118"
        Six-digit administrative code (default: Miyun District, Beijing).
    birth_year_range : tuple of int, default (1950, 2005)
        Inclusive ``(first, last)`` birth years, within 1800..2099.

    Returns
    -------
    str
        An 18-character ID number that passes :func:`is_valid_id_number`.

    Raises
    ------
    ValueError
        If ``region_code`` or ``birth_year_range`` is malformed.

    Examples
    --------
    >>> import random
    >>> a = fake_id_number(random.Random(7))
    >>> a == fake_id_number(random.Random(7)), is_valid_id_number(a)
    (True, True)
    >>> a[:6]
    '110118'
    """
    if not isinstance(region_code, str) or not _REGION_CODE.fullmatch(region_code):
        raise ValueError(
            f"region_code={region_code!r} provided, but must be 6 ASCII digits not starting with 0"
        )
    try:
        first, last = birth_year_range
        ok = (
            all(isinstance(y, int) and not isinstance(y, bool) for y in (first, last))
            and _ID_MIN_YEAR <= first <= last <= _ID_MAX_YEAR
        )
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"birth_year_range={birth_year_range!r} provided, but must be a "
            f"pair of integers (first, last) with "
            f"{_ID_MIN_YEAR} <= first <= last <= {_ID_MAX_YEAR}"
        )
    year = rng.randint(first, last)
    start = _dt.date(year, 1, 1)
    days_in_year = (_dt.date(year + 1, 1, 1) - start).days
    birth = start + _dt.timedelta(days=rng.randint(0, days_in_year - 1))
    sequence = rng.randint(1, 999)
    first17 = f"{region_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_digit(first17)


# --------------------------------------------------------------------------
# Mobile phone numbers
# --------------------------------------------------------------------------

_PHONE = re.compile(r"1[3-9][0-9]{9}")

# Common carrier prefixes, used to make fake numbers look plausible.
_PHONE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "170",
    "171",
    "172",
    "173",
    "175",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
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


def is_valid_phone(s):
    """Return True if ``s`` is a mainland mobile number ``1[3-9]`` + 9 digits.

    Parameters
    ----------
    s : str
        Candidate number: exactly 11 ASCII digits, no separators or country
        code.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_valid_phone("13800138000")
    True
    >>> is_valid_phone("12800138000")
    False
    """
    return isinstance(s, str) and _PHONE.fullmatch(s) is not None


def fake_phone(rng):
    """Draw a random, valid mainland mobile number.

    Parameters
    ----------
    rng : random.Random
        Source of randomness.

    Returns
    -------
    str
        11 digits passing :func:`is_valid_phone`.

    Examples
    --------
    >>> import random
    >>> p = fake_phone(random.Random(1))
    >>> p == fake_phone(random.Random(1)), is_valid_phone(p)
    (True, True)
    """
    prefix = rng.choice(_PHONE_PREFIXES)
    return prefix + "".join(rng.choice("0123456789") for _ in range(8))


# --------------------------------------------------------------------------
# Licence plates
# --------------------------------------------------------------------------

#: One-character abbreviations of the 31 mainland provincial divisions.
PROVINCE_ABBREVIATIONS = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

#: Letters used on plates (I and O are excluded to avoid confusion with 1/0).
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"

_PLATE_ALNUM = PLATE_LETTERS + "0123456789"
_PLATE = re.compile(f"[{PROVINCE_ABBREVIATIONS}][{PLATE_LETTERS}][{_PLATE_ALNUM}]{{5,6}}")
# Separators people put inside plates: whitespace, middle dots, hyphens/dashes.
_PLATE_SEPARATORS = frozenset(
    "\u00b7\u2022\u2027\u2219\u22c5\u30fb\uff65"  # middle dots, bullets
    "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d"  # hyphens, dashes
)
_PLATE_SEP_CLASS = "[ " + re.escape("".join(sorted(_PLATE_SEPARATORS))) + "]?"

#: Finds plates in free text: province + letter + 5 (ordinary) or 6
#: (new-energy) alphanumerics, case-insensitive, optionally with one space,
#: middle dot or hyphen after the province and after the letter.
PLATE_PATTERN = re.compile(
    f"[{PROVINCE_ABBREVIATIONS}]"
    + _PLATE_SEP_CLASS
    + f"[{PLATE_LETTERS}]"
    + _PLATE_SEP_CLASS
    + f"[{_PLATE_ALNUM}]{{5,6}}"
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


def normalize_plate(s):
    """Canonical form of a plate: NFKC, upper-case, separators removed.

    Full-width characters are folded to ASCII, letters are upper-cased and
    all whitespace, middle dots and hyphens/dashes are removed.

    Parameters
    ----------
    s : str
        Plate as written, e.g. ``"京a·12345"``.

    Returns
    -------
    str

    Raises
    ------
    TypeError
        If ``s`` is not a string.

    Examples
    --------
    >>> normalize_plate(" 京a·123-45 ")
    '京A12345'
    """
    if not isinstance(s, str):
        raise TypeError(f"s={s!r} provided, but must be a str")
    folded = unicodedata.normalize("NFKC", s).upper()
    return "".join(c for c in folded if not c.isspace() and c not in _PLATE_SEPARATORS)


def is_valid_plate(s):
    """Return True if ``s`` is a well-formed mainland plate.

    ``s`` is first passed through :func:`normalize_plate`.  Accepted forms
    are a province abbreviation, a letter (not I or O), then 5 (ordinary)
    or 6 (new-energy) letters/digits (no I or O).  Special-purpose plates
    (警, 学, 挂, 使, 领, ...) are not accepted.

    Parameters
    ----------
    s : str
        Candidate plate.

    Returns
    -------
    bool
        False for non-strings and malformed plates.

    Examples
    --------
    >>> is_valid_plate("京A·12345"), is_valid_plate("京AD12345")
    (True, True)
    >>> is_valid_plate("京I12345")
    False
    """
    if not isinstance(s, str):
        return False
    return _PLATE.fullmatch(normalize_plate(s)) is not None


def fake_plate(rng, province="京", city_letter=None, *, new_energy=False):
    """Draw a random, valid plate.

    Parameters
    ----------
    rng : random.Random
        Source of randomness.
    province : str, default "京"
        Province abbreviation, one of :data:`PROVINCE_ABBREVIATIONS`.
    city_letter : str or None, default None
        Issuing-office letter (one of :data:`PLATE_LETTERS`); drawn from
        ``rng`` when None.
    new_energy : bool, default False
        If True, produce the 6-character new-energy tail (``D``/``F`` +
        letter-or-digit + 4 digits); otherwise a 5-character ordinary tail
        with at most two letters.

    Returns
    -------
    str
        Normalized plate passing :func:`is_valid_plate`.

    Raises
    ------
    ValueError
        If ``province`` or ``city_letter`` is not allowed.

    Examples
    --------
    >>> import random
    >>> p = fake_plate(random.Random(3))
    >>> p == fake_plate(random.Random(3)), is_valid_plate(p), p[0]
    (True, True, '京')
    >>> fake_plate(random.Random(3), city_letter="Q")[:2]
    '京Q'
    """
    if not (
        isinstance(province, str) and len(province) == 1 and province in PROVINCE_ABBREVIATIONS
    ):
        raise ValueError(
            f"province={province!r} provided, but is not one of the 31 "
            f"abbreviations: {PROVINCE_ABBREVIATIONS}"
        )
    if city_letter is None:
        city_letter = rng.choice(PLATE_LETTERS)
    elif not (
        isinstance(city_letter, str) and len(city_letter) == 1 and city_letter in PLATE_LETTERS
    ):
        raise ValueError(
            f"city_letter={city_letter!r} provided, but is not one of: {PLATE_LETTERS} (or None)"
        )
    digits = "0123456789"
    if new_energy:
        tail = (
            rng.choice("DF")
            + rng.choice(_PLATE_ALNUM)
            + "".join(rng.choice(digits) for _ in range(4))
        )
    else:
        n_letters = rng.choice((0, 0, 0, 1, 1, 2))
        letter_positions = set(rng.sample(range(5), n_letters))
        tail = "".join(
            rng.choice(PLATE_LETTERS) if i in letter_positions else rng.choice(digits)
            for i in range(5)
        )
    return province + city_letter + tail
