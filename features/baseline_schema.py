"""The lake's baselines folder: file names and column types (the nightly contract).

The nightly job writes these files into ``settings.lake_table("baselines")``
and the streaming hotspot job reads them with ``pyarrow.parquet.read_table``:

``cell_baselines.parquet`` (:data:`CELL_BASELINES_SCHEMA`)
    One row per cell with any event in the lake and per category seen in
    the lake (zeros included): the smoothed, effort-adjusted
    ``rate_per_hour`` (events per hour, averaged over the observed hours of
    the week) and how it was reached (:mod:`jobs.nightly.cell_rates`).
``town_baselines.parquet`` (:data:`TOWN_BASELINES_SCHEMA`)
    ``rate_per_cell_hour`` for a cell of the town without a row; > 0.
``week_profile.parquet`` (:data:`WEEK_PROFILE_SCHEMA`)
    168 factors per channel, hour 0 = Monday 00:00-01:00 Beijing time,
    slot-weighted mean 1 over the observed hours (:mod:`jobs.nightly.week_profile`).
``cell_trends.parquet`` (:data:`CELL_TRENDS_SCHEMA`)
    The emerging hot spot class of every cell of the district
    (:mod:`jobs.nightly.cell_trends`).
``hour_profile.parquet``
    The v1 hour-of-day profile, kept while readers move to the week profile.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

__all__ = [
    "CELL_BASELINES",
    "TOWN_BASELINES",
    "WEEK_PROFILE",
    "HOUR_PROFILE",
    "CELL_TRENDS",
    "CELL_BASELINES_SCHEMA",
    "TOWN_BASELINES_SCHEMA",
    "WEEK_PROFILE_SCHEMA",
    "CELL_TRENDS_SCHEMA",
    "as_arrow",
]

CELL_BASELINES = "cell_baselines.parquet"
TOWN_BASELINES = "town_baselines.parquet"
WEEK_PROFILE = "week_profile.parquet"
HOUR_PROFILE = "hour_profile.parquet"
CELL_TRENDS = "cell_trends.parquet"

CELL_BASELINES_SCHEMA = pa.schema(
    [
        ("cell_id", pa.string()),
        ("category", pa.string()),
        ("town_code", pa.string()),
        ("events", pa.int64()),
        ("exposure_hours", pa.float64()),
        ("raw_rate_per_hour", pa.float64()),
        ("prior_rate_per_hour", pa.float64()),
        ("rate_per_hour", pa.float64()),
    ]
)

TOWN_BASELINES_SCHEMA = pa.schema(
    [
        ("town_code", pa.string()),
        ("category", pa.string()),
        ("rate_per_cell_hour", pa.float64()),
    ]
)

WEEK_PROFILE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("hour_of_week", pa.int32()),
        ("factor", pa.float64()),
        ("events", pa.int64()),
        ("slots", pa.int64()),
    ]
)

CELL_TRENDS_SCHEMA = pa.schema(
    [
        ("cell_id", pa.string()),
        ("town_code", pa.string()),
        ("town_name", pa.string()),
        ("lon", pa.float64()),
        ("lat", pa.float64()),
        ("pattern", pa.string()),
        ("pattern_label", pa.string()),
        ("hot_days", pa.int32()),
        ("cold_days", pa.int32()),
        ("mk_z", pa.float64()),
        ("mk_p", pa.float64()),
        ("latest_gi_z", pa.float64()),
        ("days", pa.int32()),
        ("first_day", pa.date32()),
        ("last_day", pa.date32()),
    ]
)


def as_arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """The schema's columns of ``frame``, in its order and types.

    Raises
    ------
    ValueError
        If ``frame`` lacks a column of the schema.

    Examples
    --------
    >>> t = as_arrow(pd.DataFrame({"category": ["x"], "town_code": ["T"],
    ...                            "rate_per_cell_hour": [0.5], "extra": [1]}),
    ...              TOWN_BASELINES_SCHEMA)
    >>> t.column_names, t.num_rows
    (['town_code', 'category', 'rate_per_cell_hour'], 1)
    """
    missing = [name for name in schema.names if name not in frame.columns]
    if missing:
        raise ValueError(
            f"the table lacks the column(s) {', '.join(missing)}; the schema needs "
            + ", ".join(schema.names)
        )
    return pa.Table.from_pandas(frame[list(schema.names)], schema=schema, preserve_index=False)
