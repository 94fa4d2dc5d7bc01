"""Tests for pipelines.service.live_items: one flat Chinese item from a topic message or a stored row."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.service.live_items import live_item
from tests.unit.pipelines.service.conftest import alert


def test_a_hotspot_item_carries_the_statistics_a_duty_officer_reads():
    item = live_item(alert(), center_id="110118001001", center_name="阳光社区综治工作站")
    assert {
        k: item[k] for k in ("observed", "expected", "recurrence_interval_days", "severity")
    } == {
        "observed": 9,
        "expected": 1.5,
        "recurrence_interval_days": 55.0,
        "severity": "橙色",
    }
    assert item["when"] == "2026-12-06T08:05:00+08:00"
    assert item["cell_stats"] == [{"cell_id": "r010c020", "observed": 9, "expected": 1.5}]
    assert item["case_id"] is None and not item["unlocated"]


def test_a_stored_row_gives_iso_times_and_its_standing():
    row = alert(
        updated_window_end=datetime(2026, 12, 6, 0, 5, tzinfo=UTC),
        acknowledged_at=datetime(2026, 12, 6, 0, 7, tzinfo=UTC),
        acknowledged_by="duty-110118001",
        case_id="AJ-0123456789ab",
        case_state="dispatched",
        department="公安",
    )
    item = live_item(row, center_id="110118001", center_name="鼓楼街道综治中心")
    assert (item["when"], item["acknowledged_at"]) == (
        "2026-12-06T00:05:00+00:00",
        "2026-12-06T00:07:00+00:00",
    )
    assert (item["case_id"], item["department"]) == ("AJ-0123456789ab", "公安")


def test_a_watch_alert_from_the_topic_reads_its_checkpoint_and_local_time():
    watch = {
        "alert_id": "zz-w1",
        "kind": "watch",
        "town_code": "110118002",
        "town_name": "果园街道",
        "village_code": "",
        "site_name": "一号卡口",
        "summary": "布控车辆经过",
        "event_time_ms": 1_765_000_000_000,
    }
    item = live_item(watch, center_id="110118002", center_name="果园街道综治中心")
    assert (item["title"], item["severity"], item["place"]) == (
        "布控车辆经过一号卡口",
        "关注",
        "果园街道",
    )
    assert item["when"] == "2025-12-06T13:46:40+08:00"


def test_an_alert_with_an_open_case_reads_supervised_and_a_closed_one_its_status():
    open_case = live_item(
        alert(case_id="AJ-0123456789ab", case_state="accepted"), center_id="110118", center_name="x"
    )
    closed = live_item(
        alert(case_id="AJ-0123456789ab", case_state="closed", cooled=True),
        center_id="110118",
        center_name="x",
    )
    assert open_case["status_label"] == "督办中"
    assert (closed["status_label"], closed["cooled"]) == ("新发", True)


def test_a_hotspot_item_says_the_time_scale_and_span_that_raised_it():
    item = live_item(
        alert(scale="hours", duration_minutes=360), center_id="110118", center_name="密云区综治中心"
    )
    assert (item["scale"], item["scale_label"], item["duration_label"]) == (
        "hours",
        "小时级",
        "6小时",
    )
    # Alerts from before the time scales were the base window's.
    older = live_item(alert(duration_minutes=30), center_id="110118", center_name="密云区综治中心")
    assert (older["scale_label"], older["duration_label"]) == ("分钟级", "30分钟")
