"""Keyed-hash pseudonymization of personal identifiers.

ID numbers, phone numbers, plates and names are replaced by tokens of the
form ``<prefix>_<24 hex chars>``, the truncated HMAC-SHA256 of
``kind + ":" + canonical(value)`` under a secret key.  Canonicalization
makes different spellings of the same identifier (``"京a·12345"`` /
``"京A12345"``, ``"+86 138-0013-8000"`` / ``"13800138000"``) map to the
same token, so records can still be joined on the token, while the clear
value never leaves the ingestion step.  Without the key, tokens cannot be
reversed or recomputed by dictionary attack over the (small) identifier
space.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from types import MappingProxyType

from features.plates import normalize_plate

__all__ = [
    "KINDS",
    "MIN_KEY_BYTES",
    "TOKEN_HEX_CHARS",
    "canonicalize",
    "match_key_token",
    "pseudonymize",
    "load_key",
]

#: Supported identifier kinds and the prefix of their tokens.
KINDS = MappingProxyType({"id_number": "pid", "phone": "tel", "plate": "veh", "name": "nam"})

#: Minimum key length accepted by :func:`load_key`.
MIN_KEY_BYTES = 16

#: Number of hex characters of the HMAC kept in a token (96 bits).
TOKEN_HEX_CHARS = 24

_HEX = re.compile(r"[0-9A-Fa-f]+")


def _check_kind(kind):
    if not isinstance(kind, str) or kind not in KINDS:
        allowed = ", ".join(repr(k) for k in KINDS)
        raise ValueError(f"kind={kind!r} provided, but is not one of: {allowed}")


def _ascii_digits(s):
    return "".join(c for c in s if "0" <= c <= "9")


def canonicalize(value, kind):
    """Canonical form of an identifier, as hashed by :func:`pseudonymize`.

    All kinds are first NFKC-normalized (full-width characters become
    ASCII).  Then:

    ``id_number``
        all whitespace removed, upper-cased (``x`` -> ``X``).
    ``phone``
        ASCII digits only; a leading ``86`` (13 digits) or ``0086``
        (15 digits) country code is dropped.
    ``plate``
        :func:`features.plates.normalize_plate`.
    ``name``
        leading/trailing whitespace stripped.

    Parameters
    ----------
    value : str
        Identifier as written.
    kind : {'id_number', 'phone', 'plate', 'name'}

    Returns
    -------
    str

    Raises
    ------
    TypeError
        If ``value`` is not a string.
    ValueError
        If ``kind`` is unknown or the canonical form is empty.

    Examples
    --------
    >>> canonicalize("+86 138-0013-8000", "phone")
    '13800138000'
    >>> canonicalize(" 11010519491231002x ", "id_number")
    '11010519491231002X'
    """
    _check_kind(kind)
    if not isinstance(value, str):
        raise TypeError(f"value={value!r} provided, but must be a str")
    text = unicodedata.normalize("NFKC", value)
    if kind == "id_number":
        canonical = "".join(text.split()).upper()
    elif kind == "phone":
        canonical = _ascii_digits(text)
        if len(canonical) == 13 and canonical.startswith("86"):
            canonical = canonical[2:]
        elif len(canonical) == 15 and canonical.startswith("0086"):
            canonical = canonical[4:]
    elif kind == "plate":
        canonical = normalize_plate(text)
    else:
        canonical = text.strip()
    if not canonical:
        raise ValueError(
            f"value={value!r} provided, but is empty after canonicalization for kind={kind!r}"
        )
    return canonical


def _check_key(key):
    if not isinstance(key, (bytes, bytearray)):
        raise TypeError(
            f"key of type {type(key).__name__} provided, but must be bytes (see load_key)"
        )
    if not key:
        raise ValueError("key=b'' provided, but the key must not be empty")


def pseudonymize(value, kind, key):
    """Replace an identifier by its keyed-hash token.

    The token is ``f"{prefix}_{h[:24]}"`` where ``h`` is the hex HMAC-SHA256
    under ``key`` of ``(kind + ":" + canonicalize(value, kind))`` encoded as
    UTF-8, and ``prefix`` is ``KINDS[kind]`` (``pid``, ``tel``, ``veh``,
    ``nam``).  Equal canonical values give equal tokens; the same string
    under different kinds gives different tokens.

    Parameters
    ----------
    value : str
        Identifier as written.
    kind : {'id_number', 'phone', 'plate', 'name'}
        What ``value`` is.
    key : bytes
        Secret key (non-empty; use :func:`load_key` to read it from config).

    Returns
    -------
    str
        The token.

    Raises
    ------
    ValueError
        If ``kind`` is unknown, ``key`` is empty or ``value`` canonicalizes
        to the empty string.
    TypeError
        If ``value`` is not a str or ``key`` is not bytes.

    Examples
    --------
    >>> key = b"0123456789abcdef"
    >>> t = pseudonymize("京a·12345", "plate", key)
    >>> t == pseudonymize("京A12345", "plate", key), t[:4], len(t)
    (True, 'veh_', 28)
    >>> pseudonymize("x", "email", key)
    Traceback (most recent call last):
    ...
    ValueError: kind='email' provided, but is not one of: 'id_number', 'phone', 'plate', 'name'
    """
    _check_kind(kind)
    _check_key(key)
    message = f"{kind}:{canonicalize(value, kind)}".encode()
    digest = hmac.new(bytes(key), message, hashlib.sha256).hexdigest()
    return f"{KINDS[kind]}_{digest[:TOKEN_HEX_CHARS]}"


def match_key_token(label, text, key):
    """Keyed hash of a derived match key (a folded plate, a name's sound, ...).

    ``pk_`` followed by the first :data:`TOKEN_HEX_CHARS` hex digits of
    HMAC-SHA256 of ``label + ":" + text``; the label keeps keys of different
    kinds apart. Unlike :func:`pseudonymize`, ``text`` is hashed as given.

    >>> t = match_key_token("plate_fold", "京A80012", b"0123456789abcdef")
    >>> t[:3], len(t)
    ('pk_', 27)
    """
    _check_key(key)
    digest = hmac.new(bytes(key), f"{label}:{text}".encode(), hashlib.sha256).hexdigest()
    return f"pk_{digest[:TOKEN_HEX_CHARS]}"


def load_key(raw):
    """Turn a configured secret into key bytes.

    A ``str`` that consists only of hex digits and has even length is
    decoded as hex (so ``openssl rand -hex 32`` output works); any other
    ``str`` is used as its UTF-8 bytes.  Surrounding whitespace (e.g. a
    trailing newline from a secrets file) is stripped.  ``bytes`` are used
    as-is.  The key must be at least :data:`MIN_KEY_BYTES` (16) bytes;
    error messages report the length, never the secret.

    Parameters
    ----------
    raw : str or bytes
        Secret from configuration or the environment.

    Returns
    -------
    bytes

    Raises
    ------
    TypeError
        If ``raw`` is neither str nor bytes.
    ValueError
        If the resulting key is shorter than 16 bytes.

    Examples
    --------
    >>> load_key("00112233445566778899aabbccddeeff").hex()
    '00112233445566778899aabbccddeeff'
    >>> load_key("a plain passphrase of some length")[:7]
    b'a plain'
    >>> load_key("short")
    Traceback (most recent call last):
    ...
    ValueError: key is 5 bytes long, but at least 16 bytes are required
    """
    if isinstance(raw, (bytes, bytearray)):
        key = bytes(raw)
        source = "bytes"
    elif isinstance(raw, str):
        stripped = raw.strip()
        if _HEX.fullmatch(stripped) and len(stripped) % 2 == 0:
            key = bytes.fromhex(stripped)
            source = "hex"
        else:
            key = stripped.encode("utf-8")
            source = "plain"
    else:
        raise TypeError(f"raw of type {type(raw).__name__} provided, but must be str or bytes")
    if len(key) < MIN_KEY_BYTES:
        hint = " (decoded from hex)" if source == "hex" else ""
        raise ValueError(
            f"key is {len(key)} bytes long{hint}, but at least {MIN_KEY_BYTES} bytes are required"
        )
    return key
