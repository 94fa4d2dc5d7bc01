"""Tests for features.free_text_scrub.

Expected outputs are built from :func:`features.pseudonymize.pseudonymize`
of the canonical value written out by hand, so they do not depend on the
tokens' format. Property tests are in ``test_free_text_scrub_properties.py``.
"""

import random

import pytest

from features.free_text_scrub import record_identifiers, scrub_text
from features.identity import fake_id_number, fake_phone, fake_plate
from features.pseudonymize import pseudonymize
from features.taxonomy import CATEGORIES_BY_SOURCE
from pipelines.harness.simulator.texts import grid_description, hotline_message

KEY = b"zongzhi-test-key-0001-for-scrubbing"


def tok(value, kind):
    return pseudonymize(value, kind, KEY)


# --------------------------------------------------------------------------
# What was scrubbed before: 18-digit IDs, mobiles, plates
# --------------------------------------------------------------------------

TEXT = (
    "3月5日，密云区居民张某（身份证号11010519491231002X，联系电话13800138000）"
    "反映其车辆京A·12345被剐蹭；另一方为新能源车京AD12345，"
    "车主电话+86 139-1234-5678，身份证440524188001010014。工单号20240305000123。"
)


def test_exact_output():
    assert scrub_text(TEXT, KEY) == (
        "3月5日，密云区居民张某（身份证号"
        + tok("11010519491231002X", "id_number")
        + "，联系电话"
        + tok("13800138000", "phone")
        + "）反映其车辆"
        + tok("京A12345", "plate")
        + "被剐蹭；另一方为新能源车"
        + tok("京AD12345", "plate")
        + "，车主电话"
        + tok("13912345678", "phone")
        + "，身份证"
        + tok("440524188001010014", "id_number")
        + "。工单号20240305000123。"
    )


def test_full_width_identifiers():
    text = (
        "电话１３８００１３８０００，车牌京Ａ１２３４５，证件１１０１０５１９４９１２３１００２Ｘ。"
    )
    assert scrub_text(text, KEY) == (
        "电话"
        + tok("13800138000", "phone")
        + "，车牌"
        + tok("京A12345", "plate")
        + "，证件"
        + tok("11010519491231002X", "id_number")
        + "。"
    )


def test_many_fake_identifiers():
    rng = random.Random(31337)
    for _ in range(200):
        ident, phone, plate = fake_id_number(rng), fake_phone(rng), fake_plate(rng)
        out = scrub_text(f"当事人{ident}，电话{phone}，车辆{plate}。", KEY)
        assert out == (
            f"当事人{tok(ident, 'id_number')}，电话{tok(phone, 'phone')}，"
            f"车辆{tok(plate, 'plate')}。"
        )


def test_misread_plate_is_scrubbed():
    assert scrub_text("识别为京G01K3O", KEY) == "识别为" + tok("京G01K3O", "plate")


# --------------------------------------------------------------------------
# The formats of issue 12: each one embedded in text
# --------------------------------------------------------------------------

FORMATS = [
    # 15-digit (first-generation) ID numbers
    ("110105490101002", "id_number", "110105490101002"),
    ("440524880101001", "id_number", "440524880101001"),
    # 18-digit IDs with separators
    ("1101 0519 9001 0112 34", "id_number", "110105199001011234"),
    ("110105 19900101 1234", "id_number", "110105199001011234"),
    ("110105-19491231-002X", "id_number", "11010519491231002X"),
    ("1101.0519.4912.3100.2x", "id_number", "11010519491231002X"),
    ("１１０１０５ １９４９１２３１ ００２Ｘ", "id_number", "11010519491231002X"),
    # mobiles
    ("138.0013.8000", "phone", "13800138000"),
    ("1380 013 8000", "phone", "13800138000"),
    ("138-0013-8000", "phone", "13800138000"),
    ("138 - 0013 - 8000", "phone", "13800138000"),
    ("138\u20140013\u20148000", "phone", "13800138000"),  # em dash
    ("138\u20130013\u20138000", "phone", "13800138000"),  # en dash
    ("138\u00b70013\u00b78000", "phone", "13800138000"),  # middle dot
    ("138\u200b0013\u200b8000", "phone", "13800138000"),  # zero-width spaces
    ("138\u202f0013\u00ad8000", "phone", "13800138000"),  # narrow space, soft hyphen
    ("１３８００１３８０００", "phone", "13800138000"),
    ("１３８－００１３－８０００", "phone", "13800138000"),
    ("１３８\u3000００１３\u3000８０００", "phone", "13800138000"),
    ("+86 138 0013 8000", "phone", "13800138000"),
    ("+8613800138000", "phone", "13800138000"),
    ("０086-13800138000", "phone", "13800138000"),
    ("8613800138000", "phone", "13800138000"),
    ("013800138000", "phone", "13800138000"),
    ("一三八零零一三八零零零", "phone", "13800138000"),
    ("幺三八 零零幺三 八零零零", "phone", "13800138000"),
    ("\u0661\u0663\u0668\u0660\u0660\u0661\u0663\u0668\u0660\u0660\u0660", "phone", "13800138000"),
    # landlines, with extensions
    ("010-65123456", "phone", "01065123456"),
    ("010 6512 3456", "phone", "01065123456"),
    ("01065123456", "phone", "01065123456"),
    ("010-65123456-8001", "phone", "01065123456"),
    ("010-65123456转8001", "phone", "01065123456"),
    ("010-65123456 分机 8001", "phone", "01065123456"),
    ("010-65123456 ext. 8001", "phone", "01065123456"),
    ("0311-8765432", "phone", "03118765432"),
    ("0755-8765 4321", "phone", "075587654321"),
    ("+86 10 6512 3456", "phone", "01065123456"),
    ("022\u201423456789", "phone", "02223456789"),
    # slashes and underscores, a lowercase check character, 0086 with spaces
    ("138/0013/8000", "phone", "13800138000"),
    ("138_0013_8000", "phone", "13800138000"),
    ("110105/19491231/002x", "id_number", "11010519491231002X"),
    ("0086 138 0013 8000", "phone", "13800138000"),
    ("＋８６ １３８ ００１３ ８０００", "phone", "13800138000"),
    # broken across lines (issue 12, found after the first fixes)
    ("1380013\n8000", "phone", "13800138000"),
    ("138\r\n0013\r\n8000", "phone", "13800138000"),
    ("138 0013\n 8000", "phone", "13800138000"),
    ("138\u20280013\u20298000", "phone", "13800138000"),  # line and paragraph separators
    ("110105199001\n011234", "id_number", "110105199001011234"),
    ("110105 19491231\r\n002X", "id_number", "11010519491231002X"),
    ("0755-\n87654321", "phone", "075587654321"),
    # financial capitals and the radio operator's digits
    ("壹叁捌零零壹叁捌零零零", "phone", "13800138000"),
    ("幺三八洞洞幺三八洞洞洞", "phone", "13800138000"),
    ("幺拐勾两三四五六七八九", "phone", "17923456789"),
]

CONTEXTS = [
    "{}",
    "电话{}号",
    "tel{}",
    "TEL:{}ok",
    "联系方式：{}，谢谢。",
    "身份证{}。",
    "ID{}abc",
    "他说 {} 就是了",
]


@pytest.mark.parametrize(("written", "kind", "canonical"), FORMATS)
@pytest.mark.parametrize("context", CONTEXTS)
def test_every_format_is_scrubbed_in_any_context(written, kind, canonical, context):
    before, after = context.split("{}")
    out = scrub_text(context.format(written), KEY)
    assert out == before + tok(canonical, kind) + after


def test_a_landline_in_brackets_keeps_only_the_opening_bracket():
    for written in ("(010)65123456", "（010）65123456", "(010) 6512-3456"):
        out = scrub_text(f"座机{written}。", KEY)
        assert out == "座机" + written[0] + tok("01065123456", "phone") + "。"


def test_any_number_after_a_phone_word_is_scrubbed():
    assert scrub_text("电话：6512 3456，", KEY) == "电话：" + tok("65123456", "phone") + "，"
    assert scrub_text("请拨打 8765432。", KEY) == "请拨打 " + tok("8765432", "phone") + "。"
    # Without the cue an 8-digit number is a date or a serial, not a phone.
    assert scrub_text("日期20261127。", KEY) == "日期20261127。"


def test_two_numbers_separated_by_a_space_are_two_identifiers():
    out = scrub_text("号码13800138000 13912345678，共100 13800138000", KEY)
    assert out == (
        "号码"
        + tok("13800138000", "phone")
        + " "
        + tok("13912345678", "phone")
        + "，共100 "
        + tok("13800138000", "phone")
    )


@pytest.mark.parametrize("written", ["京A\n12345", "京\r\nA12345", "京A\u2028D12345"])
def test_a_plate_broken_across_lines_is_scrubbed(written):
    out = scrub_text(f"车牌{written}。", KEY)
    plate = "京A12345" if "D" not in written else "京AD12345"
    assert out == "车牌" + tok(plate, "plate") + "。"


def test_a_misread_plate_of_four_characters_needs_a_letter():
    assert scrub_text("识别为京A1O3", KEY) == "识别为" + tok("京A1O3", "plate")
    assert scrub_text("识别为京12345", KEY) == "识别为" + tok("京12345", "plate")
    # Four digits after a province character: a court's code or a year.
    assert scrub_text("(2026)京0105刑初123号", KEY) == "(2026)京0105刑初123号"


def test_a_misread_plate_does_not_hide_a_phone_behind_it():
    assert scrub_text("沪1380 013 8000", KEY) == "沪" + tok("13800138000", "phone")


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------


def test_the_record_own_names_are_scrubbed_wherever_they_occur():
    known = [("张伟", "name"), ("Li Na", "name")]
    text = "张伟与张 伟、li na发生争执，Linaro公司张伟伟在场。"
    name = tok("张伟", "name")
    assert scrub_text(text, KEY, known) == (
        f"{name}与{name}、{tok('Li Na', 'name')}发生争执，Linaro公司{name}伟在场。"
    )


def test_the_record_own_numbers_are_scrubbed_in_any_shape():
    known = [("13800138000", "phone"), ("138001", "phone"), ("京A·12345", "plate")]
    # A 13-digit number glued to other digits, spelt out, or with a plate's
    # dots removed: the record says these are its identifiers.
    out = scrub_text("订单913800138000，尾号138001，车a12345及京A12345", KEY, known)
    assert out == (
        "订单9"
        + tok("13800138000", "phone")
        + "，尾号"
        + tok("138001", "phone")
        + "，车a12345及"
        + tok("京A12345", "plate")
    )


@pytest.mark.parametrize("written", ["LI NA", "li\u00a0na", "Lı Na", "ＬＩ　ＮＡ", "L.i.-Na"])
def test_a_known_name_is_found_in_any_case_width_or_spacing(written):
    assert scrub_text(f"据{written}称", KEY, [("Li Na", "name")]) == f"据{tok('Li Na', 'name')}称"


def test_a_known_value_that_does_not_canonicalize_is_still_hidden():
    out = scrub_text("号码是一三八xx", KEY, [("一三八xx", "phone")])
    assert out.startswith("号码是") and "一三八" not in out and "xx" not in out


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("姓名：王芳，性别女", "王芳"),
        ("姓名:欧阳娜娜。", "欧阳娜娜"),
        ("他名叫李建国，", "李建国"),
        ("联系人张伟称", "张伟"),
        ("车主：刘洋。", "刘洋"),
        ("报警人赵桂英说", "赵桂英"),
        ("王先生反映", "王"),
        ("请李建国同志", "李建国"),
        ("刘女士的车", "刘"),
        ("诸葛亮先生", "诸葛亮"),
    ],
)
def test_names_after_cues(text, name):
    out = scrub_text(text, KEY)
    assert name not in out
    assert tok(name, "name") in out
    assert out.replace(tok(name, "name"), name, 1) == text


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # Chinese numerals in a name (they ended it before: 姓名：王一博 was kept)
        ("姓名：王一博，男", "王一博"),
        ("联系人张三称", "张三"),
        ("车主王五。", "王五"),
        ("报警人陈二狗反映", "陈二狗"),
        ("姓名：欧阳一", "欧阳一"),
        ("我叫李二。", "李二"),
        ("王一博先生反映", "王一博"),
        ("张三女士的车", "张三"),
        # transliterated names with a middle dot
        ("姓名：约翰·史密斯，", "约翰·史密斯"),
        ("联系人：买买提·艾力称", "买买提·艾力"),
        # a cue written with a space
        ("姓 名：王芳，", "王芳"),
    ],
)
def test_names_with_numerals_or_dots_after_cues(text, name):
    assert scrub_text(text, KEY) == text.replace(name, tok(name, "name"), 1)


@pytest.mark.parametrize(
    ("text", "written", "name"),
    [
        ("姓名：张 三，", "张 三", "张三"),
        ("姓名：王  芳。", "王  芳", "王芳"),
        ("联系人：刘 洋称", "刘 洋", "刘洋"),
    ],
)
def test_a_name_typed_with_spaces_gets_the_token_of_the_name(text, written, name):
    assert scrub_text(text, KEY) == text.replace(written, tok(name, "name"))


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("姓名：Zhang Wei，男", "Zhang Wei"),
        ("姓名：zhang wei", "zhang wei"),
        ("name: Li Lei, phone unknown", "Li Lei"),
        ("Name: John Ronald Smith.", "John Ronald Smith"),
        ("contact: Li Lei said", "Li Lei"),
        ("联系人 WANG Fang称", "WANG Fang"),
        ("车主：Jean-Pierre Martin。", "Jean-Pierre Martin"),
        ("名叫Tom，", "Tom"),
        ("Mr. Smith and his son", "Smith"),
        ("Wang先生反映", "Wang"),
    ],
)
def test_latin_names_after_cues(text, name):
    assert scrub_text(text, KEY) == text.replace(name, tok(name, "name"), 1)


# --------------------------------------------------------------------------
# What is kept
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "今天天气晴，无异常。",
        "流水号12345678901234567890。",  # a 20-digit serial is another number
        "共13人参加，编号1380013800。",
        "2026-11-27 09:15:02，损失约1200元，3月5日下午4点。",
        "2026年11月27日，二〇二六年，第3次。",
        "坐标116.8432, 40.3765，海拔120.5米。",
        "工单号12345-20261127-0001，楼号12-3-401。",
        "金额 13,800.00 元；比例 0.138。",
        "时间戳1764206102000。",
        "村民反映王家庄村口有垃圾，居民要求清理。",
        # dates, times, amounts, addresses and case numbers, also across lines
        "2026/11/27 09:15，2026_11_27，10:30—11:45，共计12,000元。",
        "2026-11-27\n09:15\n2026-11-28\n10:30",
        "朝阳路123号院4号楼5单元601室，1号楼\n2单元\n301室。",
        "(2026)京0105刑初123号，（2024）沪0115民初12345号之一。",
        "来自北京 2026年，案件编号A1101052026110100001。",
        "第1项\n第2项\n第13项；金额\n1380元\n2026年",
        "共两人，两辆车，路面有个洞，前方拐弯。",
        "周三下午，王家庄村。",
        # English text with cue-like words but no cue
        "the name of the road is unknown; Driver error caused the crash.",
        "Beijing Chaoyang District, Room 1301.",
    ],
)
def test_ordinary_text_and_numbers_are_kept(text):
    assert scrub_text(text, KEY) == text


def test_simulated_descriptions_and_messages_are_kept():
    rng = random.Random(5)
    for source, describe in (("grid", grid_description), ("hotline", hotline_message)):
        for category in sorted(CATEGORIES_BY_SOURCE[source]):
            for _ in range(20):
                text = describe(rng, category, "十里堡镇", "王家庄村")
                assert scrub_text(text, KEY) == text


# --------------------------------------------------------------------------
# Large inputs finish (linear-time matching) and stay correct
# --------------------------------------------------------------------------

MEGABYTE = 1_000_000


def test_a_megabyte_of_identifiers():
    unit = "电话138 0013 8000，"
    out = scrub_text(unit * (MEGABYTE // len(unit)), KEY)
    assert out == ("电话" + tok("13800138000", "phone") + "，") * (MEGABYTE // len(unit))


@pytest.mark.parametrize(
    "text",
    [
        "1" * MEGABYTE,
        "一" * MEGABYTE,
        "王" * MEGABYTE,
        "联系人" * (MEGABYTE // 3),
        " -." * (MEGABYTE // 3),
        "京" * MEGABYTE,
    ],
)
def test_a_megabyte_of_near_misses_is_kept(text):
    assert scrub_text(text, KEY, [("王芳", "name")]) == text


def test_a_megabyte_of_separated_digits_is_scrubbed_whole():
    ones = MEGABYTE // 2
    out = scrub_text("1 " * ones, KEY)
    # Every 15 of them read as a first-generation ID number (region 111111,
    # born 1911-11-11); the 5 left over are too few to be anything.
    assert out == (tok("1" * 15, "id_number") + " ") * (ones // 15) + "1 " * (ones % 15)


# --------------------------------------------------------------------------
# record_identifiers and errors
# --------------------------------------------------------------------------


def test_record_identifiers_takes_persons_and_vehicles_of_any_shape():
    envelope = {
        "persons": [
            {"role": "party", "name": " 王芳 ", "phone": 13800138000, "id_number": ""},
            "not a person",
            {"role": "caller", "id_number": "110105490101002", "phone": True},
        ],
        "vehicles": [{"plate": "京A12345"}, {"plate": None}],
    }
    assert record_identifiers(envelope) == (
        (" 王芳 ", "name"),
        ("13800138000", "phone"),
        ("110105490101002", "id_number"),
        ("京A12345", "plate"),
    )
    assert record_identifiers(["persons"]) == ()
    assert record_identifiers({"persons": "王芳"}) == ()


def test_errors():
    with pytest.raises(TypeError, match=r"^text of type NoneType provided, but must be a str$"):
        scrub_text(None, KEY)
    with pytest.raises(ValueError, match=r"^key=b'' provided, but the key must not be empty$"):
        scrub_text("电话13800138000", b"")
    with pytest.raises(TypeError, match=r"^key of type str provided, but must be bytes"):
        scrub_text("无", "key")
