import math
import re
from pathlib import Path

import numpy as np
import pytest

from models.spatial_scan import Cluster, circular_scan, circular_windows

SATSCAN_NY = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "satscan_ny"


def _poisson_llr(c: float, e: float, total: float) -> float:
    """Kulldorff's ratio written out, for expectations computed by hand."""
    outside = 0.0 if c == total else (total - c) * math.log((total - c) / (total - e))
    return c * math.log(c / e) + outside


# --- small fixtures, computed by hand --------------------------------------

# Five locations on a line, 100 people each, 20 cases: 4 expected per location.
# A window may hold 250 people, so two locations. Centre 1 (and 2) has its two
# neighbours at the same distance: its only window is itself.
LINE = [[0, 0], [1, 0], [2, 0], [3, 0], [10, 0]]
LINE_CASES = [8, 6, 1, 1, 4]


def test_line_most_likely_cluster_is_the_first_pair():
    [top] = circular_scan(LINE, LINE_CASES, [100] * 5)
    # Windows with an excess: {0} 8 v 4, {1} 6 v 4, {0, 1} 14 v 8. The pair wins.
    assert top == Cluster(
        center=0,
        members=(0, 1),
        radius=1.0,
        population=200.0,
        observed=14,
        expected=8.0,
        relative_risk=(14 / 8) / (6 / 12),
        llr=pytest.approx(14 * math.log(14 / 8) + 6 * math.log(6 / 12), rel=1e-12),
        p_value=None,
    )
    assert top.llr > _poisson_llr(8, 4, 20) > _poisson_llr(6, 4, 20) > 0


def test_ids_name_centre_and_members():
    [top] = circular_scan(LINE, LINE_CASES, [100] * 5, ids=["a", "b", "c", "d", "e"])
    assert (top.center, top.members) == ("a", ("a", "b"))


def test_secondary_clusters_are_the_best_windows_of_other_centres():
    # A, B hot; C's best window {C, B} overlaps {A, B}, so C is not reported
    # even though {C} alone would beat {D}: only each centre's best window is a
    # candidate, as in SaTScan. Windows hold at most two locations.
    coords = [[0, 0], [1, 0], [2.5, 0], [100, 0], [150, 0], [300, 0]]
    cases = [10, 10, 8, 7, 0, 0]
    e = 35 / 6
    clusters = circular_scan(coords, cases, [100] * 6, ids="ABCDEF", max_population_fraction=0.35)
    assert [c.members for c in clusters] == [("A", "B"), ("D",)]
    assert clusters[0].llr == pytest.approx(_poisson_llr(20, 2 * e, 35), rel=1e-12)
    assert clusters[1].llr == pytest.approx(_poisson_llr(7, e, 35), rel=1e-12)
    assert _poisson_llr(18, 2 * e, 35) > _poisson_llr(8, e, 35) > clusters[1].llr


def test_n_secondary_limits_the_report():
    coords = [[0, 0], [1, 0], [2.5, 0], [100, 0], [150, 0], [300, 0]]
    clusters = circular_scan(
        coords, [10, 10, 8, 7, 0, 0], [100] * 6, max_population_fraction=0.35, n_secondary=0
    )
    assert [c.members for c in clusters] == [(0, 1)]


def test_min_cases_drops_a_single_case_window():
    # One case where one person lives; the neighbours tie, so {1} is the only window.
    coords, cases, population = [[0, 0], [10, 0], [20, 0]], [0, 1, 0], [1000, 1, 1000]
    assert circular_scan(coords, cases, population) == []
    [top] = circular_scan(coords, cases, population, min_cases=1)
    assert top.members == (1,)
    assert top.llr == pytest.approx(math.log(2001), rel=1e-12)
    assert top.relative_risk == math.inf


@pytest.mark.parametrize("cases", [[0, 0, 0], [1, 1, 1]])
def test_no_excess_means_no_cluster(cases):
    assert circular_scan([[0, 0], [1, 0], [3, 0]], cases, [10, 10, 10]) == []


def test_windows_take_equidistant_locations_together():
    plus = [[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1], [5, 0]]
    windows = circular_windows(plus, [1] * 6, max_population_fraction=1.0)
    assert windows[0] == [(0,), (0, 1, 2, 3, 4)]
    # From (1, 0): the centre at 1, then (0, 1) and (0, -1) together at sqrt 2.
    assert windows[1] == [(1,), (1, 0), (1, 0, 2, 4), (1, 0, 2, 4, 3)]
    # Half the population: 3 people, so the ring of four is out of reach.
    assert circular_windows(plus, [1] * 6, max_population_fraction=0.5)[0] == [(0,)]


def test_locations_at_one_spot_share_every_window():
    spots = [[0, 0], [0, 0], [2, 0], [9, 0]]
    windows = circular_windows(spots, [1] * 4, max_population_fraction=1.0)
    assert windows[0] == [(0, 1), (0, 1, 2)]
    assert windows[1] == [(1, 0), (1, 0, 2)]


def test_a_window_may_hold_exactly_the_maximum_population():
    # 400 people, at most half: a pair of 100 + 100 is a window, a triple is not.
    line = [[0, 0], [1, 0], [3, 0], [7, 0]]
    assert circular_windows(line, [100] * 4, max_population_fraction=0.5)[0] == [(0,), (0, 1)]
    assert circular_windows(line, [100] * 4, max_population_fraction=0.49)[0] == [(0,)]


def test_permutation_p_value_counts_replicates_at_least_as_extreme():
    seed, replicates = 7, 99
    [top] = circular_scan(
        LINE, LINE_CASES, [100] * 5, n_secondary=0, n_permutations=replicates, random_state=seed
    )
    # The null by brute force: the same multinomial draws, every window scored by hand.
    windows = [(0,), (0, 1), (1,), (2,), (3,), (3, 2), (4,), (4, 3)]
    assert sorted(w for ws in circular_windows(LINE, [100] * 5) for w in ws) == sorted(windows)
    draws = np.random.default_rng(seed).multinomial(20, [0.2] * 5, size=replicates)
    maxima = [
        max(
            [
                _poisson_llr(c, 4 * len(w), 20)
                for w in windows
                if (c := int(sum(draw[i] for i in w))) > 4 * len(w) and c >= 2
            ]
            + [0.0]
        )
        for draw in draws
    ]
    at_least = sum(m >= top.llr - 1e-9 for m in maxima)
    assert top.p_value == pytest.approx((1 + at_least) / (replicates + 1))
    assert 0 < at_least < replicates  # the fixture really exercises the count


def test_permutations_are_reproducible_from_the_seed():
    kwargs = dict(n_permutations=50, random_state=3)
    first = circular_scan(LINE, LINE_CASES, [100] * 5, **kwargs)
    again = circular_scan(LINE, LINE_CASES, [100] * 5, **kwargs)
    from_generator = circular_scan(
        LINE, LINE_CASES, [100] * 5, n_permutations=50, random_state=np.random.default_rng(3)
    )
    assert [c.p_value for c in first] == [c.p_value for c in again]
    assert [c.p_value for c in first] == [c.p_value for c in from_generator]


# --- input validation ------------------------------------------------------

GOOD = dict(coords=[[0, 0], [1, 0], [3, 0]], cases=[1, 2, 0], population=[10, 10, 10])


@pytest.mark.parametrize(
    "change, message",
    [
        (
            dict(coords=[0, 1, 3]),
            r"coords has shape \(3,\), but must be \(n_locations, n_dimensions\)",
        ),
        (dict(coords=[[0, 0], [1, np.nan], [3, 0]]), "coords contains a non-finite value"),
        (dict(cases=[1, 2]), "cases has 2 values, but coords has 3 locations"),
        (dict(cases=[1, -2, 0]), r"cases\[1\]=-2 is negative; values must be >= 0"),
        (dict(cases=[1.5, 2, 0]), r"cases\[0\]=1.5 is not a whole number of cases"),
        (dict(cases=[1, np.inf, 0]), "cases contains inf; values must be finite"),
        (dict(population=[10, -1, 10]), r"population\[1\]=-1 is negative"),
        (dict(population=[0, 0, 0]), "population sums to 0"),
        (dict(population=[10, 0, 10]), r"cases\[1\]=2 at a location with population 0"),
        (dict(ids=["a", "b"]), "ids has 2 values, but coords has 3 locations"),
        (dict(ids=["a", "b", "a"]), "ids contains duplicates"),
        (
            dict(max_population_fraction=0),
            r"max_population_fraction=0 is outside the allowed range \(0, 1\]",
        ),
        (dict(max_population_fraction=1.5), r"max_population_fraction=1.5 is outside"),
        (dict(max_population_fraction=float("nan")), r"max_population_fraction=nan is outside"),
        (dict(max_population_fraction="half"), r"max_population_fraction='half' is outside"),
        (dict(n_permutations=-1), "n_permutations=-1 must be an integer >= 0"),
        (dict(n_permutations=9.5), "n_permutations=9.5 must be an integer >= 0"),
        (dict(n_secondary=-1), "n_secondary=-1 must be an integer >= 0"),
        (dict(min_cases=True), "min_cases=True must be an integer >= 0"),
    ],
)
def test_bad_input_is_named(change, message):
    with pytest.raises(ValueError, match=message):
        circular_scan(**{**GOOD, **change})


def test_circular_windows_checks_its_input():
    with pytest.raises(ValueError, match=r"population has 2 values, but coords has 3 locations"):
        circular_windows(GOOD["coords"], [1, 1])
    with pytest.raises(ValueError, match=r"max_population_fraction=-0.1 is outside"):
        circular_windows(GOOD["coords"], [1, 1, 1], max_population_fraction=-0.1)


# --- SaTScan v9.6 on the New York leukaemia data ----------------------------


def _satscan_clusters(path: Path) -> list[dict]:
    """The clusters of a SaTScan results file: ids in its order and the printed fields."""
    body = path.read_text().split("CLUSTERS DETECTED")[1].split("PARAMETER SETTINGS")[0]
    clusters = []
    for block in re.split(r"^\d+\.(?=Location IDs included)", body, flags=re.M)[1:]:
        fields = dict(re.findall(r"^\s*(\S.*?)\.*: (.*)$", block, flags=re.M))
        ids_text = " ".join(
            line
            for line in block.splitlines()
            if line.startswith("Location IDs") or re.fullmatch(r"\s+[\d, ]+", line)
        )
        centre, radius = fields["Coordinates / radius"].split(" / ")
        clusters.append(
            dict(
                ids=tuple(int(i) for i in re.findall(r"\d+", ids_text)),
                centre=tuple(float(x) for x in centre.strip("()").split(",")),
                radius=radius,
                population=float(fields["Population"]),
                observed=int(fields["Number of cases"]),
                expected=fields["Expected cases"],
                relative_risk=fields["Relative risk"],
                llr=float(fields["Log likelihood ratio"]),
                p_value=float(fields["P-value"]),
            )
        )
    return clusters


@pytest.fixture(scope="module")
def new_york():
    if not SATSCAN_NY.is_dir():
        pytest.skip(
            f"SaTScan reference data not found at {SATSCAN_NY} (shared/data is not "
            "beside the repository)"
        )
    cases = np.loadtxt(SATSCAN_NY / "satscan_ny_cases.txt")
    population = np.loadtxt(SATSCAN_NY / "satscan_ny_pop.txt")
    coords = np.loadtxt(SATSCAN_NY / "satscan_ny_coords.txt")
    assert (cases[:, 0] == coords[:, 0]).all() and (population[:, 0] == coords[:, 0]).all()
    return dict(
        coords=coords[:, 1:],
        cases=cases[:, 1],
        population=population[:, 2],
        ids=coords[:, 0].astype(int).tolist(),
    )


def _decimals(printed: str) -> int:
    return len(printed.split(".")[1])


RUNS = [
    # (results file, maximum window, clusters SaTScan reports)
    ("scan_test_ny_poisson_circular_cartesian.txt", 0.5, 6),
    ("satscan_ny_out.txt", 0.1, 7),
]


@pytest.mark.shared_data
@pytest.mark.parametrize("results, fraction, n_reported", RUNS)
def test_reproduces_satscan_clusters(new_york, results, fraction, n_reported):
    expected = _satscan_clusters(SATSCAN_NY / results)
    assert len(expected) == n_reported
    found = circular_scan(**new_york, max_population_fraction=fraction, n_secondary=n_reported - 1)
    assert len(found) == n_reported
    where = {i: k for k, i in enumerate(new_york["ids"])}
    for ours, theirs in zip(found, expected):
        # SaTScan lists members nearest the centre first, the centre itself first.
        assert ours.members == theirs["ids"]
        assert ours.center == theirs["ids"][0]
        assert tuple(np.round(new_york["coords"][where[ours.center]], 4)) == theirs["centre"]
        assert ours.radius == pytest.approx(
            float(theirs["radius"]), abs=0.5 * 10 ** -_decimals(theirs["radius"])
        )
        assert ours.population == theirs["population"]
        assert ours.observed == theirs["observed"]
        assert f"{ours.expected:.2f}" == theirs["expected"]
        assert f"{ours.relative_risk:.2f}" == theirs["relative_risk"]
        assert ours.llr == pytest.approx(theirs["llr"], abs=1e-6)


@pytest.mark.shared_data
def test_satscan_headline_numbers(new_york):
    # The published figures, independent of the parser above.
    first, second = circular_scan(**new_york, max_population_fraction=0.5, n_secondary=1)
    assert (len(first.members), first.observed, round(first.expected, 2)) == (28, 100, 58.28)
    assert first.llr == pytest.approx(14.083511, abs=1e-4)
    assert set(second.members) == {84, 85, 86, 87, 88, 89, 90, 92}
    assert second.llr == pytest.approx(9.019716, abs=1e-4)
    [ten] = circular_scan(**new_york, max_population_fraction=0.1, n_secondary=0)
    assert (len(ten.members), ten.llr) == (26, pytest.approx(11.577255, abs=1e-4))


@pytest.mark.shared_data
@pytest.mark.parametrize("results, fraction, n_reported", RUNS)
def test_p_values_agree_with_satscan_within_monte_carlo_error(
    new_york, results, fraction, n_reported
):
    replicates = 999
    expected = _satscan_clusters(SATSCAN_NY / results)
    found = circular_scan(
        **new_york,
        max_population_fraction=fraction,
        n_secondary=n_reported - 1,
        n_permutations=replicates,
        random_state=20240601,
    )
    # Both are estimates from 999 replicates, so their difference has a
    # standard deviation near sqrt(2 p (1 - p) / 999); allow three of those and
    # one replicate's step. SaTScan's "default combination" swaps in a Gumbel
    # approximation below 1/1000 (the 0.00015 of the 50 % run); ours cannot go
    # below 1/1000, so a cluster no replicate beats compares as "< 0.01 both".
    for ours, theirs in zip(found, expected):
        p = theirs["p_value"]
        if p < 1 / (replicates + 1):
            assert ours.p_value == 1 / (replicates + 1)
            continue
        band = 3 * math.sqrt(2 * p * (1 - p) / replicates) + 1 / (replicates + 1)
        assert ours.p_value == pytest.approx(p, abs=band)
    assert found[0].p_value < 0.01 and expected[0]["p_value"] < 0.01
