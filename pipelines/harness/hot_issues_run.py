"""``zongzhi hot-issues``: the hottest issues of a file of citizens' messages.

The file's columns are named on the command line (by default those of the
reference ``messages_with_votes.xlsx``). A row whose time cannot be read,
or whose subject and body are both empty, is reported as broken and left
out; missing vote counts are 0.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from models.hot_issues import HotIssueParams, hot_issues
from models.hotline_routing import message_text

__all__ = ["ROLES", "hot_issue_report"]

#: The columns the report reads, by role.
ROLES = ("id", "user", "title", "body", "time", "likes", "dislikes")


def hot_issue_report(frame: pd.DataFrame, columns: dict, params: HotIssueParams) -> dict:
    """Read ``frame`` through ``columns`` (each of :data:`ROLES` -> its column) and mine its issues."""
    times = pd.to_datetime(frame[columns["time"]], errors="coerce", format="mixed")
    empty = [
        not message_text(t, b)
        for t, b in zip(frame[columns["title"]], frame[columns["body"]], strict=True)
    ]
    reasons = [
        "unreadable time" if pd.isna(t) else "empty text" if e else None
        for t, e in zip(times, empty, strict=True)
    ]
    keep = [r is None for r in reasons]

    def votes(role: str) -> pd.Series:
        values = pd.to_numeric(frame[columns[role]], errors="coerce")
        return values.fillna(0).clip(lower=0).astype("int64")

    messages = pd.DataFrame(
        {
            "id": frame[columns["id"]],
            "user": frame[columns["user"]],
            "title": frame[columns["title"]].fillna(""),
            "body": frame[columns["body"]].fillna(""),
            "time": times,
            "likes": votes("likes"),
            "dislikes": votes("dislikes"),
        }
    ).loc[keep]
    mined = hot_issues(messages.reset_index(drop=True), params)
    unreadable = frame.attrs.get("broken_lines", [])
    return {
        "rows_read": len(frame),
        "broken_rows": len(unreadable) + sum(1 for r in reasons if r),
        "broken_by_reason": dict(Counter(r for r in reasons if r))
        | ({"unreadable line": len(unreadable)} if unreadable else {}),
        "params": {
            "similarity": params.similarity,
            "window_days": params.window_days,
            "min_messages": params.min_messages,
            "max_df": params.max_df,
        },
        **mined,
    }
