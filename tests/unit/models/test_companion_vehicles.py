import pandas as pd
import pytest
from scipy import stats

from models.companion_vehicles import companion_pairs, expected_co_occurrences, expected_for_pairs


def _pairs(rows):
    return pd.DataFrame(
        rows, columns=["vehicle_a", "vehicle_b", "co_occurrences", "days", "expected"]
    )


def test_chance_co_occurrences_scale_with_both_read_counts_and_the_window():
    mu = expected_co_occurrences([10, 20], [5, 5], window_s=90, span_s=86400)
    assert mu.tolist() == pytest.approx([10 * 5 * 180 / 86400, 20 * 5 * 180 / 86400])
    # Never more than one co-occurrence per pair of reads.
    assert float(expected_co_occurrences(3, 4, window_s=10**6, span_s=60)) == 12.0


def test_p_value_is_the_poisson_tail_and_lift_the_ratio():
    out = companion_pairs(
        _pairs([("a", "b", 4, 3, 0.5)]), alpha=0.05, min_co_occurrences=3, min_days=2
    )
    assert out.loc[0, "p_value"] == pytest.approx(stats.poisson.sf(3, 0.5))
    assert out.loc[0, "lift"] == pytest.approx(8.0)


def test_busy_pairs_that_meet_as_often_as_chance_says_are_not_companions():
    out = companion_pairs(
        _pairs(
            [
                ("convoy1", "convoy2", 10, 5, 0.02),
                ("taxi1", "taxi2", 40, 9, 38.0),
                ("once1", "once2", 2, 1, 0.0001),
            ]
        ),
        alpha=0.01,
        min_co_occurrences=3,
        min_days=2,
    )
    flagged = dict(zip(out["vehicle_a"], out["companion"]))
    assert flagged == {"convoy1": True, "taxi1": False, "once1": False}


def test_bonferroni_counts_every_co_occurring_pair():
    # p = P(Poisson(0.3) >= 4) ~ 2.7e-4: significant alone, not among 100 pairs at 0.01.
    rows = [("x", "y", 4, 3, 0.3)] + [(f"a{i}", f"b{i}", 1, 1, 0.5) for i in range(99)]
    alone = companion_pairs(_pairs(rows[:1]), alpha=0.01, min_co_occurrences=3, min_days=2)
    many = companion_pairs(_pairs(rows), alpha=0.01, min_co_occurrences=3, min_days=2)
    assert bool(alone.loc[0, "companion"]) is True
    assert not many["companion"].any()


def test_bad_arguments_name_what_is_wrong():
    with pytest.raises(ValueError, match="alpha=1.5"):
        companion_pairs(_pairs([]), alpha=1.5, min_co_occurrences=3, min_days=2)
    with pytest.raises(ValueError, match="lack columns \\['expected'\\]"):
        companion_pairs(
            _pairs([]).drop(columns="expected"), alpha=0.1, min_co_occurrences=3, min_days=2
        )
    with pytest.raises(ValueError, match="window_s=0"):
        expected_co_occurrences(1, 1, window_s=0, span_s=10)


def test_bonferroni_counts_the_pairs_that_were_not_scored_too():
    # The same pair scored alone, but 100 pairs co-occurred: not significant.
    one = companion_pairs(
        _pairs([("x", "y", 4, 3, 0.3)]), alpha=0.01, min_co_occurrences=3, min_days=2, tested=100
    )
    assert not one["companion"].any()
    with pytest.raises(ValueError, match="tested=0 is fewer than the 1 pairs"):
        companion_pairs(
            _pairs([("x", "y", 4, 3, 0.3)]), alpha=0.01, min_co_occurrences=3, min_days=2, tested=0
        )


def test_expected_for_pairs_sums_the_chance_over_the_sites_both_use():
    reads = pd.DataFrame(
        {
            "vehicle": ["a", "a", "b", "b", "c"],
            "site": ["s1", "s2", "s1", "s2", "s3"],
            "reads": [10, 4, 20, 5, 7],
        }
    )
    got = expected_for_pairs(
        ["a", "b", "a", "zz"], ["b", "c", "c", "a"], reads, window_s=90, span_s=86400, chunk=2
    )
    factor = 180 / 86400
    assert got.tolist() == pytest.approx([(10 * 20 + 4 * 5) * factor, 0.0, 0.0, 0.0])
    # The same as summing expected_co_occurrences site by site.
    assert got[0] == pytest.approx(
        float(expected_co_occurrences(10, 20, window_s=90, span_s=86400))
        + float(expected_co_occurrences(4, 5, window_s=90, span_s=86400))
    )
