"""``zongzhi classify``: route every message of a file, and say which ones a dispatcher should read.

Per message: the router's class (``label``), its probability, the
platform's category for the class and the department its work-order rule
names, and whether it is flagged for a dispatcher, with the reason:

* ``low confidence``: the probability is below the model's threshold (the
  error budget it was trained for);
* ``not Chinese``: less than ``min_chinese_share`` of its letters are
  Chinese; the router learned only Chinese, so its guess is not trusted.

A message with no text at all (subject and body empty after cleaning) is
not routed: it is reported as a broken row and skipped, as are the lines
of a CSV file that could not be split into its columns.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping

import pandas as pd

from features.hotline_classes import message_routing
from models.hotline_routing import HotlineRouter, chinese_share, message_text

__all__ = ["classify_messages"]

#: Broken rows shown in the summary (all are counted).
BROKEN_EXAMPLES = 20


def classify_messages(
    router: HotlineRouter,
    frame: pd.DataFrame,
    *,
    text_col: str,
    title_col: str | None,
    categories: Mapping[str, str],
    departments: Mapping[str, str],
    title_weight: int,
    min_chinese_share: float,
) -> dict:
    """``rows`` (one result per routed message) and ``summary``; ``row`` is the 1-based data row."""
    bodies = frame[text_col].tolist()
    titles = frame[title_col].tolist() if title_col else [None] * len(bodies)
    texts, numbers, broken = [], [], []
    for number, (title, body) in enumerate(zip(titles, bodies, strict=True), start=1):
        text = message_text(title, body, title_weight)
        if not text:
            broken.append({"row": number, "reason": "empty text"})
            continue
        texts.append(text)
        numbers.append(number)
    started = time.perf_counter()
    routed = router.route(texts) if texts else []
    seconds = time.perf_counter() - started
    rows = [
        {
            "row": number,
            **message_routing(
                result, chinese_share(text), min_chinese_share, categories, departments
            ),
        }
        for number, text, result in zip(numbers, texts, routed, strict=True)
    ]
    unreadable = frame.attrs.get("broken_lines", [])
    return {
        "rows": rows,
        "summary": {
            "rows_read": len(bodies),
            "routed": sum(1 for r in rows if not r["flagged"]),
            "flagged": sum(1 for r in rows if r["flagged"]),
            "flagged_by_reason": dict(Counter(r["flag_reason"] for r in rows if r["flagged"])),
            "broken_rows": len(broken) + len(unreadable),
            "broken_examples": (unreadable + broken)[:BROKEN_EXAMPLES],
            "by_label": dict(Counter(r["label"] for r in rows).most_common()),
            "by_department": dict(Counter(r["department"] for r in rows).most_common()),
            "threshold": router.threshold,
            "classify_seconds": round(seconds, 3),
            "messages_per_s": round(len(texts) / seconds) if seconds > 0 else None,
        },
    }
