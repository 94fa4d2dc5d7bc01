"""Tests for features.key_chain: what a key must be, and the chain of versions."""

import re
import secrets

import pytest

from features.key_chain import MIN_KEY_BYTES, check_key, key_chain, load_key

RANDOM_HEX = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def test_a_random_key_of_32_bytes_is_accepted():
    assert MIN_KEY_BYTES == 32
    assert load_key(RANDOM_HEX) == bytes.fromhex(RANDOM_HEX)
    assert load_key(RANDOM_HEX.upper() + "\n") == bytes.fromhex(RANDOM_HEX)
    raw = secrets.token_bytes(48)
    assert load_key(raw) == raw and load_key(bytearray(raw)) == raw


@pytest.mark.parametrize(
    "raw, message",
    [
        # 16 random bytes passed before; they are refused now.
        ("00112233445566778899aabbccddeeff", r"key is 16 bytes long, but at least 32 random"),
        (bytes(range(31)), r"key is 31 bytes long, but at least 32 random"),
        (b"", r"key is 0 bytes long"),
        (
            b"k" * 32,
            r"key has 1 distinct byte values in 32 bytes, but random keys have at least 16",
        ),
        ("00" * 32, r"key has 1 distinct byte values in 32 bytes"),
        # 16 distinct values, but a 16-byte key written twice.
        ("00112233445566778899aabbccddeeff" * 2, r"key repeats a block of 16 bytes"),
        # Text written as hex is not random bytes.
        (b"correct horse battery staple 2024!".hex(), r"key is printable text \(34 ASCII"),
        # A passphrase, however long, is not hex: refused.
        ("a plain passphrase of far more than thirty-two bytes", r"key is not hex digits \(52"),
        ("0123456789abcdef0123456789abcdef0", r"key is not hex digits \(33 characters\)"),
    ],
)
def test_short_or_not_random_keys_are_refused(raw, message):
    with pytest.raises(ValueError, match=message) as info:
        load_key(raw)
    assert "openssl rand -hex 32" in str(info.value)
    # The secret itself never appears in the message.
    text = raw if isinstance(raw, str) else raw.hex()
    if len(text) > 8:
        assert text not in str(info.value)


def test_the_message_names_the_key():
    with pytest.raises(ValueError, match=r"^pseudonymization key v2 is 16 bytes long"):
        check_key(bytes(range(16)), "pseudonymization key v2")


def test_load_key_type_error():
    with pytest.raises(TypeError, match=r"^key of type int provided, but must be str or bytes$"):
        load_key(1234567890123456)


def test_chain_versions_and_checks():
    k1, k2 = secrets.token_bytes(32), secrets.token_bytes(32)
    chain = key_chain([k1, k2])
    assert chain.version == 2 and chain.key(1) == k1 and chain.key(2) == k2
    assert repr(chain) == "KeyChain(version=2)"  # never the keys
    with pytest.raises(
        ValueError, match=r"^key version 3 provided, but this chain holds versions 1\.\.2$"
    ):
        chain.key(3)
    with pytest.raises(ValueError, match=re.escape("pseudonymization key v2 is 16 bytes long")):
        key_chain([k1, bytes(range(16))])
    with pytest.raises(ValueError, match=r"^keys=\[\] provided"):
        key_chain([])
    assert key_chain([b"k" * 32], strict=False).version == 1
