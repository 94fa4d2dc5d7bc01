"""Knox space-time test for near repeats (近重复), as in the Near Repeat Calculator.

Every pair of events is put in a cell of a (spatial band x temporal band)
table by its distance apart and its time apart. If events cluster in space
and time, the near cells (close and soon) hold more pairs than they would if
the times had nothing to do with the places. That "would" is estimated by
Monte Carlo: the time stamps are shuffled among the events, the table is
recounted, and each cell's observed count is compared with its permuted ones.

Bands are half-open intervals ``[lower, upper)``. Spatially an optional
"same location" band holds pairs exactly 0 apart, and the first band then is
``(0, e1)``; the last band of each axis is ``[e_last, inf)``. This is what the
Near Repeat Calculator 1.3 (NRC, Ratcliffe) computes, whatever its labels
say: its "0 to 1 days, 2 to 2, 3 to 3, more than 3" are ``[0, 1), [1, 2),
[2, 3), [3, inf)`` days and its "1 to 200, 201 to 400, ..." metres are
``(0, 200), [200, 400), ...``. With Manhattan distance and coordinates held
in single precision (``coordinate_precision="single"``) the observed tables
of the NRC's Chicago examples are reproduced exactly.

Coordinates are projected and in metres (not lon/lat). Times are days, as
numbers, or dates; date-times are cut to their calendar day, as the NRC works
on dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["KnoxResult", "knox_test", "monte_carlo_p_value"]

METRICS = ("euclidean", "manhattan")
PRECISIONS = ("double", "single")


@dataclass(frozen=True)
class KnoxResult:
    """Observed and permuted pair counts of a Knox test, one cell per band pair.

    Arrays are indexed ``[spatial band, temporal band]``; ``permuted`` has a
    leading axis of one table per permutation.
    """

    spatial_bands: tuple[str, ...]
    temporal_bands: tuple[str, ...]
    observed: np.ndarray
    permuted: np.ndarray
    expected: np.ndarray
    ratio: np.ndarray
    p_value: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """One row per cell: bands, observed, expected, ratio and p-value."""
        n_space, n_time = self.observed.shape
        return pd.DataFrame(
            {
                "spatial_band": np.repeat(self.spatial_bands, n_time),
                "temporal_band": np.tile(self.temporal_bands, n_space),
                "observed": self.observed.ravel(),
                "expected": self.expected.ravel(),
                "ratio": self.ratio.ravel(),
                "p_value": self.p_value.ravel(),
            }
        )


def monte_carlo_p_value(observed: np.ndarray, permuted: np.ndarray) -> np.ndarray:
    """Upper-tail Monte Carlo p-value ``(1 + #{permuted >= observed}) / (R + 1)``.

    The observed table counts as one of the ``R + 1`` equally likely tables,
    so the smallest possible p-value is ``1 / (R + 1)`` (0.01 for 99
    permutations), as in the NRC.

    Parameters
    ----------
    observed : array of shape ``S``
    permuted : array of shape ``(R, *S)``

    Examples
    --------
    >>> monte_carlo_p_value(np.array([3, 0]), np.array([[1, 0], [3, 2], [0, 1]]))
    array([0.5, 1. ])
    """
    observed = np.asarray(observed)
    permuted = np.asarray(permuted)
    if permuted.ndim != observed.ndim + 1 or permuted.shape[1:] != observed.shape:
        raise ValueError(
            f"permuted has shape {permuted.shape}, but must be (R, *{observed.shape}) "
            f"for observed of shape {observed.shape}"
        )
    exceed = (permuted >= observed).sum(axis=0)
    return (1.0 + exceed) / (permuted.shape[0] + 1.0)


def knox_test(
    x: Sequence[float],
    y: Sequence[float],
    t: Sequence,
    spatial_edges: Sequence[float],
    temporal_edges: Sequence[float],
    *,
    metric: str = "manhattan",
    same_location: bool = True,
    n_permutations: int = 99,
    seed: int | np.random.Generator | None = None,
    coordinate_precision: str = "double",
) -> KnoxResult:
    """Knox test over all pairs of events, with a permutation null.

    Parameters
    ----------
    x, y : array-like of float
        Projected coordinates in metres.
    t : array-like of numbers (days) or of dates
        ``datetime64``, ``datetime.date`` or ISO strings are cut to the day.
    spatial_edges, temporal_edges : increasing positive numbers
        Upper edges of the bands; a last band ``[edges[-1], inf)`` is added.
        The NRC's "200 m x 3 bands, 1 day x 3 bands" is ``(200, 400, 600)``
        and ``(1, 2, 3)``.
    metric : {'manhattan', 'euclidean'}
        Distance between events; the NRC default, used for its Chicago
        examples, is Manhattan.
    same_location : bool
        Add a first spatial band for pairs exactly 0 m apart (repeats, 重复).
    n_permutations : int
        Number of shufflings of the time stamps (NRC: 99, so p >= 0.01).
    seed : int, Generator or None
        Permutation ``k`` is the ``k``-th ``rng.permutation(n)`` of
        ``numpy.random.default_rng(seed)``.
    coordinate_precision : {'double', 'single'}
        ``'single'`` rounds coordinates to float32 first, as the NRC does
        (1/32 m steps near 500 km, 1/4 m near 4,000 km); it only moves pairs
        lying that close to a band edge. Use it to reproduce NRC tables.

    Returns
    -------
    KnoxResult
        ``expected`` is the mean permuted count, ``ratio`` is observed over
        expected (NaN where expected is 0) and ``p_value`` is from
        :func:`monte_carlo_p_value`.

    Examples
    --------
    Two events 100 m apart on the same day, and a third far away a day later:

    >>> result = knox_test([0, 100, 5000], [0, 0, 0], [0, 0, 1], [200], [1],
    ...                    n_permutations=9, seed=1)
    >>> result.spatial_bands, result.temporal_bands
    (('0', '(0, 200)', '>= 200'), ('[0, 1)', '>= 1'))
    >>> result.observed.tolist()
    [[0, 0], [1, 0], [0, 2]]
    """
    x_m, y_m = _coordinates(x, y, coordinate_precision)
    days = _days(t, len(x_m))
    space_edges = _edges(spatial_edges, "spatial_edges")
    time_edges = _edges(temporal_edges, "temporal_edges")
    if metric not in METRICS:
        raise ValueError(
            f"metric={metric!r} provided, but is not one of: " + ", ".join(repr(m) for m in METRICS)
        )
    if (
        isinstance(n_permutations, bool)
        or not isinstance(n_permutations, (int, np.integer))
        or n_permutations < 1
    ):
        raise ValueError(f"n_permutations={n_permutations!r} must be an integer >= 1")
    rng = np.random.default_rng(seed)

    first, second = np.triu_indices(len(x_m), k=1)
    dx = np.abs(x_m[first] - x_m[second])
    dy = np.abs(y_m[first] - y_m[second])
    distance = dx + dy if metric == "manhattan" else np.hypot(dx, dy)
    space_band = np.searchsorted(space_edges, distance, side="right")
    if same_location:
        space_band = np.where(distance == 0, 0, space_band + 1)
    n_space = len(space_edges) + 1 + int(same_location)
    n_time = len(time_edges) + 1

    time_band = np.searchsorted(time_edges, np.abs(days[first] - days[second]), side="right")
    observed = np.bincount(space_band * n_time + time_band, minlength=n_space * n_time).reshape(
        n_space, n_time
    )

    # Shuffling times among events only relabels the pairs, so each temporal
    # band keeps its total; the "beyond" spatial row is that total minus the
    # near rows. Only near pairs (a few hundred of ~10^5) need recounting.
    near = space_band < n_space - 1
    near_first, near_second = first[near], second[near]
    near_cell = space_band[near] * n_time
    column_totals = observed.sum(axis=0)
    permuted = np.empty((n_permutations, n_space, n_time), dtype=np.int64)
    for k in range(n_permutations):
        shuffled = days[rng.permutation(len(days))]
        band = np.searchsorted(
            time_edges, np.abs(shuffled[near_first] - shuffled[near_second]), side="right"
        )
        counts = np.bincount(near_cell + band, minlength=n_space * n_time)
        table = counts.reshape(n_space, n_time)
        table[-1] = column_totals - table[:-1].sum(axis=0)
        permuted[k] = table

    expected = permuted.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / expected, np.nan)
    return KnoxResult(
        spatial_bands=_labels(space_edges, same_location),
        temporal_bands=_labels(time_edges, False),
        observed=observed,
        permuted=permuted,
        expected=expected,
        ratio=ratio,
        p_value=monte_carlo_p_value(observed, permuted),
    )


def _coordinates(x, y, precision: str) -> tuple[np.ndarray, np.ndarray]:
    if precision not in PRECISIONS:
        raise ValueError(
            f"coordinate_precision={precision!r} provided, but is not one of: "
            + ", ".join(repr(p) for p in PRECISIONS)
        )
    dtype = np.float32 if precision == "single" else np.float64
    x_m = np.asarray(x, dtype=float).astype(dtype).astype(float)
    y_m = np.asarray(y, dtype=float).astype(dtype).astype(float)
    if x_m.ndim != 1 or x_m.shape != y_m.shape:
        raise ValueError(
            f"x and y must be 1-d and of equal length, got shapes {x_m.shape} and {y_m.shape}"
        )
    if len(x_m) < 2:
        raise ValueError(f"{len(x_m)} events given, but a Knox test needs at least 2")
    if not (np.isfinite(x_m).all() and np.isfinite(y_m).all()):
        bad = int(np.flatnonzero(~(np.isfinite(x_m) & np.isfinite(y_m)))[0])
        raise ValueError(
            f"coordinates of event {bad} are ({x_m[bad]}, {y_m[bad]}); they must be finite"
        )
    return x_m, y_m


def _days(t, n_events: int) -> np.ndarray:
    times = np.asarray(t)
    if times.dtype.kind in "OUSM":
        try:
            times = times.astype("datetime64[D]")
        except (TypeError, ValueError) as exc:
            raise ValueError(f"t must be numbers of days or dates: {exc}") from None
        if np.isnat(times).any():
            raise ValueError(
                f"t[{int(np.flatnonzero(np.isnat(times))[0])}] is NaT; every event needs a date"
            )
        days = times.astype(np.int64).astype(float)
    elif times.dtype.kind in "iuf":
        days = times.astype(float)
        if not np.isfinite(days).all():
            bad = int(np.flatnonzero(~np.isfinite(days))[0])
            raise ValueError(f"t[{bad}]={days[bad]} must be a finite number of days")
    else:
        raise ValueError(f"t has dtype {times.dtype}, but must hold numbers of days or dates")
    if days.shape != (n_events,):
        raise ValueError(f"t has shape {days.shape}, but there are {n_events} events")
    return days


def _edges(edges, name: str) -> np.ndarray:
    problem = (
        f"{name}={np.asarray(edges).tolist()!r} must be a non-empty, strictly "
        "increasing sequence of positive finite numbers"
    )
    try:
        values = np.asarray(edges, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(problem) from None
    if (
        values.ndim != 1
        or len(values) == 0
        or not np.isfinite(values).all()
        or values[0] <= 0
        or (np.diff(values) <= 0).any()
    ):
        raise ValueError(problem)
    return values


def _labels(edges: np.ndarray, same_location: bool) -> tuple[str, ...]:
    text = [f"{e:g}" for e in edges]
    lower = ["0"] + text[:-1]
    bands = [f"[{lo}, {hi})" for lo, hi in zip(lower, text)]
    if same_location:
        bands[0] = f"(0, {text[0]})"
        bands.insert(0, "0")
    return tuple(bands) + (f">= {text[-1]}",)
