import itertools
import math
from pathlib import Path

import esda
import libpysal
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from models.getis_ord import (
    aggregate_points_to_grid,
    gi_star,
    gi_star_permutation_p,
    grid_distance_band_weights,
    grid_weights,
)
from models.gi_star_permutation import ordered_samples

CRIME_POINTS = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "crime_points"
needs_crime_points = pytest.mark.skipif(
    not (CRIME_POINTS / "vancouver_thefts.csv.gz").exists(),
    reason=f"reference data {CRIME_POINTS} is absent (it sits beside the repository in CI)",
)


# --- independent references -------------------------------------------------


def _neighbours_by_hand(n_rows, n_cols, rook):
    """Cell -> cells within one step (itself included), from grid coordinates."""
    cells = [(r, c) for r in range(n_rows) for c in range(n_cols)]
    result = {}
    for i, (r, c) in enumerate(cells):
        result[i] = [
            j
            for j, (rr, cc) in enumerate(cells)
            if abs(rr - r) <= 1
            and abs(cc - c) <= 1
            and (not rook or abs(rr - r) + abs(cc - c) <= 1)
        ]
    return result


def _gi_star_by_hand(values, weight_rows):
    """Getis & Ord (1995) Gi*: ``weight_rows[i]`` maps cell j -> w_ij, self included."""
    n = len(values)
    mean = sum(values) / n
    s = math.sqrt(sum(v * v for v in values) / n - mean * mean)
    z = []
    for i in range(n):
        lag = sum(w * values[j] for j, w in weight_rows[i].items())
        w_sum = sum(weight_rows[i].values())
        s1 = sum(w * w for w in weight_rows[i].values())
        denominator = s * math.sqrt((n * s1 - w_sum * w_sum) / (n - 1))
        z.append((lag - mean * w_sum) / denominator if denominator > 0 else math.nan)
    return z


def _upper_tail(z):
    return 0.5 * math.erfc(z / math.sqrt(2))


def _exact_tails(values, neighbours, i):
    """P(sum >= observed) and P(sum <= observed) of k values drawn without
    replacement from the cells other than i, by counting subsets (dynamic
    programming over integer sums)."""
    others = [int(v) for j, v in enumerate(values) if j != i]
    k = len(neighbours)
    observed = sum(int(values[j]) for j in neighbours)
    ways = [dict() for _ in range(k + 1)]  # ways[size][sum] = number of subsets
    ways[0][0] = 1
    for v in others:
        for size in range(k, 0, -1):
            for total, count in list(ways[size - 1].items()):
                ways[size][total + v] = ways[size].get(total + v, 0) + count
    n_subsets = math.comb(len(others), k)
    at_least = sum(c for total, c in ways[k].items() if total >= observed)
    at_most = sum(c for total, c in ways[k].items() if total <= observed)
    return at_least / n_subsets, at_most / n_subsets


# --- Gi* z-scores -------------------------------------------------------------

COUNTS_3X3 = [[3, 0, 1], [2, 5, 0], [0, 1, 4]]


@pytest.mark.parametrize("rook", [False, True])
def test_gi_star_matches_the_formula_on_a_3x3_grid(rook):
    values = [v for row in COUNTS_3X3 for v in row]
    rows = {i: {j: 1.0 for j in nb} for i, nb in _neighbours_by_hand(3, 3, rook).items()}
    expected = _gi_star_by_hand(values, rows)

    result = gi_star(np.array(COUNTS_3X3), grid_weights(3, 3, rook=rook))

    assert result.z.shape == (3, 3)
    assert result.z.ravel().tolist() == pytest.approx(expected, rel=1e-12, nan_ok=True)
    expected_p = [_upper_tail(abs(z)) if not math.isnan(z) else math.nan for z in expected]
    assert result.p_norm.ravel().tolist() == pytest.approx(expected_p, rel=1e-9, nan_ok=True)


def test_queen_centre_of_a_3x3_grid_covers_everything_so_its_z_is_undefined():
    result = gi_star(np.array(COUNTS_3X3), grid_weights(3, 3))
    assert math.isnan(result.z[1, 1])
    assert math.isnan(result.p_norm[1, 1])


def test_gi_star_with_general_weights_uses_the_sum_of_squared_weights():
    values = [4.0, 0.0, 2.0, 7.0, 1.0]
    rows = {
        0: {0: 1.0, 1: 0.5, 3: 2.0},
        1: {1: 1.0, 0: 0.5, 2: 0.25},
        2: {2: 1.0, 1: 0.25, 4: 1.5},
        3: {3: 2.0, 0: 2.0},
        4: {4: 1.0, 2: 1.5, 3: 0.75},
    }
    dense = np.zeros((5, 5))
    for i, row in rows.items():
        for j, w in row.items():
            dense[i, j] = w

    result = gi_star(values, sp.csr_matrix(dense))

    assert result.z.tolist() == pytest.approx(_gi_star_by_hand(values, rows), rel=1e-12)


@pytest.mark.parametrize(
    "alternative, tail",
    [
        ("directed", lambda z: _upper_tail(abs(z))),
        ("greater", _upper_tail),
        ("lesser", lambda z: _upper_tail(-z)),
    ],
)
def test_normal_p_value_alternatives(alternative, tail):
    counts = np.array([[9, 0, 1, 0], [7, 2, 0, 1], [0, 1, 0, 0]])
    result = gi_star(counts, grid_weights(3, 4), alternative=alternative)
    expected = [tail(z) for z in result.z.ravel()]
    assert result.p_norm.ravel().tolist() == pytest.approx(expected, rel=1e-9)


def test_constant_counts_give_nan_not_an_error():
    result = gi_star(np.zeros(6), grid_weights(2, 3))
    assert np.isnan(result.z).all() and np.isnan(result.p_norm).all()


def test_duplicate_sparse_entries_are_summed_before_use():
    dense = grid_weights(3, 4).toarray()
    rows, cols = np.nonzero(dense)
    # Every weight split into two entries of 0.5: the same matrix once summed.
    duplicated = sp.coo_matrix(
        (np.full(2 * rows.size, 0.5), (np.tile(rows, 2), np.tile(cols, 2))), shape=dense.shape
    ).tocsr(copy=False)
    counts = [5, 0, 1, 2, 0, 3, 8, 1, 0, 0, 2, 4]
    assert gi_star(counts, duplicated).z.tolist() == pytest.approx(
        gi_star(counts, dense).z.tolist(), rel=1e-12
    )


# --- weights and aggregation ---------------------------------------------------


@pytest.mark.parametrize("n_rows, n_cols", [(3, 3), (2, 5), (1, 4), (4, 1), (1, 1)])
@pytest.mark.parametrize("rook", [False, True])
def test_grid_weights_neighbour_sets(n_rows, n_cols, rook):
    expected = np.zeros((n_rows * n_cols,) * 2)
    for i, nb in _neighbours_by_hand(n_rows, n_cols, rook).items():
        expected[i, nb] = 1.0

    with_self = grid_weights(n_rows, n_cols, rook=rook)
    without_self = grid_weights(n_rows, n_cols, rook=rook, self_weight=False)

    assert isinstance(with_self, sp.csr_matrix)
    np.testing.assert_array_equal(with_self.toarray(), expected)
    np.testing.assert_array_equal(without_self.toarray(), expected - np.eye(n_rows * n_cols))


@pytest.mark.parametrize("threshold", [1.0, 1.5, 2.0, 2.3, 3.0])
@pytest.mark.parametrize("self_weight", [True, False])
def test_distance_band_weights_against_all_pairs(threshold, self_weight):
    n_rows, n_cols = 5, 6
    expected = np.zeros((30, 30))
    for i in range(30):
        for j in range(30):
            dr, dc = i // n_cols - j // n_cols, i % n_cols - j % n_cols
            if math.hypot(dr, dc) <= threshold and (i != j or self_weight):
                expected[i, j] = 1.0
    weights = grid_distance_band_weights(n_rows, n_cols, threshold, self_weight=self_weight)
    np.testing.assert_array_equal(weights.toarray(), expected)


def test_distance_band_of_sqrt2_is_queen_contiguity():
    np.testing.assert_array_equal(
        grid_distance_band_weights(4, 5, math.sqrt(2)).toarray(), grid_weights(4, 5).toarray()
    )


def test_aggregate_points_to_grid_with_snapped_origin():
    x = [100.0, 149.9, 150.0, 260.0, 301.0]
    y = [1000.0, 1049.9, 1000.0, 1120.0, 1001.0]
    counts, origin = aggregate_points_to_grid(x, y, 50.0)
    assert origin == (100.0, 1000.0)
    # rows go north from y0 = 1000, columns east from x0 = 100
    expected = np.zeros((3, 5), dtype=np.int64)
    expected[0, 0] = 2  # (100, 1000) and (149.9, 1049.9)
    expected[0, 1] = 1  # (150, 1000)
    expected[2, 3] = 1  # (260, 1120)
    expected[0, 4] = 1  # (301, 1001)
    np.testing.assert_array_equal(counts, expected)


def test_aggregate_points_to_grid_with_given_origin_and_unsnapped_minimum():
    counts, origin = aggregate_points_to_grid(
        [7.0, 13.0, 26.0], [-3.0, 2.0, 2.0], 10.0, origin=(5, -5)
    )
    assert origin == (5.0, -5.0)
    np.testing.assert_array_equal(counts, [[2, 0, 1]])  # x - x0 = 2, 8 | 21

    counts, origin = aggregate_points_to_grid([7.0, 13.0, 26.0], [-3.0, 2.0, 2.0], 10.0)
    assert origin == (0.0, -10.0)
    np.testing.assert_array_equal(counts, [[1, 0, 0], [0, 1, 1]])


# --- conditional permutation ----------------------------------------------------


def _sd_bound(p, n_permutations):
    return 4 * math.sqrt(max(p * (1 - p), 1e-4) / n_permutations) + 2 / n_permutations


@pytest.mark.parametrize(
    "shape, rook",
    [
        ((4, 4), False),  # small grid: ordered samples from ranked random keys
        ((10, 10), True),  # larger grid: samples drawn with rejection of repeats
    ],
)
def test_permutation_p_matches_the_exact_conditional_distribution(shape, rook):
    rng = np.random.default_rng(3)
    counts = rng.poisson(1.5, size=shape)
    counts[1:3, 1:3] += 4
    values = counts.ravel().tolist()
    neighbours = _neighbours_by_hand(*shape, rook)
    exact = [_exact_tails(values, [j for j in nb if j != i], i) for i, nb in neighbours.items()]
    n_permutations = 20_000
    weights = grid_weights(*shape, rook=rook)

    greater = gi_star_permutation_p(counts, weights, n_permutations, 11, alternative="greater")
    lesser = gi_star_permutation_p(counts, weights, n_permutations, 12, alternative="lesser")
    directed = gi_star_permutation_p(counts, weights, n_permutations, 13)

    for i, (at_least, at_most) in enumerate(exact):
        assert abs(greater.ravel()[i] - at_least) < _sd_bound(at_least, n_permutations)
        assert abs(lesser.ravel()[i] - at_most) < _sd_bound(at_most, n_permutations)
        folded = min(at_least, 1 - at_least)
        assert abs(directed.ravel()[i] - folded) < _sd_bound(folded, n_permutations)


@pytest.mark.parametrize("n, size", [(30, 5), (10, 5), (6, 6)])
def test_ordered_samples_are_distinct_and_uniform(n, size):
    n_samples = 30_000
    draws = ordered_samples(np.random.default_rng(8), n, size, n_samples)

    assert draws.shape == (n_samples, size)
    assert all(len(set(row)) == size for row in draws.tolist())
    # Each cell lands in each position with probability 1 / n.
    expected = n_samples / n
    for position in range(size):
        frequency = np.bincount(draws[:, position], minlength=n)
        assert np.abs(frequency - expected).max() < 5 * math.sqrt(expected)


def test_permutation_p_with_general_weights_matches_enumeration():
    # With unequal weights the order in which values meet neighbours matters.
    values = [3.0, 0.0, 5.0, 1.0, 2.0, 0.0]
    rows = {
        0: {1: 0.5, 3: 2.0},
        1: {0: 0.5, 2: 1.0, 4: 0.25},
        2: {1: 1.0, 5: 3.0},
        3: {0: 2.0, 4: 1.0},
        4: {1: 0.25, 3: 1.0, 5: 0.5},
        5: {2: 3.0, 4: 0.5},
    }
    dense = np.eye(6)
    for i, row in rows.items():
        for j, w in row.items():
            dense[i, j] = w
    n_permutations = 20_000
    p = gi_star_permutation_p(
        values, sp.csr_matrix(dense), n_permutations, 5, alternative="greater"
    )

    for i, row in rows.items():
        observed = sum(w * values[j] for j, w in row.items())
        others = [j for j in range(6) if j != i]
        draws = list(itertools.permutations(others, len(row)))
        at_least = sum(
            sum(w * values[j] for w, j in zip(row.values(), draw)) >= observed - 1e-12
            for draw in draws
        ) / len(draws)
        assert abs(p[i] - at_least) < _sd_bound(at_least, n_permutations)


def test_permutation_p_is_reproducible_with_a_seed():
    counts = np.random.default_rng(0).poisson(2.0, size=(12, 15))
    weights = grid_weights(12, 15)
    first = gi_star_permutation_p(counts, weights, 199, random_state=42)
    again = gi_star_permutation_p(counts, weights, 199, random_state=42)
    from_generator = gi_star_permutation_p(
        counts, weights, 199, random_state=np.random.default_rng(42)
    )
    other_seed = gi_star_permutation_p(counts, weights, 199, random_state=43)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, from_generator)
    assert not np.array_equal(first, other_seed)
    assert first.shape == (12, 15)
    grid = np.arange(1, 200) / 200  # p-values are (m + 1) / (R + 1)
    assert np.isin(first, grid).all()


def test_self_weight_value_does_not_change_permutation_p():
    counts = np.random.default_rng(1).poisson(2.0, size=(6, 7))
    weights = grid_weights(6, 7)
    heavier_self = weights + sp.identity(42, format="csr")
    np.testing.assert_array_equal(
        gi_star_permutation_p(counts, weights, 99, random_state=9),
        gi_star_permutation_p(counts, heavier_self, 99, random_state=9),
    )


def test_cell_without_other_neighbours_gets_nan():
    weights = sp.block_diag([grid_weights(2, 2), sp.identity(1)], format="csr")
    p = gi_star_permutation_p([1, 4, 0, 2, 6], weights, 99, random_state=0)
    assert np.isnan(p[4])
    assert np.isfinite(p[:4]).all()


def test_ties_count_as_at_least_as_large():
    # Cell 0's neighbour 1 holds 0; dealing the other values {0, 0, 5} gives
    # 0 (a tie) two times in three. Centre cells never differ from observed.
    counts = [2, 0, 0, 0, 5]
    weights = sp.csr_matrix(
        np.array(
            [
                [1, 1, 0, 0, 0],
                [1, 1, 1, 0, 0],
                [0, 1, 1, 1, 0],
                [0, 0, 1, 1, 1],
                [0, 0, 0, 1, 1],
            ],
            dtype=float,
        )
    )
    p = gi_star_permutation_p(counts, weights, 2000, random_state=3, alternative="greater")
    assert p[0] == 1.0  # every draw (0 or 5) is >= the observed 0


# --- esda reference on real data ----------------------------------------------------


@pytest.fixture(scope="module")
def vancouver_grid():
    thefts = pd.read_csv(CRIME_POINTS / "vancouver_thefts.csv.gz", usecols=["X", "Y"])
    counts, _ = aggregate_points_to_grid(thefts["X"], thefts["Y"], 250.0)
    return counts


@pytest.mark.shared_data
@needs_crime_points
def test_vancouver_grid_has_a_few_thousand_cells(vancouver_grid):
    # 21,918 thefts in 2020, UTM zone 10; 250 m cells over about 14.5 x 12.4 km.
    assert vancouver_grid.shape == (50, 59)
    assert vancouver_grid.sum() == 21_918


@pytest.mark.shared_data
@needs_crime_points
@pytest.mark.parametrize("esda_w_has_diagonal", [False, True])
def test_z_equals_esda_g_local_star(vancouver_grid, esda_w_has_diagonal):
    n_rows, n_cols = vancouver_grid.shape
    y = vancouver_grid.ravel().astype(float)
    # With star=True esda puts 1 on an all-zero diagonal itself, and keeps a
    # diagonal that is already there; both must give the same Gi*.
    w = libpysal.weights.WSP(grid_weights(n_rows, n_cols, self_weight=esda_w_has_diagonal)).to_W(
        silence_warnings=True
    )
    reference = esda.G_Local(y, w, star=True, transform="B", permutations=0)

    result = gi_star(vancouver_grid, grid_weights(n_rows, n_cols))

    np.testing.assert_allclose(result.z.ravel(), reference.Zs, rtol=0, atol=1e-6)
    np.testing.assert_allclose(result.p_norm.ravel(), reference.p_norm, rtol=0, atol=1e-9)


@pytest.mark.shared_data
@needs_crime_points
def test_permutation_p_agrees_with_esda_p_sim_in_distribution(vancouver_grid):
    n_rows, n_cols = vancouver_grid.shape
    w = libpysal.weights.WSP(grid_weights(n_rows, n_cols, self_weight=False)).to_W(
        silence_warnings=True
    )
    reference = esda.G_Local(
        vancouver_grid.ravel().astype(float),
        w,
        star=True,
        transform="B",
        permutations=999,
        seed=2020,
        n_jobs=1,
    )

    p = gi_star_permutation_p(vancouver_grid, grid_weights(n_rows, n_cols), 999, random_state=2020)

    assert np.corrcoef(p.ravel(), reference.p_sim)[0, 1] > 0.99
    significant, reference_significant = (p < 0.05).mean(), (reference.p_sim < 0.05).mean()
    assert abs(significant - reference_significant) < 0.03
    assert np.abs(p.ravel() - reference.p_sim).mean() < 0.02


# --- validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "counts, message",
    [
        (
            [1, -2, 3, 0],
            r"counts\[1\]=-2.0 \(flat index\) provided, but counts must be finite and >= 0",
        ),
        ([1, 2, float("nan"), 0], r"counts\[2\]=nan \(flat index\) provided"),
        ([1, float("inf"), 2, 0], r"counts\[1\]=inf \(flat index\) provided"),
        (np.zeros((2, 1, 2)), r"counts of shape \(2, 1, 2\) provided, but it must be 1-D or 2-D"),
        ([3], r"counts of shape \(1,\) provided, but it must be 1-D or 2-D with at least 2 cells"),
        ([True, False, True, True], r"counts of dtype bool provided, but it must be real numbers"),
    ],
)
def test_bad_counts_are_refused(counts, message):
    with pytest.raises(ValueError, match=message):
        gi_star(counts, grid_weights(2, 2))
    with pytest.raises(ValueError, match=message):
        gi_star_permutation_p(counts, grid_weights(2, 2))


@pytest.mark.parametrize(
    "weights, message",
    [
        (
            grid_weights(2, 3),
            r"weights of shape \(6, 6\) provided, but 4 cells need shape \(4, 4\)",
        ),
        (
            grid_weights(2, 2, self_weight=False),
            r"weights\[0, 0\]=0 provided, but Gi\* needs a self-weight w_ii > 0 for every cell",
        ),
        (
            np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, -0.5], [0, 0, 1, 1]]),
            r"weights hold the value -0.5, but weights must be finite and >= 0",
        ),
        (
            np.array([[1, np.inf, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]]),
            r"weights hold the value inf, but weights must be finite and >= 0",
        ),
    ],
)
def test_bad_weights_are_refused(weights, message):
    with pytest.raises(ValueError, match=message):
        gi_star([1, 2, 3, 4], weights)
    with pytest.raises(ValueError, match=message):
        gi_star_permutation_p([1, 2, 3, 4], weights)


def test_unknown_alternative_is_refused():
    message = (
        r"alternative='two-sided' provided, but is not one of: "
        r"'directed', 'greater', 'lesser'"
    )
    with pytest.raises(ValueError, match=message):
        gi_star([1, 2, 3, 4], grid_weights(2, 2), alternative="two-sided")
    with pytest.raises(ValueError, match=message):
        gi_star_permutation_p([1, 2, 3, 4], grid_weights(2, 2), alternative="two-sided")


@pytest.mark.parametrize("n_permutations", [0, -5, 9.5, True])
def test_bad_permutation_count_is_refused(n_permutations):
    with pytest.raises(
        ValueError,
        match=rf"n_permutations={n_permutations!r} provided, "
        r"but it must be an integer >= 1",
    ):
        gi_star_permutation_p([1, 2, 3, 4], grid_weights(2, 2), n_permutations)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: grid_weights(0, 3), r"n_rows=0 provided, but it must be an integer >= 1"),
        (lambda: grid_weights(3, 2.0), r"n_cols=2.0 provided, but it must be an integer >= 1"),
        (
            lambda: grid_distance_band_weights(3, 3, 0),
            r"threshold=0 provided, but it must be a finite number > 0",
        ),
        (
            lambda: grid_distance_band_weights(3, 3, float("inf")),
            r"threshold=inf provided, but it must be a finite number > 0",
        ),
    ],
)
def test_bad_grid_shapes_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            dict(x=[1.0, 2.0], y=[1.0], cell_size=1.0),
            r"x and y must be 1-D and of equal length; got shapes \(2,\) and \(1,\)",
        ),
        (dict(x=[], y=[], cell_size=1.0), r"x and y are empty; at least one point is needed"),
        (
            dict(x=[1.0, float("nan")], y=[1.0, 2.0], cell_size=1.0),
            r"x\[1\]=nan is not a finite coordinate",
        ),
        (
            dict(x=[1.0, 2.0], y=[1.0, 2.0], cell_size=-250.0),
            r"cell_size=-250.0 provided, but it must be a finite number > 0",
        ),
        (
            dict(x=[1.0, 2.0], y=[1.0, 2.0], cell_size=1.0, origin=(1.5, 0.0)),
            r"origin=\(1.5, 0.0\) lies above or right of the point \(1.0, 1.0\)",
        ),
        (
            dict(x=[1.0, 2.0], y=[1.0, 2.0], cell_size=1.0, origin=(0.0,)),
            r"origin=\(0.0,\) provided, but it must be a pair \(x0, y0\) of numbers",
        ),
    ],
)
def test_bad_points_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        aggregate_points_to_grid(**kwargs)
