"""Tests for features.identifier_patterns."""

import pytest

from features import identifier_patterns
from features.identifier_patterns import (
    COMPOUND_SURNAMES,
    DIGIT_GROUP_PATTERN,
    EXTENSION_PATTERN,
    ID_NUMBER_PATTERN,
    NAME_AFTER_LABEL_PATTERN,
    NAME_AFTER_ROLE_PATTERN,
    NAME_BEFORE_TITLE_PATTERN,
    NUMBER_RUN_PATTERN,
    PHONE_CUE_PATTERN,
    PHONE_PATTERN,
    PLATE_PATTERN,
    SURNAMES,
)

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


# --------------------------------------------------------------------------
# The free-text scrubber's patterns
# --------------------------------------------------------------------------


def test_number_runs_span_separators_and_split_into_groups():
    text = "电话138 - 0013—8000，身份证1101.0519.9001.0112.34号，一三八13800"
    runs = [m.group() for m in NUMBER_RUN_PATTERN.finditer(text)]
    assert runs == ["138 - 0013—8000", "1101.0519.9001.0112.34", "一三八13800"]
    assert DIGIT_GROUP_PATTERN.findall(runs[2]) == ["一三八", "13800"]
    # Four separators are no longer one number.
    assert [m.group() for m in NUMBER_RUN_PATTERN.finditer("138 -- 0013")] == ["138", "0013"]


@pytest.mark.parametrize(
    ("digits", "pattern", "group"),
    [
        ("13800138000", "MOBILE_DIGITS", "13800138000"),
        ("008613800138000", "MOBILE_DIGITS", "13800138000"),
        ("013800138000", "MOBILE_DIGITS", "13800138000"),
        ("01065123456", "LANDLINE_DIGITS", "1065123456"),
        ("03118765432", "LANDLINE_DIGITS", "3118765432"),
        ("861065123456", "LANDLINE_DIGITS", "1065123456"),
        ("00867558765432", "LANDLINE_DIGITS", "7558765432"),
        ("11010519491231002X", "ID_NUMBER_DIGITS", None),
        ("110105490101002", "OLD_ID_NUMBER_DIGITS", None),
        ("123456789012345678", "LOOSE_ID_NUMBER_DIGITS", None),
    ],
)
def test_digit_patterns(digits, pattern, group):
    m = getattr(identifier_patterns, pattern).fullmatch(digits)
    assert m is not None
    if group is not None:
        assert m.group(1) == group


@pytest.mark.parametrize(
    ("pattern", "digits"),
    [
        ("MOBILE_DIGITS", "12800138000"),
        ("LANDLINE_DIGITS", "01015123456"),  # a local number never starts with 1
        ("ID_NUMBER_DIGITS", "110105194913310021"),  # month 13
        ("OLD_ID_NUMBER_DIGITS", "110105491301002"),  # month 13
        ("LOOSE_ID_NUMBER_DIGITS", "12345678901234567"),  # 17 digits
    ],
)
def test_digit_patterns_refuse(pattern, digits):
    assert getattr(identifier_patterns, pattern).fullmatch(digits) is None


def test_extension_and_phone_cue():
    assert [EXTENSION_PATTERN.match(s).group() for s in ("-8001", "转8001", " ext. 12")] == [
        "-8001",
        "转8001",
        " ext. 12",
    ]
    assert EXTENSION_PATTERN.match(" 8001") is None
    assert PHONE_CUE_PATTERN.search("联系电话：") and PHONE_CUE_PATTERN.search("Tel. ")
    assert PHONE_CUE_PATTERN.search("日期") is None


def test_name_patterns():
    assert NAME_AFTER_LABEL_PATTERN.search("姓名：王芳，").group("name") == "王芳"
    assert NAME_AFTER_ROLE_PATTERN.search("联系人张伟称").group("name") == "张伟"
    assert NAME_AFTER_ROLE_PATTERN.search("当事人双方") is None  # 双 is no surname
    assert NAME_BEFORE_TITLE_PATTERN.search("请李建国同志").group("name") == "李建国"
    assert NAME_BEFORE_TITLE_PATTERN.search("欧阳先生").group("name") == "欧阳"
    assert all(len(s) == 2 for s in COMPOUND_SURNAMES) and "王" in SURNAMES
