"""Trend analysis of daily event counts: seasonal decomposition, change points, forecasts.

For the planners' trend notebook, per town and category:

- :func:`daily_counts` turns distinct events into one zero-filled daily series
  per group;
- :func:`decompose`: STL (robust LOESS) with a weekly period, giving trend,
  weekly pattern and remainder;
- :func:`change_points`: PELT (``ruptures``) on the square root of the series
  (which makes the noise of counts roughly constant) with its weekday pattern
  taken out, under an L2 cost and the penalty ``3 log n`` times the noise
  variance (at least a Poisson count's, 1/4);
- :func:`forecast`: an additive ETS model (damped trend, weekly season where
  two full weeks are available) with its analytic prediction intervals,
  clipped at zero.

>>> s = pd.Series([5, 6, 5, 7, 6, 5, 6] * 4 + [15, 16, 14, 15, 16, 15, 14] * 4,
...               index=pd.date_range("2026-01-01", periods=56))
>>> [d.isoformat() for d in change_points(s)]
['2026-01-29']
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

__all__ = ["daily_counts", "decompose", "change_points", "forecast", "WEEK"]

#: The seasonal period of daily counts: a week.
WEEK = 7


def daily_counts(
    events: pd.DataFrame, start: date, end: date, by: tuple[str, ...] = ("town_name", "category")
) -> pd.DataFrame:
    """Distinct events per day (``[start, end)``) and group, zero-filled: rows are days."""
    days = pd.date_range(start, end, inclusive="left")
    if events.empty:
        return pd.DataFrame(index=days)
    table = (
        events.assign(day=pd.to_datetime(events["event_date"]))
        .groupby(["day", *by])["event_id"]
        .nunique()
        .unstack(list(by), fill_value=0)
    )
    return table.reindex(days, fill_value=0).astype(int)


def decompose(series: pd.Series, period: int = WEEK) -> pd.DataFrame:
    """STL of a daily series: ``observed, trend, seasonal, resid`` by day."""
    from statsmodels.tsa.seasonal import STL

    result = STL(series.astype(float), period=period, robust=True).fit()
    return pd.DataFrame(
        {
            "observed": series.astype(float),
            "trend": result.trend,
            "seasonal": result.seasonal,
            "resid": result.resid,
        }
    )


def change_points(series: pd.Series, min_size: int = WEEK, penalty: float | None = None) -> list:
    """Days where the level shifts (PELT on the square-root series); the first day of each new level."""
    import ruptures

    root = np.sqrt(series.astype(float).to_numpy())
    n = len(root)
    if n < 2 * min_size:
        return []
    # The weekly pattern is not a shift: take each weekday's deviation out first.
    weekday = np.arange(n) % WEEK
    profile = np.array([np.median(root[weekday == d]) for d in range(WEEK)])
    values = (root - profile[weekday] + np.median(root)).reshape(-1, 1)
    if penalty is None:
        # Noise variance from first differences (robust to the shifts themselves),
        # never below a Poisson count's on the square-root scale (1/4).
        mad = float(np.median(np.abs(np.diff(values[:, 0]))))
        sigma2 = max((mad / 0.6745) ** 2 / 2, 0.25)
        penalty = 3 * np.log(n) * sigma2
    breaks = ruptures.Pelt(model="l2", min_size=min_size, jump=1).fit(values).predict(pen=penalty)
    return [series.index[b].date() for b in breaks[:-1]]


def forecast(series: pd.Series, horizon: int = 14, coverage: float = 0.8) -> pd.DataFrame:
    """``mean, lower, upper`` for the next ``horizon`` days, a ``coverage`` prediction interval."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = series.astype(float)
    seasonal = len(y) >= 2 * WEEK
    model = ETSModel(
        y,
        error="add",
        trend="add",
        damped_trend=True,
        seasonal="add" if seasonal else None,
        seasonal_periods=WEEK if seasonal else None,
    )
    fitted = model.fit(disp=False, maxiter=200)
    start, end = len(y), len(y) + horizon - 1
    # Additive errors: the prediction intervals are analytic (no simulation).
    frame = fitted.get_prediction(start=start, end=end).summary_frame(alpha=1 - coverage)
    index = pd.date_range(series.index[-1] + pd.Timedelta(days=1), periods=horizon)
    return pd.DataFrame(
        {
            "mean": np.clip(frame["mean"].to_numpy(), 0, None),
            "lower": np.clip(frame["pi_lower"].to_numpy(), 0, None),
            "upper": np.clip(frame["pi_upper"].to_numpy(), 0, None),
        },
        index=index,
    )
