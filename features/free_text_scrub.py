"""Scrubbing personal identifiers out of free text.

A grid worker's description, a hotline transcript or a refused record's raw
text may carry ID numbers, phone numbers, plates and names typed in any
shape. :func:`scrub_text` replaces each by its keyed-hash pseudonym
(:func:`features.pseudonymize.pseudonymize`) and keeps everything else.

What is found (patterns in :mod:`features.identifier_patterns`):

* numbers written with any separators (spaces, line breaks, dots, slashes,
  underscores, dashes, brackets), full-width or other-script digits or
  Chinese numerals (also the financial 壹贰叁 and the spoken 幺两洞拐勾),
  glued to letters or Chinese characters: 18- and 15-digit ID numbers
  (check character ``X`` or ``x``), mobile numbers with or without
  ``+86``/``0086``, landlines with area code and extension, and any 7 to 18
  digits after a phone word (``电话``, ``tel``);
* plates, also broken across lines or as a camera may have misread them;
* the identifiers the record itself carries (``known``: its persons' names,
  phones, ID numbers, its plates), wherever they occur;
* names after a cue: ``姓名：X``, ``联系人X``, ``X先生``, ``X女士``, ``name: X``,
  ``Mr. X``, also with Chinese numerals (王一博), a middle dot (约翰·史密斯),
  spaces (张 三) or in Latin letters (Zhang Wei, WANG Fang).

Dates, times, amounts, house numbers and case numbers (``(2026)京0105刑初
123号``) are kept.

A number glued to other digits (a 20-digit serial) is not split: it is
another number. When in doubt the text is scrubbed, so an 18-digit serial is
taken for an ID number. Matching is linear in the text's length. Tokens are
not matched as identifiers by design, but scrubbing is meant to run once on
clear text: a token's hex digits are not protected from a second pass.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from features.identifier_patterns import (
    CJK_DIGIT_VALUES,
    DIGIT_GROUP_PATTERN,
    EXTENSION_PATTERN,
    ID_NUMBER_DIGITS,
    LANDLINE_DIGITS,
    LOOSE_ID_NUMBER_DIGITS,
    MISREAD_PLATE_PATTERN,
    MOBILE_DIGITS,
    NAME_AFTER_LABEL_PATTERN,
    NAME_AFTER_ROLE_PATTERN,
    NAME_BEFORE_TITLE_PATTERN,
    NUMBER_RUN_PATTERN,
    NUMBER_SEPARATORS,
    OLD_ID_NUMBER_DIGITS,
    PHONE_CUE_PATTERN,
    PLATE_PATTERN,
)
from features.pseudonymize import (
    IDENTITY_MEMO_SIZE,
    as_key_chain,
    match_key_token,
    pseudonymize,
)

__all__ = ["scrub_text", "record_identifiers"]

# Full-width ASCII variants (U+FF01..U+FF5E) and the ideographic space map
# one-to-one onto ASCII, so folding them keeps string offsets unchanged.
_WIDTH_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_WIDTH_FOLD[0x3000] = 0x20


# The longest number taken for one identifier (0086 + a landline with a
# 4-digit area code and an 8-digit number is 16; an ID number 18).
_MAX_DIGITS = 18
_MIN_CUED_DIGITS = 7
# How far before a number a phone word is looked for.
_CUE_WINDOW = 12
# Known values shorter than this are not searched for (a one-character
# "name" would eat every occurrence of that character).
_MIN_KNOWN_NAME = 2
_MIN_KNOWN_VALUE = 5
# Up to three separators between a known value's characters. A pattern is
# compiled per record, and a class of every separator, repeated between each
# two characters, took milliseconds to compile; so the searched text has each
# separator replaced by one stand-in character (offsets unchanged) and the
# pattern allows the stand-in alone. A text or value that holds the stand-in
# itself is searched the long way.
_SEP_STAND_IN = "\uf8ff"
_TO_STAND_IN = dict.fromkeys(map(ord, NUMBER_SEPARATORS), _SEP_STAND_IN)
_KNOWN_SEP = re.escape(_SEP_STAND_IN) + "{0,3}"
_KNOWN_SEP_CLASS = "[" + re.escape("".join(sorted(NUMBER_SEPARATORS))) + "]{0,3}"
# Deleted from text and values before a known value is looked for (no space
# character lies above U+3000); the dotless ı, which case-insensitive
# matching takes for i but case folding keeps, is folded to i.
_BARE = dict.fromkeys(
    [ord(c) for c in NUMBER_SEPARATORS] + [c for c in range(0x3001) if chr(c).isspace()]
) | {0x131: "i"}
# The keys under which a record holds identifiers; each is also the kind.
_IDENTIFIER_KEYS = frozenset({"name", "id_number", "phone", "plate"})
# Priority of overlapping finds: the lower wins.
_NUMBER, _KNOWN, _PLATE, _MISREAD, _NAME = range(5)


def _ascii_digits(group: str) -> str:
    if group[0] in CJK_DIGIT_VALUES:
        return "".join(CJK_DIGIT_VALUES[c] for c in group)
    return "".join(str(unicodedata.decimal(c)) for c in group)


def _number_kind(digits: str, x_follows: bool):
    """(kind, canonical value, rank) of a number written as ASCII digits, or None.

    Of the readings of a run that start at one digit the highest rank wins,
    then the longest: phones and ID numbers of a valid shape rank 2, 18-digit
    runs of no valid shape rank 1, so that a phone is not swallowed with the
    digits after it as a mistyped ID number.
    """
    if x_follows and len(digits) == 17:
        digits += "X"
    m = MOBILE_DIGITS.fullmatch(digits)
    if m:
        return "phone", m.group(1), 2
    m = LANDLINE_DIGITS.fullmatch(digits)
    if m:
        return "phone", "0" + m.group(1), 2
    if ID_NUMBER_DIGITS.fullmatch(digits) or OLD_ID_NUMBER_DIGITS.fullmatch(digits):
        return "id_number", digits, 2
    if LOOSE_ID_NUMBER_DIGITS.fullmatch(digits):
        return "id_number", digits, 1
    return None


def _check_x_end(folded: str, end: int) -> int | None:
    """Where an ID number's check character ``X`` after ``end`` ends, if one does."""
    for i in range(end, min(end + 4, len(folded))):
        if folded[i] in "Xx":
            return i + 1
        if folded[i] not in NUMBER_SEPARATORS:
            return None
    return None


def _numbers_in_run(folded: str, run_start: int, run: str):
    """Identifiers in one number run: (start, end, kind, value) in text offsets."""
    groups = [
        (run_start + g.start(), run_start + g.end(), _ascii_digits(g.group()))
        for g in DIGIT_GROUP_PATTERN.finditer(run)
    ]
    found = []
    cursor = run_start
    for i, (start, _, _) in enumerate(groups):
        if start < cursor:
            continue
        best = None
        digits = ""
        for j in range(i, len(groups)):
            digits += groups[j][2]
            if len(digits) > _MAX_DIGITS:
                break
            end = groups[j][1]
            x_end = _check_x_end(folded, end) if len(digits) == 17 else None
            found_here = _number_kind(digits, x_end is not None)
            # The highest rank, then the longest.
            if found_here is not None and (best is None or found_here[2] >= best[1][2]):
                best = (x_end or end, found_here)
        if best is None:
            continue
        end, (kind, value, _) = best
        if kind == "phone" and value.startswith("0"):
            extension = EXTENSION_PATTERN.match(folded, end)
            if extension:
                end = extension.end()
        if start > 0 and folded[start - 1] == "+":
            start -= 1
        found.append((start, end, kind, value))
        cursor = end
    if not found and PHONE_CUE_PATTERN.search(folded, max(0, run_start - _CUE_WINDOW), run_start):
        digits = "".join(g[2] for g in groups)
        if _MIN_CUED_DIGITS <= len(digits) <= _MAX_DIGITS:
            found.append((run_start, run_start + len(run), "phone", digits))
    return found


def _bare(text: str) -> str:
    """``text`` without spaces and number separators, case-folded: what a known value must be in."""
    return text.translate(_BARE).casefold()


def _known_matches(known, text: str):
    """Where the record's own identifiers occur in ``text`` (one pattern for all), and their values.

    A value can only match where the text, its separators removed, holds
    its characters in a row; a value that is not there needs no pattern
    (most records' values are not in their text, and compiling a pattern
    per record cost more than the rest of the scrub).
    """
    bare = _bare(text)
    values = {}
    for value, kind in known:
        chars = _bare(value.translate(_WIDTH_FOLD))
        shortest = _MIN_KNOWN_NAME if kind == "name" else _MIN_KNOWN_VALUE
        if len(chars) >= shortest and chars in bare:
            values.setdefault(chars, (value.strip(), kind))
    if not values:
        return None, values
    stand_in = _SEP_STAND_IN not in text and not any(_SEP_STAND_IN in c for c in values)
    separators = _KNOWN_SEP if stand_in else _KNOWN_SEP_CLASS
    pieces = []
    for chars in sorted(values, key=len, reverse=True):
        piece = separators.join(re.escape(c) for c in chars)
        if chars.isascii() and chars.isalpha():
            # A Latin name is a word, not a part of one.
            piece = f"(?<![A-Za-z]){piece}(?![A-Za-z])"
        pieces.append(piece)
    searched = text.translate(_TO_STAND_IN) if stand_in else text
    return re.compile("|".join(pieces), re.IGNORECASE).finditer(searched), values


def _name_value(name: str) -> str:
    """A name found after a cue as its token's value: ``张  三`` is 张三, ``Li  Lei`` Li Lei."""
    if name.isascii():
        return " ".join(name.split())
    return "".join(name.split())


def _finds(folded: str, known_matches, values):
    """Every candidate identifier: (priority, start, end, kind, value)."""
    if known_matches is not None:
        for m in known_matches:
            value, kind = values[_bare(folded[m.start() : m.end()])]
            yield _KNOWN, m.start(), m.end(), kind, value
    for run in NUMBER_RUN_PATTERN.finditer(folded):
        for start, end, kind, value in _numbers_in_run(folded, run.start(), run.group()):
            yield _NUMBER, start, end, kind, value
    for priority, plates in ((_PLATE, PLATE_PATTERN), (_MISREAD, MISREAD_PLATE_PATTERN)):
        for m in plates.finditer(folded):
            yield priority, m.start(), m.end(), "plate", m.group()
    for names in (NAME_AFTER_LABEL_PATTERN, NAME_AFTER_ROLE_PATTERN, NAME_BEFORE_TITLE_PATTERN):
        for m in names.finditer(folded):
            yield _NAME, m.start("name"), m.end("name"), "name", _name_value(m.group("name"))


def _find_order(find):
    priority, start, end = find[:3]
    return priority, start, -end


def _token(value: str, kind: str, key: bytes) -> str:
    try:
        return pseudonymize(value, kind, key)
    except ValueError:
        # A known value that does not canonicalize (a phone spelt in words)
        # is still hidden, under a keyed hash of its own.
        return match_key_token(f"text_{kind}", value, key)


def scrub_text(text, key, known=()):
    """Replace every personal identifier in free text by its pseudonym.

    Parameters
    ----------
    text : str
        Free text, e.g. an incident description or a refused record's text.
    key : bytes
        Secret key, as for :func:`features.pseudonymize.pseudonymize`.
    known : iterable of (str, str), optional
        ``(value, kind)`` pairs the record itself carries (see
        :func:`record_identifiers`): each is scrubbed wherever it occurs,
        whatever separators or case it is written with.

    Returns
    -------
    str
        The text, each identifier replaced by ``pseudonymize(value, kind,
        key)`` of its canonical value (so a phone in a description gets the
        token of the person's ``phone_hash``); everything else verbatim.
        Overlapping finds keep the first of: numbers, the record's own
        values, plates, misread plates, names after a cue.

    Raises
    ------
    TypeError
        If ``text`` is not a str or ``key`` is not bytes.
    ValueError
        If ``key`` is empty.

    Examples
    --------
    >>> key = b"0123456789abcdef"
    >>> out = scrub_text("车主电话138.0013.8000，车牌京A12345。", key)
    >>> out == ("车主电话" + pseudonymize("13800138000", "phone", key) + "，车牌"
    ...         + pseudonymize("京A12345", "plate", key) + "。")
    True
    >>> scrub_text("联系人王芳", key, known=[("王芳", "name")]) == (
    ...     "联系人" + pseudonymize("王芳", "name", key))
    True
    >>> scrub_text("3月5日下午，共计1200元。", key)
    '3月5日下午，共计1200元。'
    """
    if not isinstance(text, str):
        raise TypeError(f"text of type {type(text).__name__} provided, but must be a str")
    chain = as_key_chain(key)  # refuses a key that is not one
    folded = text.translate(_WIDTH_FOLD)
    known_matches, values = _known_matches(known, folded)
    if known_matches is None:
        # No value of the record's own is in the text: the result depends on
        # the text and the key alone (device ids and codes recur).
        return _scrubbed_alone(text, chain)
    return _scrubbed(text, folded, known_matches, values, chain)


@functools.lru_cache(maxsize=IDENTITY_MEMO_SIZE)
def _scrubbed_alone(text: str, chain) -> str:
    return _scrubbed(text, text.translate(_WIDTH_FOLD), None, {}, chain)


def _scrubbed(text: str, folded: str, known_matches, values: dict, key) -> str:
    taken = bytearray(len(text))
    chosen = []
    # Priority first, then leftmost, then longest.
    for _, start, end, kind, value in sorted(
        _finds(folded, known_matches, values), key=_find_order
    ):
        if end <= start or 1 in taken[start:end]:
            continue
        taken[start:end] = b"\x01" * (end - start)
        chosen.append((start, end, kind, value))
    chosen.sort()
    pieces = []
    cursor = 0
    for start, end, kind, value in chosen:
        pieces.append(text[cursor:start])
        pieces.append(_token(value, kind, key))
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def record_identifiers(obj) -> tuple:
    """The identifiers a record carries, as ``(value, kind)`` pairs.

    Every value under a ``name``, ``id_number``, ``phone`` or ``plate`` key,
    at any depth (an envelope's persons and vehicles, or whatever a refused
    record nests), in document order, whatever its shape (numbers given as
    JSON numbers too), for :func:`scrub_text`'s ``known``. Never raises:
    anything without such keys has none.

    >>> record_identifiers({"persons": [{"name": "王芳", "phone": 13800138000}],
    ...                     "vehicles": [{"plate": "京A12345"}, "junk"]})
    (('王芳', 'name'), ('13800138000', 'phone'), ('京A12345', 'plate'))
    """
    found = []
    # Depth-first without recursion: a refused record may nest deeply.
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            for name, value in item.items():
                if name in _IDENTIFIER_KEYS:
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        value = str(value)
                    if isinstance(value, str) and value.strip():
                        found.append((value, name))
            stack.extend(reversed([v for v in item.values() if isinstance(v, (dict, list))]))
    return tuple(found)
