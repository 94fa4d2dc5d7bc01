"""Tests for features.id_numbers."""

import random
import re

import pytest

from features.id_numbers import fake_id_number, id_check_digit, is_valid_id_number


def _iso7064_check(first17):
    """Independent MOD 11-2 check: weights 2**k mod 11, check = (12 - S) mod 11.

    This is the equivalent closed form from ISO 7064, not the lookup table
    used by the module.
    """
    s = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(first17))
    v = (12 - s % 11) % 11
    return "X" if v == 10 else str(v)


@pytest.mark.parametrize(
    "first17, expected",
    [
        # GB 11643-1999 example (Beijing Chaoyang, 1949-12-31): weighted sum
        # 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167, 167 mod 11 = 2 -> X.
        ("11010519491231002", "X"),
        # GB 11643-1999 example (Guangdong Chaoyang county, 1880-01-01):
        # weighted sum 195, 195 mod 11 = 8 -> 4.
        ("44052418800101001", "4"),
        # Miyun 1980-01-01: weighted sum 136, 136 mod 11 = 4 -> 8.
        ("11011819800101001", "8"),
        # All zeros: sum 0 -> 1.
        ("00000000000000000", "1"),
        # 1 in the 8th position (weight 1) -> sum 1 -> 0.
        ("00000001000000000", "0"),
    ],
)
def test_id_check_digit_hand_computed(first17, expected):
    assert id_check_digit(first17) == expected


def test_id_check_digit_agrees_with_closed_form():
    rng = random.Random(20240601)
    for _ in range(2000):
        first17 = "".join(rng.choice("0123456789") for _ in range(17))
        assert id_check_digit(first17) == _iso7064_check(first17)


def test_id_check_digit_weights():
    # A single 1 at position i contributes weight w_i; check = table[w_i].
    table = "10X98765432"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    for i, w in enumerate(weights):
        first17 = "0" * i + "1" + "0" * (16 - i)
        assert id_check_digit(first17) == table[w]


@pytest.mark.parametrize(
    "bad",
    [
        "123",
        "1101051949123100",
        "110105194912310021",
        "1101051949123100X",
        "１１０１０５１９４９１２３１００２",
        "",
        None,
        11010519491231002,
    ],
)
def test_id_check_digit_rejects_bad_input(bad):
    with pytest.raises(
        ValueError,
        match=rf"^first17={re.escape(repr(bad))} provided, but must be exactly "
        r"17 ASCII digits$",
    ):
        id_check_digit(bad)


@pytest.mark.parametrize(
    "s",
    [
        "11010519491231002X",
        "11010519491231002x",
        "440524188001010014",
        "110118198001010018",
        # Leap day in a leap year: check computed by the closed form.
        "11011820000229001" + _iso7064_check("11011820000229001"),
    ],
)
def test_is_valid_id_number_accepts(s):
    assert is_valid_id_number(s) is True


@pytest.mark.parametrize(
    "s",
    [
        "110105194912310021",  # wrong check digit (X expected)
        "440524188001010015",  # wrong check digit (4 expected)
        # Invalid dates, each with a *correct* check digit.
        "11010519490230002" + _iso7064_check("11010519490230002"),  # Feb 30
        "11011819000229001" + _iso7064_check("11011819000229001"),  # 1900 not leap
        "11011819801301001" + _iso7064_check("11011819801301001"),  # month 13
        "11011819800100001" + _iso7064_check("11011819800100001"),  # day 0
        "11011817991231001" + _iso7064_check("11011817991231001"),  # year 1799
        "11010519491231002",  # 17 chars
        "11010519491231002X1",  # 19 chars
        "1101051949123100X2",  # X not in last position
        " 11010519491231002X",  # whitespace
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width
        "",
        None,
        110105194912310021,
    ],
)
def test_is_valid_id_number_rejects(s):
    assert is_valid_id_number(s) is False


def test_fake_id_number_deterministic():
    a = [fake_id_number(random.Random(42)) for _ in range(3)]
    assert a[0] == a[1] == a[2]
    rng1, rng2 = random.Random(99), random.Random(99)
    seq1 = [fake_id_number(rng1) for _ in range(50)]
    seq2 = [fake_id_number(rng2) for _ in range(50)]
    assert seq1 == seq2
    assert len(set(seq1)) == 50


def test_fake_id_number_always_valid():
    rng = random.Random(12345)
    for _ in range(1000):
        s = fake_id_number(rng)
        assert is_valid_id_number(s), s
        assert s.startswith("110118")
        assert 1950 <= int(s[6:10]) <= 2005


def test_fake_id_number_custom_region_and_years():
    rng = random.Random(5)
    for _ in range(200):
        s = fake_id_number(rng, region_code="440524", birth_year_range=(2000, 2000))
        assert is_valid_id_number(s)
        assert s[:10] == "4405242000"


@pytest.mark.parametrize("region", ["11011", "1101180", "011018", "11O118", 110118])
def test_fake_id_number_rejects_bad_region(region):
    with pytest.raises(
        ValueError,
        match=rf"^region_code={re.escape(repr(region))} provided, but must be "
        r"6 ASCII digits not starting with 0$",
    ):
        fake_id_number(random.Random(0), region_code=region)


@pytest.mark.parametrize(
    "years", [(2005, 1950), (1700, 1800), (1950, 2100), (1950,), "19502005", (1950.0, 2000)]
)
def test_fake_id_number_rejects_bad_years(years):
    with pytest.raises(
        ValueError,
        match=rf"^birth_year_range={re.escape(repr(years))} provided, but must "
        r"be a pair of integers \(first, last\) with 1800 <= first <= last <= 2099$",
    ):
        fake_id_number(random.Random(0), birth_year_range=years)
