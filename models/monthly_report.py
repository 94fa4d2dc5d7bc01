"""The monthly stability report's figures (《安全稳定月报分析》), from one month of events.

Pure functions over a table of distinct events (one row per ``event_id``,
with ``event_date``, ``source``, ``category``, ``town_code``, ``town_name``,
``village_name`` and ``cell_id``): headline counts against the previous
month and the same month a year before, significant changes by category and
town, hot cells (persistent and new), repeat places, and a Chinese
narrative paragraph written from those numbers.

Statistics
----------
- **Change against the previous month**: the counts of two periods of
  lengths ``d1`` and ``d0`` days compared as Poisson rates, by the exact
  conditional test: given ``n = k1 + k0``, ``k1 ~ Binomial(n, d1/(d1+d0))``
  under equal rates. Two-sided p-values; over many groups, Benjamini-Hochberg
  q-values; a change is reported when ``q < alpha``.
- **Hot cell**: a cell whose count in the month exceeds what a uniform rate
  over the area's active cells would give, ``P(X >= k) < alpha_cell`` for
  ``X ~ Poisson(mean)``. Persistent: hot this month and the previous one;
  new: hot this month only.
- **Repeat place**: a cell with at least ``repeat_min`` events of the same
  category in the month.

>>> parse_month("2026-11")
MonthSpan(month='2026-11', start=datetime.date(2026, 11, 1), end=datetime.date(2026, 12, 1))
>>> parse_month("2026-13")
Traceback (most recent call last):
...
ValueError: --month '2026-13' is not a month; expected YYYY-MM, for example 2026-11
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from features.taxonomy import SOURCE_LABELS, category_label

__all__ = [
    "MonthSpan",
    "parse_month",
    "in_month",
    "rate_change",
    "headline",
    "significant_changes",
    "hot_cells",
    "repeat_places",
    "work_order_summary",
    "narrative",
    "NO_DATA",
]

#: What the report says where there is nothing to count.
NO_DATA = "暂无数据"
_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class MonthSpan:
    """A calendar month: its ``YYYY-MM`` name and its days ``[start, end)``."""

    month: str
    start: date
    end: date

    @property
    def days(self) -> int:
        """How many days the month has."""
        return (self.end - self.start).days

    def shifted(self, months: int) -> MonthSpan:
        """The month ``months`` later (negative: earlier)."""
        index = self.start.year * 12 + self.start.month - 1 + months
        return parse_month(f"{index // 12:04d}-{index % 12 + 1:02d}")

    def holds(self, day: str) -> bool:
        """Whether the ``YYYY-MM-DD`` day falls in the month."""
        return self.start.isoformat() <= day < self.end.isoformat()


def in_month(events: pd.DataFrame, span: MonthSpan) -> pd.DataFrame:
    """The rows of ``events`` whose ``event_date`` falls in ``span``."""
    mask = events["event_date"].astype(str).map(span.holds).astype(bool)
    return events.loc[mask]


def parse_month(text: str) -> MonthSpan:
    """The month named ``YYYY-MM``; a ValueError naming the value otherwise."""
    match = _MONTH.fullmatch(str(text).strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        raise ValueError(f"--month {text!r} is not a month; expected YYYY-MM, for example 2026-11")
    year, month = int(match.group(1)), int(match.group(2))
    start = date(year, month, 1)
    end = date(year + month // 12, month % 12 + 1, 1)
    return MonthSpan(f"{year:04d}-{month:02d}", start, end)


def rate_change(current: int, current_days: int, before: int, before_days: int) -> dict:
    """Two Poisson counts over periods of given lengths: ratio, 95% interval and p-value."""
    n = current + before
    share = current_days / (current_days + before_days)
    p = float(stats.binomtest(current, n, share).pvalue) if n else 1.0
    rate_now, rate_before = current / current_days, before / max(before_days, 1)
    ratio = rate_now / rate_before if rate_before else math.inf if rate_now else 1.0
    low = high = float("nan")
    if n and current and before:
        # Exact interval for the binomial share, mapped to the rate ratio.
        ci = stats.binomtest(current, n, share).proportion_ci(0.95, method="exact")
        scale = before_days / current_days
        low = ci.low / (1 - ci.low) * scale
        high = ci.high / (1 - ci.high) * scale if ci.high < 1 else math.inf
    return {
        "current": int(current),
        "before": int(before),
        "change_pct": (ratio - 1) * 100 if math.isfinite(ratio) else math.inf,
        "rate_ratio": ratio,
        "ci_low": low,
        "ci_high": high,
        "p_value": p,
    }


def _covered(span: MonthSpan, coverage: Mapping[str, int] | None) -> int:
    """Days of ``span`` the data covers (all of them unless ``coverage`` says otherwise)."""
    return span.days if coverage is None else int(coverage.get(span.month, 0))


def headline(
    events: pd.DataFrame, span: MonthSpan, coverage: Mapping[str, int] | None = None
) -> dict:
    """Counts of the month, the month before and the same month a year before, by source.

    ``coverage`` maps a month to the days of it the lake holds; rates are per
    covered day, and a month the lake does not cover is not compared with.
    """
    before, last_year = span.shifted(-1), span.shifted(-12)
    now, prev, year_ago = (in_month(events, m) for m in (span, before, last_year))
    by_source = now.groupby("source")["event_id"].nunique()
    count, previous = int(now["event_id"].nunique()), int(prev["event_id"].nunique())
    days_now, days_before = _covered(span, coverage), _covered(before, coverage)
    return {
        "month": span.month,
        "events": count,
        "days_covered": days_now,
        "previous_month": before.month,
        "previous_events": previous,
        "previous_days_covered": days_before,
        "year_ago_month": last_year.month,
        "year_ago_events": int(year_ago["event_id"].nunique()),
        "year_ago_days_covered": _covered(last_year, coverage),
        "by_source": {
            SOURCE_LABELS.get(source, source): int(n)
            for source, n in by_source.sort_values(ascending=False).items()
        },
        "month_on_month": (
            rate_change(count, days_now, previous, days_before)
            if days_now and days_before
            else None
        ),
        "towns": int(now["town_code"].nunique()),
    }


def _bh(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values, in the input's order."""
    n = len(p_values)
    if n == 0:
        return p_values
    order = np.argsort(p_values)
    ranked = p_values[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def significant_changes(
    events: pd.DataFrame,
    span: MonthSpan,
    by: str = "category",
    alpha: float = 0.05,
    coverage: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Groups whose rate changed against the previous month, with q < ``alpha``, largest first.

    None when either month is not covered by the data at all.
    """
    columns = [
        by,
        "label",
        "current",
        "before",
        "change_pct",
        "rate_ratio",
        "ci_low",
        "ci_high",
        "p_value",
        "q_value",
    ]
    before = span.shifted(-1)
    days_now, days_before = _covered(span, coverage), _covered(before, coverage)
    if not days_now or not days_before:
        return pd.DataFrame(columns=columns)
    now = in_month(events, span).groupby(by)["event_id"].nunique()
    prev = in_month(events, before).groupby(by)["event_id"].nunique()
    keys = sorted(set(now.index) | set(prev.index))
    if not keys:
        return pd.DataFrame(columns=columns)
    rows = [
        {by: key, **rate_change(int(now.get(key, 0)), days_now, int(prev.get(key, 0)), days_before)}
        for key in keys
    ]
    table = pd.DataFrame(rows)
    table["q_value"] = _bh(table["p_value"].to_numpy(dtype=float))
    if by == "category":
        table["label"] = table[by].map(category_label)
    else:
        names = events.drop_duplicates(by).set_index(by)["town_name"]
        table["label"] = table[by].map(names)
    found = table[table["q_value"] < alpha]
    order = found["change_pct"].abs().sort_values(ascending=False).index
    return found.loc[order, columns].reset_index(drop=True)


def _hot(counts: pd.Series, alpha: float) -> set[str]:
    if counts.empty:
        return set()
    mean = counts.sum() / len(counts)
    tail = stats.poisson.sf(counts.to_numpy() - 1, mean)
    return set(counts.index[tail < alpha])


def hot_cells(events: pd.DataFrame, span: MonthSpan, alpha: float = 0.001) -> pd.DataFrame:
    """Hot cells of the month: ``cell_id, town_name, events, status`` (持续热点 or 新增热点)."""
    located = events.loc[events["cell_id"].notna().astype(bool)]
    now = in_month(located, span).groupby("cell_id")["event_id"].nunique()
    prev = in_month(located, span.shifted(-1)).groupby("cell_id")["event_id"].nunique()
    hot_now, hot_before = _hot(now, alpha), _hot(prev, alpha)
    if not hot_now:
        return pd.DataFrame(columns=["cell_id", "town_name", "events", "status"])
    towns = located.drop_duplicates("cell_id").set_index("cell_id")["town_name"]
    table = pd.DataFrame(
        {
            "cell_id": sorted(hot_now),
            "town_name": [towns.get(c) for c in sorted(hot_now)],
            "events": [int(now[c]) for c in sorted(hot_now)],
            "status": ["持续热点" if c in hot_before else "新增热点" for c in sorted(hot_now)],
        }
    )
    return table.sort_values(["events", "cell_id"], ascending=[False, True]).reset_index(drop=True)


def repeat_places(
    events: pd.DataFrame, span: MonthSpan, repeat_min: int = 3, top: int = 10
) -> pd.DataFrame:
    """Cells with at least ``repeat_min`` events of one category in the month, most first."""
    columns = ["cell_id", "town_name", "village_name", "category_label", "events"]
    now = in_month(events, span)
    now = now.loc[now["cell_id"].notna().astype(bool)]
    if now.empty:
        return pd.DataFrame(columns=columns)
    grouped = (
        now.groupby(["cell_id", "category"])
        .agg(
            events=("event_id", "nunique"),
            town_name=("town_name", "first"),
            village_name=("village_name", "first"),
        )
        .reset_index()
    )
    grouped = grouped[grouped["events"] >= repeat_min]
    grouped["category_label"] = grouped["category"].map(category_label)
    grouped = grouped.sort_values(["events", "cell_id"], ascending=[False, True]).head(top)
    return grouped[columns].reset_index(drop=True)


def work_order_summary(case_rates: pd.DataFrame) -> dict:
    """The three rates over a month's rows of ``serving.case_rates`` (count-weighted)."""
    if case_rates.empty or int(case_rates["cases"].sum()) == 0:
        return {"cases": 0}
    cases = int(case_rates["cases"].sum())
    followed = int(case_rates["followed_up"].sum())
    return {
        "cases": cases,
        "response_rate": int(case_rates["responded_in_time"].sum()) / cases,
        "resolution_rate": int(case_rates["closed"].sum()) / cases,
        "satisfaction_rate": int(case_rates["satisfied"].sum()) / followed if followed else None,
        "supervised": int(case_rates["supervised"].sum()),
    }


def _month_days(month: str) -> int:
    return parse_month(month).days


def _pct(value: float) -> str:
    return f"{value:+.1f}%" if math.isfinite(value) else "由零增加"


def narrative(
    area: str,
    figures: dict,
    changes: pd.DataFrame,
    hot: pd.DataFrame,
    repeats: pd.DataFrame,
    orders: dict,
) -> str:
    """One Chinese paragraph that says what the numbers say, and nothing they do not."""
    month = figures["month"]
    if figures["events"] == 0:
        return f"{area}{month}{NO_DATA}：本月无事件记录，无法形成研判。"
    mom = figures["month_on_month"]
    covered = figures.get("days_covered")
    coverage = (
        f"（数据覆盖本月{covered}天）"
        if covered is not None and covered < _month_days(month)
        else ""
    )
    parts = [f"{area}{month}共受理各类事件{figures['events']:,}件{coverage}。"]
    if mom is None:
        parts.append(f"上月（{figures['previous_month']}）无数据，不作环比。")
    else:
        trend = "上升" if mom["rate_ratio"] > 1 else "下降" if mom["rate_ratio"] < 1 else "持平"
        parts.append(
            f"较上月（{figures['previous_events']:,}件）日均{trend}"
            + (
                f"{abs(mom['change_pct']):.1f}%"
                if math.isfinite(mom["change_pct"])
                else "（上月为零）"
            )
            + ("，变化具有统计显著性" if mom["p_value"] < 0.05 else "，变化在正常波动范围内")
            + f"（p={mom['p_value']:.2g}）。"
        )
    if figures["year_ago_events"]:
        parts.append(f"去年同期为{figures['year_ago_events']:,}件。")
    if figures["by_source"]:
        top_source, top_count = next(iter(figures["by_source"].items()))
        share = top_count / figures["events"] * 100
        parts.append(f"从来源看，{top_source}最多，占{share:.0f}%。")
    if mom is None:
        pass
    elif not changes.empty:
        lead = changes.iloc[0]
        parts.append(
            f"变化显著的类别有{len(changes)}个，其中{lead['label']}变化最大"
            f"（{int(lead['before'])}→{int(lead['current'])}件，{_pct(lead['change_pct'])}）。"
        )
    else:
        parts.append("各类别均无统计显著的变化。")
    if not hot.empty:
        persistent = int((hot["status"] == "持续热点").sum())
        parts.append(
            f"识别热点网格{len(hot)}个，其中持续热点{persistent}个、新增热点{len(hot) - persistent}个，"
            f"最集中的位于{hot.iloc[0]['town_name']}（{int(hot.iloc[0]['events'])}件）。"
        )
    if not repeats.empty:
        top = repeats.iloc[0]
        parts.append(
            f"重复发生地点{len(repeats)}处，{top['town_name']}{top['village_name'] or ''}"
            f"的{top['category_label']}本月发生{int(top['events'])}次，建议重点关注。"
        )
    if orders.get("cases"):
        parts.append(
            f"本月派单{orders['cases']}件，响应率{orders['response_rate']:.0%}，"
            f"解决率{orders['resolution_rate']:.0%}"
            + (
                f"，满意率{orders['satisfaction_rate']:.0%}。"
                if orders.get("satisfaction_rate") is not None
                else "，暂无回访满意度。"
            )
        )
    return "".join(parts)
