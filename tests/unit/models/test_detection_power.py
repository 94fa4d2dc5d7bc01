import numpy as np
import pytest
from scipy import stats

from models.detection_power import alpha_per_look, critical_count, oracle_power


def test_alpha_spends_one_town_month_over_its_looks():
    assert alpha_per_look(1.0, 5) == pytest.approx(1 / 8640)
    assert alpha_per_look(2.0, 10, days_per_month=31) == pytest.approx(2 / (31 * 144))


def test_critical_count_is_the_smallest_count_within_alpha():
    for mu in (0.05, 1.0, 3.7, 12.0, 80.0):
        k = int(critical_count([mu], 1e-4)[0])
        assert stats.poisson.sf(k - 1, mu) <= 1e-4 < stats.poisson.sf(k - 2, mu)


def test_one_look_power_equals_the_poisson_tail():
    # One slice per window and a single look: power is P(Poisson(3 mu) >= k*).
    mu, alpha = 4.0, 1e-3
    k = int(critical_count([mu], alpha)[0])
    p = oracle_power(
        [mu],
        3.0,
        1,
        slide_minutes=5,
        slices_per_window=1,
        alpha=alpha,
        replicates=200_000,
        rng=np.random.default_rng(3),
    )
    assert p.power == pytest.approx(stats.poisson.sf(k - 1, 3 * mu), abs=0.005)
    assert p.median_delay_minutes == 5.0


def test_power_grows_with_the_events_a_surge_adds():
    powers = [
        oracle_power(
            [e / 6] * 18,
            3.0,
            12,
            slide_minutes=5,
            slices_per_window=6,
            alpha=alpha_per_look(1.0, 5),
            rng=np.random.default_rng(1),
        ).power
        for e in (1, 5, 20)
    ]
    assert powers[0] < 0.2 < powers[1] < 0.9 < powers[2]
    assert powers[2] == 1.0


def test_without_a_surge_the_oracle_alarms_within_its_level():
    # 18 looks at alpha each: at most 18 * alpha of the replicates alarm.
    alpha = 1e-2
    p = oracle_power(
        [0.5] * 18,
        1.0,
        18,
        slide_minutes=5,
        slices_per_window=6,
        alpha=alpha,
        replicates=50_000,
        rng=np.random.default_rng(5),
    )
    assert p.power <= 18 * alpha


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(background_per_slice=[], surge_slices=1), "non-empty"),
        (dict(background_per_slice=[1.0], surge_slices=2), "surge_slices=2"),
        (dict(background_per_slice=[1.0], surge_slices=1, multiplier=0.5), "multiplier=0.5"),
    ],
)
def test_bad_arguments_name_the_value(kwargs, message):
    args = dict(
        multiplier=3.0,
        slide_minutes=5,
        slices_per_window=6,
        alpha=1e-3,
        rng=np.random.default_rng(0),
    )
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        oracle_power(**args)
