import pandas as pd
import pytest

from features.sensitive_sites import SensitiveCheckpoint
from models.watch_list import WATCH_COLUMNS, WatchList, build_watch_list, key_persons, watch_alert


def _plates(rows):
    return pd.DataFrame(rows, columns=["plate_hash", "vehicle_id", "plate_fold_hash"])


def test_key_persons_are_repeat_suspects_or_high_risk():
    suspects = pd.Series({"person:a": 2, "person:b": 1, "person:c": 5})
    risk = pd.Series({"person:b": 0.49, "person:c": 0.9, "person:d": 0.5})
    out = key_persons(suspects, risk, min_suspect_incidents=2, min_person_risk=0.5)
    assert out.to_dict() == {
        "person:a": "嫌疑人涉事 2 次",
        "person:c": "嫌疑人涉事 5 次，风险 0.90",
        "person:d": "风险 0.50",
    }
    assert key_persons(suspects, None, min_suspect_incidents=9, min_person_risk=0.5).empty


def test_a_vehicle_is_watched_when_it_shares_enough_incidents_with_key_persons():
    persons = pd.Series({"person:a": "x", "person:b": "y"})
    ties = pd.DataFrame(
        {
            "src": ["person:a", "person:b", "person:a", "person:z", "person:a"],
            "dst": ["vehicle:v1", "vehicle:v1", "vehicle:v2", "vehicle:v3", "person:b"],
            "weight": [2, 1, 1, 7, 9],
        }
    )
    plates = _plates(
        [("v1", "v1", "f1"), ("v1m", "v1", "f1"), ("v2", "v2", "f2"), ("bad", None, None)]
    )
    out = build_watch_list(
        persons,
        ties,
        pd.DataFrame(columns=["vehicle_a", "vehicle_b", "companion"]),
        plates,
        min_shared_incidents=2,
        as_of="2026-11-27",
    )
    assert list(out.columns) == WATCH_COLUMNS
    row = out.set_index("vehicle_node").loc["vehicle:v1"]
    # v1 shares 2 incidents with a and 1 with b: only the tie of two counts;
    # v3's heavy tie is with someone who is not a key person.
    assert out["vehicle_node"].tolist() == ["vehicle:v1"]
    assert row["persons"] == ["person:a"]
    assert row["plate_hashes"] == ["v1", "v1m"] and row["plate_fold_hash"] == "f1"
    assert (row["reason_label"], row["as_of"]) == ("重点人员关联车辆", "2026-11-27")


def test_pairs_in_either_order_and_companions_of_watched_vehicles_only():
    persons = pd.Series({"person:a": "x"})
    ties = pd.DataFrame({"src": ["vehicle:v1"], "dst": ["person:a"], "weight": [3]})
    companions = pd.DataFrame(
        {
            "vehicle_a": ["vehicle:v0", "vehicle:v5", "vehicle:v1"],
            "vehicle_b": ["vehicle:v1", "vehicle:v6", "vehicle:v7"],
            "companion": [True, True, False],
        }
    )
    plates = _plates([(v, v, "f" + v) for v in ("v0", "v1", "v5", "v6", "v7")])
    out = build_watch_list(persons, ties, companions, plates, min_shared_incidents=2)
    assert out[["vehicle_node", "reason", "via_vehicle"]].values.tolist() == [
        ["vehicle:v0", "companion", "vehicle:v1"],
        ["vehicle:v1", "key_person_vehicle", None],
    ]
    assert (
        out.loc[0, "persons"] == ["person:a"]
        and out.loc[0, "detail"] == "与布控车辆 vehicle:v1 同行"
    )
    alone = build_watch_list(
        persons, ties, companions, plates, min_shared_incidents=2, include_companions=False
    )
    assert alone["vehicle_node"].tolist() == ["vehicle:v1"]


def test_no_key_person_watches_nothing_and_bad_thresholds_are_named():
    empty = build_watch_list(
        pd.Series(dtype=object),
        pd.DataFrame(columns=["src", "dst", "weight"]),
        pd.DataFrame(),
        _plates([]),
        min_shared_incidents=1,
    )
    assert empty.empty and list(empty.columns) == WATCH_COLUMNS
    with pytest.raises(ValueError, match="min_shared_incidents=0 must be >= 1"):
        build_watch_list(
            pd.Series(dtype=object),
            pd.DataFrame(),
            pd.DataFrame(),
            _plates([]),
            min_shared_incidents=0,
        )


def test_a_read_matches_by_any_resolved_plate_else_by_its_folded_plate():
    watch = WatchList(
        pd.DataFrame(
            {
                "vehicle_node": ["vehicle:v1", "vehicle:v2"],
                "plate_hashes": [["v1", "v1m"], ["v2"]],
                "plate_fold_hash": ["f1", None],
            }
        )
    )
    assert len(watch) == 2
    assert watch.match("v1m", "other")[0]["vehicle_node"] == "vehicle:v1"
    assert watch.match("new", "f1")[1] == "folded"
    assert watch.match("new", None) is None and WatchList().match("v1", "f1") is None


def _checkpoint(site_id="LPR-1"):
    return SensitiveCheckpoint(
        site_id,
        "高岭镇南向卡口2号",
        "RSV-1",
        "密云水库高岭镇岸段1号点位",
        "reservoir_shore",
        "水库岸线",
        383.0,
        "110118012",
        "高岭镇",
        "110118012001",
        "某村",
        "r40c30",
        117.0,
        40.5,
    )


def test_an_alert_is_stable_per_vehicle_checkpoint_and_slot_and_names_what_staff_read():
    entry = {
        "vehicle_node": "vehicle:v1",
        "reason": "key_person_vehicle",
        "reason_label": "重点人员关联车辆",
        "detail": "与 2 名重点人员共同涉事 5 次",
        "persons": ["person:a", "person:b"],
        "as_of": "2026-11-26",
    }
    slot_ms = 30 * 60_000
    first = watch_alert(
        entry,
        "exact",
        _checkpoint(),
        event_id="e1",
        event_time_ms=10 * slot_ms + 5,
        plate_hash="v1",
        emitted_at_ms=1,
        slot_minutes=30,
    )
    again = watch_alert(
        entry,
        "folded",
        _checkpoint(),
        event_id="e2",
        event_time_ms=11 * slot_ms - 1,
        plate_hash="v1m",
        emitted_at_ms=2,
        slot_minutes=30,
    )
    later = watch_alert(
        entry,
        "exact",
        _checkpoint(),
        event_id="e3",
        event_time_ms=11 * slot_ms,
        plate_hash="v1",
        emitted_at_ms=3,
        slot_minutes=30,
    )
    elsewhere = watch_alert(
        entry,
        "exact",
        _checkpoint("LPR-2"),
        event_id="e4",
        event_time_ms=10 * slot_ms,
        plate_hash="v1",
        emitted_at_ms=4,
        slot_minutes=30,
    )
    assert first["alert_id"] == again["alert_id"]
    assert len({first["alert_id"], later["alert_id"], elsewhere["alert_id"]}) == 3
    assert first["kind"] == "watch" and first["alert_id"].startswith("watch-")
    assert (first["site_id"], first["town_name"], first["persons"]) == (
        "LPR-1",
        "高岭镇",
        ["person:a", "person:b"],
    )
    assert first["summary"] == (
        "重点人员关联车辆（与 2 名重点人员共同涉事 5 次）经过高岭镇南向卡口2号，"
        "距水库岸线「密云水库高岭镇岸段1号点位」383 米"
    )
    assert again["match_label"] == "车牌易混字符一致（疑似误识）"
