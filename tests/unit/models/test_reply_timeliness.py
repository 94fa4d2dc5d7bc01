import pandas as pd
import pytest

from models.reply_timeliness import response_hours, timeliness


def test_hours_between_message_and_reply_in_the_exports_formats():
    hours, broken = response_hours(
        pd.Series(["2019/4/25 9:32:09", "2019/4/25 9:32:09", "2019/5/9 ", "soon"]),
        pd.Series(["2019/4/25 21:32:09", "2019/5/10 14:56:53", "2019/5/10 12:00", "2019/5/9"]),
    )
    assert hours.tolist()[:3] == [12.0, pytest.approx(365.41, abs=0.01), 36.0]
    assert broken.tolist() == [None, None, None, "unreadable time"]


def test_a_reply_before_its_message_is_broken_not_a_response():
    hours, broken = response_hours(pd.Series(["2019/4/25 9:00"]), pd.Series(["2019/4/24 9:00"]))
    assert hours.isna().all() and broken.tolist() == ["reply before message"]


def test_the_distribution_counts_shares_within_each_deadline():
    report = timeliness(pd.Series([12.0, 48.0, 100.0, 200.0, 1000.0, float("nan")]))
    assert report["responses"] == 5
    assert report["mean_hours"] == 272.0
    assert report["quantile_hours"]["p50"] == 100.0
    assert report["median_days"] == 4.2
    assert report["within_days"] == {
        "1": 0.2,
        "3": 0.4,
        "7": 0.6,
        "15": 0.8,
        "30": 0.8,
        "60": 1.0,
    }


def test_no_response_at_all_says_so():
    assert timeliness(pd.Series([float("nan")])) == {"responses": 0}
