"""Reporting effort (上报力度) of each cell and channel, relative to its town.

How many events a cell reports depends on who is there to report them as
much as on what happens: grid workers patrol some villages more than
others, cameras cover some roads and not others, and hotline callers are
where people live. Every category of a channel shares that effort, so the
effort of a cell for a category can be read off the cell's *other*
categories of the same channel (``source_of``):

.. math::

    \\varepsilon_{jc} = \\frac{n_{js} - y_{jc} + k}
                             {\\overline{(n_{s} - y_{c})}_t + k},

with ``y_jc`` the events of category ``c`` in cell ``j``, ``n_js`` all
events of the category's channel ``s`` in the cell (categories the hotspot
job ignores included: plate reads say where the cameras are), the bar the
mean over the cells of the cell's town ``t``, and ``k`` a prior in events
(config ``nightly.effort_prior_events``) that pulls the effort of a cell
with few reports toward 1. Leaving the category itself out keeps the
prior of a cell independent of the count it is a prior for: a cell does
not look busier in theft because it reported theft. Over the cells of a
town the effort of each category averages exactly 1, so the town's total
expected events do not change; a cell that reported nothing in the channel
has ``k / (mean + k)``, returned as ``unseen_effort``.
"""

from __future__ import annotations

import math

import pandas as pd

from features.taxonomy import source_of

__all__ = ["reporting_effort"]

_REQUIRED = ("cell_id", "town_code", "category", "events")


def reporting_effort(counts: pd.DataFrame, prior_events: float) -> pd.DataFrame:
    """Add each row's reporting effort and the effort of a cell that reported nothing.

    Parameters
    ----------
    counts : pandas.DataFrame
        One row per cell and category, zeros included (every cell of a town
        must have a row for every category, or the town means are biased):
        columns ``cell_id``, ``town_code``, ``category``, ``events``.
    prior_events : float
        ``k`` above, > 0.

    Returns
    -------
    pandas.DataFrame
        A copy of ``counts`` with ``source``, ``effort`` and
        ``unseen_effort`` added.

    Raises
    ------
    ValueError
        On a missing column, a negative count or ``prior_events <= 0``.

    Examples
    --------
    Town T, two cells; the first reported 8 grid events, the second none:

    >>> counts = pd.DataFrame({
    ...     "cell_id": ["a", "a", "b", "b"], "town_code": "T",
    ...     "category": ["public_order.fight", "environment.burning"] * 2,
    ...     "events": [2, 6, 0, 0]})
    >>> reporting_effort(counts, prior_events=2.0)[["effort", "unseen_effort"]].round(3)
       effort  unseen_effort
    0   1.600          0.400
    1   1.333          0.667
    2   0.400          0.400
    3   0.667          0.667
    """
    missing = [c for c in _REQUIRED if c not in counts.columns]
    if missing:
        raise ValueError(
            f"counts lacks the column(s) {', '.join(missing)}; required: {', '.join(_REQUIRED)}"
        )
    if (
        isinstance(prior_events, bool)
        or not isinstance(prior_events, (int, float))
        or not math.isfinite(prior_events)
        or prior_events <= 0
    ):
        raise ValueError(f"prior_events={prior_events!r} must be a finite number > 0")
    if (counts["events"] < 0).any():
        bad = counts.loc[counts["events"] < 0].iloc[0]
        raise ValueError(
            f"cell {bad['cell_id']!r}, category {bad['category']!r} has events="
            f"{int(bad['events'])}; counts must be >= 0"
        )
    table = counts.copy()
    table["source"] = table["category"].map(source_of)
    channel = table.groupby(["cell_id", "source"])["events"].transform("sum")
    others = channel - table["events"]
    town_mean = others.groupby([table["town_code"], table["category"]]).transform("mean")
    k = float(prior_events)
    table["effort"] = (others + k) / (town_mean + k)
    table["unseen_effort"] = k / (town_mean + k)
    return table
