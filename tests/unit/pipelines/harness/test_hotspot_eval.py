"""Scoring the detector's alerts against planted surges (no services)."""

from datetime import datetime, timedelta

import pytest

from features.local_time import DISTRICT_TZ
from pipelines.harness.hotspot_eval import SurgePlan, plan_surges, score_alerts

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=DISTRICT_TZ)


def _plan(cell, category, minutes):
    start = T0 + timedelta(minutes=minutes)
    return SurgePlan(cell, category, start, start + timedelta(hours=1), 3.0, 1.0)


def _update(alert_id, category, cells, first_min, status="new"):
    first = (T0 + timedelta(minutes=first_min)).isoformat()
    return {
        "alert_id": alert_id,
        "category": category,
        "cells": cells,
        "status": status,
        "window_end": first,
        "first_window_end": first,
    }


def test_precision_recall_delays_and_false_alarms():
    plans = [_plan("r1", "fight", 0), _plan("r2", "theft", 120), _plan("r3", "fight", 240)]
    surge_alerts = [
        _update("a", "fight", ["r1"], 10),
        _update("a", "fight", ["r1", "r9"], 10, "ongoing"),
        _update("b", "theft", ["r7", "r2"], 120 + 25),
        _update("c", "fight", ["r2"], 125),  # right place, wrong category: false
        _update("d", "fight", ["r3"], 240 + 95),  # after the surge and its window: false
    ]
    null_alerts = [
        _update("n1", "fight", ["r5"], 0),
        _update("n1", "fight", ["r5"], 5),
        _update("n2", "theft", ["r6"], 30),
    ]
    report = score_alerts(surge_alerts, null_alerts, plans, window_minutes=30, hours=84, towns=2)
    assert report["clusters"] == 4 and report["true_clusters"] == 2
    assert report["precision"] == 0.5
    assert report["recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["detection_delay_minutes"] == {"median": 17.5, "p90": 25.0}
    assert report["missed"] == [2]
    # 2 false clusters, 2 towns, half a week.
    assert report["false_alarms_per_town_week"] == 2.0


class _Simulator:
    rates = {("a", "x"): 5.0, ("b", "x"): 4.0, ("a", "y"): 3.0, ("c", "y"): 2.0, ("d", "z"): 1.0}

    def busiest_cells(self, category, n):
        ranked = sorted((r, c) for (c, k), r in self.rates.items() if k == category)
        return [c for _, c in reversed(ranked)][:n]

    def base_rate(self, cell, category):
        return self.rates.get((cell, category), 0.0)


def test_surges_go_to_busy_distinct_cells_and_do_not_overlap():
    plans = plan_surges(
        _Simulator(), ["z", "y", "x"], start=T0, hours=6, count=2, duration_min=60, multiplier=3.0
    )
    assert [(p.category, p.cell_id) for p in plans] == [("x", "a"), ("y", "c")]
    assert plans[0].start == T0 + timedelta(hours=1)
    assert plans[1].start >= plans[0].end + timedelta(minutes=30)
    assert plans[1].end + timedelta(minutes=30) <= T0 + timedelta(hours=6)


def test_too_many_surges_are_refused():
    with pytest.raises(ValueError, match="surges=4 exceeds the 3 scored categories"):
        plan_surges(
            _Simulator(),
            ["x", "y", "z"],
            start=T0,
            hours=24,
            count=4,
            duration_min=60,
            multiplier=3.0,
        )
    with pytest.raises(ValueError, match="3 surges of 60 min do not fit in 4 h"):
        plan_surges(
            _Simulator(),
            ["x", "y", "z"],
            start=T0,
            hours=4,
            count=3,
            duration_min=60,
            multiplier=3.0,
        )


def test_a_block_surge_covers_the_centre_and_its_neighbours():
    plans = plan_surges(
        _Simulator(),
        ["x"],
        start=T0,
        hours=6,
        count=1,
        duration_min=60,
        multiplier=3.0,
        radius=1,
        neighbours=lambda cell, r: [cell + "n"],
    )
    assert plans[0].covered == ("a", "an")
    # The rate of the block: a's 5.0 plus nothing for the unknown neighbour.
    assert plans[0].base_rate_per_hour == 5.0


class _TimedSimulator(_Simulator):
    """Rates that double after 10:00, to see each slice priced at its own time."""

    def expected_rate(self, cell, category, at):
        return self.base_rate(cell, category) * (2.0 if at.hour >= 10 else 1.0)


def test_a_surge_carries_its_background_per_slide_until_a_window_after_it_ends():
    plans = plan_surges(
        _TimedSimulator(),
        ["x"],
        start=T0,
        hours=6,
        count=1,
        duration_min=60,
        multiplier=3.0,
        slide_minutes=5,
        window_minutes=30,
    )
    plan = plans[0]  # 10:00 to 11:00
    assert len(plan.expected_per_slice) == 18  # (60 + 30) / 5
    assert plan.expected_per_slice[0] == pytest.approx(5.0 * 2 * 5 / 60)
    assert plan.expected_per_window == pytest.approx(5.0 * 2 * 30 / 60)


def test_oracle_reference_finds_big_surges_and_misses_tiny_ones():
    from pipelines.harness.hotspot_eval import oracle_reference

    big = SurgePlan("a", "x", T0, T0 + timedelta(hours=1), 3.0, 1.0, (), 60.0, (10.0,) * 18)
    tiny = SurgePlan("b", "x", T0, T0 + timedelta(hours=1), 3.0, 1.0, (), 0.3, (0.05,) * 18)
    ref = oracle_reference(
        [big, tiny], budget_per_town_month=1.0, slide_minutes=5, window_minutes=30
    )
    assert ref["power_by_surge"][0] == 1.0
    assert ref["power_by_surge"][1] < 0.05
    assert ref["recall"] == pytest.approx(sum(ref["power_by_surge"]) / 2, abs=1e-4)
    assert ref["alpha_per_look"] == pytest.approx(1 / 8640)


def test_three_oracles_stand_side_by_side_on_the_same_surges():
    from pipelines.harness.hotspot_eval import oracle_reference

    big = SurgePlan("a", "x", T0, T0 + timedelta(hours=1), 3.0, 1.0, (), 60.0, (10.0,) * 18)
    weak = SurgePlan("b", "x", T0, T0 + timedelta(hours=1), 3.0, 1.0, (), 3.6, (0.3,) * 18)
    ref = oracle_reference(
        [big, weak], budget_per_town_month=1.0, slide_minutes=5, window_minutes=30, towns=20
    )
    oracles = ref["oracles"]
    assert list(oracles) == ["single_window", "cusum_town", "cusum_district"]
    assert oracles["single_window"]["power_by_surge"] == ref["power_by_surge"]
    assert all(o["power_by_surge"][0] == 1.0 for o in oracles.values())
    # On the weak surge, accumulating evidence beats one window, and the
    # district's budget spent on the one block beats a town's.
    weak_power = {name: o["power_by_surge"][1] for name, o in oracles.items()}
    assert weak_power["single_window"] < weak_power["cusum_town"] < weak_power["cusum_district"]
