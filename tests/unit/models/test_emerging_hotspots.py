import math
from collections import Counter

import numpy as np
import pytest
from scipy.stats import kendalltau

from models.emerging_hotspots import PATTERN_LABELS, PATTERNS, classify_emerging, mann_kendall

# --- independent references -------------------------------------------------


def _mann_kendall_by_hand(values):
    """S, tie-corrected variance, continuity-corrected z, two-sided p, by loops."""
    n = len(values)
    s = 0
    for i in range(n):
        for j in range(i + 1, n):
            s += (values[j] > values[i]) - (values[j] < values[i])
    var = n * (n - 1) * (2 * n + 5)
    for t in Counter(values).values():
        var -= t * (t - 1) * (2 * t + 5)
    var /= 18
    if var == 0 or s == 0:
        z = 0.0
    else:
        z = (s - 1) / math.sqrt(var) if s > 0 else (s + 1) / math.sqrt(var)
    p = math.erfc(abs(z) / math.sqrt(2))
    return s, var, z, p


# A step is drawn as one character: H hot, C cold, . not significant.
_STATE = {"H": (3.0, 0.001), "C": (-3.0, 0.001), ".": (0.5, 0.6)}


def _cell(states, hot_z=None):
    """(z, p) rows for a pattern string; ``hot_z`` overrides the z of H steps."""
    z = [_STATE[c][0] for c in states]
    p = [_STATE[c][1] for c in states]
    if hot_z is not None:
        hot_steps = [i for i, c in enumerate(states) if c == "H"]
        for i, value in zip(hot_steps, hot_z, strict=True):
            z[i] = value
    return z, p


# --- Mann-Kendall -----------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        [1.0, 3.0, 2.0, 5.0, 4.0],
        [2.0, 2.0, 1.0, 3.0, 3.0, 3.0, 0.5],  # two tie groups
        [5.0, 4.0, 4.0, 4.0, 1.0, 0.0],
        [0.3, -1.2, 2.2, 0.3, 0.3, 1.1, -0.4, 2.2],
    ],
)
def test_mann_kendall_matches_hand_computation(values):
    s, z, p = mann_kendall([values])
    hand_s, _, hand_z, hand_p = _mann_kendall_by_hand(values)
    assert s[0] == hand_s
    assert z[0] == pytest.approx(hand_z, rel=1e-12)
    assert p[0] == pytest.approx(hand_p, rel=1e-12)


def test_mann_kendall_short_series_by_hand():
    # [1, 3, 2, 4]: pairs (1,3)+ (1,2)+ (1,4)+ (3,2)- (3,4)+ (2,4)+  -> S = 4
    # var = 4*3*13/18 = 26/3, z = (4 - 1)/sqrt(26/3)
    s, z, p = mann_kendall([[1.0, 3.0, 2.0, 4.0]])
    assert s[0] == 4.0
    assert z[0] == pytest.approx(3.0 / math.sqrt(26.0 / 3.0), rel=1e-12)
    assert p[0] == pytest.approx(math.erfc(3.0 / math.sqrt(26.0 / 3.0) / math.sqrt(2)))


def test_mann_kendall_is_vectorised_over_cells():
    rows = np.random.default_rng(7).integers(0, 4, size=(6, 9)).astype(float)
    s, z, p = mann_kendall(rows)
    for row, s_i, z_i, p_i in zip(rows.tolist(), s, z, p, strict=True):
        hand_s, _, hand_z, hand_p = _mann_kendall_by_hand(row)
        assert (s_i, z_i, p_i) == pytest.approx((hand_s, hand_z, hand_p), rel=1e-12)


def test_mann_kendall_s_relates_to_kendall_tau():
    # No ties: tau = S / (n(n-1)/2). With ties only in x, tau-b has
    # denominator sqrt(n0 (n0 - n1)), n1 = sum t(t-1)/2 over tie groups.
    no_ties = [0.4, 1.9, -0.7, 2.5, 3.1, 0.0, 4.2]
    n = len(no_ties)
    s, _, _ = mann_kendall([no_ties])
    assert s[0] / (n * (n - 1) / 2) == pytest.approx(kendalltau(range(n), no_ties).statistic)

    ties = [1.0, 2.0, 2.0, 0.0, 3.0, 3.0, 3.0]
    n0 = len(ties) * (len(ties) - 1) / 2
    n1 = 1 + 3  # one pair of 2.0s, three pairs of 3.0s
    s, _, _ = mann_kendall([ties])
    assert s[0] / math.sqrt(n0 * (n0 - n1)) == pytest.approx(
        kendalltau(range(len(ties)), ties).statistic
    )


def test_mann_kendall_constant_series_has_no_trend():
    s, z, p = mann_kendall([[2.0, 2.0, 2.0]])
    assert (s[0], z[0], p[0]) == (0.0, 0.0, 1.0)


@pytest.mark.parametrize(
    ("series", "message"),
    [
        ([1.0, 2.0, 3.0], r"shape \(3,\), but must be 2-D"),
        ([[1.0]], r"1 time step\(s\), but at least 2"),
        ([[1.0, float("nan")]], "NaN or infinite"),
    ],
)
def test_mann_kendall_rejects_bad_input(series, message):
    with pytest.raises(ValueError, match=message):
        mann_kendall(series)


# --- patterns ----------------------------------------------------------------

RISING = [2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0]
NO_TREND = [3.0, 4.0, 3.0, 4.0, 3.0, 4.0, 3.0, 4.0, 3.0, 4.0]

HOT_CASES = [
    ("new", ".H", None),  # shortest series
    ("new", ".........H", None),
    ("new", "C........H", None),  # never hot before: new wins over oscillating
    ("consecutive", ".......HHH", None),
    ("consecutive", "..HHHHHHHH", None),  # 80 %: just below the 90 % bar
    ("intensifying", "HHHHHHHHHH", RISING),
    ("intensifying", ".HHHHHHHHH", RISING[1:]),  # exactly 90 %
    ("persistent", "HHHHHHHHHH", NO_TREND),
    ("persistent", "H.HHHHHHHH", NO_TREND[:9]),  # exactly 90 %, not sporadic
    ("diminishing", "HHHHHHHHHH", RISING[::-1]),
    ("sporadic", "H..H...H.H", None),
    ("sporadic", "HH.HH", None),
    ("oscillating", "H.C..H...H", None),
    ("oscillating", "HCHH", None),
    ("historical", "HHHHHHHHH.", NO_TREND[:9]),  # exactly 90 %
]


@pytest.mark.parametrize(("kind", "states", "hot_z"), HOT_CASES)
def test_each_hot_pattern(kind, states, hot_z):
    z, p = _cell(states, hot_z)
    assert classify_emerging([z], [p]).tolist() == [f"{kind}_hot_spot"]


@pytest.mark.parametrize(("kind", "states", "hot_z"), HOT_CASES)
def test_each_cold_pattern_mirrors_the_hot_one(kind, states, hot_z):
    z, p = _cell(states, hot_z)
    assert classify_emerging([[-v for v in z]], [p]).tolist() == [f"{kind}_cold_spot"]


def test_trend_fixtures_are_what_they_claim():
    # Guards the fixtures above with the hand Mann-Kendall, not the code.
    assert _mann_kendall_by_hand(RISING)[3] < 0.05
    assert _mann_kendall_by_hand(NO_TREND)[3] > 0.05
    assert _mann_kendall_by_hand(_cell("H.HHHHHHHH", NO_TREND[:9])[0])[3] > 0.05
    assert _mann_kendall_by_hand(_cell(".HHHHHHHHH", RISING[1:])[0])[3] < 0.05


@pytest.mark.parametrize(
    "states",
    ["..........", "HHHHHHHH..", "H.H.H.H.H.", "C.C.C.C.C."],
)
def test_no_pattern(states):
    z, p = _cell(states)
    assert classify_emerging([z], [p]).tolist() == ["no_pattern"]


def test_current_cold_pattern_beats_historical_hot():
    z, p = _cell("HHHHHHHHHC", NO_TREND[:9])
    assert classify_emerging([z], [p]).tolist() == ["new_cold_spot"]


def test_cells_are_classified_independently_in_one_call():
    cells = [_cell(".......HHH"), _cell("H..H...H.H"), _cell("HHHHHHHHHH", RISING)]
    z, p = zip(*cells, strict=True)
    assert classify_emerging(z, p).tolist() == [
        "consecutive_hot_spot",
        "sporadic_hot_spot",
        "intensifying_hot_spot",
    ]


def test_alpha_decides_what_counts_as_hot():
    z = [[0.5, 2.2, 2.2]]
    p = [[0.6, 0.03, 0.03]]
    assert classify_emerging(z, p).tolist() == ["consecutive_hot_spot"]
    assert classify_emerging(z, p, alpha=0.01).tolist() == ["no_pattern"]


def test_trend_alpha_decides_what_counts_as_a_trend():
    z, p = _cell("HHHHHHHHHH", RISING)
    hand_p = _mann_kendall_by_hand(RISING)[3]
    assert classify_emerging([z], [p], trend_alpha=hand_p * 1.01).tolist() == [
        "intensifying_hot_spot"
    ]
    assert classify_emerging([z], [p], trend_alpha=hand_p * 0.99).tolist() == [
        "persistent_hot_spot"
    ]


def test_every_pattern_has_its_chinese_label():
    assert set(PATTERN_LABELS) == set(PATTERNS)
    assert len(PATTERNS) == 17
    kinds = (
        "new",
        "consecutive",
        "intensifying",
        "persistent",
        "diminishing",
        "sporadic",
        "oscillating",
        "historical",
    )
    assert [PATTERN_LABELS[f"{k}_hot_spot"] for k in kinds] == [
        "新增热点",
        "连续热点",
        "加剧热点",
        "持续热点",
        "减弱热点",
        "零星热点",
        "振荡热点",
        "历史热点",
    ]
    assert PATTERN_LABELS["persistent_cold_spot"] == "持续冷点"
    assert PATTERN_LABELS["no_pattern"] == "无模式"


@pytest.mark.parametrize(
    ("z", "p", "kwargs", "message"),
    [
        ([[1.0, 2.0]], [[0.1, 0.1, 0.1]], {}, r"z has shape \(1, 2\) but p has shape \(1, 3\)"),
        ([[1.0, 2.0]], [[0.1, 1.5]], {}, r"p contains 1.5, but p-values must lie in \[0, 1\]"),
        ([1.0, 2.0], [0.1, 0.1], {}, r"z has shape \(2,\), but must be 2-D"),
        ([[1.0, 2.0]], [[0.1, float("inf")]], {}, "p contains NaN or infinite"),
        ([[1.0, 2.0]], [[0.1, 0.1]], {"alpha": 0.0}, r"alpha=0.0 provided, but it must lie"),
        ([[1.0, 2.0]], [[0.1, 0.1]], {"trend_alpha": 1.0}, r"trend_alpha=1.0 provided"),
    ],
)
def test_classify_rejects_bad_input(z, p, kwargs, message):
    with pytest.raises(ValueError, match=message):
        classify_emerging(z, p, **kwargs)
