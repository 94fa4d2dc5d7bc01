"""Key rotation end to end: one person before and after ``zongzhi keys rotate`` is one node.

Raw records of two persons go through the real normalization job on Kafka
and the lake loader; the keys are rotated; more records of the first
person (one with the ID number, one with only the name and phone) go the
same way with the new key; the graph job then sees tokens of both versions
in the lake and must resolve the first person, and the vehicle, to one node
each, named by the current version's tokens.

The test keeps its keys and its lake apart from the rest of the worktree's
state (a key folder of its own, ``ZONGZHI_LAKE`` in a temporary folder).
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta

import pandas as pd
import pyarrow.dataset as ds
import pytest
import yaml

from features.gcj02 import wgs84_to_gcj02
from features.key_chain import key_chain
from features.local_time import DISTRICT_TZ
from features.pseudonymize import TOKEN_PATTERN, parse_token, pseudonymize
from jobs.graph.snapshot import snapshot_path
from pipelines.harness.steps import run_step
from pipelines.harness.streams import fresh_streams
from pipelines.io.kafka_produce import RecordProducer
from pipelines.io.kafka_security import ADMIN
from pipelines.io.key_store import key_store
from pipelines.io.platform_state import load_district
from pipelines.settings import load_settings

pytestmark = pytest.mark.integration

ID_A, PHONE_A, NAME_A = "11010519491231002X", "13800138000", "张伟"
ID_B, PHONE_B, NAME_B = "440524188001010014", "13912345678", "李娜"
PLATE = "京A12345"
KEY_DIR = "secrets/test_key_rotation_keys"


@pytest.fixture(scope="module")
def rotation_settings(settings, tmp_path_factory):
    """The worktree's settings with a key folder and a lake of this test's own."""
    root = tmp_path_factory.mktemp("key_rotation")
    raw = dict(settings.raw)
    raw["pseudonymization"] = {
        **raw["pseudonymization"],
        "key_dir": KEY_DIR,
        "legacy_key_file": None,
    }
    config = root / "zongzhi.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    patch = pytest.MonkeyPatch()
    patch.setenv("ZONGZHI_CONFIG", str(config))
    patch.setenv("ZONGZHI_LAKE", str(root / "lake"))
    patch.delenv("ZONGZHI_PSEUDONYM_KEY", raising=False)
    ours = load_settings()
    shutil.rmtree(ours.var / KEY_DIR, ignore_errors=True)
    key_store(ours).chain(create=True)
    yield ours
    patch.undo()
    shutil.rmtree(ours.var / KEY_DIR, ignore_errors=True)


def _records(settings, tag: str, start: datetime) -> list[tuple[str, dict]]:
    village = load_district(settings).villages[0]
    lon, lat = wgs84_to_gcj02(village.lon, village.lat)

    def base(n, source, minutes):
        at = start + timedelta(minutes=minutes)
        category = "public_order.fight" if source == "grid" else "hotline.transport"
        return {
            "schema_version": 1,
            "event_id": f"{tag}-{n}",
            "source": source,
            "category": category,
            "event_time": at.isoformat(),
            "report_time": (at + timedelta(minutes=2)).isoformat(),
            "location": {"lon": lon, "lat": lat, "crs": "GCJ02"},
        }

    grid = {
        **base(1, "grid", 0),
        "persons": [
            {"role": "party", "name": NAME_A, "id_number": ID_A, "phone": PHONE_A},
            {"role": "party", "name": NAME_B, "id_number": ID_B, "phone": PHONE_B},
        ],
        "vehicles": [{"role": "involved", "plate": PLATE}],
        "attributes": {"reporter_id": "G0001", "description": f"{tag}: 两人争吵"},
    }
    hotline = {
        **base(2, "hotline", 30),
        "persons": [{"role": "caller", "name": NAME_A, "phone": PHONE_A}],
        "vehicles": [{"role": "involved", "plate": PLATE}],
        "attributes": {"ticket_no": f"{tag}-T1", "text": "来电反映纠纷"},
    }
    return [("grid", grid), ("hotline", hotline)]


def _produce_normalize_load(settings, tag: str, start: datetime) -> dict:
    with RecordProducer(settings, principal=ADMIN) as producer:
        for channel, record in _records(settings, tag, start):
            producer.send(
                settings.raw_topics[channel],
                json.dumps(record, ensure_ascii=False).encode(),
                key=record["event_id"].encode(),
            )
    run_step(settings, "normalize")
    return run_step(settings, "lake")


def _lake_tokens(settings) -> set[str]:
    table = ds.dataset(
        settings.lake_table("normalized"), format="parquet", partitioning="hive"
    ).to_table(columns=["event_id", "persons", "vehicles"])
    text = json.dumps(table.to_pylist(), ensure_ascii=False)
    return {m.group(0) for m in TOKEN_PATTERN.finditer(text)}


@pytest.fixture(scope="module")
def rotated(rotation_settings):
    settings = rotation_settings
    fresh_streams(settings)
    start = datetime.now(DISTRICT_TZ).replace(minute=0, second=0, microsecond=0)
    start -= timedelta(hours=3)
    before = _produce_normalize_load(settings, "before", start)
    tokens_before = _lake_tokens(settings)
    rotation = run_step(settings, "keys", "rotate")
    again = run_step(settings, "keys", "rotate", "--to-version", str(rotation["version"]))
    after = _produce_normalize_load(settings, "after", start + timedelta(hours=1))
    graph = run_step(settings, "graph", timeout=1800)
    return {
        "settings": settings,
        "lake": (before, after),
        "tokens_before": tokens_before,
        "rotation": rotation,
        "again": again,
        "graph": graph,
    }


def test_the_rotation_makes_version_2_and_links_every_old_token(rotated):
    rotation, again = rotated["rotation"], rotated["again"]
    assert rotated["lake"][0]["records"] == 2 and rotated["lake"][1]["records"] == 2
    # Before the rotation the lake held version-1 tokens only.
    assert {parse_token(t)[1] for t in rotated["tokens_before"]} == {1}
    assert (rotation["version"], rotation["key_created"]) == (2, True)
    assert rotation["tokens_linked"] == len(rotated["tokens_before"])
    assert rotation["tokens_linked_by_version"] == {"v1": len(rotated["tokens_before"])}
    # Again for the same version: no new key, the same table.
    assert (again["version"], again["key_created"]) == (2, False)
    assert again["tokens_linked"] == rotation["tokens_linked"]
    table = pd.read_parquet(rotation["table"])
    store = key_store(rotated["settings"])
    assert store.path(2).stat().st_mode & 0o777 == 0o600
    chain = store.chain()
    v1 = key_chain(chain.keys[:1])
    link = dict(zip(table["old_token"], table["new_token"]))
    for value, kind in (
        (ID_A, "id_number"),
        (PHONE_A, "phone"),
        (NAME_A, "name"),
        (PLATE, "plate"),
    ):
        assert link[pseudonymize(value, kind, v1)] == pseudonymize(value, kind, chain)


def test_the_lake_holds_both_versions_after_the_rotation(rotated):
    versions = {parse_token(t)[1] for t in _lake_tokens(rotated["settings"])}
    assert versions == {1, 2}


def test_one_person_and_one_vehicle_across_the_rotation(rotated):
    settings = rotated["settings"]
    chain = key_store(settings).chain()
    graph = rotated["graph"]
    assert graph["key_rotation_applied"] == 2
    snapshot = snapshot_path(settings, graph["as_of"])
    entities = pd.read_parquet(snapshot / "entities.parquet")
    persons = entities[entities["kind"] == "person"]
    # Four mentions of A (two with the ID, two without, before and after) and
    # one of B: two persons, each named by its current token.
    assert set(persons["entity_id"]) == {
        pseudonymize(ID_A, "id_number", chain),
        pseudonymize(ID_B, "id_number", chain),
    }
    vehicles = entities[entities["kind"] == "vehicle"]
    assert set(vehicles["entity_id"]) == {pseudonymize(PLATE, "plate", chain)}
    nodes = pd.read_parquet(snapshot / "nodes")
    node_text = " ".join(nodes.astype(str).to_numpy().ravel())
    old = sorted({m.group(0) for m in TOKEN_PATTERN.finditer(node_text)} - set(), key=str)
    old = [t for t in old if parse_token(t)[1] != 2]
    assert not old, f"nodes still named by older tokens: {old[:3]} in {node_text[:300]}"
    assert set(nodes.loc[nodes["kind"] == "person", "node_id"]) == {
        f"person:{pseudonymize(ID_A, 'id_number', chain)}",
        f"person:{pseudonymize(ID_B, 'id_number', chain)}",
    }
    assert set(nodes.loc[nodes["kind"] == "vehicle", "node_id"]) == {
        f"vehicle:{pseudonymize(PLATE, 'plate', chain)}"
    }


def test_yesterdays_node_ids_are_made_current(rotated):
    # The new links of a night compare its edges with the night before's,
    # whose node ids carry the tokens of before the rotation.
    from jobs.graph.key_rotation import node_ids_to_current
    from pipelines.io.spark import spark_session

    settings = rotated["settings"]
    chain = key_store(settings).chain()
    v1 = key_chain(chain.keys[:1])
    person_v1 = pseudonymize(ID_A, "id_number", v1)
    anon_v1 = pseudonymize(PHONE_A, "phone", v1)
    plate_v1 = pseudonymize(PLATE, "plate", v1)
    spark = spark_session(settings, "zongzhi-test-key-rotation")
    try:
        before = spark.createDataFrame(
            [
                (f"person:{person_v1}", "incident:before-1", "involved_in"),
                (f"person:anon:{anon_v1.replace('_v1_', '_')}", f"vehicle:{plate_v1}", "uses"),
            ],
            ["src", "dst", "type"],
        )
        rows = node_ids_to_current(spark, before, ("src", "dst"), settings).collect()
    finally:
        spark.stop()
    assert sorted((r["src"], r["dst"], r["type"]) for r in rows) == sorted(
        [
            (
                f"person:{pseudonymize(ID_A, 'id_number', chain)}",
                "incident:before-1",
                "involved_in",
            ),
            (
                f"person:anon:{pseudonymize(PHONE_A, 'phone', chain)}",
                f"vehicle:{pseudonymize(PLATE, 'plate', chain)}",
                "uses",
            ),
        ]
    )
