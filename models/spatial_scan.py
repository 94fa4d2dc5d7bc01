"""Kulldorff's spatial scan statistic (空间扫描统计), discrete Poisson, circular windows.

A circular window is centred on a location and grows to take in its nearest
neighbours, up to a maximum share of the population at risk. Each window is
scored by the Poisson log-likelihood ratio of "the rate inside differs from the
rate outside" against "one rate everywhere"; only excesses (high rates) count.
The window with the largest ratio is the most likely cluster; Monte Carlo
replicates of the null give its p-value.

The conventions follow SaTScan v9.6, and reproduce its output on the New York
example data to the printed precision:

* coordinates are Cartesian (project longitude/latitude first; SaTScan's
  reference runs treated degrees as Cartesian);
* locations at exactly the same distance from the centre enter a window
  together; a window may hold at most (``<=``) the maximum share of the
  population, and a ring that would push it over is left out whole;
* a window needs at least ``min_cases`` cases (SaTScan's default is 2);
* secondary clusters are the best window of every other centre, in decreasing
  log-likelihood ratio, kept only if they share no location with a cluster
  already reported ("no geographical overlap");
* every cluster's p-value compares its ratio with the replicates' maximum
  ratios (no adjustment for more likely clusters). It is the plain Monte
  Carlo rank, never below ``1 / (n_permutations + 1)``; SaTScan's default
  output swaps in a Gumbel approximation for the smallest p-values.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Cluster", "circular_windows", "circular_scan"]

# Replicates whose window counts are held in memory at once are capped at
# about this many numbers, so the scan stays within tens of megabytes.
_CELLS_PER_BATCH = 4_000_000


@dataclass(frozen=True)
class Cluster:
    """One circular cluster found by :func:`circular_scan`.

    Attributes
    ----------
    center : hashable
        Id of the location the circle is centred on.
    members : tuple
        Ids of the locations inside, nearest to the centre first.
    radius : float
        Distance from the centre to the farthest member.
    population : float
        Population at risk inside the window.
    observed : int
        Cases inside the window.
    expected : float
        Cases expected inside under one rate everywhere.
    relative_risk : float
        Rate inside over rate outside, ``(c / e) / ((C - c) / (C - e))``;
        ``inf`` when every case is inside.
    llr : float
        Poisson log-likelihood ratio.
    p_value : float or None
        Monte Carlo p-value, ``None`` unless replicates were run.
    """

    center: Hashable
    members: tuple
    radius: float
    population: float
    observed: int
    expected: float
    relative_risk: float
    llr: float
    p_value: float | None = None


def _as_vector(values, name: str, n: int | None) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} has shape {array.shape}, but must be one-dimensional")
    if n is not None and array.shape[0] != n:
        raise ValueError(f"{name} has {array.shape[0]} values, but coords has {n} locations")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains {array[~np.isfinite(array)][0]}; values must be finite")
    negative = array < 0
    if negative.any():
        where = int(np.flatnonzero(negative)[0])
        raise ValueError(f"{name}[{where}]={array[where]:g} is negative; values must be >= 0")
    return array


def _as_coords(coords) -> np.ndarray:
    array = np.asarray(coords, dtype=float)
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(
            f"coords has shape {array.shape}, but must be (n_locations, n_dimensions) "
            "with at least one location"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("coords contains a non-finite value; coordinates must be finite")
    return array


def _check_fraction(max_population_fraction) -> float:
    if not isinstance(max_population_fraction, numbers.Real) or not (
        0 < max_population_fraction <= 1
    ):
        raise ValueError(
            f"max_population_fraction={max_population_fraction!r} is outside the allowed "
            "range (0, 1]"
        )
    return float(max_population_fraction)


def _check_count(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


def _window_table(coords: np.ndarray, population: np.ndarray, max_population_fraction: float):
    """Neighbour order per centre and the mask of scanned window sizes.

    Returns ``order`` (n, width): location indices by distance from each
    centre; ``distance`` (n, width): their distances; ``window_population``
    (n, width): population of the first ``j + 1`` neighbours; and
    ``scanned`` (n, width): whether that prefix is a window.
    """
    n = coords.shape[0]
    squared = np.zeros((n, n))
    for axis in range(coords.shape[1]):
        # Differences, not the Gram trick, so equal distances stay exactly equal.
        squared += (coords[:, None, axis] - coords[None, :, axis]) ** 2
    # Nearest first; among locations sharing the centre's spot, the centre first.
    not_centre = ~np.eye(n, dtype=bool)
    order = np.lexsort((not_centre, squared), axis=1)
    squared = np.take_along_axis(squared, order, axis=1)
    window_population = np.cumsum(population[order], axis=1)
    # A prefix is a window only if the next neighbour is strictly farther:
    # locations at one distance enter together.
    closes_ring = np.ones((n, n), dtype=bool)
    closes_ring[:, :-1] = squared[:, 1:] > squared[:, :-1]
    limit = max_population_fraction * population.sum()
    # A window that leaves no one outside compares nothing, so it is not
    # scanned (counted in whole locations so rounding cannot let it through).
    populated = population > 0
    leaves_someone_out = np.cumsum(populated[order], axis=1) < populated.sum()
    scanned = closes_ring & (window_population <= limit) & leaves_someone_out
    # Populations are non-negative, so nothing beyond the last scanned column is scanned.
    columns = np.flatnonzero(scanned.any(axis=0))
    width = int(columns[-1]) + 1 if columns.size else 0
    return (
        order[:, :width],
        np.sqrt(squared[:, :width]),
        window_population[:, :width],
        scanned[:, :width],
    )


def circular_windows(coords, population, *, max_population_fraction: float = 0.5):
    """The circular windows a scan visits, as tuples of location indices.

    Parameters
    ----------
    coords : array-like, shape (n_locations, n_dimensions)
        Cartesian coordinates.
    population : array-like, shape (n_locations,)
        Population at risk per location, non-negative.
    max_population_fraction : float, default 0.5
        Largest share of the total population a window may hold, in (0, 1].

    Returns
    -------
    list of list of tuple
        For each centre, its windows from smallest to largest; each window
        lists location indices nearest first. Locations equally far from the
        centre always enter together, and a window always leaves some
        population outside.

    Examples
    --------
    A centre with four neighbours at the same distance has no window of two,
    three or four locations:

    >>> plus = [[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1], [5, 0]]
    >>> circular_windows(plus, [1] * 6, max_population_fraction=1.0)[0]
    [(0,), (0, 1, 2, 3, 4)]
    """
    coords = _as_coords(coords)
    population = _as_vector(population, "population", coords.shape[0])
    fraction = _check_fraction(max_population_fraction)
    order, _, _, scanned = _window_table(coords, population, fraction)
    return [
        [tuple(int(i) for i in order[centre, : size + 1]) for size in np.flatnonzero(row)]
        for centre, row in enumerate(scanned)
    ]


def _poisson_scorer(expected, total_cases, min_cases):
    """Scorer of windows: ``c ln(c/e) + (C-c) ln((C-c)/(C-e))`` if ``c > e``, else 0.

    ``expected`` holds ``e`` for each window (``0 < e < C``). The returned
    function maps case counts with windows on the last axis to their ratios,
    zero where ``c <= e`` or ``c < min_cases``.
    """
    # Expanding the logs gives ratio = x(c) - c (ln e - ln(C-e)) - C ln(C-e),
    # with x(c) = c ln c + (C-c) ln(C-c) read from a table, since counts are
    # whole numbers: one look-up and a multiply-add per window and replicate.
    counts = np.arange(total_cases + 1, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_log_x = np.nan_to_num(counts * np.log(counts))
    table = x_log_x + x_log_x[::-1]
    log_expected = np.log(np.where(expected > 0, expected, 1.0))
    log_expected_outside = np.log(total_cases - expected)
    slope = log_expected - log_expected_outside
    offset = total_cases * log_expected_outside
    floor = np.maximum(expected, min_cases - 0.5)

    def score(window_cases):
        llr = table[window_cases] - window_cases * slope - offset
        return np.where(window_cases > floor, llr, 0.0)

    return score


def circular_scan(
    coords,
    cases,
    population,
    *,
    ids: Sequence[Hashable] | None = None,
    max_population_fraction: float = 0.5,
    min_cases: int = 2,
    n_secondary: int | None = None,
    n_permutations: int = 0,
    random_state=None,
) -> list[Cluster]:
    """Most likely and secondary high-rate clusters under a Poisson model.

    Parameters
    ----------
    coords : array-like, shape (n_locations, n_dimensions)
        Cartesian coordinates of the locations (e.g. projected metres).
    cases : array-like of int, shape (n_locations,)
        Observed cases per location.
    population : array-like, shape (n_locations,)
        Population at risk per location; a location without population must
        have no cases.
    ids : sequence, optional
        Location ids used in the result; default ``0 .. n_locations - 1``.
    max_population_fraction : float, default 0.5
        Largest share of the total population a window may hold, in (0, 1].
    min_cases : int, default 2
        Fewest cases a window needs to count as a cluster (SaTScan's default).
    n_secondary : int, optional
        Most secondary clusters to report; default all with a positive ratio.
    n_permutations : int, default 0
        Monte Carlo replicates; with 0 the p-values are ``None``.
    random_state : None, int or numpy.random.Generator
        Seed for the replicates, which spread the total cases over the
        locations multinomially in proportion to population.

    Returns
    -------
    list of Cluster
        The most likely cluster, then secondary clusters sharing no location
        with any earlier one, in decreasing log-likelihood ratio; empty when
        no window has more cases than expected. The p-value of each is
        ``(1 + replicates whose maximum ratio is at least its ratio) /
        (n_permutations + 1)``.

    Examples
    --------
    Five locations on a line, 100 people each, 20 cases, 4 expected per
    location; a window may hold two locations at most:

    >>> [top] = circular_scan([[0, 0], [1, 0], [2, 0], [3, 0], [10, 0]],
    ...                       [8, 6, 1, 1, 4], [100] * 5, n_secondary=0)
    >>> top.members, top.observed, top.expected, round(top.llr, 6)
    ((0, 1), 14, 8.0, 3.675738)
    """
    coords = _as_coords(coords)
    n = coords.shape[0]
    cases = _as_vector(cases, "cases", n)
    if not np.all(cases == np.round(cases)):
        where = int(np.flatnonzero(cases != np.round(cases))[0])
        raise ValueError(f"cases[{where}]={cases[where]:g} is not a whole number of cases")
    cases = cases.astype(np.int64)
    population = _as_vector(population, "population", n)
    if population.sum() <= 0:
        raise ValueError("population sums to 0; at least one location needs people at risk")
    stranded = (population == 0) & (cases > 0)
    if stranded.any():
        where = int(np.flatnonzero(stranded)[0])
        raise ValueError(
            f"cases[{where}]={cases[where]} at a location with population 0; "
            "cases need a population at risk"
        )
    if ids is None:
        ids = tuple(range(n))
    else:
        ids = tuple(ids)
        if len(ids) != n:
            raise ValueError(f"ids has {len(ids)} values, but coords has {n} locations")
        if len(set(ids)) != n:
            raise ValueError("ids contains duplicates; every location needs its own id")
    fraction = _check_fraction(max_population_fraction)
    min_cases = _check_count(min_cases, "min_cases", 0)
    if n_secondary is not None:
        n_secondary = _check_count(n_secondary, "n_secondary", 0)
    n_permutations = _check_count(n_permutations, "n_permutations", 0)

    total_cases = int(cases.sum())
    if total_cases == 0:
        return []
    total_population = population.sum()
    order, distance, window_population, scanned = _window_table(coords, population, fraction)
    if not scanned.any():
        return []
    # Scanned windows, flattened centre by centre.
    score = _poisson_scorer(
        total_cases * window_population[scanned] / total_population, total_cases, min_cases
    )

    def scores(case_table):
        return score(np.cumsum(case_table[..., order], axis=-1)[..., scanned])

    llr = np.zeros(scanned.shape)
    llr[scanned] = scores(cases)
    best_size = llr.argmax(axis=1)
    best_llr = llr[np.arange(n), best_size]

    # SaTScan keeps each centre's best window and reports them greedily.
    chosen = []
    covered = np.zeros(n, dtype=bool)
    for centre in np.argsort(-best_llr, kind="stable"):
        if best_llr[centre] <= 0 or (n_secondary is not None and len(chosen) > n_secondary):
            break
        members = order[centre, : best_size[centre] + 1]
        if covered[members].any():
            continue
        covered[members] = True
        chosen.append((int(centre), int(best_size[centre])))

    null_maxima = np.empty(0)
    if n_permutations and chosen:
        rng = np.random.default_rng(random_state)
        batch = max(1, _CELLS_PER_BATCH // max(1, order.size))
        maxima = []
        for start in range(0, n_permutations, batch):
            replicates = rng.multinomial(
                total_cases,
                population / total_population,
                size=min(batch, n_permutations - start),
            )
            maxima.append(scores(replicates).max(axis=1, initial=0.0))
        null_maxima = np.concatenate(maxima)

    clusters = []
    for centre, size in chosen:
        observed = int(cases[order[centre, : size + 1]].sum())
        e = float(total_cases * window_population[centre, size] / total_population)
        outside_rate = (total_cases - observed) / (total_cases - e)
        p_value = None
        if n_permutations:
            beaten = int(np.count_nonzero(null_maxima >= llr[centre, size]))
            p_value = (1 + beaten) / (n_permutations + 1)
        clusters.append(
            Cluster(
                center=ids[centre],
                members=tuple(ids[i] for i in order[centre, : size + 1]),
                radius=float(distance[centre, size]),
                population=float(window_population[centre, size]),
                observed=observed,
                expected=e,
                relative_risk=(observed / e) / outside_rate if outside_rate > 0 else float("inf"),
                llr=float(llr[centre, size]),
                p_value=p_value,
            )
        )
    return clusters
