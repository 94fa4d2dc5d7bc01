import os

import pandas as pd
import pytest

from features.sensitive_sites import SensitiveCheckpoint
from models.watch_list import WATCH_COLUMNS
from pipelines.io.watch_list_store import WATCH_FILE, WatchListStore, publish_watch_list
from pipelines.streaming.watch_alerts import WatchAlerter, watch_reads_sql


def _watch(*vehicles):
    return pd.DataFrame(
        [
            {
                "vehicle_node": f"vehicle:{v}",
                "reason": "key_person_vehicle",
                "reason_label": "重点人员关联车辆",
                "detail": "d",
                "persons": ["person:a"],
                "shared_incidents": 3,
                "via_vehicle": None,
                "plate_hashes": [v],
                "plate_fold_hash": f"f{v}",
                "as_of": "2026-11-26",
            }
            for v in vehicles
        ],
        columns=WATCH_COLUMNS,
    )


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_store_rereads_a_replaced_list_after_its_check_interval(tmp_path):
    clock = _Clock()
    store = WatchListStore(tmp_path, check_seconds=5, clock=clock)
    assert len(store.current()) == 0  # nothing published yet
    publish_watch_list(tmp_path, _watch("v1"))
    assert len(store.current()) == 0  # not looked again within 5 s
    clock.now = 6
    assert store.current().match("v1", None)[1] == "exact"
    publish_watch_list(tmp_path, _watch("v2", "v3"))
    os.utime(tmp_path / WATCH_FILE, ns=(1, 1))  # a new stamp even within one clock tick
    clock.now = 12
    assert len(store.current()) == 2 and store.current().match("v1", "fv1") is None
    assert not (tmp_path / f".{WATCH_FILE}.tmp").exists()


def test_a_corrupt_list_watches_nothing_and_the_job_goes_on(tmp_path, caplog):
    (tmp_path / WATCH_FILE).write_bytes(b"not parquet")
    store = WatchListStore(tmp_path, check_seconds=0)
    assert len(store.current()) == 0
    assert "is unreadable" in caplog.text


def test_the_alerter_raises_only_for_watched_reads_at_sensitive_checkpoints(tmp_path):
    publish_watch_list(tmp_path, _watch("v1"))
    checkpoint = SensitiveCheckpoint(
        "LPR-1",
        "卡口",
        "SCH-1",
        "小学",
        "school",
        "学校",
        500.0,
        "t",
        "镇",
        "v",
        "村",
        "r1c1",
        117.0,
        40.5,
    )
    alerter = WatchAlerter(WatchListStore(tmp_path, 0), {"LPR-1": checkpoint}, 30)
    [alert] = alerter.alerts("e1", 1_000_000, "LPR-1", "other", "fv1", now_ms=5)
    assert (alert["vehicle_node"], alert["match"], alert["event_id"]) == (
        "vehicle:v1",
        "folded",
        "e1",
    )
    assert alerter.alerts("e2", 1_000_000, "LPR-9", "v1", "fv1", now_ms=5) == []
    assert alerter.alerts("e3", 1_000_000, "LPR-1", "v7", "fv7", now_ms=5) == []


def test_the_statement_filters_in_sql_and_refuses_odd_site_ids():
    sql = watch_reads_sql({"LPR-2": None, "LPR-1": None})
    assert "IN ('LPR-1', 'LPR-2')" in sql and "category = 'video.plate_read'" in sql
    with pytest.raises(ValueError, match='site id "LPR-1\'; DROP" must be'):
        watch_reads_sql(["LPR-1'; DROP"])


def test_reads_the_night_already_saw_raise_nothing(tmp_path):
    watch = _watch("v1").assign(covered_until_ms=2_000_000)
    publish_watch_list(tmp_path, watch)
    checkpoint = SensitiveCheckpoint(
        "LPR-1",
        "卡口",
        "SCH-1",
        "小学",
        "school",
        "学校",
        500.0,
        "t",
        "镇",
        "v",
        "村",
        "r1c1",
        117.0,
        40.5,
    )
    alerter = WatchAlerter(WatchListStore(tmp_path, 0), {"LPR-1": checkpoint}, 30)
    # A backfill replays what the list was built from: no alert for it.
    assert alerter.alerts("old", 2_000_000, "LPR-1", "v1", "fv1", now_ms=5) == []
    assert [
        a["event_id"] for a in alerter.alerts("new", 2_000_001, "LPR-1", "v1", "fv1", now_ms=5)
    ] == ["new"]
