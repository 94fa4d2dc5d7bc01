"""The walking skeleton end to end on real Kafka, Flink, Spark and PostgreSQL.

Scenario 1 (history): a simulated day with malformed records and rings goes
through the normalization job, the lake loader and the nightly job.
Scenario 2 (detection): the same three hours are streamed twice, once
without and once with a planted surge, through the hotspot job, which scores
against the baselines that scenario 1's nightly job wrote.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timedelta

import psycopg2
import pyarrow.dataset as ds
import pytest

from features.identity import ID_NUMBER_PATTERN, PHONE_PATTERN, PLATE_PATTERN
from pipelines.simulation_run import simulate_to_kafka
from pipelines.steps import run_step
from pipelines.streams import fresh_streams

from .kafka_read import read_topic

pytestmark = pytest.mark.integration

HISTORY_HOURS = 24
DETECTION_HOURS = 3
# Fixed times (in the past, so no record is "future"): the streams, and so the
# outcome, do not depend on when the suite runs.
HISTORY_START = datetime.fromisoformat("2026-11-19T08:00:00+08:00")
DETECTION_START = HISTORY_START + timedelta(hours=HISTORY_HOURS)
SURGE_CATEGORY = "public_order.petty_theft"


@pytest.fixture(scope="module")
def history(settings):
    import shutil

    fresh_streams(settings)
    shutil.rmtree(settings.lake, ignore_errors=True)
    report = simulate_to_kafka(settings, hours=HISTORY_HOURS, start=HISTORY_START, seed=11,
                               malformed_fraction=0.05, rings=2)
    run_step(settings, "normalize")
    lake = run_step(settings, "lake")
    nightly = run_step(settings, "nightly")
    return {"produced": report, "lake": lake, "nightly": nightly}


def _dump(settings, topic):
    return [v.decode("utf-8") for v in read_topic(settings, topic)]


def test_a_every_record_is_normalized_or_dead_lettered(settings, history):
    produced = history["produced"]
    normalized = _dump(settings, settings.topic("normalized"))
    dead = [json.loads(v) for v in _dump(settings, settings.topic("dead_letter"))]
    raw_total = sum(len(read_topic(settings, t)) for t in settings.raw_topics.values())

    assert raw_total == produced["produced"]
    assert len(normalized) + len(dead) == raw_total
    # Six kinds of malformed records were planted, and each was dead-lettered
    # for exactly its own reason.
    planted = produced["malformed_by_kind"]
    assert set(planted) == {"invalid_json", "missing_field", "wrong_type", "outside_district",
                            "unknown_category", "future_timestamp"}
    assert Counter(d["reason_code"] for d in dead) == Counter(planted)
    assert all(d["reason"] and d["raw_scrubbed"] for d in dead)
    assert history["lake"]["records"] == len(normalized)


def _clear_identifiers(settings) -> set[str]:
    """Every ID number, phone and plate the simulator put on the raw topics."""
    found = set()
    for topic in settings.raw_topics.values():
        for value in read_topic(settings, topic):
            try:
                record = json.loads(value)
            except ValueError:
                continue
            for person in record.get("persons") or []:
                if isinstance(person, dict):
                    found.update(v for k, v in person.items()
                                 if k in ("id_number", "phone") and isinstance(v, str))
            for vehicle in record.get("vehicles") or []:
                if isinstance(vehicle, dict) and isinstance(vehicle.get("plate"), str):
                    found.add(vehicle["plate"])
    return found


def _assert_no_identifier(text: str, identifiers: set[str], where: str):
    for pattern in (ID_NUMBER_PATTERN, PHONE_PATTERN, PLATE_PATTERN):
        match = pattern.search(text)
        assert match is None, f"{where} holds an identifier in clear: {match.group(0)!r}"
    # The exact values too, in whatever shape: every ASCII run of the text is a
    # token; an ID number or phone would be one, a plate's tail after its
    # province character would be one.
    tokens = set(re.findall(r"[0-9A-Za-z]+", text))
    wanted = {i if i.isascii() else i[1:] for i in identifiers}
    leaked = sorted(tokens & wanted)
    assert not leaked, f"{where} holds {len(leaked)} raw identifiers, e.g. {leaked[0]!r}"


def test_b_no_identifier_in_clear_downstream(settings, history):
    identifiers = _clear_identifiers(settings)
    # The stream really carried identifiers, of all three kinds.
    assert sum(bool(ID_NUMBER_PATTERN.fullmatch(i)) for i in identifiers) > 10
    assert sum(bool(PHONE_PATTERN.fullmatch(i)) for i in identifiers) > 10
    assert sum(bool(PLATE_PATTERN.fullmatch(i)) for i in identifiers) > 10

    normalized = "\n".join(_dump(settings, settings.topic("normalized")))
    _assert_no_identifier(normalized, identifiers, "the normalized topic")
    dead = "\n".join(_dump(settings, settings.topic("dead_letter")))
    _assert_no_identifier(dead, identifiers, "the dead-letter topic")

    lake = ds.dataset(settings.lake_table("normalized"), format="parquet",
                      partitioning="hive").to_table()
    lake_text = "\n".join(str(v) for column in lake.columns for v in column.to_pylist())
    _assert_no_identifier(lake_text, identifiers, "the lake")
    assert "pid_" in lake_text and "veh_" in lake_text  # pseudonyms took their place

    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    (settings.pg["schema"],))
        tables = [r[0] for r in cur.fetchall()]
        dump = []
        for table in tables:
            cur.execute(f"SELECT t::text FROM {settings.pg['schema']}.{table} AS t")
            dump.extend(r[0] for r in cur.fetchall())
    conn.close()
    _assert_no_identifier("\n".join(dump), identifiers, "PostgreSQL")


def test_d_nightly_daily_counts_equal_counts_from_the_lake(settings, history):
    lake = ds.dataset(settings.lake_table("normalized"), format="parquet",
                      partitioning="hive").to_table(
        columns=["event_date", "town_code", "category", "source"]).to_pandas()
    expected = Counter(zip(lake["event_date"].astype(str), lake["town_code"], lake["category"],
                           lake["source"]))
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT day::text, town_code, category, source, events "
                    f"FROM {settings.pg['schema']}.daily_counts")
        actual = {tuple(r[:4]): r[4] for r in cur.fetchall()}
    conn.close()
    assert len(lake) == history["nightly"]["events"]
    assert actual == dict(expected)
    assert sum(actual.values()) == len(lake)


@pytest.fixture(scope="module")
def detection(settings, history):
    """Stream the same hours without and with a planted surge; collect alerts."""
    from pipelines.simulation_run import build_simulator

    probe = build_simulator(settings, start=DETECTION_START, seed=12)
    surge_cell = probe.busiest_cells(SURGE_CATEGORY, 1)[0]
    outcome = {"surge_cell": surge_cell}
    for name, surges in (("null", []), ("surge", [(surge_cell, SURGE_CATEGORY, 60, 60, 40.0)])):
        fresh_streams(settings)
        report = simulate_to_kafka(settings, hours=DETECTION_HOURS, start=DETECTION_START, seed=12,
                                   surges=surges)
        run_step(settings, "normalize")
        run_step(settings, "hotspots")
        outcome[name] = {
            "produced": report["produced"],
            "alerts": [json.loads(v) for v in _dump(settings, settings.topic("alerts"))],
        }
    outcome["stored"] = run_step(settings, "store-alerts")
    return outcome


def test_c_null_stream_raises_no_alert(detection):
    assert detection["null"]["produced"] > 500
    assert detection["null"]["alerts"] == []


def test_c_planted_surge_raises_alerts_for_its_cell(settings, detection):
    alerts = detection["surge"]["alerts"]
    assert alerts, "the planted surge raised no alert"
    # The streams differ only by the surge, so every alert is about it.
    assert {(a["cell_id"], a["category"]) for a in alerts} == {(detection["surge_cell"],
                                                                SURGE_CATEGORY)}
    threshold = settings.hotspot["p_value_threshold"]
    for alert in alerts:
        assert alert["p_value"] < threshold
        assert alert["observed"] > alert["expected"]
        assert alert["baseline_source"] == "nightly"
        assert alert["town_name"] and alert["village_name"]
    surge_start = DETECTION_START + timedelta(minutes=60)
    first_end = min(datetime.fromisoformat(a["window_end"]) for a in alerts)
    assert surge_start < first_end <= surge_start + timedelta(minutes=60)

    # The alert store wrote exactly these alerts into PostgreSQL.
    assert detection["stored"]["stored"] == len(alerts)
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT alert_id, observed FROM {settings.pg['schema']}.alerts "
                    f"WHERE alert_id = ANY(%s)", ([a["alert_id"] for a in alerts],))
        stored = dict(cur.fetchall())
    conn.close()
    assert stored == {a["alert_id"]: a["observed"] for a in alerts}
