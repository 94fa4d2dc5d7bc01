"""Decomposition, change points and forecasts of daily counts."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from models.trend_analysis import change_points, daily_counts, decompose, forecast


def _weekly(days=56, level=20.0, seed=3):
    rng = np.random.default_rng(seed)
    weekday = np.array([1.3, 1.1, 1.0, 1.0, 1.0, 0.8, 0.8])
    mean = level * weekday[np.arange(days) % 7]
    return pd.Series(rng.poisson(mean), index=pd.date_range("2026-10-05", periods=days))


def test_daily_counts_zero_fill_and_count_distinct():
    events = pd.DataFrame(
        {
            "event_id": ["a", "a", "b", "c"],
            "event_date": ["2026-11-01", "2026-11-01", "2026-11-01", "2026-11-03"],
            "town_name": ["甲镇"] * 4,
            "category": ["x", "x", "x", "y"],
        }
    )
    table = daily_counts(events, date(2026, 11, 1), date(2026, 11, 4))
    assert table[("甲镇", "x")].tolist() == [2, 0, 0]
    assert table[("甲镇", "y")].tolist() == [0, 0, 1]


def test_decomposition_finds_the_weekly_pattern():
    parts = decompose(_weekly())
    assert np.allclose(parts["observed"], parts["trend"] + parts["seasonal"] + parts["resid"])
    monday = parts["seasonal"][parts.index.dayofweek == 0].mean()
    saturday = parts["seasonal"][parts.index.dayofweek == 5].mean()
    assert monday > saturday + 3


def test_change_point_at_a_level_shift_and_none_without():
    steady = _weekly(seed=4)
    assert change_points(steady) == []
    shifted = steady.copy()
    shifted.iloc[35:] = shifted.iloc[35:] * 2
    found = change_points(shifted)
    assert len(found) == 1 and abs((found[0] - shifted.index[35].date()).days) <= 2


def test_forecast_intervals_hold_the_mean_and_cover_the_level():
    ahead = forecast(_weekly(), horizon=14)
    assert len(ahead) == 14 and ahead.index[0] == pd.Timestamp("2026-11-30")
    assert (ahead["lower"] <= ahead["mean"]).all() and (ahead["mean"] <= ahead["upper"]).all()
    assert 15 < ahead["mean"].mean() < 26
    assert (ahead["lower"] >= 0).all()
