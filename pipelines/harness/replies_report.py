"""``zongzhi replies``: how long answers take, and which units give them, from a file of answered messages.

Read from a CSV or XLSX with the time of each message, the time of its
reply and the reply's text (by default the columns of the reference
``messages_with_replies.xlsx``). The report: the response-time
distribution overall and per year of the message
(:mod:`models.reply_timeliness`), the units the replies name and how many
replies name each (:mod:`features.reply_units`), and the weak labels those
units give. Rows whose times cannot be used are counted by reason and left
out of the times, never of the units.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from features.reply_units import ReplyUnit, units_named, weak_label
from models.reply_timeliness import response_hours, timeliness

__all__ = ["replies_report"]


def replies_report(
    frame: pd.DataFrame,
    units: tuple[ReplyUnit, ...],
    *,
    asked_col: str,
    answered_col: str,
    reply_col: str,
) -> dict:
    """The report of the answered messages in ``frame``."""
    hours, broken = response_hours(frame[asked_col], frame[answered_col])
    years = pd.to_datetime(frame[asked_col], errors="coerce", format="mixed").dt.year
    named = [units_named(text, units) for text in frame[reply_col]]
    counts = Counter(unit for names in named for unit in names)
    label_of = {u.name: u.label for u in units}
    labels = Counter(weak_label(names, units) for names in named)
    no_label = labels.pop(None, 0)
    return {
        "rows_read": len(frame),
        "broken_rows": int(broken.notna().sum()),
        "broken_by_reason": dict(Counter(b for b in broken if b is not None)),
        "response_time": timeliness(hours),
        "response_time_by_year": {
            str(int(year)): {
                k: v
                for k, v in timeliness(hours[years == year]).items()
                if k in ("responses", "median_days", "within_days")
            }
            for year in sorted(years.dropna().unique())
        },
        "units": [
            {
                "unit": unit,
                "class": label_of[unit],
                "replies": n,
                "share": round(n / len(frame), 4) if len(frame) else None,
            }
            for unit, n in counts.most_common()
        ],
        "replies_naming_no_unit": sum(1 for names in named if not names),
        "weak_labels": dict(labels.most_common()),
        "replies_without_weak_label": no_label,
    }
