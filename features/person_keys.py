"""Match keys of a person as reported, for joining mentions that carry no ID number.

A grid worker or a hotline operator types a name and a phone number; the ID
number is often missing. Typed names go wrong by homophones (张伟 / 张玮) and
phone numbers by one digit. Two keys catch both without the values leaving
the edge in clear:

``name_sound``
    the name's toneless pinyin (``张伟`` and ``张玮`` are both ``zhang wei``);
``phone_deletions``
    the phone's digits with one digit removed, one key per position: two
    numbers that differ in one digit, or by one dropped digit, share one.

Both are hashed under the pseudonymization key (:func:`person_key_tokens`).

Examples
--------
>>> name_sound("张伟") == name_sound("张玮") == "zhang wei"
True
>>> set(phone_deletions("13800138000")) & set(phone_deletions("13800139000"))
{'1380013000'}
"""

from __future__ import annotations

import functools
import unicodedata

from features.pseudonymize import (
    IDENTITY_MEMO_SIZE,
    as_key_chain,
    canonicalize,
    match_key_token,
)

__all__ = [
    "name_sound",
    "phone_deletions",
    "person_key_tokens",
    "MIN_PHONE_DIGITS",
    "MAX_PHONE_DIGITS",
    "MAX_PHONE_TEXT",
]

#: Digits a phone number needs for match keys (a local number without area code).
MIN_PHONE_DIGITS = 7
#: Most digits of a phone number (E.164, country code included).
MAX_PHONE_DIGITS = 15
#: Longest phone text looked at: digits and separators, ``+86 (138) 0013-8000``.
MAX_PHONE_TEXT = 64


def name_sound(name: str) -> str | None:
    """Toneless pinyin of a name, syllables separated by spaces; None for no name.

    Latin letters are lower-cased and kept; other characters are dropped.
    """
    from pypinyin import Style, lazy_pinyin

    if not isinstance(name, str):
        raise TypeError(f"name={name!r} must be a str")
    text = "".join(unicodedata.normalize("NFKC", name).split())
    if not text:
        return None
    syllables = [s.lower() for s in lazy_pinyin(text, style=Style.NORMAL, errors="ignore")]
    sound = " ".join(s for s in syllables if s.isalpha())
    return sound or None


def phone_deletions(phone: str) -> tuple:
    """Each one-digit deletion of a phone number's canonical digits.

    The country code is dropped as :func:`features.pseudonymize.canonicalize`
    drops it. Only a plausible number gets keys: fewer than
    :data:`MIN_PHONE_DIGITS` digits are too short to match on, more than
    :data:`MAX_PHONE_DIGITS` (the longest number E.164 allows) are no phone
    number, and their keys would cost the square of their length.

    >>> len(phone_deletions("13800138000")), phone_deletions("1" * 16_000)
    (8, ())
    """
    if len(phone) > MAX_PHONE_TEXT:
        return ()
    digits = canonicalize(phone, "phone")
    if not MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
        return ()
    return tuple(dict.fromkeys(digits[:i] + digits[i + 1 :] for i in range(len(digits))))


def person_key_tokens(name: str | None, phone: str | None, key: bytes) -> dict:
    """The person's match keys as keyed-hash tokens (None or [] where absent).

    >>> key = b"0123456789abcdef"
    >>> a = person_key_tokens("张伟", "13800138000", key)
    >>> b = person_key_tokens("张玮", "13800139000", key)
    >>> a["name_sound_hash"] == b["name_sound_hash"]
    True
    >>> len(set(a["phone_deletion_hashes"]) & set(b["phone_deletion_hashes"]))
    1
    >>> person_key_tokens(None, None, key)
    {'name_sound_hash': None, 'phone_deletion_hashes': []}
    """
    name = name if isinstance(name, str) else None
    phone = phone if isinstance(phone, str) else None
    sound_hash, deletion_hashes = _person_key_tokens(name, phone, as_key_chain(key))
    return {"name_sound_hash": sound_hash, "phone_deletion_hashes": list(deletion_hashes)}


@functools.lru_cache(maxsize=IDENTITY_MEMO_SIZE)
def _person_key_tokens(name: str | None, phone: str | None, chain) -> tuple:
    sound = name_sound(name) if name is not None else None
    deletions = phone_deletions(phone) if phone is not None and phone.strip() else ()
    return (
        match_key_token("name_sound", sound, chain) if sound else None,
        tuple(match_key_token("phone_del", d, chain) for d in deletions),
    )
