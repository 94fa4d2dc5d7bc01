"""Tests for the district simulator (pipelines.harness.simulator): the stream, its defects, bad parameters."""

import json
from collections import Counter
from datetime import datetime, timedelta

import pytest

from features import contract
from features.geography import build_district
from pipelines.harness.simulator import MALFORMED_KINDS, DistrictSimulator, Surge

from .simulator_checks import CST, MONDAY, check_envelope, small_district, violations


@pytest.fixture(scope="module")
def district():
    return small_district()


# ---------------------------------------------------------------- stream shape


def test_same_seed_gives_the_same_records_and_another_seed_does_not(district):
    def run(seed):
        sim = DistrictSimulator(
            district, seed=seed, events_per_hour=300, malformed_fraction=0.1, n_rings=1
        )
        return list(sim.records(MONDAY, timedelta(hours=6)))

    first = run(42)
    assert first == run(42)
    assert [r.value for r in first] != [r.value for r in run(43)]


def test_one_population_seed_keeps_the_people_cars_and_rings_across_seeds(district):
    def sim(seed, population_seed=None):
        return DistrictSimulator(
            district, seed=seed, events_per_hour=300, n_rings=2, population_seed=population_seed
        )

    assert (
        sim(1, population_seed=5).ground_truth().rings
        == sim(2, population_seed=5).ground_truth().rings
        == sim(5).ground_truth().rings
    )
    assert sim(1).ground_truth().rings != sim(2).ground_truth().rings
    one = [r.value for r in sim(1, 5).records(MONDAY, timedelta(hours=3))]
    other = [r.value for r in sim(2, 5).records(MONDAY, timedelta(hours=3))]
    assert one != other


def test_records_are_in_report_time_order_with_unique_ids(district):
    records = list(
        DistrictSimulator(district, seed=1, events_per_hour=400).records(
            MONDAY, timedelta(hours=12)
        )
    )
    reports = [r.report_time_ms for r in records]
    assert reports == sorted(reports)
    assert len({r.key for r in records}) == len(records)
    assert all(
        MONDAY.timestamp() * 1000 <= r.event_time_ms < (MONDAY.timestamp() + 12 * 3600) * 1000
        for r in records
    )


def test_run_id_goes_into_every_event_id(district):
    records = list(
        DistrictSimulator(district, seed=1, events_per_hour=400, run_id="live2").records(
            MONDAY + timedelta(hours=9), timedelta(minutes=20)
        )
    )
    grid = [r.key for r in records if r.source == "grid"]
    assert grid[:3] == [
        "grid-live2-20261123-000001",
        "grid-live2-20261123-000002",
        "grid-live2-20261123-000003",
    ]
    assert all(json.loads(r.value)["event_id"] == r.key for r in records)


def test_valid_records_follow_the_envelope(district):
    sim = DistrictSimulator(district, seed=2, events_per_hour=400, n_rings=2)
    records = list(sim.records(MONDAY + timedelta(hours=6), timedelta(hours=12)))
    assert {r.source for r in records} == {"grid", "hotline", "video"}
    for record in records:
        assert record.malformed_kind is None
        assert violations(record.value, district) == []
        obj = json.loads(record.value)
        check_envelope(obj)
        assert obj["source"] == record.source and obj["event_id"] == record.key
        assert datetime.fromisoformat(obj["event_time"]).timestamp() * 1000 == record.event_time_ms
        assert (
            datetime.fromisoformat(obj["report_time"]).timestamp() * 1000 == record.report_time_ms
        )


def test_small_fixture_exact_values():
    rows = [{"name": "鼓楼街道", "kind": "街道", "approx_lat": "40.376", "approx_lon": "116.845"}]
    tiny = build_district(
        rows,
        code="110118",
        name="密云区",
        seed=1,
        villages_per_town=1,
        cell_size_m=1000,
        origin_lon=116.55,
        origin_lat=40.15,
        max_village_distance_m=9000,
        n_cameras=1,
        n_lpr_sites=1,
        n_gas_stations=0,
    )
    camera, lpr = tiny.sites_of_kind("camera")[0], tiny.sites_of_kind("lpr")[0]
    sim = DistrictSimulator(tiny, seed=9, events_per_hour=60, channel_mix={"video": 1.0})
    start = datetime(2026, 11, 27, 9, 0, tzinfo=CST)
    records = list(sim.records(start, timedelta(minutes=5)))[:5]

    assert [r.key for r in records] == [f"video-20261127-{n:06d}" for n in range(1, 6)]
    for record in records:
        obj = json.loads(record.value)
        site = camera if obj["category"] == "video.camera_alarm" else lpr
        assert obj["location"] == {"lon": site.lon, "lat": site.lat, "crs": "WGS84"}
        assert obj["attributes"]["site_id"] == site.site_id
        if site is camera:
            assert obj["attributes"]["device_id"] == "CAM-110118001-001-V1"
        else:
            assert (
                obj["attributes"]["device_id"] == f"LPR-110118001-001-L{obj['attributes']['lane']}"
            )
            assert 1 <= obj["attributes"]["lane"] <= lpr.lanes
        expected = datetime.fromtimestamp(record.event_time_ms / 1000, CST)
        assert obj["event_time"] == expected.strftime("%Y-%m-%dT%H:%M:%S+08:00")
        assert start <= expected < start + timedelta(minutes=5)
        assert 0 <= record.report_time_ms - record.event_time_ms <= 3000


def test_hotline_is_quiet_at_night(district):
    records = list(
        DistrictSimulator(
            district, seed=3, events_per_hour=400, channel_mix={"hotline": 1.0}
        ).records(MONDAY, timedelta(days=1))
    )
    hours = Counter(datetime.fromtimestamp(r.event_time_ms / 1000, CST).hour for r in records)
    night = sum(hours[h] for h in range(0, 6))
    morning = sum(hours[h] for h in range(9, 12))
    assert night < 0.03 * len(records)
    assert morning > 10 * night


# ---------------------------------------------------------------- malformed


def test_malformed_fraction_and_kinds(district):
    sim = DistrictSimulator(district, seed=4, events_per_hour=600, malformed_fraction=0.2)
    records = list(sim.records(MONDAY + timedelta(hours=8), timedelta(hours=6)))
    n = len(records)
    assert n > 2500
    kinds = Counter(r.malformed_kind for r in records if r.malformed_kind is not None)
    assert sum(kinds.values()) == n * 2 // 10
    assert set(kinds) == set(MALFORMED_KINDS)
    assert max(kinds.values()) - min(kinds.values()) <= 1
    for record in records:
        expected = [] if record.malformed_kind is None else [record.malformed_kind]
        assert violations(record.value, district) == expected, record.value


def test_malformed_records_are_refused_by_the_contract_for_their_reason(district):
    sim = DistrictSimulator(district, seed=5, events_per_hour=600, malformed_fraction=0.25)
    records = list(sim.records(MONDAY + timedelta(hours=8), timedelta(hours=2)))
    ctx = contract.NormalizationContext(district=district, key=b"0123456789abcdef" * 2)
    now_ms = max(r.report_time_ms for r in records)
    outcomes = Counter()
    for record in records:
        destination, _, value = contract.route_raw_record(
            record.value, ctx, now_ms, channel=record.source
        )
        reason = json.loads(value)["reason_code"] if destination == contract.DEAD_LETTER else None
        assert reason == record.malformed_kind
        outcomes[reason] += 1
    assert set(outcomes) == set(MALFORMED_KINDS) | {None}


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"channel_mix": {"grid": 0.5, "radio": 0.5}},
            r"unknown channels \['radio'\]; allowed: grid",
        ),
        ({"channel_mix": {"grid": 0.5}}, r"must have shares >= 0 summing to 1"),
        ({"events_per_hour": 0}, r"events_per_hour=0 must be a number > 0"),
        ({"malformed_fraction": 1.5}, r"malformed_fraction=1.5 must be in \[0, 1\]"),
        ({"run_id": "a-b"}, r"run_id='a-b' must be 1-32 ASCII letters, digits or '_'"),
        ({"ring_outings_per_day": -1}, r"ring_outings_per_day=-1 must be a number >= 0"),
        (
            {"surges": (Surge("r001c001", "public_order.ufo", MONDAY, MONDAY, 2.0),)},
            r"category='public_order.ufo' is not in the taxonomy",
        ),
        (
            {"surges": (Surge("cell-7", "hotline.transport", MONDAY, MONDAY, 2.0),)},
            r"cell_id='cell-7' is malformed",
        ),
    ],
)
def test_bad_parameters_are_named_on_first_use(district, kwargs, message):
    sim = DistrictSimulator(district, seed=1, **kwargs)  # stores only
    with pytest.raises(ValueError, match=message):
        sim.records(MONDAY, timedelta(hours=1))


def test_naive_start_is_refused(district):
    with pytest.raises(
        ValueError,
        match=r"start=datetime.datetime\(2026, 11, 23, 0, 0\) "
        r"must be a timezone-aware datetime",
    ):
        DistrictSimulator(district, seed=1).records(datetime(2026, 11, 23), timedelta(hours=1))
