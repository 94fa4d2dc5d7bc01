"""Keyed-hash pseudonymization of personal identifiers, with versioned keys.

ID numbers, phone numbers, plates and names are replaced by tokens of the
form ``<prefix>_v<version>_<24 hex chars>``. Version 1 is the truncated
HMAC-SHA256 of ``kind + ":" + canonical(value)`` under the key of version
1; version ``n`` is the HMAC under the key of version ``n`` of the token of
version ``n - 1``, so a token is chained through every key up to its
version (:class:`features.key_chain.KeyChain`). Canonicalization makes
different spellings of the same identifier (``"京a·12345"`` /
``"京A12345"``, ``"+86 138-0013-8000"`` / ``"13800138000"``) map to the
same token, so records can still be joined on the token, while the clear
value never leaves the ingestion step.

The chain is what makes rotation possible without the clear values: the
token of version ``n + 1`` is computed from the token of version ``n`` and
the new key alone (:func:`rotate_token`), so ``zongzhi keys rotate`` links
every old token it finds to its new one (docs/pseudonymization.md). To
test a guessed value against a token of version ``n`` one needs every key
``1..n``; an old key that leaks is of no use against newer tokens.

Tokens written before versions existed (``pid_<24 hex>``) are version 1.
"""

from __future__ import annotations

import functools
import hmac
import re
import unicodedata
from types import MappingProxyType

from features.key_chain import MIN_KEY_BYTES, KeyChain, key_chain, load_key
from features.plates import normalize_plate

__all__ = [
    "KINDS",
    "MATCH_KEY_PREFIX",
    "MIN_KEY_BYTES",
    "TOKEN_HEX_CHARS",
    "TOKEN_PATTERN",
    "as_key_chain",
    "canonicalize",
    "match_key_token",
    "parse_token",
    "pseudonymize",
    "rotate_token",
    "load_key",
]

#: Supported identifier kinds and the prefix of their tokens.
KINDS = MappingProxyType({"id_number": "pid", "phone": "tel", "plate": "veh", "name": "nam"})

#: Prefix of the tokens of derived match keys (:func:`match_key_token`).
MATCH_KEY_PREFIX = "pk"

#: Number of hex characters of the HMAC kept in a token (96 bits).
TOKEN_HEX_CHARS = 24

#: Finds tokens, versioned or not, in text: groups prefix, version (None
#: for a token written before versions), hex digest.
TOKEN_PATTERN = re.compile(
    r"(?<![0-9A-Za-z_])(pid|tel|veh|nam|pk)_(?:v([1-9][0-9]{0,5})_)?([0-9a-f]{24})(?![0-9A-Za-z_])"
)


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


def as_key_chain(key) -> KeyChain:
    """The key chain that ``key`` stands for: a :class:`KeyChain` as is, bytes as version 1.

    Bytes are taken as they are (non-empty); keys from configuration are
    checked where they are loaded (:func:`features.key_chain.load_key`).

    >>> as_key_chain(b"0123456789abcdef0123456789abcdef").version
    1
    """
    # By its shape, not its class: a doctest run may import key_chain twice.
    if isinstance(key, KeyChain) or isinstance(getattr(key, "keys", None), tuple):
        return key
    if not isinstance(key, (bytes, bytearray)):
        raise TypeError(
            f"key of type {type(key).__name__} provided, but must be bytes or a KeyChain "
            "(see load_key)"
        )
    if not key:
        raise ValueError("key=b'' provided, but the key must not be empty")
    return key_chain([bytes(key)], strict=False)


#: Entries of each per-process memo of identifier tokens (least recently used
#: beyond this): :func:`pseudonymize` here, the person and plate match keys
#: and the scrubbing of texts without the record's own values. The same
#: people, phones, plates and device texts recur, and each token costs a keyed
#: hash per key version. Every memo is keyed by the key chain too, so a
#: rotated chain makes tokens of its own; the clear values the entries name
#: stay in the normalizer's memory, the one process that reads them anyway.
IDENTITY_MEMO_SIZE = 1 << 15


@functools.lru_cache(maxsize=IDENTITY_MEMO_SIZE)
def _identifier_token(kind: str, value: str, chain: KeyChain) -> str:
    first = _digest(chain.key(1), f"{kind}:{canonicalize(value, kind)}")
    return _chained(KINDS[kind], first, chain)


def _digest(key: bytes, message: str) -> str:
    return hmac.digest(key, message.encode(), "sha256").hex()[:TOKEN_HEX_CHARS]


def _chained(prefix: str, first_digest: str, chain: KeyChain, since: int = 1) -> str:
    """The token of ``chain.version`` from the digest of version ``since``."""
    digest = first_digest
    for version in range(since + 1, chain.version + 1):
        digest = _digest(chain.key(version), f"{prefix}_v{version - 1}_{digest}")
    return f"{prefix}_v{chain.version}_{digest}"


def parse_token(token: str) -> tuple[str, int, str]:
    """``(prefix, version, hex digest)`` of a token; a token without a version is version 1.

    >>> parse_token("veh_v3_0123456789abcdef01234567")
    ('veh', 3, '0123456789abcdef01234567')
    >>> parse_token("pid_0123456789abcdef01234567")
    ('pid', 1, '0123456789abcdef01234567')
    >>> parse_token("pid_xyz")
    Traceback (most recent call last):
    ...
    ValueError: token='pid_xyz' provided, but is not <prefix>_v<version>_<24 hex digits>
    """
    match = TOKEN_PATTERN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise ValueError(
            f"token={token!r} provided, but is not <prefix>_v<version>_<24 hex digits>"
        )
    prefix, version, digest = match.groups()
    return prefix, int(version or 1), digest


def rotate_token(token: str, key) -> str:
    """The token of ``key``'s version that ``token`` (of an older or equal version) becomes.

    Only the keys after the token's version are used: the clear value is
    not needed. The result equals the token made afresh from the value
    (:func:`pseudonymize`, :func:`match_key_token`) with the whole chain.

    Raises
    ------
    ValueError
        If ``token`` is malformed or newer than the chain.

    Examples
    --------
    >>> from features.key_chain import key_chain
    >>> k1, k2 = bytes(range(32)), bytes(range(32, 64))
    >>> old = pseudonymize("13800138000", "phone", key_chain([k1], strict=False))
    >>> new = pseudonymize("13800138000", "phone", key_chain([k1, k2], strict=False))
    >>> old[:7], new[:7], rotate_token(old, key_chain([k1, k2], strict=False)) == new
    ('tel_v1_', 'tel_v2_', True)
    """
    chain = as_key_chain(key)
    prefix, version, digest = parse_token(token)
    if version > chain.version:
        raise ValueError(
            f"token of version {version} provided, but the key chain ends at version "
            f"{chain.version}"
        )
    return _chained(prefix, digest, chain, since=version)


def pseudonymize(value, kind, key):
    """Replace an identifier by its keyed-hash token.

    The token is ``f"{prefix}_v{n}_{h}"`` where ``n`` is the key chain's
    version, ``prefix`` is ``KINDS[kind]`` (``pid``, ``tel``, ``veh``,
    ``nam``) and ``h`` the first 24 hex digits of: for version 1, the
    HMAC-SHA256 under key 1 of ``(kind + ":" + canonicalize(value, kind))``
    encoded as UTF-8; for version ``n > 1``, the HMAC-SHA256 under key ``n``
    of the token of version ``n - 1``.  Equal canonical values give equal
    tokens; the same string under different kinds gives different tokens.

    Parameters
    ----------
    value : str
        Identifier as written.
    kind : {'id_number', 'phone', 'plate', 'name'}
        What ``value`` is.
    key : KeyChain or bytes
        The keys (from the key store, :mod:`pipelines.io.key_store`); bytes
        are a chain of one key, version 1.

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
    >>> t == pseudonymize("京A12345", "plate", key), t[:7], len(t)
    (True, 'veh_v1_', 31)
    >>> pseudonymize("x", "email", key)
    Traceback (most recent call last):
    ...
    ValueError: kind='email' provided, but is not one of: 'id_number', 'phone', 'plate', 'name'
    """
    _check_kind(kind)
    chain = as_key_chain(key)
    # Only a str is remembered; any other value goes to canonicalize unmemoized, to be refused.
    token = _identifier_token if isinstance(value, str) else _identifier_token.__wrapped__
    return token(kind, value, chain)


def match_key_token(label, text, key):
    """Keyed hash of a derived match key (a folded plate, a name's sound, ...).

    ``pk_v<n>_`` followed by 24 hex digits: for version 1 the HMAC-SHA256
    of ``label + ":" + text``, chained through later keys as
    :func:`pseudonymize` is; the label keeps keys of different kinds apart.
    Unlike :func:`pseudonymize`, ``text`` is hashed as given.

    >>> t = match_key_token("plate_fold", "京A80012", b"0123456789abcdef")
    >>> t[:6], len(t)
    ('pk_v1_', 30)
    """
    chain = as_key_chain(key)
    first = _digest(chain.key(1), f"{label}:{text}")
    return _chained(MATCH_KEY_PREFIX, first, chain)
