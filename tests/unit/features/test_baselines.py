from datetime import datetime

import pytest

from features.baselines import (
    DISTRICT_TZ,
    FALLBACK,
    NIGHTLY,
    NO_PROFILE,
    TOWN_PRIOR,
    Baselines,
    hour_of_week,
)

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=DISTRICT_TZ).timestamp()


def test_rate_times_the_channel_profile_over_the_stretch():
    b = Baselines({("r1", "hotline.transport"): 0.4}, {}, {("hotline", 10): 1.5, ("grid", 10): 3.0})
    # Monday 10:00-10:30 is hour of week 10; the hotline profile applies, not the grid's.
    assert b.expected("r1", "t", "hotline.transport", MONDAY_10, MONDAY_10 + 1800) == (
        pytest.approx(0.3),
        NIGHTLY,
    )


def test_a_stretch_across_hours_integrates_each_hours_factor():
    b = Baselines({("r1", "public_order.fight"): 1.0}, {}, {("grid", 10): 2.0, ("grid", 11): 4.0})
    # 10:45-11:15: a quarter hour at 2 and a quarter hour at 4.
    expected, source = b.expected(
        "r1", "t", "public_order.fight", MONDAY_10 + 2700, MONDAY_10 + 4500
    )
    assert (expected, source) == (pytest.approx(1.5), NIGHTLY)


def test_a_cell_without_a_row_uses_its_towns_prior_then_the_fallback():
    b = Baselines({}, {("t1", "public_order.fight"): 0.2}, {("grid", 10): 1.0}, 0.25)
    assert b.rate("r9", "t1", "public_order.fight") == (0.2, TOWN_PRIOR)
    assert b.rate("r9", "t2", "public_order.fight") == (0.25, FALLBACK)
    assert b.rate("r9", None, "public_order.fight") == (0.25, FALLBACK)


def test_a_missing_profile_hour_is_said():
    b = Baselines({("r1", "public_order.fight"): 2.0})
    assert b.expected("r1", "t", "public_order.fight", MONDAY_10, MONDAY_10 + 1800) == (
        1.0,
        NIGHTLY + NO_PROFILE,
    )


def test_hour_of_week_is_beijing_time_from_monday():
    assert hour_of_week(MONDAY_10) == 10
    # 2026-11-22 23:30 UTC is Monday 07:30 in Beijing.
    assert hour_of_week(datetime.fromisoformat("2026-11-22T23:30:00+00:00").timestamp()) == 7


def test_fallback_must_be_positive():
    with pytest.raises(ValueError, match="fallback_rate_per_hour=0 must be > 0"):
        Baselines(fallback_rate_per_hour=0)


def test_a_reversed_stretch_is_refused():
    with pytest.raises(ValueError, match="end_s=0 is before start_s=10"):
        Baselines().profile_hours("grid", 10, 0)
