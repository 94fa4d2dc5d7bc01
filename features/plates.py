"""Motor-vehicle licence plates (机动车号牌): normalization, validation, fakes.

A mainland plate is a province abbreviation, an issuing-office letter, then
5 (ordinary) or 6 (new-energy) letters or digits.  :func:`normalize_plate`
gives the canonical spelling every other step compares.  :func:`fake_plate`
draws from a caller-supplied :class:`random.Random` so the simulator's data
is reproducible; it never touches global state.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "PROVINCE_ABBREVIATIONS",
    "PLATE_LETTERS",
    "PLATE_ALNUM",
    "PLATE_SEPARATORS",
    "normalize_plate",
    "is_valid_plate",
    "fake_plate",
]

#: One-character abbreviations of the 31 mainland provincial divisions.
PROVINCE_ABBREVIATIONS = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

#: Letters used on plates (I and O are excluded to avoid confusion with 1/0).
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"

#: Characters of a plate after the issuing-office letter.
PLATE_ALNUM = PLATE_LETTERS + "0123456789"

#: Separators people put inside plates besides whitespace: middle dots,
#: bullets, hyphens and dashes; :func:`normalize_plate` removes them.
PLATE_SEPARATORS = frozenset(
    "\u00b7\u2022\u2027\u2219\u22c5\u30fb\uff65"  # middle dots, bullets
    "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d"  # hyphens, dashes
)

_PLATE = re.compile(f"[{PROVINCE_ABBREVIATIONS}][{PLATE_LETTERS}][{PLATE_ALNUM}]{{5,6}}")


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
    return "".join(c for c in folded if not c.isspace() and c not in PLATE_SEPARATORS)


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
            + rng.choice(PLATE_ALNUM)
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
