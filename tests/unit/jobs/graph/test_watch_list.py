from datetime import date
from pathlib import Path

import pandas as pd

from jobs.graph.watch_list import publish_if_latest, watched_vehicle_counts
from pipelines.settings import Settings


def _watch(as_of: str, vehicle: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "vehicle_node": [vehicle],
            "reason": ["key_person_vehicle"],
            "reason_label": ["重点人员关联车辆"],
            "detail": ["与重点人员共同涉事 2 次"],
            "persons": [["person:a"]],
            "shared_incidents": [2],
            "via_vehicle": [None],
            "plate_hashes": [["p1"]],
            "plate_fold_hash": ["f1"],
            "as_of": [as_of],
            "covered_until_ms": [0],
        }
    )


def _published(lake: Path) -> list:
    return pd.read_parquet(lake / "watch_list" / "proposals.parquet")["vehicle_node"].tolist()


def test_an_earlier_night_does_not_replace_a_later_nights_list(tmp_path, monkeypatch):
    monkeypatch.delenv("ZONGZHI_LAKE", raising=False)
    raw = {"lake": {"path": str(tmp_path), "watch_list_table": "watch_list"}}
    settings = Settings(raw=raw, root=tmp_path, var=tmp_path)
    assert publish_if_latest(settings, _watch("2026-11-04", "vehicle:a"), date(2026, 11, 4))
    assert _published(tmp_path) == ["vehicle:a"]
    # A re-run for the night before keeps its list to its snapshot.
    assert not publish_if_latest(settings, _watch("2026-11-03", "vehicle:b"), date(2026, 11, 3))
    assert _published(tmp_path) == ["vehicle:a"]
    # The same night again, or a later one, replaces it.
    assert publish_if_latest(settings, _watch("2026-11-04", "vehicle:c"), date(2026, 11, 4))
    assert _published(tmp_path) == ["vehicle:c"]


def test_watched_vehicles_are_counted_per_reason_in_reason_order():
    watch = pd.DataFrame({"reason": ["key_person_vehicle", "companion", "key_person_vehicle"]})
    assert watched_vehicle_counts(watch) == {"companion": 1, "key_person_vehicle": 2}
