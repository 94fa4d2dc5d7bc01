import math

import pandas as pd
import pytest

from models.hot_issues import HotIssueParams, grown_phrase, heat, hot_issues

# Background: one-off subjects that share nothing particular.
BACKGROUND = [
    f"关于{place}{matter}的问题"
    for place in (
        "东山路",
        "西湖村",
        "南门街",
        "北站",
        "中心医院",
        "第一中学",
        "新华书店",
        "老城区",
    )
    for matter in ("路灯不亮", "垃圾清运", "停车难", "噪音扰民", "积水严重", "公交线路")
]


def _messages(extra: list[tuple[str, str, int, str]]) -> pd.DataFrame:
    """Background messages spread over a year, plus ``(title, day, likes, user)`` rows."""
    rows = [
        {"title": t, "time": pd.Timestamp("2019-01-01") + pd.Timedelta(days=7 * k), "likes": 0}
        | {"user": f"bg{k}"}
        for k, t in enumerate(BACKGROUND)
    ]
    rows += [
        {"title": t, "time": pd.Timestamp(day), "likes": likes, "user": user}
        for t, day, likes, user in extra
    ]
    frame = pd.DataFrame(rows)
    frame["id"] = [str(i) for i in range(len(frame))]
    frame["body"] = ""
    frame["dislikes"] = 0
    return frame


ESTATE = [
    ("A2区丽发新城附近建搅拌站噪音扰民", "2019-10-22", 5, "u1"),
    ("投诉A2区丽发新城搅拌站", "2019-10-25", 3, "u2"),
    ("丽发新城小区旁边建搅拌站", "2019-11-02", 0, "u3"),
    ("A2区丽发新城搅拌站彻夜施工", "2019-11-20", 1, "u4"),
]
CASE = [
    ("请关注A4区58车贷案", "2019-02-21", 800, "v1"),
    ("严惩58车贷案保护伞", "2019-02-25", 700, "v2"),
    ("58车贷案件进展如何", "2019-03-01", 600, "v3"),
]
# Fifty-one messages: each planted n-gram is in fewer than 1 in 10 of them.
PARAMS = HotIssueParams(max_df=0.1, top=3)


def test_messages_naming_one_estate_or_case_are_one_issue_each():
    result = hot_issues(_messages(ESTATE + CASE), PARAMS)
    assert result["messages"] == len(BACKGROUND) + 7 and result["groups"] == 2
    first, second = result["issues"][:2]
    # The case's votes outweigh the estate's one more message.
    assert [i["messages"] for i in (first, second)] == [3, 4]
    assert {x["title"] for x in first["items"]} == {t for t, *_ in CASE}
    assert first["items"][0]["likes"] == 800 and first["net_votes"] == 2100
    assert "58车贷案" in first["key_phrases"]
    assert any("丽发新城" in p for p in second["key_phrases"])
    assert second["first"] == "2019-10-22" and second["last"] == "2019-11-20"
    assert second["counties"] == ["A2区"]


def test_other_counties_and_other_seasons_are_other_issues():
    far = ("A2区丽发新城搅拌站又开工", "2020-06-01", 0, "u5")
    elsewhere = [(t.replace("A2区", "A7县"), d, 0, u + "x") for t, d, _, u in ESTATE[:1]]
    # Each of the three names A2区 (a message naming no county may join either side).
    a2 = [ESTATE[0], ESTATE[1], ESTATE[3]]
    result = hot_issues(_messages(a2 + [far] + elsewhere), PARAMS)
    grouped = [i for i in result["issues"] if i["messages"] > 1]
    assert len(grouped) == 1
    assert {x["title"] for x in grouped[0]["items"]} == {t for t, *_ in a2}


def test_heat_grows_with_volume_spread_votes_and_recent_messages():
    assert heat(1, 1, 0, 1, True) == pytest.approx(2 * math.log(2))
    base = heat(10, 5, 10, 3, False)
    assert heat(20, 5, 10, 3, False) > base
    assert heat(10, 9, 10, 3, False) > base
    assert heat(10, 5, 1000, 3, False) > base
    assert heat(10, 5, 10, 8, False) > base > heat(10, 5, 10, 1, False)
    assert heat(4, 4, -5, 2, False) == heat(4, 4, 0, 2, False)


def test_a_phrase_grows_to_what_most_of_its_texts_share():
    texts = ["请解决伊景园滨河苑车位", "伊景园滨河苑捆绑", "伊景园小区"]
    assert grown_phrase("景园", texts) == "伊景园滨河苑"


def test_nothing_in_common_gives_single_message_issues_and_bad_settings_are_named():
    result = hot_issues(_messages([]), HotIssueParams(max_df=0.1, top=2))
    assert result["groups"] == 0 and [i["messages"] for i in result["issues"]] == [1, 1]
    assert hot_issues(_messages([]).iloc[:0])["issues"] == []
    with pytest.raises(ValueError, match="similarity=0 must be within"):
        HotIssueParams(similarity=0)
    with pytest.raises(ValueError, match="min_messages=1 at least 2"):
        HotIssueParams(min_messages=1)
