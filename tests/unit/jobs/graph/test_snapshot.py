from datetime import date
from pathlib import Path

import pandas as pd

from jobs.graph.snapshot import add_to_snapshot, day_start_ms, snapshot_path
from pipelines.settings import Settings


def _settings(lake: Path) -> Settings:
    raw = {"lake": {"path": str(lake), "graph_table": "graph"}}
    return Settings(raw=raw, root=lake, var=lake)


def test_the_snapshot_of_a_night_is_its_as_of_folder_in_the_graph_table(tmp_path, monkeypatch):
    monkeypatch.delenv("ZONGZHI_LAKE", raising=False)
    settings = _settings(tmp_path / "lake")
    want = tmp_path / "lake" / "graph" / "as_of=2026-11-04"
    assert snapshot_path(settings, date(2026, 11, 4)) == want
    assert snapshot_path(settings, "2026-11-04") == want


def test_a_harness_names_a_lake_of_its_own(tmp_path, monkeypatch):
    monkeypatch.delenv("ZONGZHI_LAKE", raising=False)
    settings = _settings(tmp_path / "lake")
    bench = tmp_path / "bench_lake"
    assert snapshot_path(settings, "2026-11-04", lake=bench) == (
        bench / "graph" / "as_of=2026-11-04"
    )


def test_a_night_starts_at_midnight_in_beijing():
    # 2026-11-04 00:00 +08:00 is 2026-11-03 16:00 UTC: (20760 days * 86400 + 57600) s.
    assert day_start_ms(date(2026, 11, 4)) == 1_793_721_600_000


def test_tables_added_to_the_snapshot_skip_the_missing(tmp_path):
    frame = pd.DataFrame({"node_id": ["person:a"], "risk": [0.8]})
    add_to_snapshot(tmp_path, {"person_risk": frame, "place_risk": None})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["person_risk.parquet"]
    assert pd.read_parquet(tmp_path / "person_risk.parquet").values.tolist() == [["person:a", 0.8]]
