import dataclasses
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from features import baseline_schema as contract
from jobs.nightly import job as nightly
from pipelines.errors import SettingsError
from pipelines.settings import Settings, load_settings


def test_the_shipped_configuration_has_every_nightly_key():
    config = nightly.nightly_config(load_settings())
    assert config["trend_days"] == 14 and config["min_trend_days"] == 10
    assert config["max_prior_events"] > 0 and 0 < config["town_floor_fraction"] <= 1


def test_missing_nightly_keys_are_named():
    settings = Settings(raw={"nightly": {"trend_days": 14}}, root=Path("."), var=Path("."))
    with pytest.raises(
        SettingsError,
        match="the nightly section of the configuration lacks min_trend_days, trend_alpha",
    ):
        nightly.nightly_config(settings)


def test_report_keeps_the_v1_fields_first():
    names = [f.name for f in dataclasses.fields(nightly.NightlyReport)]
    assert names[:5] == ["events", "days", "daily_count_rows", "baseline_rows", "observed_hours"]
    report = nightly.NightlyReport(
        events=1, days=1, daily_count_rows=1, baseline_rows=1, observed_hours=1.0
    )
    assert report.trends_skipped is None and report.trend_cells == 0


def test_lake_file_replaces_a_folder_spark_wrote(tmp_path):
    target = tmp_path / contract.TOWN_BASELINES
    target.mkdir()
    (target / "part-00000.parquet").write_bytes(b"old")
    frame = pd.DataFrame(
        {"town_code": ["T"], "category": ["public_order.fight"], "rate_per_cell_hour": [0.5]}
    )
    nightly.write_lake_file(frame, contract.TOWN_BASELINES_SCHEMA, target)
    assert target.is_file()
    table = pq.read_table(target)
    assert table.schema.equals(contract.TOWN_BASELINES_SCHEMA)
    assert table.to_pylist() == [
        {"town_code": "T", "category": "public_order.fight", "rate_per_cell_hour": 0.5}
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [contract.TOWN_BASELINES]


def test_serving_floats_keep_six_significant_digits():
    frame = pd.DataFrame(
        {"cell_id": ["r1"], "lon": [116.8617905258805], "rate": [0.000286179052588], "events": [3]}
    )
    served = nightly.for_serving(frame)
    assert served.loc[0, "lon"] == 116.862 and served.loc[0, "rate"] == 0.000286179
    assert served.loc[0, "events"] == 3 and frame.loc[0, "lon"] == 116.8617905258805
