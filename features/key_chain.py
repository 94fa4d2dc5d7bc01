"""The pseudonymization keys, one per version, and the checks a key must pass.

A token of version ``n`` is made with every key of versions ``1..n`` in turn
(:mod:`features.pseudonymize`): version 1 hashes the identifier, each later
version hashes the token of the version before. A :class:`KeyChain` holds
those keys, oldest first; its :attr:`~KeyChain.version` is the version of
the tokens it makes.

A key must be at least :data:`MIN_KEY_BYTES` (32) random bytes. Randomness
cannot be proven from one sample, so :func:`check_key` refuses what is
certainly not random: too short, too few distinct byte values (32 random
bytes show fewer than 16 distinct values with probability 3e-17), a
repeated block, or only printable ASCII (text written as hex; 32 random
bytes are all printable with probability 2e-14). The checks catch mistakes,
such as a passphrase, a test key or a doubled short key, not a determined
operator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MIN_KEY_BYTES", "KeyChain", "check_key", "key_chain", "load_key"]

#: Minimum length of a key, in random bytes.
MIN_KEY_BYTES = 32
#: Minimum number of distinct byte values in a key.
MIN_DISTINCT_BYTES = 16

_HEX = re.compile(r"[0-9A-Fa-f]+")
_HOW = "use 32 random bytes written as 64 hex digits, e.g. `openssl rand -hex 32`"


def check_key(key: bytes, what: str = "key") -> bytes:
    """``key`` if it may be a pseudonymization key; ValueError naming what is wrong.

    Messages give the key's length and never the key.

    Examples
    --------
    >>> import secrets
    >>> len(check_key(secrets.token_bytes(32)))
    32
    >>> check_key(bytes(range(16)))
    Traceback (most recent call last):
    ...
    ValueError: key is 16 bytes long, but at least 32 random bytes are required; use 32 random bytes written as 64 hex digits, e.g. `openssl rand -hex 32`
    >>> check_key(b"k" * 32)
    Traceback (most recent call last):
    ...
    ValueError: key has 1 distinct byte values in 32 bytes, but random keys have at least 16; use 32 random bytes written as 64 hex digits, e.g. `openssl rand -hex 32`
    """
    if not isinstance(key, (bytes, bytearray)):
        raise TypeError(f"{what} of type {type(key).__name__} provided, but must be bytes")
    key = bytes(key)
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(
            f"{what} is {len(key)} bytes long, but at least {MIN_KEY_BYTES} random bytes "
            f"are required; {_HOW}"
        )
    distinct = len(set(key))
    if distinct < MIN_DISTINCT_BYTES:
        raise ValueError(
            f"{what} has {distinct} distinct byte values in {len(key)} bytes, but random keys "
            f"have at least {MIN_DISTINCT_BYTES}; {_HOW}"
        )
    for period in range(1, len(key) // 2 + 1):
        if len(key) % period == 0 and key == key[:period] * (len(key) // period):
            raise ValueError(
                f"{what} repeats a block of {period} bytes, but must be random; {_HOW}"
            )
    if all(0x20 <= b < 0x7F for b in key):
        raise ValueError(
            f"{what} is printable text ({len(key)} ASCII characters), but must be random "
            f"bytes; {_HOW}"
        )
    return key


def load_key(raw, what: str = "key") -> bytes:
    """Turn a configured secret into key bytes, refusing anything but random bytes.

    A ``str`` must be hex digits (surrounding whitespace, such as a secrets
    file's trailing newline, is stripped); ``bytes`` are used as they are.
    Either way the bytes must pass :func:`check_key`: a passphrase is
    refused, whatever its length.

    Parameters
    ----------
    raw : str or bytes
        Secret from the key store or the environment.
    what : str
        How messages name it (``"pseudonymization key v2"``).

    Returns
    -------
    bytes

    Raises
    ------
    TypeError
        If ``raw`` is neither str nor bytes.
    ValueError
        If ``raw`` is not hex or its bytes fail :func:`check_key`.

    Examples
    --------
    >>> len(load_key("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"))
    32
    >>> load_key("a plain passphrase of thirty-two bytes or more")
    Traceback (most recent call last):
    ...
    ValueError: key is not hex digits (46 characters), but must be; use 32 random bytes written as 64 hex digits, e.g. `openssl rand -hex 32`
    """
    if isinstance(raw, (bytes, bytearray)):
        return check_key(bytes(raw), what)
    if not isinstance(raw, str):
        raise TypeError(f"{what} of type {type(raw).__name__} provided, but must be str or bytes")
    text = raw.strip()
    if not (_HEX.fullmatch(text) and len(text) % 2 == 0):
        raise ValueError(f"{what} is not hex digits ({len(text)} characters), but must be; {_HOW}")
    return check_key(bytes.fromhex(text), what)


@dataclass(frozen=True)
class KeyChain:
    """The keys of versions 1..n, oldest first; build one with :func:`key_chain`."""

    keys: tuple

    @property
    def version(self) -> int:
        """The version of the tokens this chain makes: its number of keys."""
        return len(self.keys)

    def key(self, version: int) -> bytes:
        """The key of ``version`` (1-based)."""
        if not 1 <= version <= len(self.keys):
            raise ValueError(
                f"key version {version} provided, but this chain holds versions 1..{len(self.keys)}"
            )
        return self.keys[version - 1]

    def __repr__(self) -> str:  # never print a key
        return f"KeyChain(version={self.version})"


def key_chain(keys, strict: bool = True) -> KeyChain:
    """A :class:`KeyChain` of ``keys`` (oldest first), each checked by :func:`check_key`.

    ``strict=False`` only checks that the keys are non-empty bytes; tests
    and doctests with fixed keys use it.

    Examples
    --------
    >>> key_chain([b"k" * 32], strict=False).version
    1
    >>> key_chain([])
    Traceback (most recent call last):
    ...
    ValueError: keys=[] provided, but a key chain needs at least one key
    """
    keys = list(keys)
    if not keys:
        raise ValueError("keys=[] provided, but a key chain needs at least one key")
    checked = []
    for version, key in enumerate(keys, start=1):
        what = f"pseudonymization key v{version}"
        if strict:
            checked.append(check_key(key, what))
        elif not isinstance(key, (bytes, bytearray)) or not key:
            raise ValueError(f"{what} must be non-empty bytes")
        else:
            checked.append(bytes(key))
    return KeyChain(tuple(checked))
