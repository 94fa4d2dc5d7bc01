"""Tests for features.normalization: validation and the normalized record.

The ``ctx``, ``village``, ``grid_event`` and ``bases`` fixtures are in ``conftest.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from features.contract_violation import ContractViolation
from features.normalization import normalize_event

from .contract_reference import NOW_MS


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


def test_hotline_bd09_and_video_wgs84(ctx, village, bases):
    envelopes = dict(bases)
    out = normalize_event(envelopes["hotline"], ctx, NOW_MS, expected_source="hotline")
    # The BD-09 inverse is the standard one-step formula: about 1e-5 degrees.
    assert out["reported_crs"] == "BD09"
    assert out["lon"] == pytest.approx(village.lon, abs=2e-5)
    assert out["lat"] == pytest.approx(village.lat, abs=2e-5)

    out = normalize_event(envelopes["video"], ctx, NOW_MS, expected_source="video")
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
        # A clock reset to 1900 or to epoch zero, with or without its report time.
        (
            lambda e: e.update(event_time="1900-01-01T08:00:00+08:00"),
            "past_timestamp",
            "event_time=1900-01-01T08:00:00\\+08:00 is more than 3650 days before",
        ),
        (
            lambda e: e.update(
                event_time="1970-01-01T00:00:00+00:00", report_time="1970-01-01T00:00:00+00:00"
            ),
            "past_timestamp",
            "event_time=1970-01-01T00:00:00\\+00:00 is more than 3650 days before",
        ),
        # 2100 is far ahead of the report, or the report far ahead of the clock.
        (
            lambda e: e.update(event_time="2100-01-01T00:00:00+08:00"),
            "future_timestamp",
            "is after report_time",
        ),
        (
            lambda e: e.update(
                event_time="2100-01-01T00:00:00+08:00", report_time="2100-01-01T00:00:00+08:00"
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


def test_the_past_bound_is_counted_from_the_processing_clock(ctx, grid_event):
    now = datetime.fromtimestamp(NOW_MS / 1000, UTC)
    oldest = now - timedelta(days=ctx.max_past_age_days)
    grid_event["report_time"] = now.isoformat()
    grid_event["event_time"] = (oldest + timedelta(seconds=1)).isoformat()
    assert normalize_event(grid_event, ctx, NOW_MS)["event_time_ms"] == NOW_MS - (
        ctx.max_past_age_days * 86_400_000 - 1000
    )
    grid_event["event_time"] = (oldest - timedelta(seconds=1)).isoformat()
    with pytest.raises(ContractViolation, match="is more than 3650 days before") as info:
        normalize_event(grid_event, ctx, NOW_MS)
    assert info.value.reason_code == "past_timestamp"


def _keyword_router(text):
    """Stands in for the trained router: 公交 → transport, anything else → construction."""
    if not text.strip():
        return {"label": None, "category": None, "flagged": True, "flag_reason": "empty text"}
    category = "hotline.transport" if "公交" in text else "hotline.urban_rural_construction"
    return {"label": category, "category": category, "flagged": False, "flag_reason": None}


def test_a_hotline_event_carries_its_routing_beside_the_dispatchers_category(ctx, bases):
    from dataclasses import replace

    routed = replace(ctx, hotline_router=_keyword_router)
    hotline = dict(bases)["hotline"]
    hotline["attributes"]["text"] = "小区物业乱收费"
    out = normalize_event(hotline, routed, NOW_MS, expected_source="hotline")
    assert out["category"] == "hotline.transport"
    assert out["attributes"]["routing"]["category"] == "hotline.urban_rural_construction"
    assert out["attributes"]["routing"]["filled_category"] is False
    # Other channels are not read by the hotline router.
    grid = normalize_event(dict(bases)["grid"], routed, NOW_MS, expected_source="grid")
    assert "routing" not in grid["attributes"]


def test_the_router_fills_a_missing_hotline_category(ctx, bases):
    from dataclasses import replace

    hotline = dict(bases)["hotline"]
    del hotline["category"]
    with pytest.raises(ContractViolation, match="'category' is missing"):
        normalize_event(hotline, ctx, NOW_MS, expected_source="hotline")
    routed = replace(ctx, hotline_router=_keyword_router)
    out = normalize_event(hotline, routed, NOW_MS, expected_source="hotline")
    assert (out["category"], out["category_label"]) == ("hotline.transport", "交通运输")
    assert out["attributes"]["routing"]["filled_category"] is True
    hotline["attributes"]["text"] = "\n\t\t\t"
    with pytest.raises(ContractViolation, match="no words to route it by") as caught:
        normalize_event(hotline, routed, NOW_MS, expected_source="hotline")
    assert caught.value.reason_code == "missing_field"


def test_a_failing_router_neither_loses_nor_blocks_the_event(ctx, bases):
    from dataclasses import replace

    def broken(text):
        raise RuntimeError("model file changed")

    routed = replace(ctx, hotline_router=broken)
    hotline = dict(bases)["hotline"]
    out = normalize_event(hotline, routed, NOW_MS, expected_source="hotline")
    assert out["category"] == "hotline.transport"
    assert out["attributes"]["routing"]["flagged"] is True
    assert "model file changed" in out["attributes"]["routing"]["flag_reason"]
    del hotline["category"]
    with pytest.raises(ContractViolation, match="the router failed"):
        normalize_event(hotline, routed, NOW_MS, expected_source="hotline")


def test_the_router_does_not_read_a_record_that_is_refused_anyway(ctx, bases):
    from dataclasses import replace

    calls = []

    def counting(text):
        calls.append(text)
        return _keyword_router(text)

    hotline = dict(bases)["hotline"]
    hotline["location"] = {**hotline["location"], "crs": "EPSG:4326"}
    with pytest.raises(ContractViolation, match="location.crs"):
        normalize_event(hotline, replace(ctx, hotline_router=counting), NOW_MS, "hotline")
    assert calls == []
