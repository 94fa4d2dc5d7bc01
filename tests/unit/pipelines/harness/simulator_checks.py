"""Shared by the simulator's tests: a small district and an independent reading of the envelope."""

import json
import re
from datetime import datetime, timedelta, timezone

from features.coordinates import bd09_to_wgs84, gcj02_to_wgs84
from features.geography import build_district
from features.taxonomy import CATEGORIES_BY_SOURCE

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


def small_district():
    """Four towns of Miyun, four villages each, 12 cameras and 6 LPR sites."""
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


def check_digit(first17):
    """GB 11643 MOD 11-2 check character, from the definition."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    remainder = sum(int(d) * w for d, w in zip(first17, weights)) % 11
    return "10X98765432"[remainder]


def violations(value, district):
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


def check_envelope(obj):
    """Shapes of the channel-specific parts of a valid envelope."""
    source = obj["source"]
    assert re.fullmatch(rf"{source}-\d{{8}}-\d{{6}}", obj["event_id"])
    for person in obj["persons"]:
        assert set(person) <= {"role", "name", "id_number", "phone"} and "role" in person
        assert all(isinstance(v, str) for v in person.values())
        if "id_number" in person:
            number = person["id_number"]
            assert len(number) == 18 and number[:17].isdigit()
            assert number[17] == check_digit(number[:17])
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


def wgs84_cell(district, obj):
    location = obj["location"]
    return district.grid.cell_of(*TO_WGS84[location["crs"]](location["lon"], location["lat"]))
