"""Mainland mobile phone numbers: 11 digits, ``1[3-9]xxxxxxxxx``.

:func:`fake_phone` draws from a caller-supplied :class:`random.Random` so the
simulator's data is reproducible; it never touches global state.
"""

from __future__ import annotations

import re

__all__ = [
    "is_valid_phone",
    "fake_phone",
]

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
