"""The simulator's planted truth: surges over the background rates, and rings that act together."""

import json
import math
from collections import Counter
from datetime import datetime, timedelta

import pytest

from features.taxonomy import CATEGORIES_BY_SOURCE
from pipelines.harness.simulator import DistrictSimulator, Surge

from .simulator_checks import MONDAY, check_digit, small_district, wgs84_cell


@pytest.fixture(scope="module")
def district():
    return small_district()


# ---------------------------------------------------------------- surges


def test_base_rates_add_up_to_the_channel_rates(district):
    sim = DistrictSimulator(
        district,
        seed=6,
        events_per_hour=500,
        channel_mix={"grid": 0.5, "hotline": 0.2, "video": 0.3},
    )
    for source, share in (("grid", 0.5), ("hotline", 0.2), ("video", 0.3)):
        total = sum(
            sim.base_rate(cell, category)
            for category in CATEGORIES_BY_SOURCE[source]
            for cell in sim.busiest_cells(category, 10_000)
        )
        assert total == pytest.approx(500 * share, rel=1e-9)
    cells = sim.busiest_cells("environment.illegal_dumping", 3)
    rates = [sim.base_rate(c, "environment.illegal_dumping") for c in cells]
    assert rates == sorted(rates, reverse=True) and rates[2] > 0
    assert sim.base_rate("r000c000", "environment.illegal_dumping") == 0.0


def test_surge_multiplies_counts_in_its_cell_and_category(district):
    category = "environment.illegal_dumping"
    background = DistrictSimulator(district, seed=7, events_per_hour=300, channel_mix={"grid": 1.0})
    cell = background.busiest_cells(category, 1)[0]
    surge = Surge(cell, category, MONDAY + timedelta(hours=8), MONDAY + timedelta(hours=20), 3.0)
    surged = DistrictSimulator(
        district, seed=7, events_per_hour=300, channel_mix={"grid": 1.0}, surges=(surge,)
    )

    def counts(sim):
        """Events of the surge category per (cell, during surge), and every other event."""
        cells, others = Counter(), Counter()
        for record in sim.records(MONDAY, timedelta(days=1)):
            obj = json.loads(record.value)
            if obj["category"] != category:
                location = obj["location"]
                others[
                    (record.event_time_ms, obj["category"], location["lon"], location["lat"])
                ] += 1
                continue
            during = (
                surge.start.timestamp() * 1000
                <= record.event_time_ms
                < surge.end.timestamp() * 1000
            )
            cells[(wgs84_cell(district, obj), during)] += 1
        return cells, others

    base_cells, base_others = counts(background)
    surge_cells, surge_others = counts(surged)
    # The background is drawn from its own random stream: untouched by the surge.
    assert surge_others == base_others
    assert {k: v for k, v in surge_cells.items() if k != (cell, True)} == {
        k: v for k, v in base_cells.items() if k != (cell, True)
    }

    # The expected background over the surge hours, hour by hour; the surge
    # adds (multiplier - 1) times as much.
    expected = sum(
        background.expected_rate(cell, category, surge.start + timedelta(hours=h))
        for h in range(12)
    )
    observed_background = base_cells[(cell, True)]
    added = surge_cells[(cell, True)] - observed_background
    assert expected > 40
    assert abs(observed_background - expected) < 5 * math.sqrt(expected)
    assert abs(added - 2 * expected) < 5 * math.sqrt(2 * expected)
    assert surge_cells[(cell, True)] > 2.2 * observed_background


def test_expected_rate_follows_the_clock(district):
    sim = DistrictSimulator(district, seed=8)
    cell = sim.busiest_cells("hotline.transport", 1)[0]
    night = sim.expected_rate(cell, "hotline.transport", MONDAY + timedelta(hours=3))
    day = sim.expected_rate(cell, "hotline.transport", MONDAY + timedelta(hours=10))
    sunday_day = sim.expected_rate(cell, "hotline.transport", MONDAY + timedelta(days=6, hours=10))
    assert night < 0.05 * sim.base_rate(cell, "hotline.transport") < day
    assert sunday_day < day


# ---------------------------------------------------------------- rings


def test_rings_go_out_as_often_as_asked(district):
    def leads(per_day):
        sim = DistrictSimulator(
            district, seed=9, events_per_hour=50, n_rings=1, ring_outings_per_day=per_day
        )
        first = sim.ground_truth().rings[0].plates[0]
        return sum(
            1
            for r in sim.records(MONDAY, timedelta(days=4))
            if json.loads(r.value)["category"] == "video.plate_read"
            and json.loads(r.value)["vehicles"][0]["plate"] == first
        )

    few, many = leads(4.0), leads(16.0)
    # Four days at 4 and 16 outings a day: Poisson counts around 16 and 64.
    assert 5 <= few <= 30 and 40 <= many <= 95


def test_ring_members_appear_together(district):
    sim = DistrictSimulator(district, seed=9, events_per_hour=200, n_rings=2, ring_size=4)
    truth = sim.ground_truth()
    assert [r.ring_id for r in truth.rings] == ["ring-001", "ring-002"]
    assert all(len(r.person_ids) == 4 and 2 <= len(r.plates) <= 3 for r in truth.rings)
    assert not set(truth.rings[0].person_ids) & set(truth.rings[1].person_ids)

    objects = [json.loads(r.value) for r in sim.records(MONDAY, timedelta(days=3))]
    for ring in truth.rings:
        together = [
            o
            for o in objects
            if o["source"] == "grid"
            and set(ring.person_ids) <= {p.get("id_number") for p in o["persons"]}
        ]
        assert len(together) >= 2
        assert all(set(ring.plates) <= {v["plate"] for v in o["vehicles"]} for o in together)

        reads = [
            (
                datetime.fromisoformat(o["event_time"]),
                o["attributes"]["site_id"],
                o["vehicles"][0]["plate"],
            )
            for o in objects
            if o["category"] == "video.plate_read" and o["vehicles"][0]["plate"] in ring.plates
        ]
        leads = [(t, site) for t, site, plate in reads if plate == ring.plates[0]]
        assert len(leads) >= 2
        for t, site in leads:
            for plate in ring.plates[1:]:
                assert any(
                    p == plate and s == site and timedelta(0) < u - t <= timedelta(minutes=10)
                    for u, s, p in reads
                )


def test_ground_truth_is_json_ready(district):
    surge = Surge("r020c025", "hotline.transport", MONDAY, MONDAY + timedelta(hours=1), 4.0)
    sim = DistrictSimulator(district, seed=10, surges=(surge,), n_rings=1, ring_size=3)
    truth = json.loads(json.dumps(sim.ground_truth().to_dict(), ensure_ascii=False))
    assert truth["surges"] == [
        {
            "cell_id": "r020c025",
            "category": "hotline.transport",
            "start": "2026-11-23T00:00:00+08:00",
            "end": "2026-11-23T01:00:00+08:00",
            "multiplier": 4.0,
        }
    ]
    (ring,) = truth["rings"]
    assert ring["ring_id"] == "ring-001" and len(ring["person_ids"]) == 3
    assert all(len(p) == 18 and p[17] == check_digit(p[:17]) for p in ring["person_ids"])
