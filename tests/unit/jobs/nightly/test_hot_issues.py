"""Tests for jobs.nightly.hot_issues: the hot issues of hotline events, for serving.hot_issues."""

import json

import pandas as pd

from jobs.nightly.hot_issues import HOT_ISSUE_COLUMNS, hot_issue_rows, place_pattern
from models.hot_issues import HotIssueParams

PARAMS = HotIssueParams(similarity=0.3, window_days=30, min_messages=3, max_df=1.0, top=10)
PLACES = place_pattern(["鼓楼街道", "果园街道", "阳光社区", "新农村"])


def _events(rows):
    """``(town, village, text, caller)`` per event, one a day apart."""
    return pd.DataFrame(
        [
            {
                "event_id": f"e{i}",
                "event_time_ms": 1_790_000_000_000 + i * 86_400_000,
                "category": "hotline.environmental_protection",
                "town_code": town,
                "town_name": {"t1": "鼓楼街道", "t2": "果园街道"}[town],
                "village_code": f"{town}-{village}",
                "village_name": village,
                "attributes_json": json.dumps({"text": text}, ensure_ascii=False),
                "caller": caller,
            }
            for i, (town, village, text, caller) in enumerate(rows)
        ]
    )


def test_an_issue_of_one_town_is_served_with_its_place_and_words():
    events = _events(
        [
            ("t1", "阳光社区", "阳光社区东关搅拌站夜间施工噪音扰民", "tel_1"),
            ("t1", "阳光社区", "反映东关搅拌站噪音扰民，夜里还在作业", "tel_2"),
            ("t1", "新农村", "东关搅拌站粉尘噪音扰民，请整治", None),
            ("t1", "阳光社区", "东关搅拌站夜间噪音扰民", "tel_1"),
            # The same words in another town are another matter.
            ("t2", "新农村", "东关搅拌站夜间施工噪音扰民", "tel_9"),
            ("t1", "阳光社区", "公交站牌损坏", "tel_3"),
            ("t1", "阳光社区", "", "tel_4"),
        ]
    )
    rows = hot_issue_rows(events, PLACES, PARAMS, as_of="2026-09-30")
    assert list(rows.columns) == list(HOT_ISSUE_COLUMNS)
    assert len(rows) == 1
    issue = rows.iloc[0]
    assert (issue["rank"], issue["messages"], issue["users"]) == (1, 4, 3)
    assert (issue["town_code"], issue["village_name"]) == ("t1", "阳光社区")
    assert issue["category_label"] == "环境保护"
    assert "搅拌站" in issue["key_phrases"] and issue["example"].startswith("阳光社区东关")


def test_place_names_alone_make_no_issue():
    events = _events(
        [("t1", "阳光社区", f"阳光社区{matter}", f"tel_{i}") for i, matter in enumerate("甲乙丙丁")]
    )
    assert hot_issue_rows(events, PLACES, PARAMS, as_of="2026-09-30").empty


def test_no_hotline_words_no_rows():
    rows = hot_issue_rows(_events([("t1", "阳光社区", "", None)]), PLACES, PARAMS, "2026-09-30")
    assert rows.empty and list(rows.columns) == list(HOT_ISSUE_COLUMNS)
