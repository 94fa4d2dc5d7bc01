"""Tests for features.plates."""

import random
import re

import pytest

from features.plates import (
    PLATE_LETTERS,
    PROVINCE_ABBREVIATIONS,
    fake_plate,
    is_valid_plate,
    normalize_plate,
)


def test_province_and_letter_sets():
    assert len(PROVINCE_ABBREVIATIONS) == 31
    assert len(set(PROVINCE_ABBREVIATIONS)) == 31
    assert set("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼") == set(
        PROVINCE_ABBREVIATIONS
    )
    assert PLATE_LETTERS == "ABCDEFGHJKLMNPQRSTUVWXYZ"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("京A·12345", "京A12345"),
        ("京a12345", "京A12345"),
        (" 京 A-123 45 ", "京A12345"),
        ("沪ad•12345", "沪AD12345"),
        ("粤Ｂ１２３４５", "粤B12345"),  # full-width letters and digits
        ("浙A\u300012345", "浙A12345"),  # ideographic space
        ("苏E\u201412345", "苏E12345"),  # em dash
        ("川A・12345", "川A12345"),  # katakana middle dot
    ],
)
def test_normalize_plate(raw, expected):
    assert normalize_plate(raw) == expected


def test_normalize_plate_rejects_non_string():
    with pytest.raises(TypeError, match=r"^s=None provided, but must be a str$"):
        normalize_plate(None)


@pytest.mark.parametrize(
    "s",
    [
        "京A12345",
        "京Q7B8C9",
        "沪AD12345",
        "粤B12345D",
        "京a·12345",
        "京 A-12345",
        "琼Z00000",
        "藏A1234Z",
    ],
)
def test_is_valid_plate_accepts(s):
    assert is_valid_plate(s) is True


@pytest.mark.parametrize(
    "s",
    [
        "京I12345",  # I excluded
        "京O12345",  # O excluded
        "京A1234O",  # O excluded in the tail
        "京A1I345",  # I excluded in the tail
        "京A1234",  # tail too short
        "京A1234567",  # tail too long
        "京12345",  # missing issuing-office letter
        "XA12345",  # not a province
        "港A12345",  # Hong Kong is not one of the 31
        "台A12345",
        "京A1234警",  # special-purpose plates not accepted
        "京AB12345X",  # 7-char tail
        "",
        None,
        12345,
    ],
)
def test_is_valid_plate_rejects(s):
    assert is_valid_plate(s) is False


def test_fake_plate_deterministic_and_valid():
    assert fake_plate(random.Random(11)) == fake_plate(random.Random(11))
    rng = random.Random(77)
    draws = [fake_plate(rng) for _ in range(1000)]
    assert all(is_valid_plate(p) for p in draws)
    assert all(p == normalize_plate(p) for p in draws)
    assert all(p.startswith("京") and len(p) == 7 for p in draws)
    # Various issuing-office letters are drawn.
    assert len({p[1] for p in draws}) > 15
    # Ordinary tails carry at most two letters.
    assert all(sum(c.isalpha() for c in p[2:]) <= 2 for p in draws)


def test_fake_plate_province_and_letter():
    rng = random.Random(3)
    for _ in range(100):
        p = fake_plate(rng, province="冀", city_letter="B")
        assert p.startswith("冀B") and is_valid_plate(p)


def test_fake_plate_new_energy():
    rng = random.Random(4)
    for _ in range(500):
        p = fake_plate(rng, new_energy=True)
        assert is_valid_plate(p)
        assert len(p) == 8
        assert p[2] in "DF"
        assert p[4:].isdigit()


@pytest.mark.parametrize("province", ["X", "港", "京津", "", None])
def test_fake_plate_rejects_bad_province(province):
    with pytest.raises(
        ValueError,
        match=rf"^province={re.escape(repr(province))} provided, but is not one "
        r"of the 31 abbreviations: 京津沪",
    ):
        fake_plate(random.Random(0), province=province)


@pytest.mark.parametrize("letter", ["I", "O", "a", "AB", ""])
def test_fake_plate_rejects_bad_city_letter(letter):
    with pytest.raises(
        ValueError,
        match=rf"^city_letter={re.escape(repr(letter))} provided, but is not one "
        r"of: ABCDEFGHJKLMNPQRSTUVWXYZ \(or None\)$",
    ):
        fake_plate(random.Random(0), city_letter=letter)
