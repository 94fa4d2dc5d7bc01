"""Tests for pipelines.io.key_rotation: ``zongzhi keys rotate`` and ``keys status`` on a small lake."""

import pandas as pd
import pyarrow.parquet as pq
import pytest

from features.contract import NormalizationContext, normalize_event
from features.district_builder import build_district
from features.gcj02 import wgs84_to_gcj02
from features.key_chain import key_chain
from features.lake_schema import events_table, partition_folder
from features.pseudonymize import match_key_token, pseudonymize
from pipelines.errors import UsageError
from pipelines.io.key_rotation import key_status, rotate_keys
from pipelines.io.key_store import key_store
from pipelines.io.watch_list_store import publish_watch_list
from pipelines.settings import Settings

from ...features.contract_reference import NOW_MS, TOWNS

ENV = "ZONGZHI_TEST_PSEUDONYM_KEY"


@pytest.fixture()
def settings(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    raw = {
        "pseudonymization": {
            "key_env": ENV,
            "key_dir": "secrets/pseudonym_keys",
            "rotation_table": "key_rotation",
        },
        "lake": {
            "path": "lake",
            "normalized_table": "events",
            "graph_table": "graph",
            "watch_list_table": "watch_list",
        },
    }
    return Settings(raw=raw, root=tmp_path, var=tmp_path)


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
    return NormalizationContext(district=district, key=b"unused", max_future_skew_s=3600)


@pytest.fixture()
def grid_event(ctx):
    village = ctx.district.villages[0]
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
        "attributes": {"reporter_id": "G0001", "description": "联系电话13912345678"},
    }


def _write_lake(settings, ctx, grid_event, name="part-0.parquet"):
    record = normalize_event(grid_event, ctx, NOW_MS)
    folder = settings.lake_table("normalized") / partition_folder(record["event_date"])
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(events_table([record], [0], [0]), folder / name)
    return record


def test_rotation_links_every_old_token_of_the_lake_and_the_graph(settings, ctx, grid_event):
    store = key_store(settings)
    v1 = store.chain(create=True)
    record = _write_lake(settings, NormalizationContext(ctx.district, v1, 3600), grid_event)
    person = record["persons"][0]
    # The latest graph and the watch list name nodes by tokens.
    night = settings.lake_table("graph") / "as_of=2026-11-27"
    night.mkdir(parents=True)
    pd.DataFrame({"node_id": [f"person:{person['id_hash']}", "incident:grid-1"]}).to_parquet(
        night / "entities.parquet"
    )
    stranger = pseudonymize("京B99999", "plate", v1)  # only in the watch list
    fold = match_key_token("plate_fold", "京B99999", v1)
    published = pd.DataFrame(
        {
            "vehicle_node": [f"vehicle:{stranger}"],
            "reason": ["key_person_vehicle"],
            "reason_label": ["重点人员关联车辆"],
            "detail": ["x"],
            "persons": [[f"person:{person['id_hash']}"]],
            "shared_incidents": [3],
            "via_vehicle": [None],
            "plate_hashes": [[stranger]],
            "plate_fold_hash": [fold],
            "as_of": ["2026-11-27"],
            "covered_until_ms": [NOW_MS],
        }
    )
    publish_watch_list(settings.lake_table("watch_list"), published)

    report = rotate_keys(settings)
    v2 = store.chain()
    assert (report["version"], report["key_created"], v2.version) == (2, True, 2)
    assert report["scanned"] == {"events_files": 1, "graph_files": 1, "watch_list_files": 1}
    table = pd.read_parquet(report["table"])
    link = dict(zip(table["old_token"], table["new_token"]))
    assert link[person["id_hash"]] == pseudonymize("11010519491231002X", "id_number", v2)
    assert link[record["vehicles"][0]["plate_hash"]] == pseudonymize("京A12345", "plate", v2)
    assert link[stranger] == pseudonymize("京B99999", "plate", v2)
    # The published watch list now names the vehicle by its current tokens.
    assert report["watch_list_relinked"] == 1
    watch = pd.read_parquet(settings.lake_table("watch_list") / "watch_list.parquet")
    row = watch.iloc[0]
    assert row["vehicle_node"] == f"vehicle:{pseudonymize('京B99999', 'plate', v2)}"
    assert list(row["plate_hashes"]) == [pseudonymize("京B99999", "plate", v2)]
    assert row["plate_fold_hash"] == match_key_token("plate_fold", "京B99999", v2)
    assert list(row["persons"]) == [f"person:{pseudonymize('11010519491231002X', 'id_number', v2)}"]
    assert (row["reason"], row["shared_incidents"]) == ("key_person_vehicle", 3)
    # The match keys and the tokens in free text are linked too.
    for token in person["phone_deletion_hashes"]:
        assert link[token].startswith("pk_v2_")
    description = record["attributes"]["description"]
    phone_in_text = pseudonymize("13912345678", "phone", v1)
    assert phone_in_text in description
    assert link[phone_in_text] == pseudonymize("13912345678", "phone", v2)
    assert set(table["from_version"]) == {1} and set(table["to_version"]) == {2}
    assert report["tokens_linked"] == len(table) == report["tokens_linked_by_version"]["v1"]

    # Idempotent for the current version: no key, the same table, plus what came since.
    _write_lake(
        settings, NormalizationContext(ctx.district, v1, 3600), grid_event, "part-1.parquet"
    )
    again = rotate_keys(settings, to_version=2)
    # The watch list holds current tokens now: its two old ones need no row any more.
    assert (again["key_created"], again["tokens_linked"]) == (False, report["tokens_linked"] - 2)
    assert again["watch_list_relinked"] == 0
    assert store.versions() == [1, 2]
    # The next rotation supersedes the table: v1 and v2 tokens both go to v3.
    _write_lake(
        settings, NormalizationContext(ctx.district, v2, 3600), grid_event, "part-2.parquet"
    )
    third = rotate_keys(settings)
    v3 = store.chain()
    assert third["version"] == 3 and set(third["tokens_linked_by_version"]) == {"v1", "v2"}
    table = pd.read_parquet(third["table"])
    link = dict(zip(table["old_token"], table["new_token"]))
    want = pseudonymize("11010519491231002X", "id_number", v3)
    assert link[person["id_hash"]] == link[pseudonymize("11010519491231002X", "id_number", v2)]
    assert link[person["id_hash"]] == want
    status = key_status(settings)
    assert status["version"] == 3
    assert status["key_file_modes"] == {"v1": "600", "v2": "600", "v3": "600"}
    assert status["rotation_tables"] == {"to_version=3": len(table)}  # older ones dropped


def test_rotation_refuses_bad_versions_and_newer_tokens(settings, ctx, grid_event, monkeypatch):
    store = key_store(settings)
    store.chain(create=True)
    with pytest.raises(
        UsageError,
        match=r"^--to-version 5 provided, but the keys are at version 1; allowed: 1 .* or 2 ",
    ):
        rotate_keys(settings, to_version=5)
    assert store.versions() == [1]
    # A lake token newer than the keys: a key file is missing.
    newer = key_chain([store.chain().key(1), bytes(range(32))])
    _write_lake(settings, NormalizationContext(ctx.district, newer, 3600), grid_event)
    with pytest.raises(
        UsageError, match=r"token of version 2 found, but the keys end at version 1"
    ):
        rotate_keys(settings, to_version=1)
    # Keys from the environment: the table for the current version only.
    monkeypatch.setenv(ENV, bytes(range(32)).hex())
    with pytest.raises(UsageError, match=rf"come from {ENV}, which zongzhi cannot write"):
        rotate_keys(settings)
