"""Match keys of a plate as a camera read it, for resolving misreads into vehicles.

License-plate recognition confuses a few characters with each other
(0/O/D/Q, 8/B, 1/I, 2/Z, 5/S), misreads or drops the province character,
and drops characters. Two reads of one vehicle therefore often differ in
their exact text, but agree on one of these keys:

``folded``
    the plate with every confusable character replaced by its class
    representative (``京AB0D12`` -> ``京A80012``): equal for reads that differ
    only by confusions.
``tail``
    ``folded`` without the province character: equal when the province was
    misread.
``deletions``
    ``folded`` with one character of the tail removed, one key per position
    (a plate-sized tail only, so their cost stays bounded):
    a read that dropped a character equals one of the full read's deletion
    keys (its own ``folded``).

The keys are computed at the edge, where the plate is still in clear, and
leave it only as keyed hashes (:func:`plate_key_tokens`). A read that does
not look like a plate at all (too short, no letters or digits) is
*unreadable*: it keeps its exact token and gets no match keys.

Examples
--------
>>> keys = plate_match_keys("京AB0D12")
>>> keys.folded, keys.tail
('京A80012', 'A80012')
>>> "京A8012" in keys.deletions      # a read that dropped one 0
True
>>> plate_match_keys("京?") is None
True
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from features.plates import PROVINCE_ABBREVIATIONS, normalize_plate
from features.pseudonymize import IDENTITY_MEMO_SIZE, as_key_chain, match_key_token

__all__ = [
    "CONFUSION_CLASSES",
    "PlateMatchKeys",
    "fold_confusions",
    "plate_match_keys",
    "plate_key_tokens",
    "MIN_READABLE_TAIL",
    "MAX_READABLE_TAIL",
    "MAX_PLATE_TEXT",
]

#: Characters recognition confuses, each mapped to its class representative.
CONFUSION_CLASSES = {"O": "0", "D": "0", "Q": "0", "B": "8", "I": "1", "Z": "2", "S": "5"}
#: A read needs at least this many letters or digits after the province to be matched.
MIN_READABLE_TAIL = 5
#: A read with more than this many is no plate: a legal tail has 6 (7 for
#: new energy), and a camera may add one. Longer reads get no keys, whose
#: deletion keys would cost the square of their length.
MAX_READABLE_TAIL = 8
#: Longest read looked at, separators and spaces included.
MAX_PLATE_TEXT = 32

_FOLD = str.maketrans(CONFUSION_CLASSES)


def fold_confusions(text: str) -> str:
    """Replace every confusable character by its class representative.

    >>> fold_confusions("QDO0 B8 I1 Z2 S5")
    '0000 88 11 22 55'
    """
    return text.translate(_FOLD)


@dataclass(frozen=True)
class PlateMatchKeys:
    """The clear-text match keys of one read (see the module docstring)."""

    exact: str
    folded: str
    tail: str
    deletions: tuple


def _check_plate(plate) -> None:
    if not isinstance(plate, str):
        raise TypeError(f"plate={plate!r} must be a str")


def plate_match_keys(plate: str) -> PlateMatchKeys | None:
    """The match keys of a read plate, or None when the read is unreadable.

    The province character is optional in a read (cameras drop it); the
    tail is what follows it. Unreadable: fewer than
    :data:`MIN_READABLE_TAIL` or more than :data:`MAX_READABLE_TAIL` ASCII
    letters or digits in the tail, any other character in it, or a read
    longer than :data:`MAX_PLATE_TEXT` characters.

    >>> plate_match_keys("京A" + "1" * 16_000) is None
    True
    """
    _check_plate(plate)
    if len(plate) > MAX_PLATE_TEXT:
        return None
    exact = normalize_plate(plate)
    province, tail = (
        (exact[0], exact[1:]) if exact[:1] in PROVINCE_ABBREVIATIONS and exact else ("", exact)
    )
    if not MIN_READABLE_TAIL <= len(tail) <= MAX_READABLE_TAIL or not all(
        c.isascii() and c.isalnum() for c in tail
    ):
        return None
    folded_tail = fold_confusions(tail)
    deletions = tuple(
        dict.fromkeys(
            province + folded_tail[:i] + folded_tail[i + 1 :] for i in range(len(folded_tail))
        )
    )
    return PlateMatchKeys(exact, province + folded_tail, folded_tail, deletions)


def plate_key_tokens(plate: str, key: bytes) -> dict:
    """The match keys of a read as keyed-hash tokens, ready for the normalized record.

    Returns ``{"plate_readable": False}`` for an unreadable read; otherwise
    ``plate_fold_hash``, ``plate_tail_hash`` and ``plate_deletion_hashes``.
    Each kind of key is hashed under its own label, so a folded plate and a
    deletion key with the same text do not collide by accident, except that
    deletion keys share the ``fold`` label: a short read's folded key must
    equal the full read's deletion key.

    >>> key = b"0123456789abcdef"
    >>> a, b = plate_key_tokens("京AB0D12", key), plate_key_tokens("京A8OO12", key)
    >>> a["plate_fold_hash"] == b["plate_fold_hash"], a["plate_readable"]
    (True, True)
    >>> short = plate_key_tokens("京A8012", key)
    >>> short["plate_fold_hash"] in a["plate_deletion_hashes"]
    True
    >>> plate_key_tokens("??", key)
    {'plate_readable': False}
    """
    _check_plate(plate)  # before the memo, which cannot hold an unhashable value
    tokens = _plate_key_tokens(plate, as_key_chain(key))
    if tokens is None:
        return {"plate_readable": False}
    fold_hash, tail_hash, deletion_hashes = tokens
    return {
        "plate_readable": True,
        "plate_fold_hash": fold_hash,
        "plate_tail_hash": tail_hash,
        "plate_deletion_hashes": list(deletion_hashes),
    }


@functools.lru_cache(maxsize=IDENTITY_MEMO_SIZE)
def _plate_key_tokens(plate: str, chain) -> tuple | None:
    keys = plate_match_keys(plate)
    if keys is None:
        return None
    return (
        match_key_token("plate_fold", keys.folded, chain),
        match_key_token("plate_tail", keys.tail, chain),
        tuple(match_key_token("plate_fold", d, chain) for d in keys.deletions),
    )
