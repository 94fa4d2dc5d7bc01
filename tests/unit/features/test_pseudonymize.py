"""Tests for features.pseudonymize.

Expected tokens are computed independently with ``hmac``/``hashlib`` on
hand-written canonical messages; two are additionally pinned to literal
digests produced with ``openssl dgst -sha256 -hmac``.
"""

import hashlib
import hmac
import re

import pytest

from features.pseudonymize import (
    KINDS,
    MIN_KEY_BYTES,
    TOKEN_PATTERN,
    canonicalize,
    load_key,
    match_key_token,
    parse_token,
    pseudonymize,
    rotate_token,
)

KEY = b"zongzhi-test-key-0001"
PREFIX = {"id_number": "pid", "phone": "tel", "plate": "veh", "name": "nam"}
TOKEN_RE = re.compile(r"(?:pid|tel|veh|nam)_v1_[0-9a-f]{24}")


def expected_token(kind, canonical, key=KEY):
    """Token of version 1 (a key given as bytes) computed directly from the specification."""
    msg = (kind + ":" + canonical).encode("utf-8")
    return PREFIX[kind] + "_v1_" + hmac.new(key, msg, hashlib.sha256).hexdigest()[:24]


# --------------------------------------------------------------------------
# pseudonymize
# --------------------------------------------------------------------------


def test_kinds():
    assert dict(KINDS) == PREFIX
    assert MIN_KEY_BYTES == 32


def test_pinned_digests_from_openssl():
    # Version 1 keeps the digests of the tokens written before versions existed.
    # printf 'phone:13800138000' | openssl dgst -sha256 -hmac 'zongzhi-test-key-0001'
    assert pseudonymize("13800138000", "phone", KEY) == "tel_v1_a42ceb103240a19e08798bed"
    # printf 'id_number:11010519491231002X' | openssl dgst -sha256 -hmac '...'
    assert pseudonymize("11010519491231002X", "id_number", KEY) == "pid_v1_b70b64565c32f1455c1d9896"
    # printf 'plate:京A12345' | openssl dgst -sha256 -hmac '...'  (UTF-8)
    assert pseudonymize("京A12345", "plate", KEY) == "veh_v1_1e9d91b0f2d4cd0f10dfb2d4"


@pytest.mark.parametrize(
    "value, kind, canonical",
    [
        ("11010519491231002X", "id_number", "11010519491231002X"),
        ("440524188001010014", "id_number", "440524188001010014"),
        ("13800138000", "phone", "13800138000"),
        ("京A12345", "plate", "京A12345"),
        ("张三", "name", "张三"),
    ],
)
def test_matches_independent_hmac(value, kind, canonical):
    assert pseudonymize(value, kind, KEY) == expected_token(kind, canonical)


@pytest.mark.parametrize(
    "kind, spellings, canonical",
    [
        (
            "id_number",
            [
                "11010519491231002X",
                "11010519491231002x",
                " 11010519491231002X\n",
                "110105 19491231 002X",
                "１１０１０５１９４９１２３１００２Ｘ",
            ],
            "11010519491231002X",
        ),
        (
            "phone",
            [
                "13800138000",
                "+86 138-0013-8000",
                "+8613800138000",
                "8613800138000",
                "0086 138 0013 8000",
                "(138) 0013-8000",
                "１３８００１３８０００",
            ],
            "13800138000",
        ),
        (
            "plate",
            ["京A12345", "京A·12345", "京a12345", " 京 a-123 45 ", "京Ａ１２３４５"],
            "京A12345",
        ),
        ("name", ["张三", " 张三 ", "\t张三\n"], "张三"),
    ],
)
def test_canonical_equivalences(kind, spellings, canonical):
    want = expected_token(kind, canonical)
    for s in spellings:
        assert canonicalize(s, kind) == canonical
        assert pseudonymize(s, kind, KEY) == want, s


def test_phone_country_code_only_stripped_when_11_digits_remain():
    # 12 digits starting with 86: not a country-code form, kept as is.
    assert canonicalize("861380013800", "phone") == "861380013800"
    # Landline: digits only, nothing stripped.
    assert canonicalize("010-6904 1234", "phone") == "01069041234"
    assert pseudonymize("010-6904 1234", "phone", KEY) == expected_token("phone", "01069041234")


def test_deterministic_and_format():
    for kind in PREFIX:
        t1 = pseudonymize("13800138000", kind, KEY)
        t2 = pseudonymize("13800138000", kind, KEY)
        assert t1 == t2
        assert TOKEN_RE.fullmatch(t1)
        assert t1.startswith(PREFIX[kind] + "_")


def test_same_string_different_kinds_differ():
    value = "13800138000"
    tokens = {pseudonymize(value, kind, KEY)[7:] for kind in PREFIX}
    assert len(tokens) == 4


def test_different_keys_differ():
    other = b"another-key-of-16+bytes"
    assert pseudonymize("13800138000", "phone", KEY) != pseudonymize("13800138000", "phone", other)
    assert pseudonymize("13800138000", "phone", other) == expected_token(
        "phone", "13800138000", key=other
    )


def test_bytearray_key_accepted():
    assert pseudonymize("张三", "name", bytearray(KEY)) == expected_token("name", "张三")


@pytest.mark.parametrize("kind", ["email", "ID_NUMBER", "", None, ["phone"]])
def test_unknown_kind(kind):
    with pytest.raises(
        ValueError,
        match=rf"^kind={re.escape(repr(kind))} provided, but is not one of: "
        r"'id_number', 'phone', 'plate', 'name'$",
    ):
        pseudonymize("x", kind, KEY)


def test_empty_key():
    with pytest.raises(ValueError, match=r"^key=b'' provided, but the key must not be empty$"):
        pseudonymize("13800138000", "phone", b"")


def test_str_key_rejected():
    with pytest.raises(
        TypeError,
        match=r"^key of type str provided, but must be bytes or a KeyChain \(see load_key\)$",
    ):
        pseudonymize("13800138000", "phone", "zongzhi-test-key-0001")


@pytest.mark.parametrize(
    "value, kind", [("", "name"), ("   ", "name"), ("abc", "phone"), (" ·- ", "plate")]
)
def test_empty_after_canonicalization(value, kind):
    with pytest.raises(
        ValueError,
        match=rf"^value={re.escape(repr(value))} provided, but is empty after "
        rf"canonicalization for kind='{kind}'$",
    ):
        pseudonymize(value, kind, KEY)


def test_non_string_value():
    with pytest.raises(TypeError, match=r"^value=13800138000 provided, but must be a str$"):
        pseudonymize(13800138000, "phone", KEY)


# --------------------------------------------------------------------------
# load_key: see tests/unit/features/test_key_chain.py
# --------------------------------------------------------------------------


def test_load_key_is_the_key_chains():
    from features import key_chain

    assert load_key is key_chain.load_key


# --------------------------------------------------------------------------
# versions and rotation
# --------------------------------------------------------------------------

K1, K2, K3 = bytes(range(32)), bytes(range(100, 132)), bytes(range(200, 232))


def _chain(*keys):
    from features.key_chain import key_chain

    return key_chain(keys, strict=False)


def _step(key, prefix, version, digest):
    """One link of the chain, from the specification: HMAC(k_n, '<prefix>_v<n-1>_<hex>')."""
    message = f"{prefix}_v{version - 1}_{digest}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:24]


def test_tokens_carry_the_version_of_the_chain():
    v1 = pseudonymize("13800138000", "phone", _chain(K1))
    v3 = pseudonymize("13800138000", "phone", _chain(K1, K2, K3))
    d1 = hmac.new(K1, b"phone:13800138000", hashlib.sha256).hexdigest()[:24]
    d2 = _step(K2, "tel", 2, d1)
    assert v1 == f"tel_v1_{d1}"
    assert v3 == f"tel_v3_{_step(K3, 'tel', 3, d2)}"
    assert parse_token(v3) == ("tel", 3, v3[7:])
    assert pseudonymize("13800138000", "phone", K1) == v1  # bytes: a chain of one key


def test_same_value_and_version_give_the_same_token():
    chain = _chain(K1, K2)
    spellings = ["+86 138-0013-8000", "13800138000", "１３８００１３８０００"]
    assert len({pseudonymize(s, "phone", chain) for s in spellings}) == 1
    # Another version, or another key at the same version, gives another token.
    assert pseudonymize("13800138000", "phone", chain) != pseudonymize(
        "13800138000", "phone", _chain(K1)
    )
    assert pseudonymize("13800138000", "phone", chain) != pseudonymize(
        "13800138000", "phone", _chain(K1, K3)
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda key: pseudonymize("11010519491231002X", "id_number", key),
        lambda key: pseudonymize("京A12345", "plate", key),
        lambda key: pseudonymize("张伟", "name", key),
        lambda key: match_key_token("phone_del", "1380013800", key),
    ],
)
def test_rotating_a_token_equals_a_fresh_token_of_the_new_version(make):
    old, new, newer = _chain(K1), _chain(K1, K2), _chain(K1, K2, K3)
    assert rotate_token(make(old), new) == make(new)
    assert rotate_token(make(old), newer) == make(newer)
    assert rotate_token(make(new), newer) == make(newer)
    assert rotate_token(make(newer), newer) == make(newer)  # current: unchanged
    # A token written before versions existed is version 1.
    legacy = make(old).replace("_v1_", "_", 1)
    assert parse_token(legacy)[1] == 1 and rotate_token(legacy, newer) == make(newer)


def test_rotation_needs_only_the_new_keys():
    # Without key 1, the old token alone gives the new one.
    old = pseudonymize("京A12345", "plate", _chain(K1))
    only_new = _chain(b"\x00" * 32, K2)  # key 1 unknown: any placeholder
    assert rotate_token(old, only_new) == pseudonymize("京A12345", "plate", _chain(K1, K2))


def test_rotating_refuses_a_newer_or_malformed_token():
    newer = pseudonymize("张伟", "name", _chain(K1, K2))
    with pytest.raises(
        ValueError, match=r"^token of version 2 provided, but the key chain ends at version 1$"
    ):
        rotate_token(newer, _chain(K1))
    with pytest.raises(ValueError, match=r"^token='anon:x' provided, but is not <prefix>_v"):
        rotate_token("anon:x", _chain(K1))


def test_token_pattern_finds_tokens_of_every_version_in_text():
    chain = _chain(K1, K2)
    a, b = pseudonymize("张伟", "name", chain), pseudonymize("京A12345", "plate", _chain(K1))
    legacy = b.replace("_v1_", "_")
    text = f"person:anon:{a}|vehicle:{b} {legacy} pid_v2_{'0' * 23}"
    assert [m.group(0) for m in TOKEN_PATTERN.finditer(text)] == [a, b, legacy]
