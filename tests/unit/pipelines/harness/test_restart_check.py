"""The pure checks of a disturbed run against an undisturbed one."""

from __future__ import annotations

from pipelines.harness.restart_check import (
    alert_difference,
    clusters_across,
    comparable,
    lifecycle_faults,
)


def _update(cluster: str, end: str, status: str, **extra) -> dict:
    return {"alert_id": cluster, "updated_window_end": end, "status": status, **extra}


def test_a_clean_lifecycle_has_no_fault_in_any_order_of_arrival():
    alerts = [
        _update("c1", "T10:15", "ended"),
        _update("c1", "T10:00", "new"),
        _update("c1", "T10:05", "escalating"),
        _update("c1", "T10:10", "ongoing"),
        _update("c2", "T10:10", "new"),
    ]
    assert lifecycle_faults(alerts) == []


def test_an_update_after_the_end_and_a_repeated_end_are_faults():
    alerts = [
        _update("c1", "T10:00", "new"),
        _update("c1", "T10:10", "ended"),
        _update("c1", "T10:10", "ended"),
        _update("c1", "T10:15", "ongoing"),
    ]
    assert lifecycle_faults(alerts) == [
        "c1 repeats its ended update of T10:10",
        "c1 has updates after it ended",
    ]


def test_watch_alerts_are_not_clusters():
    watch = {"kind": "watch", "alert_id": "w1", "status": "new", "event_time_ms": 1}
    assert lifecycle_faults([watch, dict(watch)]) == []
    assert clusters_across([watch], [watch]) == []


def test_only_the_processing_time_is_ignored_when_runs_are_compared():
    a = _update("c1", "T10:00", "new", emitted_at_ms=1, looks=1)
    assert comparable(a) == comparable(dict(a, emitted_at_ms=2, stored_at="now"))
    assert alert_difference([a], [dict(a, looks=2)]) == {
        "missing": [
            '{"alert_id": "c1", "looks": 1, "status": "new", "updated_window_end": "T10:00"}'
        ],
        "extra": [
            '{"alert_id": "c1", "looks": 2, "status": "new", "updated_window_end": "T10:00"}'
        ],
    }


def test_a_cluster_ended_before_the_kill_is_not_open_across_it():
    before = [_update("c1", "T10:00", "new"), _update("c1", "T10:10", "ended")]
    after = [_update("c1", "T10:15", "ongoing")]
    assert clusters_across(before, after) == []
    assert clusters_across(before[:1], after) == ["c1"]
