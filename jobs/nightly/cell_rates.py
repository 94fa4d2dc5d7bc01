"""Smoothed, effort-adjusted event rates per cell and category (网格基线 v2).

Input: events per cell, category and town over the lake (the nightly job's
Spark group-by), the cell universe with each cell's town
(:func:`jobs.nightly.cell_universe.cell_places`) and the hours the lake
observed ``H`` (distinct (date, hour) slots with any event in the
district). For every category seen in the lake:

1. **Complete table** (:func:`complete_cell_counts`): every cell of the
   universe and every cell with an event, zeros included. A cell with
   events takes the town most of its events were attributed to; any other
   cell the town of its centre.
2. **Reporting effort** ``eps_jc`` (:mod:`jobs.nightly.reporting_effort`): the
   cell's reports in the category's channel, other categories only,
   relative to its town, shrunk toward 1. Exposure is effort-weighted:
   ``e_jc = H * eps_jc``.
3. **Local empirical Bayes** (:class:`models.local_empirical_bayes.
   LocalPoissonGammaSmoother`, one fit per category, towns as groups,
   queen neighbours within one cell): ``theta_jc`` events per
   effort-hour, the neighbourhood's pooled rate shrunk toward the town's,
   then the cell's own count shrunk toward that with the town's
   heterogeneity, the town prior being worth at most ``a`` events (config
   ``nightly.max_prior_events``; the moment estimate of a town's spread
   is fragile when one cell stands out among many quiet ones). A town that
   never saw the category would have a prior of 0; its prior mean is floored at ``f * sum_j y_jc / sum_j e_jc`` (the
   district's mean rate per cell-hour of the category, since the efforts
   of a town average 1) with ``f`` = config ``nightly.town_floor_fraction``.
4. **Back to clock hours**: ``rate_per_hour = eps_jc * theta_jc`` (the
   expected events per hour in the cell as it is reported),
   ``prior_rate_per_hour = eps_jc * m_jc`` (the prior mean, before the
   cell's own count), ``raw_rate_per_hour = y_jc / H``.

The town table gives the rate of a cell that has no row: the town's
posterior for a cell with no event in ``H`` hours and the effort of a cell
that reported nothing in the channel, ``eps0 * alpha_t / (H * eps0 +
beta_t)`` (capped prior; ``eps0 * m_t`` for a point prior); always > 0.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from features.geography import CellGrid
from jobs.nightly.cell_universe import queen_weights
from jobs.nightly.reporting_effort import reporting_effort
from models.local_empirical_bayes import LocalPoissonGammaSmoother

__all__ = ["complete_cell_counts", "smoothed_cell_rates", "CELL_RATE_COLUMNS", "TOWN_RATE_COLUMNS"]

#: Columns of the cell table (the lake's ``cell_baselines``), in order.
CELL_RATE_COLUMNS = (
    "cell_id",
    "category",
    "town_code",
    "events",
    "exposure_hours",
    "raw_rate_per_hour",
    "prior_rate_per_hour",
    "rate_per_hour",
)
#: Columns of the town table (the lake's ``town_baselines``), in order.
TOWN_RATE_COLUMNS = ("town_code", "category", "rate_per_cell_hour")


def complete_cell_counts(active: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """Every cell (universe and active) times every category seen, zeros included.

    Parameters
    ----------
    active : pandas.DataFrame
        ``cell_id``, ``category``, ``town_code``, ``events``: events per
        cell, category and attributed town (rows with events > 0).
    places : pandas.DataFrame
        ``cell_id``, ``town_code`` of the universe (the town of each
        cell's centre); cells without a town are left out unless active.

    Returns
    -------
    pandas.DataFrame
        ``cell_id``, ``town_code``, ``category``, ``events`` (int64),
        ``active`` (the cell has an event of any category), sorted by
        category then cell.

    Examples
    --------
    >>> active = pd.DataFrame({"cell_id": ["a", "a", "b"], "category": ["x", "y", "x"],
    ...                        "town_code": ["T1", "T2", "T2"], "events": [3, 1, 2]})
    >>> places = pd.DataFrame({"cell_id": ["a", "c"], "town_code": ["T2", "T1"]})
    >>> complete_cell_counts(active, places)
      cell_id town_code category  events  active
    0       a        T1        x       3    True
    1       b        T2        x       2    True
    2       c        T1        x       0   False
    3       a        T1        y       1    True
    4       b        T2        y       0    True
    5       c        T1        y       0   False
    """
    by_town = (
        active.groupby(["cell_id", "town_code"], as_index=False)["events"]
        .sum()
        .sort_values(["cell_id", "events", "town_code"], ascending=[True, False, True])
    )
    active_towns = by_town.drop_duplicates("cell_id")[["cell_id", "town_code"]]
    quiet = places.loc[
        places["town_code"].notna() & ~places["cell_id"].isin(active_towns["cell_id"]),
        ["cell_id", "town_code"],
    ]
    cells = pd.concat([active_towns, quiet], ignore_index=True)
    categories = pd.DataFrame({"category": sorted(active["category"].unique())})
    grid = cells.merge(categories, how="cross")
    events = active.groupby(["cell_id", "category"], as_index=False)["events"].sum()
    table = grid.merge(events, on=["cell_id", "category"], how="left")
    table["events"] = table["events"].fillna(0).astype("int64")
    table["active"] = table["cell_id"].isin(active_towns["cell_id"])
    return table.sort_values(["category", "cell_id"], ignore_index=True)


def smoothed_cell_rates(
    active: pd.DataFrame,
    places: pd.DataFrame,
    observed_hours: float,
    grid: CellGrid,
    *,
    effort_prior_events: float,
    town_floor_fraction: float,
    max_prior_events: float = np.inf,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cell and town baselines of every category seen in the lake.

    Parameters
    ----------
    active, places : pandas.DataFrame
        As for :func:`complete_cell_counts`.
    observed_hours : float
        ``H``, > 0.
    grid : CellGrid
        Parses cell ids for the neighbourhoods.
    effort_prior_events : float
        ``k`` of :func:`jobs.nightly.reporting_effort.reporting_effort`.
    town_floor_fraction : float
        ``f`` above, in (0, 1].
    max_prior_events : float, default inf
        ``a`` above, > 0.

    Returns
    -------
    cells : pandas.DataFrame
        :data:`CELL_RATE_COLUMNS`, one row per active cell and category.
    towns : pandas.DataFrame
        :data:`TOWN_RATE_COLUMNS`, one row per town and category.

    Raises
    ------
    ValueError
        For ``observed_hours <= 0``, a fraction outside (0, 1], or no events.
    """
    if not (isinstance(observed_hours, (int, float)) and 0 < observed_hours < math.inf):
        raise ValueError(f"observed_hours={observed_hours!r} must be a finite number > 0")
    if not (isinstance(town_floor_fraction, (int, float)) and 0 < town_floor_fraction <= 1):
        raise ValueError(f"town_floor_fraction={town_floor_fraction!r} must lie in (0, 1]")
    if active.empty or active["events"].sum() <= 0:
        raise ValueError("active holds no events; at least one event is needed for baselines")
    hours = float(observed_hours)
    table = reporting_effort(complete_cell_counts(active, places), effort_prior_events)
    cells = sorted(table["cell_id"].unique())
    weights = queen_weights(cells, grid)

    cell_parts, town_parts = [], []
    for category, rows in table.groupby("category", sort=True):
        rows = rows.sort_values("cell_id")  # the order of ``weights``
        y = rows["events"].to_numpy(dtype=float)
        effort = rows["effort"].to_numpy()
        exposure = hours * effort
        floor = town_floor_fraction * y.sum() / exposure.sum()
        smoother = LocalPoissonGammaSmoother(
            min_prior_mean=floor, max_prior_events=max_prior_events
        ).fit(y, exposure, rows["town_code"].to_numpy(), weights)
        part = rows.assign(
            exposure_hours=hours,
            raw_rate_per_hour=y / hours,
            prior_rate_per_hour=effort * smoother.prior_mean_,
            rate_per_hour=effort * smoother.smoothed_rates_,
        )
        cell_parts.append(part.loc[part["active"], list(CELL_RATE_COLUMNS)])
        towns = rows.drop_duplicates("town_code").sort_values("town_code")
        unseen = towns["unseen_effort"].to_numpy()
        rate = unseen * smoother.unseen_rate(hours * unseen, towns["town_code"].to_numpy())
        town_parts.append(
            pd.DataFrame(
                {
                    "town_code": towns["town_code"].to_numpy(),
                    "category": category,
                    "rate_per_cell_hour": rate,
                }
            )
        )
    cell_table = pd.concat(cell_parts, ignore_index=True)
    cell_table["events"] = cell_table["events"].astype("int64")
    return (
        cell_table.sort_values(["cell_id", "category"], ignore_index=True),
        pd.concat(town_parts, ignore_index=True),
    )
