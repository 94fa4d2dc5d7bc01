"""Tests for features.identity."""

import random
import re

import pytest

from features.identity import (
    ID_NUMBER_PATTERN,
    PHONE_PATTERN,
    PLATE_LETTERS,
    PLATE_PATTERN,
    PROVINCE_ABBREVIATIONS,
    fake_id_number,
    fake_phone,
    fake_plate,
    id_check_digit,
    is_valid_id_number,
    is_valid_phone,
    is_valid_plate,
    normalize_plate,
)


def _iso7064_check(first17):
    """Independent MOD 11-2 check: weights 2**k mod 11, check = (12 - S) mod 11.

    This is the equivalent closed form from ISO 7064, not the lookup table
    used by the module.
    """
    s = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(first17))
    v = (12 - s % 11) % 11
    return "X" if v == 10 else str(v)


# --------------------------------------------------------------------------
# ID numbers
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------


@pytest.mark.parametrize("s", ["13800138000", "19912345678", "15012345678", "16600000000"])
def test_is_valid_phone_accepts(s):
    assert is_valid_phone(s) is True


@pytest.mark.parametrize(
    "s",
    [
        "12800138000",
        "10800138000",
        "1380013800",
        "138001380000",
        "+8613800138000",
        "138 0013 8000",
        "138-0013-8000",
        "１３８００１３８０００",
        "",
        None,
        13800138000,
    ],
)
def test_is_valid_phone_rejects(s):
    assert is_valid_phone(s) is False


def test_fake_phone_deterministic_and_valid():
    assert fake_phone(random.Random(8)) == fake_phone(random.Random(8))
    rng = random.Random(2024)
    draws = [fake_phone(rng) for _ in range(1000)]
    assert all(is_valid_phone(p) for p in draws)
    assert len(set(draws)) > 990


# --------------------------------------------------------------------------
# Plates
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Patterns in free text
# --------------------------------------------------------------------------

TEXT = (
    "3月5日，密云区居民张某（身份证号11010519491231002X，联系电话13800138000）"
    "反映其车辆京A·12345被剐蹭；另一方为新能源车京AD12345，"
    "车主电话+86 138-0013-8001，身份证440524188001010014。"
)


def test_patterns_find_identifiers_in_chinese_text():
    assert [m.group() for m in ID_NUMBER_PATTERN.finditer(TEXT)] == [
        "11010519491231002X",
        "440524188001010014",
    ]
    assert [m.group() for m in PHONE_PATTERN.finditer(TEXT)] == [
        "13800138000",
        "+86 138-0013-8001",
    ]
    assert [m.group() for m in PLATE_PATTERN.finditer(TEXT)] == [
        "京A·12345",
        "京AD12345",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "流水号12345678901234567890。",  # 20-digit run
        "流水号11010519491231002X1234。",  # ID-shaped prefix of a longer run
        "订单1101051949123100213800138000",  # ID followed by phone, no gap
        "编号913800138000。",  # phone preceded by another digit
        "编号138001380001。",  # phone followed by another digit
        "tel_13800138000ab",  # inside a token-like word
    ],
)
def test_patterns_do_not_match_inside_longer_runs(text):
    assert ID_NUMBER_PATTERN.search(text) is None
    assert PHONE_PATTERN.search(text) is None


def test_twenty_digit_run_never_matches_any_pattern():
    run = "13800138000110105194"  # 20 digits containing phone-like prefixes
    assert len(run) == 20
    for pattern in (ID_NUMBER_PATTERN, PHONE_PATTERN, PLATE_PATTERN):
        assert pattern.search(f"号码{run}。") is None


def test_phone_pattern_variants():
    for s in [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+8613800138000",
        "+86 13800138000",
        "008613800138000",
        "8613800138000",
    ]:
        m = PHONE_PATTERN.search(f"电话：{s}，")
        assert m is not None and m.group() == s


def test_phone_pattern_rejects_invalid_prefix():
    assert PHONE_PATTERN.search("电话12800138000") is None


def test_id_pattern_accepts_lowercase_x_and_checks_date_shape():
    assert ID_NUMBER_PATTERN.search("号11010519491231002x。").group() == "11010519491231002x"
    assert ID_NUMBER_PATTERN.search("号110105194913310021。") is None  # month 13


def test_plate_pattern():
    assert PLATE_PATTERN.search("车牌京a12345已登记").group() == "京a12345"
    assert PLATE_PATTERN.search("车牌京A1234567已登记") is None
    assert PLATE_PATTERN.search("车牌京I12345已登记") is None
    assert PLATE_PATTERN.search("车牌港A12345已登记") is None
