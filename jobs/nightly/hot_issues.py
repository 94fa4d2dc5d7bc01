"""The district's hot issues (热点诉求), nightly: the hotline messages of the last days, grouped and ranked.

The lake's hotline events of the last ``hot_issues.nightly_days`` days go
through :func:`models.hot_issues.hot_issues`, with two changes for events
(the reference file's messages have a subject line; events have the
citizen's words and a place):

* the text stands for the subject, with the district's town and village
  names taken out: the place is a dimension of its own, and two messages
  about different matters in one village must not look alike for naming it;
* the town blocks instead of the county a subject names: two messages of
  different towns are never one issue.

Events carry no votes. A row per issue of at least ``min_messages``
messages, hottest first, goes to ``serving.hot_issues`` for Superset, with
its town and village (the most frequent), its category, key phrases and
one message's (scrubbed) words.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pandas as pd

from features.local_time import DISTRICT_TZ
from features.taxonomy import CATEGORIES
from models.hot_issues import HotIssueParams, hot_issues
from models.hotline_routing import clean_message

__all__ = ["HOT_ISSUE_COLUMNS", "EXAMPLE_CHARS", "hot_issue_rows", "place_pattern"]

#: Columns of ``serving.hot_issues``, in order.
HOT_ISSUE_COLUMNS = (
    "as_of",
    "rank",
    "heat",
    "messages",
    "users",
    "first_day",
    "last_day",
    "town_code",
    "town_name",
    "village_code",
    "village_name",
    "category_label",
    "key_phrases",
    "example",
)
#: Characters of the example message kept.
EXAMPLE_CHARS = 200


def place_pattern(names) -> re.Pattern:
    """One pattern matching any of the place ``names``, longest first.

    >>> place_pattern(["鼓楼街道", "鼓楼"]).sub("", "鼓楼街道阳光小区")
    '阳光小区'
    """
    ordered = sorted({n for n in names if n}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered)) or r"(?!x)x")


def hot_issue_rows(
    events: pd.DataFrame, places: re.Pattern, params: HotIssueParams, as_of: str
) -> pd.DataFrame:
    """The hot issues of ``events`` (lake rows of hotline events) as rows of ``serving.hot_issues``.

    ``events`` has the lake's ``event_id``, ``event_time_ms``, ``category``,
    ``town_code``, ``town_name``, ``village_code``, ``village_name`` and
    ``attributes_json``, and ``caller``: the caller's phone pseudonym (who
    wrote the message, for the spread of an issue), or null.
    """
    texts = [clean_message(json.loads(a or "{}").get("text")) for a in events["attributes_json"]]
    keep = [bool(t) for t in texts]
    events = events.loc[keep].reset_index(drop=True)
    texts = [t for t in texts if t]
    if events.empty:
        return pd.DataFrame(columns=list(HOT_ISSUE_COLUMNS))
    messages = pd.DataFrame(
        {
            "id": events["event_id"].astype(str),
            "user": events["caller"].fillna(events["event_id"]).astype(str),
            "title": [places.sub("", t) for t in texts],
            "body": "",
            "time": pd.to_datetime(events["event_time_ms"], unit="ms", utc=True).dt.tz_convert(
                DISTRICT_TZ
            ),
            "likes": 0,
            "dislikes": 0,
            "place": events["town_code"].astype(str),
        }
    )
    by_id = events.assign(text=texts).set_index(messages["id"])
    mined = hot_issues(messages, params)
    rows = []
    for issue in mined["issues"]:
        if issue["messages"] < params.min_messages:
            continue
        members = by_id.loc[[item["id"] for item in issue["items"]]]
        town = Counter(zip(members["town_code"], members["town_name"])).most_common(1)[0][0]
        village = Counter(zip(members["village_code"], members["village_name"])).most_common(1)[0][
            0
        ]
        category = Counter(members["category"]).most_common(1)[0][0]
        rows.append(
            {
                "as_of": as_of,
                "rank": len(rows) + 1,
                "heat": issue["heat"],
                "messages": issue["messages"],
                "users": issue["users"],
                "first_day": issue["first"],
                "last_day": issue["last"],
                "town_code": town[0],
                "town_name": town[1],
                "village_code": village[0],
                "village_name": village[1],
                "category_label": CATEGORIES.get(category, category),
                "key_phrases": "、".join(issue["key_phrases"]),
                "example": members["text"].iloc[0][:EXAMPLE_CHARS],
            }
        )
    return pd.DataFrame(rows, columns=list(HOT_ISSUE_COLUMNS))
