"""Regular expressions that find personal identifiers in free text.

The compiled ``ID_NUMBER_PATTERN``, ``PHONE_PATTERN`` and ``*PLATE_PATTERN``
find ID numbers, mobile numbers and licence plates written the plain way;
they refuse to match inside longer runs of ASCII letters, digits or
underscores (so a 20-digit number or a pseudonym token is not split), which
makes them fit to check that a sink holds no identifier in clear.

Free-text scrubbing (:mod:`features.free_text_scrub`) looks harder: number
runs with any separators, full-width or other-script digits and Chinese
numerals (``NUMBER_RUN_PATTERN``), read as mobiles, landlines and 18- or
15-digit ID numbers (``*_DIGITS``), and names after a cue (``NAME_*``).
"""

from __future__ import annotations

import re

from features.plates import PLATE_ALNUM, PLATE_LETTERS, PLATE_SEPARATORS, PROVINCE_ABBREVIATIONS

__all__ = [
    "ID_NUMBER_PATTERN",
    "PHONE_PATTERN",
    "PLATE_PATTERN",
    "MISREAD_PLATE_PATTERN",
    "CJK_DIGITS",
    "CJK_DIGIT_VALUES",
    "LINE_BREAKS",
    "NUMBER_SEPARATORS",
    "NUMBER_RUN_PATTERN",
    "DIGIT_GROUP_PATTERN",
    "MOBILE_DIGITS",
    "LANDLINE_DIGITS",
    "ID_NUMBER_DIGITS",
    "LOOSE_ID_NUMBER_DIGITS",
    "OLD_ID_NUMBER_DIGITS",
    "EXTENSION_PATTERN",
    "PHONE_CUE_PATTERN",
    "SURNAMES",
    "COMPOUND_SURNAMES",
    "NAME_AFTER_LABEL_PATTERN",
    "NAME_AFTER_ROLE_PATTERN",
    "NAME_BEFORE_TITLE_PATTERN",
]

_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")

# Letters never adjacent to an identifier found in free text: ASCII
# alphanumerics and underscore (pseudonym tokens consist of these).
_NOT_GLUED_BEFORE = r"(?<![0-9A-Za-z_])"
_NOT_GLUED_AFTER = r"(?![0-9A-Za-z_])"

#: Finds 18-character ID numbers (structural check of region, birth date
#: and check character, not of the check digit's correctness).
ID_NUMBER_PATTERN = re.compile(
    _NOT_GLUED_BEFORE
    + r"[1-9][0-9]{5}"  # administrative region
    + r"(?:18|19|20)[0-9]{2}"  # birth year
    + r"(?:0[1-9]|1[0-2])"  # birth month
    + r"(?:0[1-9]|[12][0-9]|3[01])"  # birth day
    + r"[0-9]{3}"  # sequence code
    + r"[0-9Xx]"  # check character
    + _NOT_GLUED_AFTER
)

#: Finds mainland mobile numbers, optionally with a ``+86``/``0086``/``86``
#: country code and space or hyphen separators in 3-4-4 grouping
#: (``138 0013 8000``, ``+86 138-0013-8000``).
PHONE_PATTERN = re.compile(
    _NOT_GLUED_BEFORE
    + r"(?:(?:\+|00)?86[ -]?)?"
    + r"1[3-9][0-9](?:[ -]?[0-9]{4}){2}"
    + _NOT_GLUED_AFTER
)

# Up to two separators (a space, a line break, \r\n) after the province and
# after the letter.
_PLATE_SEP_CLASS = "[ " + re.escape("".join(sorted(PLATE_SEPARATORS | _LINE_BREAKS))) + "]{0,2}"

#: Finds plates in free text: province + letter + 5 (ordinary) or 6
#: (new-energy) alphanumerics, case-insensitive, optionally with up to two
#: spaces, line breaks, middle dots or hyphens after the province and after
#: the letter.
PLATE_PATTERN = re.compile(
    f"[{PROVINCE_ABBREVIATIONS}]"
    + _PLATE_SEP_CLASS
    + f"[{PLATE_LETTERS}]"
    + _PLATE_SEP_CLASS
    + f"[{PLATE_ALNUM}]{{5,6}}"
    + _NOT_GLUED_AFTER,
    re.IGNORECASE | re.ASCII,
)


#: Finds plates *as a camera may have read them* in free text: a province
#: character, then 5 to 7 letters or digits (any letter, including the I and
#: O that legal plates never carry, and one character more or fewer than a
#: legal plate), or 4 of which one at least is a letter. Four digits after a
#: province character are a court's code in a case number (``(2026)京0105
#: 民初123号``) or a year (``北京 2026年``), not a plate. Scrubbing uses it
#: after :data:`PLATE_PATTERN`, so that a misread plate in a refused
#: record's raw text is not kept in clear.
MISREAD_PLATE_PATTERN = re.compile(
    f"[{PROVINCE_ABBREVIATIONS}]"
    + _PLATE_SEP_CLASS
    + "(?:[0-9A-Z]{5,7}|(?=[0-9]{0,3}[A-Z])[0-9A-Z]{4})"
    + _NOT_GLUED_AFTER,
    re.IGNORECASE | re.ASCII,
)


# --------------------------------------------------------------------------
# Numbers written any way, for free-text scrubbing (features/free_text_scrub.py)
# --------------------------------------------------------------------------

#: Chinese numerals a speaker or typist may use for digits: the common ones,
#: the financial capitals (壹 .. 玖) and the radio operator's spoken forms
#: (洞 0, 幺 1, 两 2, 拐 7, 勾 9).
CJK_DIGITS = "〇零一二三四五六七八九壹贰叁肆伍陆柒捌玖洞幺两拐勾"

#: The value of each of :data:`CJK_DIGITS`.
CJK_DIGIT_VALUES = {
    **{c: str(i) for i, c in enumerate("零一二三四五六七八九")},
    **{c: str(i) for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")},
    **{"〇": "0", "洞": "0", "幺": "1", "两": "2", "拐": "7", "勾": "9"},
}

#: Line breaks (what :meth:`str.splitlines` splits at): a number may be
#: broken across lines by a form field, a transcript or a copy and paste.
LINE_BREAKS = _LINE_BREAKS

#: Characters people put between the digits of a number: spaces (also the
#: typographic and zero-width ones), line breaks, dots, slashes, brackets,
#: underscores, soft hyphens, and every hyphen, dash and middle dot
#: that :data:`features.plates.PLATE_SEPARATORS` knows (full-width forms are
#: folded to ASCII before matching).
NUMBER_SEPARATORS = (
    frozenset(" \t\u00a0\u00ad\u202f\u205f\u2060\ufeff./()[]_\ufe58\ufe63")
    | frozenset(chr(c) for c in range(0x2000, 0x200E))  # en quad .. zero-width joiners
    | LINE_BREAKS
    | PLATE_SEPARATORS
)

_DIGIT = r"\d" + CJK_DIGITS
_SEP = re.escape("".join(sorted(NUMBER_SEPARATORS)))

#: Finds a run of digits in which up to three separators may stand between
#: any two digits (``138.0013.8000``, ``1101 0519 9001 0112 34``,
#: ``(010)6512-3456``). Unicode decimal digits of any script and Chinese
#: numerals count as digits. Every step consumes one digit, so matching is
#: linear in the text's length.
NUMBER_RUN_PATTERN = re.compile(f"[{_DIGIT}](?:[{_SEP}]{{0,3}}[{_DIGIT}])*")

#: Splits a number run into its groups: the digits between separators, and
#: Chinese numerals apart from other digits.
DIGIT_GROUP_PATTERN = re.compile(rf"\d+|[{CJK_DIGITS}]+")

#: A mainland mobile number as ASCII digits, with an optional ``0086``,
#: ``86`` or long-distance ``0`` prefix; group 1 is the 11-digit number.
MOBILE_DIGITS = re.compile(r"(?:0086|86|0)?(1[3-9][0-9]{9})", re.ASCII)

#: A landline as ASCII digits: trunk ``0`` (or country code ``86``/``0086``,
#: an optional ``0``), area code (``10``, ``2x`` or three digits from
#: ``3xx`` on) and a 7- or 8-digit local number; group 1 is the number
#: without its trunk prefix.
LANDLINE_DIGITS = re.compile(
    r"(?:0|(?:0086|86)0?)((?:10|2[0-9]|[3-9][0-9]{2})[2-9][0-9]{6,7})", re.ASCII
)

#: An 18-character ID number as ASCII digits: region, birth date, sequence
#: and check character (its correctness unchecked).
ID_NUMBER_DIGITS = re.compile(
    r"[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]",
    re.ASCII,
)

#: Any 17 digits and a check character: when nothing else explains such a
#: run it is taken for a mistyped ID number.
LOOSE_ID_NUMBER_DIGITS = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)

#: A first-generation (15-digit) ID number: region, ``yymmdd`` birth date
#: and a 3-digit sequence.
OLD_ID_NUMBER_DIGITS = re.compile(
    r"[1-9][0-9]{5}[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}", re.ASCII
)

#: The extension after a landline: ``-8001``, ``转8001``, ``分机 8001``,
#: ``ext. 8001``, ``x8001``, ``#8001``.
EXTENSION_PATTERN = re.compile(
    rf"(?:[{_SEP}]{{0,3}}(?:转|分机|ext\.?|x|#)[{_SEP}:]{{0,3}}|-)[0-9]{{1,6}}(?![0-9])",
    re.IGNORECASE,
)

#: Words after which any number of 7 to 18 digits is a phone number
#: (``电话：6512 3456``); matched against the few characters before a run.
PHONE_CUE_PATTERN = re.compile(
    r"(?:电话|手机|座机|号码|联系方式|传真|致电|拨打|来电|热线|tel|phone|mobile|fax)[^\d\n]{0,4}$",
    re.IGNORECASE,
)

# --------------------------------------------------------------------------
# Names in free text
# --------------------------------------------------------------------------

#: Common single-character surnames (百家姓, the most frequent first).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
    "叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶"
    "黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹"
    "申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳"
    "管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜"
    "冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池"
    "查麻苑迟邝"
)

#: Two-character surnames.
COMPOUND_SURNAMES = (
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐",
    "夏侯", "长孙", "宇文", "司徒", "端木", "独孤", "南宫", "西门", "轩辕", "呼延",
)  # fmt: skip

# Characters that end a name rather than continue it: particles, verbs of
# speech, punctuation-like words and the words of the cues below. Chinese
# numerals are name characters (王一博, 张三): a number after a name is found
# as a number first.
_NAME_STOP = (
    "的了和与及或是为在于从向对把被将也都就还又已要会能可说称讲问答反映报称等"
    "某男女性别年龄岁住电话手机身份证号码车牌地址家门口村镇街区路先"
)
_NAME_CHAR = f"(?:(?![{_NAME_STOP}])[\u4e00-\u9fff])"
_SURNAME = "(?:" + "|".join(COMPOUND_SURNAMES) + f"|[{SURNAMES}])"
# The dot between the parts of a transliterated name (约翰·史密斯, 买买提·艾力).
_NAME_DOT = "[.\u00b7\u2022\u2027\u2219\u22c5\u30fb\uff65]"
_DOTTED_NAME = f"{_NAME_CHAR}{{1,6}}(?:{_NAME_DOT}{_NAME_CHAR}{{1,6}}){{1,3}}"
# A name typed with spaces between its characters, as forms pad it (张  三).
_SPACED_NAME = f"{_NAME_CHAR}(?: {{1,2}}{_NAME_CHAR}){{1,3}}"
# A name in Latin letters (pinyin or foreign), a word at a time; the words
# after the first are not English words that follow a name in a sentence.
_LATIN_WORD_REST = "[A-Za-z]*(?:['\u2019-][A-Za-z]+)*"
_LATIN_WORD = "[A-Za-z]" + _LATIN_WORD_REST
_NOT_A_NAME_WORD = (
    "(?!(?i:and|or|at|on|in|for|from|with|by|of|to|the|is|was|who|said|says|reported|called"
    "|phone|tel|mobile|id|age|male|female|sex|address|lives|unknown|none)(?![A-Za-z]))"
)
_LATIN_NAME_END = "(?![A-Za-z0-9_])"


def _latin_name(fewest: int, most: int) -> str:
    more = f"(?:[ \u00b7]{_NOT_A_NAME_WORD}{_LATIN_WORD}){{{fewest - 1},{most - 1}}}"
    return f"{_NOT_A_NAME_WORD}{_LATIN_WORD}{more}{_LATIN_NAME_END}"


_CUE_GAP = "[:：\\s]{0,2}(?:是|为|叫)?[:：\\s]{0,2}"


def _english_cues(words, after: str) -> list[str]:
    """Each of ``words`` as a cue in any case, not the end of a longer word, then ``after``.

    Every branch starts with a literal character, so that the compiled
    pattern skips ahead to a cue's first character instead of trying each
    position; the check that no letter precedes it follows that character.
    """
    branches = []
    for word in words:
        first, rest = word[0], word[1:]
        for c in dict.fromkeys((first.upper(), first.lower())):
            branches.append(f"{c}(?<![A-Za-z].)(?i:{rest}){after}")
    return branches


_LABEL_CUES = [
    *(f"{cue}{_CUE_GAP}" for cue in ("姓\\s{0,2}名", "名字", "名叫", "叫做", "我叫")),
    *_english_cues(
        ("name", "contact", "contact\\sperson", "caller", "reporter", "driver"),
        "\\s{0,2}[:：]\\s{0,2}",
    ),
    *_english_cues(("my\\sname\\sis", "named"), "\\s{1,2}"),
    *(f"{t[0]}(?<![A-Za-z].){t[1:]}\\.?\\s{{1,2}}" for t in ("Mrs", "Mr", "Ms", "Miss", "Dr")),
]

#: A name right after an explicit cue: ``姓名：王芳``, ``名叫李建国``,
#: ``姓名：约翰·史密斯``, ``姓名：Zhang Wei``, ``name: Li Lei``, ``Mr. Smith``.
NAME_AFTER_LABEL_PATTERN = re.compile(
    "(?:" + "|".join(_LABEL_CUES) + ")"
    f"(?P<name>{_DOTTED_NAME}|{_NAME_CHAR}{{2,4}}|{_SPACED_NAME}|{_latin_name(1, 3)})"
)

#: A name (a surname first, or a transliterated one) after a role word:
#: ``联系人张伟``, ``车主：刘洋``, ``联系人：买买提·艾力``, ``联系人 WANG Fang``.
NAME_AFTER_ROLE_PATTERN = re.compile(
    r"(?:联系人|报警人|报案人|举报人|求助人|投诉人|来电人|反映人|当事人|户主|车主|业主|房东|租户"
    r"|嫌疑人|受害人|被害人|证人|驾驶员|司机|负责人)"
    f"{_CUE_GAP}"
    f"(?P<name>{_DOTTED_NAME}|{_SURNAME}{_NAME_CHAR}{{1,2}}"
    f"|{_SURNAME}(?: {{1,2}}{_NAME_CHAR}){{1,2}}|{_latin_name(2, 3)})"
)

#: A surname, perhaps with a given name, before a form of address:
#: ``王先生``, ``李建国同志``, ``刘女士``, ``王一博先生``, ``Wang先生``.
NAME_BEFORE_TITLE_PATTERN = re.compile(
    f"(?P<name>{_SURNAME}{_NAME_CHAR}{{0,2}}?|[A-Za-z](?<![A-Za-z].){_LATIN_WORD_REST}) ?"
    r"(?:先生|女士|小姐|同志|师傅|老师|大爷|大妈|阿姨|大姐|大哥|老板|经理)"
)
