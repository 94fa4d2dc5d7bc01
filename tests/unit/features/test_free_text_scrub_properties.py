"""Property tests of features.free_text_scrub: identifiers in any shape, in any text.

Each identifier is drawn as its canonical value, then written with random
separators between its digits (space, hyphen, dot, en and em dashes, middle
dots, full-width forms), random full-width digits, a country code, and put
between random text. The text around it is drawn from characters that
cannot continue a number (no digits, no separators), so the expected output
is exact: the text before, the token of the canonical value, the text after.
"""

from datetime import date

import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from features.free_text_scrub import scrub_text  # noqa: E402
from features.identity import ID_NUMBER_PATTERN, PHONE_PATTERN  # noqa: E402
from features.pseudonymize import pseudonymize  # noqa: E402

KEY = b"zongzhi-test-key-0002-for-properties"
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SEPARATORS = [" ", "-", ".", "\u2013", "\u2014", "\u00b7", "\uff0d", "\u3000", " - ", "/"]
SEPARATORS += ["_", "\n", "\r\n", " \n", "\u2028"]
# Characters around an identifier: letters (not x), CJK without numerals,
# surnames or cue words, and punctuation that is no separator.
CONTEXT = st.text(
    alphabet=st.sampled_from(
        list("abcdefghijklmnopqrstuvwyzABCDEFGHIJKLMNOPQRSTUVWYZ的了在有是这个，。：；！？、")
    ),
    max_size=12,
)

digit = st.sampled_from("0123456789")


def digits(n, first="0123456789"):
    return st.tuples(
        st.sampled_from(first), st.text(alphabet=digit, min_size=n - 1, max_size=n - 1)
    ).map("".join)


mobiles = st.tuples(st.just("1"), st.sampled_from("3456789"), digits(9)).map("".join)
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 12, 31))
# The provinces' codes, the first two digits of a region (GB/T 2260).
PROVINCES = [str(p) for p in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41,
                              42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71)]  # fmt: skip
regions = st.tuples(st.sampled_from(PROVINCES), digits(4)).map("".join)
ids_18 = st.tuples(regions, birth_dates, digits(3), st.sampled_from("0123456789X")).map(
    lambda t: t[0] + t[1].strftime("%Y%m%d") + t[2] + t[3]
)
ids_15 = st.tuples(regions, birth_dates, digits(3)).map(
    lambda t: t[0] + t[1].strftime("%y%m%d") + t[2]
)
landlines = st.tuples(
    st.sampled_from(["010", "021", "022", "0311", "0755", "0571", "0898"]),
    st.one_of(digits(7, "23456789"), digits(8, "23456789")),
).map("".join)


@st.composite
def written(draw, value):
    """``value`` as a person might type it: separators, full-width digits."""
    out = []
    for i, c in enumerate(value):
        if i and draw(st.integers(0, 3)) == 0:
            out.append(draw(st.sampled_from(SEPARATORS)))
        if c.isdigit() and draw(st.integers(0, 4)) == 0:
            c = chr(ord(c) + 0xFEE0)  # full-width
        out.append(c)
    return "".join(out)


def check(before, shown, after, canonical, kind):
    out = scrub_text(before + shown + after, KEY)
    assert out == before + pseudonymize(canonical, kind, KEY) + after


@SETTINGS
@given(before=CONTEXT, after=CONTEXT, data=st.data(), phone=mobiles)
def test_mobiles_in_any_shape(before, after, data, phone):
    prefix = data.draw(st.sampled_from(["", "+86", "+86 ", "0086", "0086-", "86 ", "0"]))
    check(before, prefix + data.draw(written(phone)), after, phone, "phone")


@SETTINGS
@given(before=CONTEXT, after=CONTEXT, data=st.data(), number=ids_18)
def test_18_digit_ids_in_any_shape(before, after, data, number):
    shown = data.draw(written(number))
    if data.draw(st.booleans()):
        shown = shown.lower()
    check(before, shown, after, number, "id_number")


@SETTINGS
@given(before=CONTEXT, after=CONTEXT, data=st.data(), number=ids_15)
def test_15_digit_ids_in_any_shape(before, after, data, number):
    check(before, data.draw(written(number)), after, number, "id_number")


@SETTINGS
@given(before=CONTEXT, after=CONTEXT, data=st.data(), number=landlines)
def test_landlines_in_any_shape(before, after, data, number):
    shown = data.draw(written(number))
    extension = data.draw(st.sampled_from(["", "-8001", "转8001", " 分机 12", " ext. 3"]))
    check(before, shown + extension, after, number, "phone")


SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = "伟芳娜敏静强磊军洋勇艳杰建国秀英"


@SETTINGS
@given(
    name=st.tuples(st.sampled_from(SURNAMES), st.text(alphabet=GIVEN, min_size=1, max_size=2)).map(
        "".join
    ),
    before=st.text(alphabet="的了在有是这个，。：；！？abc 0123456789", max_size=20),
    after=st.text(alphabet="的了在有是这个，。：；！？abc 0123456789", max_size=20),
)
def test_the_record_own_names_never_survive(name, before, after):
    out = scrub_text(before + name + after + name, KEY, [(name, "name")])
    assert name not in out
    assert out.count(pseudonymize(name, "name", KEY)) == 2


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(list("0123456789 -.+X的a")), max_size=80))
def test_no_identifier_the_plain_patterns_see_survives(text):
    out = scrub_text(text, KEY)
    # Whatever the text, what the strict patterns call a phone or an ID
    # number is gone (a token's hex digits never match them: they are glued
    # to letters).
    assert PHONE_PATTERN.search(out) is None
    assert ID_NUMBER_PATTERN.search(out) is None


NUMERALS = "一二三四五六七八九"
AFTER_NAME = st.text(alphabet="，。；！？、", max_size=6)


@SETTINGS
@given(
    name=st.tuples(
        st.sampled_from(SURNAMES), st.text(alphabet=GIVEN + NUMERALS, min_size=1, max_size=2)
    ).map("".join),
    cue=st.sampled_from(["姓名：", "姓名:", "姓 名：", "联系人", "车主：", "报警人"]),
    after=AFTER_NAME,
)
def test_names_after_cues_with_numerals(name, cue, after):
    assert scrub_text(cue + name + after, KEY) == cue + pseudonymize(name, "name", KEY) + after


SYLLABLES = ["Zhang", "Wang", "Li", "Liu", "Chen", "Wei", "Fang", "Lei", "Na", "Min", "Jian"]


@SETTINGS
@given(
    words=st.lists(st.sampled_from(SYLLABLES), min_size=2, max_size=3),
    case=st.sampled_from([str, str.upper, str.lower]),
    cue=st.sampled_from(["姓名：", "name: ", "Name:", "contact: ", "联系人 ", "车主："]),
    after=AFTER_NAME,
)
def test_latin_names_after_cues(words, case, cue, after):
    name = " ".join([case(words[0]), *words[1:]])
    assert scrub_text(cue + name + after, KEY) == cue + pseudonymize(name, "name", KEY) + after
