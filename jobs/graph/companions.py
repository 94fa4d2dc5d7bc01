"""Companion vehicles: the co-present vehicle pairs that met more often than chance.

The vehicle co-presence pairs that met often enough on enough days are
scored on the driver against the co-occurrences chance gives
(:mod:`models.companion_vehicles`), with Bonferroni's ``m`` counted over
every pair that met.
"""

from __future__ import annotations

import pandas as pd

from models.companion_vehicles import companion_pairs, expected_for_pairs

__all__ = ["find_companions", "companion_ties"]


def find_companions(
    vehicle_pairs, reads, rules: dict, window_ms: int, span_days: int, exchange
) -> tuple[pd.DataFrame, int]:
    """The scored candidate pairs, and how many pairs met (Bonferroni's ``m``).

    Parameters
    ----------
    vehicle_pairs, reads
        The vehicle co-presence pairs and the plate reads of
        :func:`jobs.graph.edges.build_edges` (Spark).
    rules : dict
        ``graph.companions``: ``alpha``, ``min_co_occurrences``, ``min_days``.
    window_ms : int
        The co-presence window.
    span_days : int
        The days the night's window holds.

    Returns
    -------
    tuple
        ``(companions, tested)``: one row per candidate pair (see
        :func:`models.companion_vehicles.companion_pairs`) and the count of
        co-occurring pairs.
    """
    from pyspark.sql import functions as F

    tested = vehicle_pairs.count()
    pairs = exchange.to_pandas(
        vehicle_pairs.where(
            (F.col("weight") >= int(rules["min_co_occurrences"]))
            & (F.col("days") >= int(rules["min_days"]))
        ).select(
            F.col("src").alias("vehicle_a"),
            F.col("dst").alias("vehicle_b"),
            F.col("weight").alias("co_occurrences"),
            "days",
            "places",
            "first_ms",
            "last_ms",
        )
    )
    site_reads = exchange.to_pandas(
        reads.groupBy(F.col("vehicle_node").alias("vehicle"), F.col("site_node").alias("site")).agg(
            F.count("*").alias("reads")
        )
    )
    pairs["expected"] = expected_for_pairs(
        pairs["vehicle_a"],
        pairs["vehicle_b"],
        site_reads,
        window_s=window_ms / 1000,
        span_s=span_days * 86400.0,
    )
    companions = companion_pairs(
        pairs,
        alpha=float(rules["alpha"]),
        min_co_occurrences=int(rules["min_co_occurrences"]),
        min_days=int(rules["min_days"]),
        tested=tested,
    )
    return companions, tested


def companion_ties(companions: pd.DataFrame) -> pd.DataFrame:
    """The companion pairs as mining edges: ``src``, ``dst`` and ``weight`` 1.

    The test already decided they are real, so each counts as one shared incident.

    Examples
    --------
    >>> pairs = pd.DataFrame({"vehicle_a": ["vehicle:a", "vehicle:b"],
    ...     "vehicle_b": ["vehicle:c", "vehicle:d"], "companion": [True, False]})
    >>> companion_ties(pairs).values.tolist()
    [['vehicle:a', 'vehicle:c', 1]]
    """
    return (
        companions.loc[companions["companion"], ["vehicle_a", "vehicle_b"]]
        .set_axis(["src", "dst"], axis=1)
        .assign(weight=1)
    )
