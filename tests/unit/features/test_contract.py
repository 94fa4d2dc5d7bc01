"""The event contract: validation, normalization and dead-letter routing."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import datetime

import pytest

from features.contract import (
    DEAD_LETTER,
    NORMALIZED,
    ContractViolation,
    NormalizationContext,
    normalize_event,
    parse_raw,
    route_raw_record,
)
from features.coordinates import wgs84_to_bd09, wgs84_to_gcj02
from features.geography import build_district

KEY = b"k" * 32
# 2026-11-27T10:00:00+08:00
NOW_MS = int(datetime.fromisoformat("2026-11-27T10:00:00+08:00").timestamp() * 1000)

TOWNS = [
    {"name": "鼓楼街道", "kind": "街道", "approx_lat": 40.376, "approx_lon": 116.845},
    {"name": "十里堡镇", "kind": "镇", "approx_lat": 40.330, "approx_lon": 116.840},
]


@pytest.fixture(scope="module")
def ctx():
    district = build_district(
        TOWNS,
        code="110118",
        name="密云区",
        seed=3,
        villages_per_town=2,
        cell_size_m=1000,
        origin_lon=116.55,
        origin_lat=40.15,
        max_village_distance_m=5000,
        n_cameras=2,
        n_lpr_sites=1,
        n_gas_stations=1,
    )
    return NormalizationContext(district=district, key=KEY, max_future_skew_s=3600)


@pytest.fixture()
def village(ctx):
    return ctx.district.villages[0]


@pytest.fixture()
def grid_event(village):
    lon, lat = wgs84_to_gcj02(village.lon, village.lat)
    return {
        "schema_version": 1,
        "event_id": "grid-1",
        "source": "grid",
        "category": "public_order.fight",
        "event_time": "2026-11-27T09:15:00+08:00",
        "report_time": "2026-11-27T09:17:00+08:00",
        "location": {"lon": lon, "lat": lat, "crs": "GCJ02"},
        "persons": [
            {
                "role": "party",
                "name": "张伟",
                "id_number": "11010519491231002X",
                "phone": "13800138000",
            }
        ],
        "vehicles": [{"role": "involved", "plate": "京A12345"}],
        "attributes": {
            "reporter_id": "G0001",
            "description": "两人在市场门口争吵, 联系电话13912345678",
        },
    }


def _token(kind: str, canonical: str) -> str:
    digest = hmac.new(KEY, f"{kind}:{canonical}".encode(), hashlib.sha256).hexdigest()
    return digest[:24]


def test_a_valid_grid_event_is_normalized(ctx, village, grid_event):
    out = normalize_event(grid_event, ctx, NOW_MS, expected_source="grid")
    # GCJ-02 in, WGS-84 out: the village centre comes back to within 1e-6 degrees.
    assert out["lon"] == pytest.approx(village.lon, abs=1e-6)
    assert out["lat"] == pytest.approx(village.lat, abs=1e-6)
    assert (out["crs"], out["reported_crs"]) == ("WGS84", "GCJ02")
    assert out["village_code"] == village.code
    assert out["town_code"] == village.town_code
    assert out["cell_id"] == ctx.district.grid.cell_of(village.lon, village.lat)
    assert out["event_time_ms"] == NOW_MS - 45 * 60 * 1000
    assert out["report_time_ms"] == NOW_MS - 43 * 60 * 1000
    assert out["event_date"] == "2026-11-27"
    assert out["category_label"] == "打架斗殴"
    assert out["source_label"] == "网格上报"


def test_personal_data_is_replaced_by_keyed_hashes(ctx, grid_event):
    out = normalize_event(grid_event, ctx, NOW_MS)
    person = out["persons"][0]
    assert person["id_hash"] == "pid_" + _token("id_number", "11010519491231002X")
    assert person["phone_hash"] == "tel_" + _token("phone", "13800138000")
    assert person["name_hash"] == "nam_" + _token("name", "张伟")
    assert out["vehicles"][0]["plate_hash"] == "veh_" + _token("plate", "京A12345")
    text = json.dumps(out, ensure_ascii=False)
    for clear in ("11010519491231002X", "13800138000", "张伟", "京A12345", "13912345678"):
        assert clear not in text
    assert out["attributes"]["description"].startswith("两人在市场门口争吵, 联系电话tel_")


def test_hotline_bd09_and_video_wgs84(ctx, village, grid_event):
    hotline = copy.deepcopy(grid_event)
    lon, lat = wgs84_to_bd09(village.lon, village.lat)
    hotline.update(
        source="hotline",
        category="hotline.transport",
        location={"lon": lon, "lat": lat, "crs": "BD09"},
        attributes={"ticket_no": "12345-1", "text": "公交站牌损坏"},
    )
    out = normalize_event(hotline, ctx, NOW_MS, expected_source="hotline")
    # The BD-09 inverse is the standard one-step formula: about 1e-5 degrees.
    assert out["lon"] == pytest.approx(village.lon, abs=2e-5)
    assert out["lat"] == pytest.approx(village.lat, abs=2e-5)

    video = copy.deepcopy(grid_event)
    video.update(
        source="video",
        category="video.plate_read",
        persons=[],
        location={"lon": village.lon, "lat": village.lat, "crs": "WGS84"},
        attributes={
            "device_id": "LPR-1-L1",
            "site_id": "LPR-1",
            "device_kind": "lpr",
            "lane": 1,
            "confidence": 0.97,
        },
    )
    out = normalize_event(video, ctx, NOW_MS, expected_source="video")
    assert (out["lon"], out["lat"]) == (round(village.lon, 7), round(village.lat, 7))
    assert out["attributes"]["lane"] == 1


@pytest.mark.parametrize(
    "mutate, code, message",
    [
        (lambda e: e.pop("event_id"), "missing_field", "required field 'event_id' is missing"),
        (lambda e: e["location"].pop("lat"), "missing_field", "'location.lat' is missing"),
        (
            lambda e: e.update(schema_version="1"),
            "wrong_type",
            "'schema_version' must be int, got str",
        ),
        (
            lambda e: e["location"].update(lon="116.8"),
            "wrong_type",
            "'location.lon' must be int/float",
        ),
        (
            lambda e: e.update(persons={"role": "x"}),
            "wrong_type",
            "'persons' must be a list, got dict",
        ),
        (lambda e: e.update(schema_version=2), "unsupported_version", "schema_version=2"),
        (
            lambda e: e.update(category="public_order.ufo"),
            "unknown_category",
            "category='public_order.ufo' is not in the taxonomy",
        ),
        (
            lambda e: e.update(category="hotline.transport"),
            "unknown_category",
            "is known to another channel",
        ),
        (lambda e: e.update(source="radio"), "bad_value", "source='radio' is not one of"),
        (
            lambda e: e["location"].update(crs="CGCS2000"),
            "bad_value",
            "location.crs='CGCS2000' is not one of: 'WGS84', 'GCJ02', 'BD09'|"
            "location.crs='CGCS2000' is not one of: WGS84, GCJ02, BD09",
        ),
        (
            lambda e: e["location"].update(lon=121.47, lat=31.23, crs="WGS84"),
            "outside_district",
            r"location \(121.47, 31.23\) WGS84 lies outside 密云区",
        ),
        (
            lambda e: e.update(event_time="2026-11-29T09:15:00+08:00"),
            "future_timestamp",
            "is after report_time",
        ),
        (
            lambda e: e.update(
                event_time="2026-11-28T09:15:00+08:00", report_time="2026-11-28T09:16:00+08:00"
            ),
            "future_timestamp",
            "ahead of the processing clock",
        ),
        (lambda e: e.update(event_time="2026-11-27 09:15"), "bad_value", "has no UTC offset"),
        (lambda e: e.update(event_time="yesterday"), "bad_value", "is not an ISO-8601 timestamp"),
        (
            lambda e: e["attributes"].pop("reporter_id"),
            "missing_field",
            "'attributes.reporter_id' is missing",
        ),
        (lambda e: e["persons"][0].update(phone="未知"), "bad_value", "'persons\\[0\\].phone'"),
    ],
)
def test_each_violation_has_its_reason(ctx, grid_event, mutate, code, message):
    mutate(grid_event)
    with pytest.raises(ContractViolation, match=message) as info:
        normalize_event(grid_event, ctx, NOW_MS, expected_source="grid")
    assert info.value.reason_code == code


def test_source_must_match_the_channel_topic(ctx, grid_event):
    with pytest.raises(ContractViolation, match="arrived on the 'hotline' channel") as info:
        normalize_event(grid_event, ctx, NOW_MS, expected_source="hotline")
    assert info.value.reason_code == "source_mismatch"


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"a": ', "is not valid JSON"),
        ("[1, 2]", "must be a JSON object, got list"),
        (b"\xff\xfe", "is not UTF-8"),
    ],
)
def test_parse_raw_refuses_non_objects(text, message):
    with pytest.raises(ContractViolation, match=message) as info:
        parse_raw(text)
    assert info.value.reason_code == "invalid_json"


def test_route_normalizes_or_dead_letters_without_raising(ctx, grid_event):
    destination, key, value = route_raw_record(
        json.dumps(grid_event),
        ctx,
        NOW_MS,
        channel="grid",
        topic="zz.raw.grid",
        partition=0,
        offset=5,
    )
    assert (destination, key) == (NORMALIZED, "grid-1")
    assert json.loads(value)["event_id"] == "grid-1"

    broken = json.dumps(grid_event)[:-40]
    destination, key, value = route_raw_record(
        broken, ctx, NOW_MS, channel="grid", topic="zz.raw.grid", partition=1, offset=9
    )
    letter = json.loads(value)
    assert (destination, key) == (DEAD_LETTER, "zz.raw.grid-1-9")
    assert letter["reason_code"] == "invalid_json"
    assert (letter["topic"], letter["partition"], letter["offset"]) == ("zz.raw.grid", 1, 9)
    # The dead letter keeps the record, with identifiers pseudonymized.
    assert "11010519491231002X" not in letter["raw_scrubbed"]
    assert "pid_" + _token("id_number", "11010519491231002X") in letter["raw_scrubbed"]

    destination, _, value = route_raw_record(None, ctx, NOW_MS, channel="grid")
    assert destination == DEAD_LETTER
    assert json.loads(value)["reason"] == "record has no value"


def test_reason_code_must_be_declared():
    with pytest.raises(ValueError, match="reason_code='oops' is not one of: invalid_json"):
        ContractViolation("oops", "x")


def test_misread_plates_share_match_keys_but_not_their_token(ctx, grid_event):
    def vehicle(plate):
        event = json.loads(json.dumps(grid_event))
        event["vehicles"] = [{"role": "involved", "plate": plate}]
        return normalize_event(event, ctx, NOW_MS)["vehicles"][0]

    true, confused, no_province, dropped = (
        vehicle(p) for p in ("京A12345", "京AI2345", "A12345", "京A1245")
    )
    assert true["plate_hash"] != confused["plate_hash"]
    assert true["plate_fold_hash"] == confused["plate_fold_hash"]
    assert true["plate_tail_hash"] == no_province["plate_tail_hash"]
    assert dropped["plate_fold_hash"] in true["plate_deletion_hashes"]
    assert len(true["plate_deletion_hashes"]) == 6
    unreadable = vehicle("京A1?")
    assert unreadable["plate_readable"] is False and "plate_fold_hash" not in unreadable
    text = json.dumps([true, confused, dropped], ensure_ascii=False)
    for clear in ("京A12345", "A12345", "京A1245", "12345"):
        assert clear not in text


def test_persons_carry_match_keys_for_typed_names_and_phones(ctx, grid_event):
    def person(name, phone):
        event = json.loads(json.dumps(grid_event))
        event["persons"] = [{"role": "party", "name": name, "phone": phone}]
        return normalize_event(event, ctx, NOW_MS)["persons"][0]

    a, b = person("张伟", "13800138000"), person("张玮", "13800139000")
    assert a["name_hash"] != b["name_hash"] and a["phone_hash"] != b["phone_hash"]
    assert a["name_sound_hash"] == b["name_sound_hash"]
    assert len(set(a["phone_deletion_hashes"]) & set(b["phone_deletion_hashes"])) == 1
    assert "zhang" not in json.dumps(a)
