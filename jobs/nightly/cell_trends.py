"""Emerging hot spot classes (热点趋势分类) of every cell over the last days.

A space-time cube holds the daily incident count of every cell of the
universe over the trend window (:func:`space_time_cube`). Each day's
counts get a local Getis-Ord Gi* z-score per cell
(:func:`models.getis_ord.gi_star`, queen neighbours and the cell itself,
over the universe only); the Mann-Kendall trend of each cell's z-scores
and the days it was significantly hot or cold give its pattern
(:func:`models.emerging_hotspots.classify_emerging`, ArcGIS Pro's rules).

As in ArcGIS Pro a day is hot for a cell when its Gi* is significant in a
two-sided test, ``p = 2 P(Z > |z|) < alpha``. A day on which every cell
has the same count (e.g. none at all) has no Gi*; it counts as neither hot
nor cold (``z = 0``, ``p = 1``).

The window is the ``window_days`` calendar days ending with the latest
day in the lake; the time steps are the days inside it that the lake holds
(:func:`trend_window`), so a day lost to an outage is left out rather than
counted as a day of zeros.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from models.emerging_hotspots import PATTERN_LABELS, classify_emerging, mann_kendall
from models.getis_ord import gi_star

__all__ = ["trend_window", "space_time_cube", "emerging_hot_spots"]


def trend_window(days: Iterable, window_days: int) -> list[dt.date]:
    """The days held, within the ``window_days`` calendar days ending at the latest one.

    Parameters
    ----------
    days : iterable of datetime.date or ISO date strings
        Days that hold events (repeats are ignored).
    window_days : int
        Length of the calendar window, >= 1.

    Returns
    -------
    list of datetime.date
        Sorted, oldest first; empty when ``days`` is.

    Examples
    --------
    >>> trend_window(["2026-11-01", "2026-11-09", "2026-11-10", "2026-11-12"], 5)
    [datetime.date(2026, 11, 9), datetime.date(2026, 11, 10), datetime.date(2026, 11, 12)]
    """
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
        raise ValueError(f"window_days={window_days!r} must be an integer >= 1")
    held = sorted({d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for d in days})
    if not held:
        return []
    first = held[-1] - dt.timedelta(days=window_days - 1)
    return [d for d in held if d >= first]


def space_time_cube(daily: pd.DataFrame, cells: Sequence[str], days: Sequence) -> np.ndarray:
    """Daily counts as an ``(n_cells, n_days)`` array in the given orders.

    Parameters
    ----------
    daily : pandas.DataFrame
        ``cell_id``, ``day``, ``events``; rows of other cells or days are
        ignored and missing pairs count 0.
    cells, days : sequence
        The cube's rows and columns (days comparable with ``daily["day"]``).

    Examples
    --------
    >>> daily = pd.DataFrame({"cell_id": ["a", "b", "z"], "day": [1, 2, 1], "events": [3, 4, 9]})
    >>> space_time_cube(daily, ["a", "b"], [1, 2])
    array([[3., 0.],
           [0., 4.]])
    """
    row = pd.Index(list(cells)).get_indexer(daily["cell_id"])
    col = pd.Index(list(days)).get_indexer(daily["day"])
    keep = (row >= 0) & (col >= 0)
    cube = np.zeros((len(cells), len(days)))
    np.add.at(cube, (row[keep], col[keep]), daily["events"].to_numpy(dtype=float)[keep])
    return cube


def emerging_hot_spots(
    cube, weights, *, alpha: float = 0.05, trend_alpha: float = 0.05
) -> pd.DataFrame:
    """Pattern, trend and latest Gi* of every row (cell) of a space-time cube.

    Parameters
    ----------
    cube : array_like of shape (n_cells, n_days)
        Non-negative counts, oldest day first, ``n_days >= 2``.
    weights : scipy.sparse matrix of shape (n_cells, n_cells)
        Gi* weights with self-weights (:func:`jobs.nightly.cell_universe.queen_weights`).
    alpha, trend_alpha : float
        Significance of a hot or cold day (two-sided) and of the trend.

    Returns
    -------
    pandas.DataFrame
        One row per cell: ``pattern``, ``pattern_label`` (Chinese),
        ``hot_days``, ``cold_days``, ``mk_z``, ``mk_p`` (Mann-Kendall of the
        Gi* z-scores) and ``latest_gi_z``.

    Examples
    --------
    An 8 x 8 grid whose central 2 x 2 block gets busier every day, among
    cells that see the same 0, 1 or 2 events every day (a background that
    itself changed from day to day by a whole pattern would leave the
    block's Gi* constant, and its trend down to rounding):

    >>> from models.getis_ord import grid_weights
    >>> days = np.arange(12)
    >>> cube = np.tile(np.tile([0.0, 1.0, 2.0, 1.0], 16)[:, None], (1, 12))
    >>> cube[[27, 28, 35, 36]] = 2 + days
    >>> table = emerging_hot_spots(cube, grid_weights(8, 8))
    >>> table.loc[27, ["pattern", "pattern_label"]].tolist(), int(table.loc[27, "hot_days"])
    (['intensifying_hot_spot', '加剧热点'], 12)
    >>> table.loc[0, "pattern"]
    'no_pattern'
    """
    counts = np.asarray(cube, dtype=float)
    if counts.ndim != 2 or counts.shape[1] < 2:
        raise ValueError(
            f"cube has shape {counts.shape}; it must be (n_cells, n_days) with n_days >= 2"
        )
    z = np.empty_like(counts)
    p = np.empty_like(counts)
    for day in range(counts.shape[1]):
        result = gi_star(counts[:, day], weights)
        z[:, day] = result.z
        p[:, day] = np.minimum(2.0 * result.p_norm, 1.0)
    undefined = np.isnan(z)
    z[undefined] = 0.0
    p[undefined] = 1.0
    patterns = classify_emerging(z, p, alpha=alpha, trend_alpha=trend_alpha)
    _, mk_z, mk_p = mann_kendall(z)
    significant = p < alpha
    return pd.DataFrame(
        {
            "pattern": patterns,
            "pattern_label": [PATTERN_LABELS[name] for name in patterns],
            "hot_days": (significant & (z > 0)).sum(axis=1),
            "cold_days": (significant & (z < 0)).sum(axis=1),
            "mk_z": mk_z,
            "mk_p": mk_p,
            "latest_gi_z": z[:, -1],
        }
    )
