"""How long citizens wait for an official reply: the hotline's response-time baseline.

Each answered message has the time it was left (留言时间) and the time of
its reply (答复时间). The response time is their difference in hours; a
message whose times cannot be read, or whose reply predates it, is counted
as broken, never as a response. :func:`timeliness` describes the
distribution: count, mean, quantiles, and the share answered within each
of :data:`WITHIN_DAYS`. These are the figures the closed-loop dashboard
sets the platform's own response times against.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["QUANTILES", "WITHIN_DAYS", "deadline_rows", "response_hours", "timeliness"]

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9, 0.99)
#: Deadlines the share answered within is given for, in days.
WITHIN_DAYS = (1, 3, 7, 15, 30, 60)


def response_hours(asked: pd.Series, answered: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Hours from each message to its reply, and the reason each unusable row is broken.

    Returns ``(hours, broken)``: ``hours`` is NaN where ``broken`` names a
    reason (``unreadable time`` or ``reply before message``), None elsewhere.

    >>> hours, broken = response_hours(
    ...     pd.Series(["2019/4/25 9:32:09", "2019/4/25 9:00", "yesterday"]),
    ...     pd.Series(["2019/4/26 9:32:09", "2019/4/24 9:00", "2019/4/26 9:00"]),
    ... )
    >>> hours.tolist()[0], broken.tolist()
    (24.0, [None, 'reply before message', 'unreadable time'])
    """
    start = pd.to_datetime(asked, errors="coerce", format="mixed")
    end = pd.to_datetime(answered, errors="coerce", format="mixed")
    hours = (end - start).dt.total_seconds() / 3600
    broken = pd.Series([None] * len(hours), index=hours.index, dtype=object)
    broken[start.isna() | end.isna()] = "unreadable time"
    broken[hours < 0] = "reply before message"
    return hours.where(broken.isna()), broken


def timeliness(hours: pd.Series) -> dict:
    """The distribution of response ``hours`` (NaN ignored): hours and days, shares within deadlines.

    >>> timeliness(pd.Series([12.0, 36.0, 240.0, float("nan")]))["within_days"]["1"]
    0.3333
    """
    values = hours.dropna().to_numpy(dtype=float)
    if values.size == 0:
        return {"responses": 0}
    quantiles = np.quantile(values, QUANTILES)
    return {
        "responses": int(values.size),
        "mean_hours": round(float(values.mean()), 1),
        "quantile_hours": {
            f"p{round(q * 100)}": round(float(v), 1)
            for q, v in zip(QUANTILES, quantiles, strict=True)
        },
        "median_days": round(float(np.median(values)) / 24, 1),
        "within_days": {str(d): round(float((values <= d * 24).mean()), 4) for d in WITHIN_DAYS},
        "within_counts": {str(d): int((values <= d * 24).sum()) for d in WITHIN_DAYS},
    }


def deadline_rows(report: dict) -> list[tuple[int, str, int, int, int]]:
    """``(order, label, days, within, total)`` per deadline of a :func:`timeliness` report: what the dashboard compares.

    >>> deadline_rows(timeliness(pd.Series([12.0, 36.0, 240.0])))[:2]
    [(1, '1天内', 1, 1, 3), (2, '3天内', 3, 2, 3)]
    """
    total = report.get("responses", 0)
    if not total:
        return []
    return [
        (order, f"{days}天内", days, report["within_counts"][str(days)], total)
        for order, days in enumerate(WITHIN_DAYS, start=1)
    ]
