"""Resident identity card numbers (居民身份证号码, GB 11643-1999).

An ID number has 18 characters: a six-digit administrative region code,
the birth date ``YYYYMMDD``, a three-digit sequence code and a check
character computed with ISO 7064 MOD 11-2 (:func:`id_check_digit`).
:func:`fake_id_number` draws from a caller-supplied :class:`random.Random`
so the simulator's data is reproducible; it never touches global state.
"""

from __future__ import annotations

import datetime as _dt
import re

__all__ = [
    "id_check_digit",
    "is_valid_id_number",
    "fake_id_number",
]

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
