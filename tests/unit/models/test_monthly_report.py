"""The monthly report's figures, on small hand-made months."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from models import monthly_report as mr


def _events(rows):
    """rows: (event_id, event_date, source, category, town_code, cell_id)."""
    frame = pd.DataFrame(
        rows, columns=["event_id", "event_date", "source", "category", "town_code", "cell_id"]
    )
    frame["town_name"] = frame["town_code"].map({"t1": "甲镇", "t2": "乙镇"})
    frame["village_name"] = "一村"
    return frame


NOV = mr.parse_month("2026-11")


def test_months_shift_across_years():
    assert NOV.days == 30
    assert NOV.shifted(-1).month == "2026-10"
    assert NOV.shifted(-12).month == "2025-11"
    assert mr.parse_month("2026-01").shifted(-1).month == "2025-12"
    assert mr.parse_month("2026-12").end.isoformat() == "2027-01-01"


@pytest.mark.parametrize("bad", ["2026-13", "2026-00", "26-11", "2026/11", "", "1969-12"])
def test_bad_months_name_the_value(bad):
    with pytest.raises(ValueError, match=f"--month {bad!r} is not a month; expected YYYY-MM"):
        mr.parse_month(bad)


def test_rate_change_matches_the_conditional_binomial_test():
    # 60 events in 30 days against 30 in 31 days: the rate roughly doubled.
    change = mr.rate_change(60, 30, 30, 31)
    assert change["rate_ratio"] == pytest.approx((60 / 30) / (30 / 31))
    assert change["p_value"] < 0.01
    assert change["ci_low"] < change["rate_ratio"] < change["ci_high"]
    assert change["ci_low"] > 1
    same = mr.rate_change(30, 30, 31, 31)
    assert same["rate_ratio"] == pytest.approx(1.0) and same["p_value"] > 0.5
    assert mr.rate_change(0, 30, 0, 31)["p_value"] == 1.0
    assert math.isinf(mr.rate_change(5, 30, 0, 31)["rate_ratio"])


def test_headline_counts_distinct_events_by_month_and_source():
    events = _events(
        [
            ("a", "2026-11-02", "grid", "x", "t1", "c1"),
            ("b", "2026-11-30", "hotline", "x", "t2", "c2"),
            ("c", "2026-11-30", "hotline", "x", "t2", "c2"),
            ("d", "2026-10-31", "grid", "x", "t1", "c1"),
            ("e", "2025-11-15", "grid", "x", "t1", "c1"),
            ("f", "2026-12-01", "grid", "x", "t1", "c1"),
        ]
    )
    figures = mr.headline(events, NOV)
    assert figures["events"] == 3
    assert figures["previous_events"] == 1
    assert figures["year_ago_events"] == 1
    assert figures["by_source"] == {"便民热线": 2, "网格上报": 1}
    assert figures["towns"] == 2
    assert figures["month_on_month"]["current"] == 3


def test_no_comparison_with_a_month_the_lake_does_not_cover():
    events = _events([("a", "2026-11-02", "grid", "x", "t1", "c1")])
    figures = mr.headline(events, NOV, coverage={"2026-11": 2, "2026-10": 0})
    assert figures["month_on_month"] is None and figures["days_covered"] == 2
    assert mr.significant_changes(events, NOV, coverage={"2026-11": 2, "2026-10": 0}).empty
    text = mr.narrative("甲镇", figures, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), {})
    assert "上月（2026-10）无数据，不作环比" in text and "数据覆盖本月2天" in text


def test_significant_changes_keep_only_real_shifts():
    rows = [(f"n{i}", "2026-11-10", "grid", "public_order.fight", "t1", "c1") for i in range(80)]
    rows += [(f"p{i}", "2026-10-10", "grid", "public_order.fight", "t1", "c1") for i in range(20)]
    rows += [
        (f"s{i}", "2026-11-10", "grid", "public_order.petty_theft", "t1", "c1") for i in range(10)
    ]
    rows += [
        (f"q{i}", "2026-10-10", "grid", "public_order.petty_theft", "t1", "c1") for i in range(11)
    ]
    changes = mr.significant_changes(_events(rows), NOV)
    assert list(changes["label"]) == ["打架斗殴"]
    assert changes.iloc[0]["current"] == 80 and changes.iloc[0]["before"] == 20
    assert changes.iloc[0]["q_value"] < 0.05


def test_hot_cells_persistent_and_new():
    rows = []
    for month, hot in (("2026-10-05", ["c1"]), ("2026-11-05", ["c1", "c2"])):
        for cell in [f"c{i}" for i in range(1, 30)]:
            n = 40 if cell in hot else 1
            rows += [(f"{month}-{cell}-{k}", month, "grid", "x", "t1", cell) for k in range(n)]
    hot = mr.hot_cells(_events(rows), NOV)
    assert dict(zip(hot["cell_id"], hot["status"], strict=True)) == {
        "c1": "持续热点",
        "c2": "新增热点",
    }


def test_repeat_places_and_empty_month_narrative():
    rows = [(f"r{i}", "2026-11-03", "grid", "public_order.fight", "t1", "c9") for i in range(4)]
    rows += [(f"o{i}", "2026-11-03", "grid", "public_order.fight", "t1", "c8") for i in range(2)]
    repeats = mr.repeat_places(_events(rows), NOV)
    assert list(repeats["cell_id"]) == ["c9"] and repeats.iloc[0]["events"] == 4
    empty = mr.headline(_events([]), NOV)
    assert empty["events"] == 0
    text = mr.narrative("乙镇", empty, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), {})
    assert text.startswith("乙镇2026-11暂无数据")


def test_work_orders_weigh_rates_by_cases():
    rates = pd.DataFrame(
        {
            "cases": [10, 30],
            "responded_in_time": [10, 15],
            "closed": [5, 30],
            "followed_up": [4, 0],
            "satisfied": [3, 0],
            "supervised": [1, 2],
        }
    )
    orders = mr.work_order_summary(rates)
    assert orders["cases"] == 40
    assert orders["response_rate"] == pytest.approx(25 / 40)
    assert orders["resolution_rate"] == pytest.approx(35 / 40)
    assert orders["satisfaction_rate"] == pytest.approx(3 / 4)
    assert mr.work_order_summary(rates.iloc[0:0]) == {"cases": 0}


def test_narrative_states_a_fall_without_a_double_sign():
    rows = [(f"n{i}", "2026-11-10", "grid", "x", "t1", "c1") for i in range(30)]
    rows += [(f"p{i}", "2026-10-10", "grid", "x", "t1", "c1") for i in range(62)]
    figures = mr.headline(_events(rows), NOV)
    text = mr.narrative("甲镇", figures, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), {})
    assert "日均下降50.0%" in text and "-" not in text.split("日均下降")[1][:6]
