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
    canonicalize,
    load_key,
    pseudonymize,
)

KEY = b"zongzhi-test-key-0001"
PREFIX = {"id_number": "pid", "phone": "tel", "plate": "veh", "name": "nam"}
TOKEN_RE = re.compile(r"(?:pid|tel|veh|nam)_[0-9a-f]{24}")


def expected_token(kind, canonical, key=KEY):
    """Token computed directly from the specification."""
    msg = (kind + ":" + canonical).encode("utf-8")
    return PREFIX[kind] + "_" + hmac.new(key, msg, hashlib.sha256).hexdigest()[:24]


# --------------------------------------------------------------------------
# pseudonymize
# --------------------------------------------------------------------------


def test_kinds():
    assert dict(KINDS) == PREFIX
    assert MIN_KEY_BYTES == 16


def test_pinned_digests_from_openssl():
    # printf 'phone:13800138000' | openssl dgst -sha256 -hmac 'zongzhi-test-key-0001'
    assert pseudonymize("13800138000", "phone", KEY) == "tel_a42ceb103240a19e08798bed"
    # printf 'id_number:11010519491231002X' | openssl dgst -sha256 -hmac '...'
    assert pseudonymize("11010519491231002X", "id_number", KEY) == "pid_b70b64565c32f1455c1d9896"
    # printf 'plate:京A12345' | openssl dgst -sha256 -hmac '...'  (UTF-8)
    assert pseudonymize("京A12345", "plate", KEY) == "veh_1e9d91b0f2d4cd0f10dfb2d4"


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
    tokens = {pseudonymize(value, kind, KEY)[4:] for kind in PREFIX}
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
        TypeError, match=r"^key of type str provided, but must be bytes \(see load_key\)$"
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
# load_key
# --------------------------------------------------------------------------


def test_load_key_hex():
    assert load_key("00112233445566778899aabbccddeeff") == bytes(range(0, 256, 17))
    assert load_key("00112233445566778899AABBCCDDEEFF\n") == bytes(range(0, 256, 17))


def test_load_key_plain():
    assert load_key("a plain passphrase!") == b"a plain passphrase!"
    assert load_key("  口令口令口令  ") == "口令口令口令".encode()  # 18 bytes
    # Odd-length hex-looking strings are taken literally.
    assert load_key("0123456789abcdef0") == b"0123456789abcdef0"


def test_load_key_bytes_as_is():
    raw = bytes(range(20))
    assert load_key(raw) == raw
    assert load_key(bytearray(raw)) == raw


@pytest.mark.parametrize(
    "raw, n, hint",
    [
        ("short", 5, ""),
        ("", 0, ""),
        ("   ", 0, ""),
        (b"0123456789abcde", 15, ""),
        ("0123456789abcdef", 8, " (decoded from hex)"),  # 16 hex chars -> 8 bytes
    ],
)
def test_load_key_too_short(raw, n, hint):
    with pytest.raises(
        ValueError,
        match=rf"^key is {n} bytes long{re.escape(hint)}, but at least 16 bytes "
        r"are required$",
    ) as info:
        load_key(raw)
    # The secret itself never appears in the message.
    if raw.strip():
        assert str(raw.strip() if isinstance(raw, str) else raw) not in str(info.value)


def test_load_key_type_error():
    with pytest.raises(TypeError, match=r"^raw of type int provided, but must be str or bytes$"):
        load_key(1234567890123456)


def test_load_key_result_usable():
    key = load_key("ZONGZHI_PSEUDONYM_KEY_2024")
    assert pseudonymize("张三", "name", key) == expected_token("name", "张三", key=key)
