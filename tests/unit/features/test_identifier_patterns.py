"""Tests for features.identifier_patterns."""

import pytest

from features.identifier_patterns import ID_NUMBER_PATTERN, PHONE_PATTERN, PLATE_PATTERN

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
