import itertools
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.knox import knox_test, monte_carlo_p_value

NEAR_REPEAT = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "nearrepeat_chicago"
needs_near_repeat = pytest.mark.skipif(
    not NEAR_REPEAT.is_dir(),
    reason=f"reference data {NEAR_REPEAT} is absent (it exists in CI, not in a user's clone)",
)

# Five events on a line and a corner (metres, days). Bands: spatial 0 | (0, 200) |
# [200, 400) | >= 400, temporal [0, 1) | [1, 2) | >= 2.
HAND_X = [0, 0, 150, 100, 1000]
HAND_Y = [0, 0, 0, 100, 0]
HAND_T = [0, 0, 1, 2, 5]


def test_hand_example_manhattan():
    # Pairs by hand (distance, days apart):
    # AB (0, 0)  AC (150, 1)  AD (200, 2)  AE (1000, 5)  BC (150, 1)
    # BD (200, 2)  BE (1000, 5)  CD (50+100=150, 1)  CE (850, 4)  DE (900+100=1000, 3)
    result = knox_test(HAND_X, HAND_Y, HAND_T, [200, 400], [1, 2], n_permutations=3, seed=0)
    assert result.spatial_bands == ("0", "(0, 200)", "[200, 400)", ">= 400")
    assert result.temporal_bands == ("[0, 1)", "[1, 2)", ">= 2")
    assert result.observed.tolist() == [
        [1, 0, 0],  # AB
        [0, 3, 0],  # AC, BC, CD
        [0, 0, 2],  # AD, BD: 200 m falls in [200, 400), 2 days in >= 2
        [0, 0, 4],  # AE, BE, CE, DE
    ]


def test_hand_example_euclidean():
    # AD, BD: hypot(100, 100) = 141.4; CD: hypot(50, 100) = 111.8; DE: hypot(900, 100) = 905.5
    result = knox_test(
        HAND_X, HAND_Y, HAND_T, [200, 400], [1, 2], metric="euclidean", n_permutations=3, seed=0
    )
    assert result.observed.tolist() == [[1, 0, 0], [0, 3, 2], [0, 0, 0], [0, 0, 4]]


def test_without_same_location_band_repeats_join_the_first_band():
    result = knox_test(
        HAND_X, HAND_Y, HAND_T, [200, 400], [1, 2], same_location=False, n_permutations=3, seed=0
    )
    assert result.spatial_bands == ("[0, 200)", "[200, 400)", ">= 400")
    assert result.observed.tolist() == [[1, 3, 0], [0, 0, 2], [0, 0, 4]]


def test_date_times_are_cut_to_calendar_days():
    # 23:00 and 01:00 the next morning are two hours but one calendar day apart.
    times = np.array(
        ["2024-03-01T23:00", "2024-03-02T01:00", "2024-03-09T12:00"], dtype="datetime64[m]"
    )
    result = knox_test([0, 10, 20], [0, 0, 0], times, [100], [1, 7], n_permutations=2, seed=0)
    # pairs: (10 m, 1 day), (20 m, 8 days), (10 m, 7 days)
    assert result.observed.tolist() == [[0, 0, 0], [0, 1, 2], [0, 0, 0]]
    as_strings = knox_test(
        [0, 10, 20],
        [0, 0, 0],
        ["2024-03-01", "2024-03-02", "2024-03-09"],
        [100],
        [1, 7],
        n_permutations=2,
        seed=0,
    )
    assert as_strings.observed.tolist() == result.observed.tolist()


def _brute_force_table(x, y, days, space_edges, time_edges):
    """Pair counts with plain loops and explicit interval tests (Manhattan, same location)."""
    space_bounds = [0.0] + list(space_edges) + [math.inf]
    time_bounds = [0.0] + list(time_edges) + [math.inf]
    table = np.zeros((len(space_edges) + 2, len(time_edges) + 1), dtype=int)
    for a, b in itertools.combinations(range(len(x)), 2):
        d = abs(x[a] - x[b]) + abs(y[a] - y[b])
        gap = abs(days[a] - days[b])
        row = (
            0
            if d == 0
            else 1
            + next(
                k
                for k in range(len(space_bounds) - 1)
                if space_bounds[k] <= d < space_bounds[k + 1]
            )
        )
        col = next(
            k for k in range(len(time_bounds) - 1) if time_bounds[k] <= gap < time_bounds[k + 1]
        )
        table[row, col] += 1
    return table


@pytest.fixture
def scattered_events():
    rng = np.random.default_rng(7)
    n = 30
    x = rng.integers(0, 600, n).astype(float)
    y = rng.integers(0, 600, n).astype(float)
    x[5], y[5] = x[4], y[4]  # one repeat location
    days = rng.integers(0, 20, n).astype(float)
    return x, y, days


def test_permuted_tables_are_recounts_with_shuffled_times(scattered_events):
    x, y, days = scattered_events
    result = knox_test(x, y, days, [100, 250], [2, 5], n_permutations=6, seed=123)
    assert result.observed.tolist() == _brute_force_table(x, y, days, [100, 250], [2, 5]).tolist()
    rng = np.random.default_rng(123)
    for k in range(6):
        shuffled = days[rng.permutation(len(days))]
        expected = _brute_force_table(x, y, shuffled, [100, 250], [2, 5])
        assert result.permuted[k].tolist() == expected.tolist()
    assert result.expected == pytest.approx(result.permuted.mean(axis=0))


def test_seeded_permutations_are_deterministic(scattered_events):
    x, y, days = scattered_events
    first = knox_test(x, y, days, [100, 250], [2, 5], n_permutations=20, seed=42)
    again = knox_test(x, y, days, [100, 250], [2, 5], n_permutations=20, seed=42)
    other = knox_test(x, y, days, [100, 250], [2, 5], n_permutations=20, seed=43)
    np.testing.assert_array_equal(first.permuted, again.permuted)
    np.testing.assert_array_equal(first.p_value, again.p_value)
    assert not np.array_equal(first.permuted, other.permuted)
    np.testing.assert_array_equal(first.observed, other.observed)


def test_ratio_and_frame(scattered_events):
    x, y, days = scattered_events
    result = knox_test(x, y, days, [100, 250], [2, 5], n_permutations=10, seed=5)
    frame = result.to_frame()
    assert list(frame.columns) == [
        "spatial_band",
        "temporal_band",
        "observed",
        "expected",
        "ratio",
        "p_value",
    ]
    assert len(frame) == 4 * 3
    row = frame.iloc[3 * 1 + 2]  # second spatial band, third temporal band
    assert (row.spatial_band, row.temporal_band) == ("(0, 100)", ">= 5")
    assert row.observed == result.observed[1, 2]
    mean = result.permuted[:, 1, 2].sum() / 10
    assert row.expected == pytest.approx(mean)
    assert row.ratio == pytest.approx(result.observed[1, 2] / mean)


def test_monte_carlo_p_value_counts_ties_and_the_observed_table():
    permuted = np.array([[4, 0], [5, 1], [2, 0], [4, 3]])
    # cell 0: observed 4; 4, 5, 4 are >= 4 -> (1 + 3) / 5; cell 1: observed 0 -> all -> 1
    assert monte_carlo_p_value(np.array([4, 0]), permuted).tolist() == [0.8, 1.0]
    message = r"permuted has shape \(4, 2\), but must be \(R, \*\(3,\)\)"
    with pytest.raises(ValueError, match=message):
        monte_carlo_p_value(np.array([1, 2, 3]), permuted)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"metric": "chebyshev"},
            "metric='chebyshev' provided, but is not one of: 'euclidean', 'manhattan'",
        ),
        (
            {"coordinate_precision": "half"},
            "coordinate_precision='half' provided, but is not one of: 'double', 'single'",
        ),
        (
            {"spatial_edges": [200, 100]},
            r"spatial_edges=\[200, 100\] must be a non-empty, strictly",
        ),
        ({"spatial_edges": [0, 100]}, r"spatial_edges=\[0, 100\] must be"),
        ({"temporal_edges": []}, r"temporal_edges=\[\] must be a non-empty"),
        ({"temporal_edges": [1, "a week"]}, r"temporal_edges=\['1', 'a week'\] must be"),
        ({"n_permutations": 0}, "n_permutations=0 must be an integer >= 1"),
        ({"n_permutations": 9.5}, "n_permutations=9.5 must be an integer >= 1"),
    ],
)
def test_refuses_bad_parameters(kwargs, message):
    arguments = {"spatial_edges": [200, 400], "temporal_edges": [1, 2]} | kwargs
    with pytest.raises(ValueError, match=message):
        knox_test(HAND_X, HAND_Y, HAND_T, **arguments)


@pytest.mark.parametrize(
    "x, y, t, message",
    [
        (
            [0, 1, 2],
            [0, 1],
            [0, 1, 2],
            r"x and y must be 1-d and of equal length, got shapes \(3,\) and \(2,\)",
        ),
        ([0], [0], [0], "1 events given, but a Knox test needs at least 2"),
        (
            [0, float("nan")],
            [0, 1],
            [0, 1],
            r"coordinates of event 1 are \(nan, 1.0\); they must be finite",
        ),
        ([0, 1], [0, 1], [0, 1, 2], r"t has shape \(3,\), but there are 2 events"),
        ([0, 1], [0, 1], [0, float("inf")], "t\\[1\\]=inf must be a finite number of days"),
        (
            [0, 1],
            [0, 1],
            np.array(["2024-01-01", "NaT"], dtype="datetime64[D]"),
            r"t\[1\] is NaT; every event needs a date",
        ),
        ([0, 1], [0, 1], ["2024-01-01", "yesterday"], "t must be numbers of days or dates"),
    ],
)
def test_refuses_bad_events(x, y, t, message):
    with pytest.raises(ValueError, match=message):
        knox_test(x, y, t, [200], [1])


# ------------------------------------------------ Near Repeat Calculator output


def _nrc_verbose(name: str) -> str:
    (path,) = NEAR_REPEAT.glob(f"{name}_NRverbose_*.csv")
    return path.read_text()


def _nrc_observed(text: str) -> np.ndarray:
    """The 'Observed frequencies distribution' table; empty cells are 0."""
    lines = text.splitlines()
    # skip the title, the band labels and the column numbers
    start = lines.index("Observed frequencies distribution") + 3
    rows = []
    for line in lines[start : start + 5]:
        cells = line.split(",")[2:6]
        rows.append([int(c) if c.strip() else 0 for c in cells])
    return np.array(rows)


def _nrc_cells(text: str) -> dict[tuple[int, int], dict]:
    """Per cell: the permuted ('Expected') counts, the observed count and the P value."""
    cells = {}
    for block in re.split(r"\n\s*\nRow ", text.split("SOURCE DATA:")[0])[1:]:
        header, body = block.split("\n", 1)
        row, column = map(int, re.findall(r"\d+", header))
        expected_part = body.split("Observed,")[0].replace("Expected", "")
        permuted = [int(v) for v in re.findall(r"\d+", expected_part)]
        cells[(row - 1, column - 1)] = {
            "permuted": permuted,
            "observed": int(re.search(r"Observed, *(\d+)", body).group(1)),
            "p": float(re.search(r"P value, *([\d.]+)", body).group(1)),
        }
    return cells


def _events(name: str) -> pd.DataFrame:
    return pd.read_csv(NEAR_REPEAT / f"{name}.csv", header=None, names=["X", "Y", "date"])


NRC_RUNS = [
    # file, NRC bandwidth x bands as upper edges, NRC iterations
    ("chicago_arson", (200, 400, 600), (1, 2, 3), 99),
    ("chicago_be_month1", (100, 200, 300), (7, 14, 21), 19),
]


@pytest.mark.shared_data
@needs_near_repeat
@pytest.mark.parametrize("name, space_edges, time_edges, iterations", NRC_RUNS)
def test_observed_table_matches_the_near_repeat_calculator(
    name, space_edges, time_edges, iterations
):
    events = _events(name)
    result = knox_test(
        events.X,
        events.Y,
        events.date.to_numpy(),
        space_edges,
        time_edges,
        metric="manhattan",
        n_permutations=iterations,
        seed=0,
        coordinate_precision="single",
    )
    expected = _nrc_observed(_nrc_verbose(name))
    n = len(events)
    assert expected.sum() == n * (n - 1) // 2  # the parse found every pair
    np.testing.assert_array_equal(result.observed, expected)


@pytest.mark.shared_data
@needs_near_repeat
def test_double_precision_moves_one_arson_pair_across_400_m():
    # Events 89 and 319 are 399.96 m apart (Manhattan) in double precision; rounded to
    # float32 they are exactly 400 m apart, which the NRC counts as "401 to 600".
    events = _events("chicago_arson")
    result = knox_test(
        events.X,
        events.Y,
        events.date.to_numpy(),
        (200, 400, 600),
        (1, 2, 3),
        n_permutations=1,
        seed=0,
    )
    difference = result.observed - _nrc_observed(_nrc_verbose("chicago_arson"))
    assert difference[2, 3] == 1 and difference[3, 3] == -1
    assert np.abs(difference).sum() == 2


@pytest.mark.shared_data
@needs_near_repeat
@pytest.mark.parametrize("name, iterations", [("chicago_arson", 99), ("chicago_be_month1", 19)])
def test_p_value_formula_matches_the_nrc_on_its_own_permutations(name, iterations):
    cells = _nrc_cells(_nrc_verbose(name))
    assert len(cells) == 20
    for cell in cells.values():
        assert len(cell["permuted"]) == iterations
        p = monte_carlo_p_value(np.array(cell["observed"]), np.array(cell["permuted"]))
        assert p == pytest.approx(cell["p"], abs=5e-3)


@pytest.mark.shared_data
@needs_near_repeat
def test_arson_knox_ratio_near_the_nrc_within_permutation_noise():
    events = _events("chicago_arson")
    result = knox_test(
        events.X,
        events.Y,
        events.date.to_numpy(),
        (200, 400, 600),
        (1, 2, 3),
        n_permutations=99,
        seed=2019,
        coordinate_precision="single",
    )
    observed = _nrc_observed(_nrc_verbose("chicago_arson"))
    # Shuffling times makes every pair equally likely to get any pair of times, so the
    # exact expectation of cell (s, t) is row total * column total / number of pairs:
    # 56 * 412 / 135981 = 0.1697 for "1 to 200 m" x "0 to 1 days".
    exact = observed[1].sum() * observed[:, 0].sum() / observed.sum()
    # A mean of 99 nearly-Poisson counts has standard error sqrt(exact / 99) = 0.041,
    # about a quarter of the expectation; both the NRC's run and ours lie within
    # 3 standard errors, so their ratios lie within the band below (about 29 to 155).
    error = math.sqrt(exact / 99)
    low, high = observed[1, 0] / (exact + 3 * error), observed[1, 0] / (exact - 3 * error)
    nrc_ratio = 74.25
    assert low < nrc_ratio < high
    assert low < result.ratio[1, 0] < high
    assert result.p_value[1, 0] == pytest.approx(0.01)  # as in the NRC: no shuffle reaches 9


@pytest.mark.shared_data
@needs_near_repeat
def test_many_permutations_converge_to_the_exact_expectation():
    events = _events("chicago_be_month1")
    result = knox_test(
        events.X,
        events.Y,
        events.date.to_numpy(),
        (100, 200, 300),
        (7, 14, 21),
        n_permutations=2000,
        seed=3,
        coordinate_precision="single",
    )
    observed = _nrc_observed(_nrc_verbose("chicago_be_month1"))
    exact = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    # Relative standard error of a 2000-permutation mean is at most 1/sqrt(2000 * 4) = 1.1 %
    # for these cells (smallest expectation is about 4 pairs): allow 5 %.
    np.testing.assert_allclose(result.expected, exact, rtol=0.05)
