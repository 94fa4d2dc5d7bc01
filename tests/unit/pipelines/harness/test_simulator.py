"""Tests for pipelines.harness.simulator.generate."""

import json
import math
import random
import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from features.coordinates import bd09_to_wgs84, gcj02_to_wgs84
from features.geography import build_district
from features.taxonomy import CATEGORIES_BY_SOURCE
from pipelines.harness.simulator import MALFORMED_KINDS, DistrictSimulator, Surge

CST = timezone(timedelta(hours=8))
MONDAY = datetime(2026, 11, 23, tzinfo=CST)

# Four towns copied from shared/data/miyun_towns.csv: two streets, two towns.
TOWN_ROWS = [
    {"name": "鼓楼街道", "kind": "街道", "approx_lat": "40.376", "approx_lon": "116.845"},
    {"name": "果园街道", "kind": "街道", "approx_lat": "40.366", "approx_lon": "116.832"},
    {"name": "溪翁庄镇", "kind": "镇", "approx_lat": "40.450", "approx_lon": "116.830"},
    {"name": "古北口镇", "kind": "镇", "approx_lat": "40.690", "approx_lon": "117.150"},
]
ISO_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00")
DELAY_S = {"grid": (0, 300), "hotline": (60, 600), "video": (0, 3)}
CRS = {"grid": "GCJ02", "hotline": "BD09", "video": "WGS84"}
TO_WGS84 = {"GCJ02": gcj02_to_wgs84, "BD09": bd09_to_wgs84, "WGS84": lambda lon, lat: (lon, lat)}


@pytest.fixture(scope="module")
def district():
    return build_district(
        TOWN_ROWS,
        code="110118",
        name="密云区",
        seed=5,
        villages_per_town=4,
        cell_size_m=1000,
        origin_lon=116.55,
        origin_lat=40.15,
        max_village_distance_m=9000,
        n_cameras=12,
        n_lpr_sites=6,
        n_gas_stations=3,
    )


def _check_digit(first17):
    """GB 11643 MOD 11-2 check character, from the definition."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    remainder = sum(int(d) * w for d, w in zip(first17, weights)) % 11
    return "10X98765432"[remainder]


def _violations(value, district):
    """An independent strict reading of raw envelope v1: the reasons to refuse it."""
    try:
        obj = json.loads(value)
    except json.JSONDecodeError:
        return ["invalid_json"]
    reasons = []
    for field in (
        "schema_version",
        "event_id",
        "source",
        "category",
        "event_time",
        "report_time",
        "location",
        "persons",
        "vehicles",
        "attributes",
    ):
        if field not in obj:
            return ["missing_field"]
    if type(obj["schema_version"]) is not int or obj["schema_version"] != 1:
        reasons.append("wrong_type")
    if not isinstance(obj["persons"], list) or not isinstance(obj["vehicles"], list):
        reasons.append("wrong_type")
    location = obj["location"]
    if not all(type(location[k]) is float for k in ("lon", "lat")):
        reasons.append("wrong_type")
    source = obj["source"]
    if obj["category"] not in CATEGORIES_BY_SOURCE[source]:
        reasons.append("unknown_category")
    if reasons:
        return reasons
    assert location["crs"] == CRS[source]
    if district.locate(*TO_WGS84[location["crs"]](location["lon"], location["lat"])) is None:
        reasons.append("outside_district")
    assert ISO_SECONDS.fullmatch(obj["event_time"]) and ISO_SECONDS.fullmatch(obj["report_time"])
    event = datetime.fromisoformat(obj["event_time"])
    report = datetime.fromisoformat(obj["report_time"])
    if event - report >= timedelta(days=2):
        reasons.append("future_timestamp")
    elif not reasons:
        low, high = DELAY_S[source]
        assert low <= (report - event).total_seconds() <= high
    return reasons


def _check_envelope(obj):
    """Shapes of the channel-specific parts of a valid envelope."""
    source = obj["source"]
    assert re.fullmatch(rf"{source}-\d{{8}}-\d{{6}}", obj["event_id"])
    for person in obj["persons"]:
        assert set(person) <= {"role", "name", "id_number", "phone"} and "role" in person
        assert all(isinstance(v, str) for v in person.values())
        if "id_number" in person:
            number = person["id_number"]
            assert len(number) == 18 and number[:17].isdigit()
            assert number[17] == _check_digit(number[:17])
        if "phone" in person:
            assert re.fullmatch(r"1[3-9]\d{9}", person["phone"])
    for vehicle in obj["vehicles"]:
        assert set(vehicle) == {"role", "plate"}
    attributes = obj["attributes"]
    if source == "grid":
        assert set(attributes) == {"reporter_id", "description"}
        assert re.fullmatch(r"G\d{4}", attributes["reporter_id"])
        assert re.search(r"[\u4e00-\u9fff]", attributes["description"])
    elif source == "hotline":
        assert set(attributes) == {"ticket_no", "text"}
        assert re.fullmatch(r"12345-\d{8}-\d{4}", attributes["ticket_no"])
        assert [p["role"] for p in obj["persons"]] == ["caller"]
        assert "phone" in obj["persons"][0]
        assert not re.search(r"\d{11}", attributes["text"])
    else:
        kind = attributes["device_kind"]
        assert attributes["device_id"].startswith(attributes["site_id"])
        if kind == "lpr":
            assert set(attributes) == {"device_id", "site_id", "device_kind", "lane", "confidence"}
            assert type(attributes["lane"]) is int and type(attributes["confidence"]) is float
            assert [v["role"] for v in obj["vehicles"]] == ["observed"]
        else:
            assert kind == "camera"
            assert set(attributes) == {"device_id", "site_id", "device_kind"}
            assert obj["vehicles"] == [] and obj["persons"] == []


def _wgs84_cell(district, obj):
    location = obj["location"]
    return district.grid.cell_of(*TO_WGS84[location["crs"]](location["lon"], location["lat"]))


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
        assert _violations(record.value, district) == []
        obj = json.loads(record.value)
        _check_envelope(obj)
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
        assert _violations(record.value, district) == expected, record.value


def test_malformed_records_are_refused_by_the_contract_for_their_reason(district):
    contract = pytest.importorskip("features.contract")
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
            cells[(_wgs84_cell(district, obj), during)] += 1
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
    assert all(len(p) == 18 and p[17] == _check_digit(p[:17]) for p in ring["person_ids"])


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


# ---------------------------------------------------------------- identity noise


def test_every_entry_has_its_truth_and_no_truth_reaches_the_value(district):
    sim = DistrictSimulator(
        district,
        seed=8,
        events_per_hour=800,
        n_rings=2,
        identity_noise={"name_typo": 0.5, "phone_typo": 0.5, "plate_misread": 0.5},
    )
    records = list(sim.records(MONDAY + timedelta(hours=8), timedelta(hours=6)))
    typos = misreads = 0
    for record in records:
        raw = json.loads(record.value)
        assert '"_id"' not in record.value
        assert len(record.truth["persons"]) == len(raw["persons"])
        assert len(record.truth["vehicles"]) == len(raw["vehicles"])
        for person, true_id in zip(raw["persons"], record.truth["persons"]):
            # An unknown suspect (no name, phone or ID) is nobody in particular.
            assert (true_id is None) == (set(person) == {"role"})
            if "id_number" in person:
                assert person["id_number"] == true_id  # an ID is never damaged
            else:
                typos += 1
        for vehicle, plate in zip(raw["vehicles"], record.truth["vehicles"]):
            misreads += vehicle["plate"] != plate
    assert typos > 0 and misreads > 0


def test_noise_leaves_the_events_themselves_unchanged(district):
    def events(noise):
        sim = DistrictSimulator(district, seed=8, events_per_hour=800, identity_noise=noise)
        return [
            (r.key, r.event_time_ms, json.loads(r.value)["category"])
            for r in sim.records(MONDAY + timedelta(hours=8), timedelta(hours=3))
        ]

    assert events(None) == events({"name_typo": 1.0, "phone_typo": 1.0, "plate_misread": 1.0})


def test_homophone_typos_keep_the_name_sound():
    from features.person_keys import name_sound
    from pipelines.harness.simulator.noise import IdentityNoise
    from pipelines.harness.simulator.texts import fake_name

    rng = random.Random(4)
    noise = IdentityNoise(random.Random(5), name_typo=1.0, phone_typo=0.0, plate_misread=0.0)
    for _ in range(300):
        name = fake_name(rng)
        persons, _, _ = noise.apply(
            [{"role": "party", "name": name, "_id": "x"}], [], plate_read=False
        )
        assert name_sound(persons[0]["name"]) == name_sound(name), (name, persons[0]["name"])


def test_bad_noise_rates_are_refused():
    from pipelines.harness.simulator.noise import IdentityNoise

    with pytest.raises(ValueError, match="plate_misread=1.5 must be a rate"):
        IdentityNoise(random.Random(0), name_typo=0, phone_typo=0, plate_misread=1.5)
