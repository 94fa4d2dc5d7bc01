"""Hour-of-week profile (周时段系数) of each channel, shrunk toward its hour of day.

A Monday 08:00 is not a Sunday 08:00, but with two weeks of history each
hour of the week has been seen twice, and one busy Monday would set the
profile for every Monday. Each hour of the week is therefore a credibility
blend of its own factor and its hour of day's, which has seven times the
data. For channel ``s``, hour of week ``h`` (0 = Monday 00:00-01:00 in
the district's time) and its hour of day ``d = h mod 24``:

.. math::

    \\lambda_s = \\frac{N_s}{S}, \\quad
    g_{sh} = \\frac{n_{sh} / S_h}{\\lambda_s}, \\quad
    f_{sd} = \\frac{n_{sd} / S_d}{\\lambda_s}, \\quad
    z_h = \\frac{S_h}{S_h + \\kappa}, \\quad
    \\phi_{sh} = z_h g_{sh} + (1 - z_h) f_{sd},

with ``n`` the channel's events, ``S_h`` (``S_d``) the observed (date,
hour) slots falling on that hour of the week (of the day), ``S`` all
observed slots and ``kappa`` (config ``nightly.week_profile_prior_slots``)
the slots at which an hour of the week gets half its weight. An hour of
the week never observed takes ``f_sd``, or 1 if its hour of day was never
observed either. Finally every factor of the channel is scaled by one
constant so that the slot-weighted mean over the observed slots is 1,
``sum_h S_h phi_sh = S``: a rate averaged over the observed hours, times
the factor, gives back the events of the history.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["HOURS_PER_WEEK", "week_profile"]

HOURS_PER_WEEK = 168


def week_profile(counts: pd.DataFrame, slots: pd.DataFrame, prior_slots: float) -> pd.DataFrame:
    """Each channel's factor at every hour of the week.

    Parameters
    ----------
    counts : pandas.DataFrame
        ``source``, ``hour_of_week``, ``events``: events per channel and
        hour of week (hours without events may be absent).
    slots : pandas.DataFrame
        ``hour_of_week``, ``slots``: observed (date, hour) slots per hour of
        week (absent: never observed).
    prior_slots : float
        ``kappa``, >= 0 (0: no shrinkage).

    Returns
    -------
    pandas.DataFrame
        ``source``, ``hour_of_week`` (int32, 0..167), ``factor``,
        ``events`` and ``slots`` (int64): 168 rows per channel with events.

    Raises
    ------
    ValueError
        For an hour of week outside 0..167, events in an hour never
        observed, or a bad ``prior_slots``.

    Examples
    --------
    One channel, one Monday and one Tuesday observed at 08:00 only:

    >>> counts = pd.DataFrame({"source": "grid", "hour_of_week": [8, 32], "events": [6, 2]})
    >>> slots = pd.DataFrame({"hour_of_week": [8, 32], "slots": [1, 1]})
    >>> profile = week_profile(counts, slots, prior_slots=1.0)
    >>> profile.loc[profile["hour_of_week"].isin([8, 32, 56]), "factor"].round(3).tolist()
    [1.25, 0.75, 1.0]
    """
    if (
        isinstance(prior_slots, bool)
        or not isinstance(prior_slots, (int, float))
        or not math.isfinite(prior_slots)
        or prior_slots < 0
    ):
        raise ValueError(f"prior_slots={prior_slots!r} must be a finite number >= 0")
    for name, table in (("counts", counts), ("slots", slots)):
        hours = table["hour_of_week"]
        if len(hours) and not hours.between(0, HOURS_PER_WEEK - 1).all():
            bad = hours[~hours.between(0, HOURS_PER_WEEK - 1)].iloc[0]
            raise ValueError(f"{name} has hour_of_week={bad}; it must lie in 0..167")

    slot_count = np.zeros(HOURS_PER_WEEK)
    np.add.at(
        slot_count, slots["hour_of_week"].to_numpy(dtype=int), slots["slots"].to_numpy(dtype=float)
    )
    day_slots = slot_count.reshape(7, 24).sum(axis=0)
    total_slots = slot_count.sum()
    weight = (
        slot_count / (slot_count + prior_slots)
        if prior_slots > 0
        else (slot_count > 0).astype(float)
    )

    parts = []
    for source, rows in counts.groupby("source", sort=True):
        events = np.zeros(HOURS_PER_WEEK)
        np.add.at(
            events, rows["hour_of_week"].to_numpy(dtype=int), rows["events"].to_numpy(dtype=float)
        )
        unobserved = (events > 0) & (slot_count == 0)
        if unobserved.any():
            raise ValueError(
                f"source {source!r} has events at hour_of_week={int(np.argmax(unobserved))}, "
                "which slots never observed; slots must cover every hour with events"
            )
        if events.sum() <= 0:
            continue
        mean_rate = events.sum() / total_slots
        day_events = events.reshape(7, 24).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            by_day = np.where(day_slots > 0, day_events / day_slots / mean_rate, 1.0)
            by_week = np.where(slot_count > 0, events / slot_count / mean_rate, 0.0)
        by_day_of_week = np.tile(by_day, 7)
        factor = weight * by_week + (1.0 - weight) * by_day_of_week
        factor *= total_slots / float(np.dot(slot_count, factor))
        parts.append(
            pd.DataFrame(
                {
                    "source": source,
                    "hour_of_week": np.arange(HOURS_PER_WEEK, dtype=np.int32),
                    "factor": factor,
                    "events": events.astype(np.int64),
                    "slots": slot_count.astype(np.int64),
                }
            )
        )
    columns = ["source", "hour_of_week", "factor", "events", "slots"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
