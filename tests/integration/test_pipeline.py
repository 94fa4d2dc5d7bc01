"""The walking skeleton end to end on real Kafka, Flink, Spark and PostgreSQL.

Scenario 1 (history): a simulated day with malformed records and rings goes
through the normalization job, the lake loader and the nightly job.
Scenario 2 (detection): the same three hours are streamed twice, once
without and once with a planted surge, through the hotspot job, which scores
against the baselines that scenario 1's nightly job wrote.

Scenario 1's raw stream also carries a few dozen records with personal data
in every shape the scrubber handles (tests/integration/pii_scan.py); no sink
downstream of normalization may hold any of it in clear, nor any identifier
the simulator sent.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections import Counter
from datetime import datetime, timedelta

import psycopg2
import pyarrow.dataset as ds
import pytest

from features.identity import ID_NUMBER_PATTERN, PHONE_PATTERN, PLATE_PATTERN
from pipelines.harness.simulation_run import simulate_to_kafka
from pipelines.harness.simulator.produce import produce_records
from pipelines.harness.steps import run_step_with_output
from pipelines.harness.streams import fresh_streams
from pipelines.io.platform_router import router_folder
from pipelines.io.platform_state import load_district

from .kafka_read import read_topic
from .pii_scan import (
    PLANTED,
    PlantedRecord,
    ScannedText,
    find_in_clear,
    flink_log_text,
    lake_texts,
    log_texts,
    pattern_matches_in_strings,
    planted_records,
    postgres_text,
    topic_text,
)

pytestmark = pytest.mark.integration

# Two days: with one, each hour of the day is seen once and the baselines'
# own noise made a false alarm in three hours more likely than the budget.
HISTORY_HOURS = 48
DETECTION_HOURS = 3
# Fixed times (in the past, so no record is "future"): the streams, and so the
# outcome, do not depend on when the suite runs.
HISTORY_START = datetime.fromisoformat("2026-11-19T08:00:00+08:00")
DETECTION_START = HISTORY_START + timedelta(hours=HISTORY_HOURS)
SURGE_CATEGORY = "public_order.petty_theft"
# The jobs that run on Flink; the next job's JVM rewrites PyFlink's log.
FLINK_STEPS = ("normalize", "hotspots")

# What each step printed, and PyFlink's log after each Flink job, for the
# scan of the services' logs at the end of the module.
STEP_LOGS: dict[str, str] = {}


def run_step(settings, *args: str) -> dict | None:
    """Run a ``zongzhi`` step, keeping its output and its Flink log for the log scan."""
    report, output = run_step_with_output(settings, *args)
    n = len(STEP_LOGS)
    STEP_LOGS[f"output of step {n} `zongzhi {' '.join(args)}`"] = output
    if args[0] in FLINK_STEPS:
        STEP_LOGS[f"PyFlink log of step {n} `zongzhi {' '.join(args)}`"] = flink_log_text()
    return report


@pytest.fixture(scope="module")
def history(settings):

    started = time.time()
    fresh_streams(settings)
    shutil.rmtree(settings.lake, ignore_errors=True)
    report = simulate_to_kafka(
        settings,
        hours=HISTORY_HOURS,
        start=HISTORY_START,
        seed=11,
        malformed_fraction=0.05,
        rings=2,
    )
    # Personal data in every shape, one record an hour, all in one village.
    villages = load_district(settings).villages
    village = villages[len(villages) // 2]
    planted = planted_records(HISTORY_START, village.lon, village.lat)
    planted += _uncategorized_hotline(village)
    produce_records(settings, planted)
    # The router trained on the real reference messages reads every hotline
    # message; it is removed once they are normalized, so that no other
    # stream depends on it.
    router = run_step(settings, "train", "classifier", "--json")
    try:
        run_step(settings, "normalize")
    finally:
        shutil.rmtree(router_folder(settings), ignore_errors=True)
    lake = run_step(settings, "lake")
    nightly = run_step(settings, "nightly")
    return {
        "router": router,
        "produced": report,
        "planted": planted,
        "lake": lake,
        "nightly": nightly,
        "started": started,
        # Read now: the detection scenario re-creates the raw topics.
        "identifiers": _clear_identifiers(settings),
    }


# Citizens' messages that reach the hotline topic before a dispatcher chose a
# category: the router fills it; without any words, the record is refused.
UNCATEGORIZED = {
    "UNCATEGORIZED-1": "小区违章搭建严重，楼顶加盖房屋，请住建部门尽快拆除",
    "UNCATEGORIZED-2": "\n\t\t\t",
}


def _uncategorized_hotline(village) -> list[PlantedRecord]:
    from pipelines.harness.simulator.records import reported_location

    event = HISTORY_START + timedelta(hours=5)
    records = []
    for ticket, text in UNCATEGORIZED.items():
        envelope = {
            "schema_version": 1,
            "event_id": ticket,
            "source": "hotline",
            "event_time": event.isoformat(),
            "report_time": event.isoformat(),
            "location": reported_location("hotline", village.lon, village.lat),
            "attributes": {"ticket_no": ticket, "text": text},
        }
        records.append(
            PlantedRecord(
                "hotline",
                ticket,
                json.dumps(envelope, ensure_ascii=False).encode("utf-8"),
                int(event.timestamp() * 1000),
                None if text.strip() else "missing_field",
            )
        )
    return records


def _dump(settings, topic):
    return [v.decode("utf-8") for v in read_topic(settings, topic)]


def test_a_every_record_is_normalized_or_dead_lettered(settings, history):
    produced = history["produced"]
    normalized = _dump(settings, settings.topic("normalized"))
    dead = [json.loads(v) for v in _dump(settings, settings.topic("dead_letter"))]
    raw_total = sum(len(read_topic(settings, t)) for t in settings.raw_topics.values())

    assert raw_total == produced["produced"] + len(history["planted"])
    assert len(normalized) + len(dead) == raw_total
    # Six kinds of malformed records were simulated, and each was dead-lettered
    # for exactly its own reason; so was each malformed record with personal data.
    planted = produced["malformed_by_kind"]
    assert set(planted) == {
        "invalid_json",
        "missing_field",
        "wrong_type",
        "outside_district",
        "unknown_category",
        "future_timestamp",
    }
    planted_reasons = Counter(r.expected_reason for r in history["planted"] if r.expected_reason)
    assert planted_reasons == {
        "missing_field": 1,
        "invalid_json": 1,
        "invalid_encoding": 2,
        "wrong_type": 1,
        "unknown_category": 1,
        "source_mismatch": 1,
    }
    assert Counter(d["reason_code"] for d in dead) == Counter(planted) + planted_reasons
    assert all(d["reason"] and d["raw_scrubbed"] for d in dead)
    assert history["lake"]["records"] == len(normalized)


def test_a_every_hotline_event_carries_the_routers_reading(settings, history):
    version = history["router"]["version"]
    hotline = [
        e
        for e in map(json.loads, _dump(settings, settings.topic("normalized")))
        if e["source"] == "hotline"
    ]
    assert len(hotline) > 100
    routings = [e["attributes"]["routing"] for e in hotline]
    assert {r["model_version"] for r in routings} == {version}
    assert all(0 < r["probability"] <= 1 and r["department"] for r in routings)
    filled = [e for e in hotline if e["attributes"]["routing"]["filled_category"]]
    assert [e["attributes"]["ticket_no"] for e in filled] == ["UNCATEGORIZED-1"]
    routing = filled[0]["attributes"]["routing"]
    assert filled[0]["category"] == routing["category"] == "hotline.urban_rural_construction"
    assert (routing["label"], routing["department"], routing["flagged"]) == (
        "城乡建设",
        "城管",
        False,
    )
    # The dispatcher's category stays on every other event; the router's sits beside it.
    assert all(e["category"].startswith("hotline.") for e in hotline)
    dead = [json.loads(v) for v in _dump(settings, settings.topic("dead_letter"))]
    assert any("no words to route it by" in d["reason"] for d in dead)


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
                    found.update(
                        v
                        for k, v in person.items()
                        if k in ("id_number", "phone") and isinstance(v, str)
                    )
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


def _assert_nothing_in_clear(sinks: dict[str, str], clear_values) -> None:
    """No planted identifier, in any form, and no clear value in any sink's text."""
    leaks = {}
    for where, text in sinks.items():
        found = find_in_clear(text, PLANTED, clear_values)
        if found:
            leaks[where] = found
    assert not leaks, "identifiers in clear:\n" + "\n".join(
        f"{where}: {len(found)}, e.g. {found[:3]}" for where, found in sorted(leaks.items())
    )


def test_b_no_identifier_in_clear_downstream(settings, history):
    identifiers = history["identifiers"]
    # The stream really carried identifiers, of all three kinds.
    assert sum(bool(ID_NUMBER_PATTERN.fullmatch(i)) for i in identifiers) > 10
    assert sum(bool(PHONE_PATTERN.fullmatch(i)) for i in identifiers) > 10
    assert sum(bool(PLATE_PATTERN.fullmatch(i)) for i in identifiers) > 10

    normalized = "\n".join(_dump(settings, settings.topic("normalized")))
    _assert_no_identifier(normalized, identifiers, "the normalized topic")
    dead = "\n".join(_dump(settings, settings.topic("dead_letter")))
    _assert_no_identifier(dead, identifiers, "the dead-letter topic")

    lake = ds.dataset(
        settings.lake_table("normalized"), format="parquet", partitioning="hive"
    ).to_table()
    lake_text = "\n".join(str(v) for column in lake.columns for v in column.to_pylist())
    _assert_no_identifier(lake_text, identifiers, "the lake")
    assert "pid_" in lake_text and "veh_" in lake_text  # pseudonyms took their place

    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        # Identifiers would be text; numbers (rates, scores) print digit runs
        # that can look like a phone number, so only text-like columns are read.
        cur.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND data_type IN "
            "('text', 'character varying', 'json', 'jsonb', 'ARRAY')",
            (settings.pg["schema"],),
        )
        columns = cur.fetchall()
        dump = []
        for table, column in columns:
            cur.execute(
                f"SELECT {column}::text FROM {settings.pg['schema']}.{table} "
                f"WHERE {column} IS NOT NULL"
            )
            dump.extend(r[0] for r in cur.fetchall())
    conn.close()
    assert len(columns) > 10
    _assert_no_identifier("\n".join(dump), identifiers, "PostgreSQL")


def test_b_no_planted_identifier_in_clear_in_any_form(settings, history):
    raw = ScannedText.of("\n".join(topic_text(settings, t) for t in settings.raw_topics.values()))
    # The raw topics carried every planted identifier (they may: clear data
    # lives there for kafka.raw_retention_hours), so the scan below can find each.
    assert [p.canonical for p in PLANTED if not find_in_clear(raw, [p])] == []
    assert len(PLANTED) > 50

    sinks = {
        f"topic {name}": topic_text(settings, settings.topic(name))
        for name in ("normalized", "dead_letter")
    }
    lake = lake_texts(settings)
    # The events table and the nightly baselines at least.
    assert {path.split("/")[0] for path in lake} >= {
        settings.lake_table("normalized").name,
        settings.lake_table("baselines").name,
    }
    sinks.update({f"lake {path}": text for path, text in lake.items()})
    tables = postgres_text(settings)
    assert len(tables) > 5
    sinks.update({f"PostgreSQL {table}": text for table, text in tables.items()})
    _assert_nothing_in_clear(sinks, history["identifiers"])


def test_d_nightly_daily_counts_equal_counts_from_the_lake(settings, history):
    lake = (
        ds.dataset(settings.lake_table("normalized"), format="parquet", partitioning="hive")
        .to_table(columns=["event_date", "town_code", "category", "source"])
        .to_pandas()
    )
    expected = Counter(
        zip(lake["event_date"].astype(str), lake["town_code"], lake["category"], lake["source"])
    )
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT day::text, town_code, category, source, events "
            f"FROM {settings.pg['schema']}.daily_counts"
        )
        actual = {tuple(r[:4]): r[4] for r in cur.fetchall()}
    conn.close()
    assert len(lake) == history["nightly"]["events"]
    assert actual == dict(expected)
    assert sum(actual.values()) == len(lake)


# Two per partition: four old events in one window stay below min_observed (5).
LATE_EVENTS = 2


def _append_late_events(settings, cell: str) -> None:
    """Normalized events two days older than the stream, sent after it to each partition.

    Bounded runs allow a day of disorder (``backfill_watermark_delay_seconds``).
    The job's watermark is the least of its partitions', so the events of the
    partition read last are certainly behind it; the others may be too.
    """
    from confluent_kafka import Producer

    from pipelines.io.kafka_security import ADMIN, client_config

    producer = Producer(client_config(settings, ADMIN))
    late_ms = int((DETECTION_START - timedelta(days=2)).timestamp() * 1000)
    for partition in (0, 1):
        for i in range(LATE_EVENTS):
            event = {
                "event_id": f"late-p{partition}-{i}",
                "category": SURGE_CATEGORY,
                "cell_id": cell,
                "event_time_ms": late_ms + i,
            }
            producer.produce(
                settings.topic("normalized"), json.dumps(event).encode(), partition=partition
            )
    producer.flush(10)


@pytest.fixture(scope="module")
def detection(settings, history):
    """Stream the same hours without and with a planted surge; collect alerts."""
    from pipelines.harness.simulation_run import build_simulator

    probe = build_simulator(settings, start=DETECTION_START, seed=12)
    surge_cell = probe.busiest_cells(SURGE_CATEGORY, 1)[0]
    outcome = {"surge_cell": surge_cell}
    for name, surges in (("null", []), ("surge", [(surge_cell, SURGE_CATEGORY, 60, 60, 40.0)])):
        fresh_streams(settings)
        report = simulate_to_kafka(
            settings, hours=DETECTION_HOURS, start=DETECTION_START, seed=12, surges=surges
        )
        run_step(settings, "normalize")
        if name == "surge":
            _append_late_events(settings, surge_cell)
        run_step(settings, "hotspots")
        outcome[name] = {
            "produced": report["produced"],
            "alerts": [json.loads(v) for v in _dump(settings, settings.topic("alerts"))],
            "late": [json.loads(v) for v in _dump(settings, settings.topic("late"))],
        }
    # Alert ids are deterministic, so an earlier run's updates would mix in.
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            f"TRUNCATE {settings.pg['schema']}.alerts, {settings.pg['schema']}.alert_updates"
        )
    conn.close()
    outcome["stored"] = run_step(settings, "store-alerts")
    return outcome


def test_c_null_stream_raises_no_alert(detection):
    assert detection["null"]["produced"] > 500
    assert detection["null"]["alerts"] == []
    # Nothing is late within the day of disorder a bounded run allows.
    assert detection["null"]["late"] == []


def test_c_late_events_are_counted_not_lost(detection):
    late = {e["event_id"] for e in detection["surge"]["late"]}
    injected = {f"late-p{p}-{i}" for p in (0, 1) for i in range(LATE_EVENTS)}
    assert late <= injected
    assert any({f"late-p{p}-{i}" for i in range(LATE_EVENTS)} <= late for p in (0, 1))


def test_c_planted_surge_is_one_alert_through_its_lifecycle(settings, detection):
    from models.time_scales import BASE_SCALE, time_scales

    looks_a_day = {s.name: 1440 / s.slide_min for s in time_scales(settings.hotspot)}
    every = detection["surge"]["alerts"]
    alerts = [a for a in every if a["scale"] == BASE_SCALE]
    assert alerts, "the planted surge raised no alert"
    # The streams differ only by the surge, so every update is about it, and
    # sliding windows update one cluster instead of raising new alerts. A
    # longer scale may see the same surge in its own looks: a cluster of its own.
    assert {a["category"] for a in every} == {SURGE_CATEGORY}
    assert len({a["alert_id"] for a in alerts}) == 1
    for scale in {a["scale"] for a in every}:
        assert len({a["alert_id"] for a in every if a["scale"] == scale}) == 1, scale
    statuses = [a["status"] for a in alerts]
    assert statuses[0] == "new" and statuses[-1] == "ended"
    assert set(statuses[1:-1]) <= {"ongoing", "escalating"}
    for alert in every:
        assert detection["surge_cell"] in alert["cells"]
        assert alert["p_value"] <= alert["threshold"]
        assert alert["observed"] > alert["expected"]
        # p <= threshold means a recurrence interval of at least 1 / (threshold x looks a day).
        assert (
            alert["recurrence_interval_days"]
            >= 1 / (alert["threshold"] * looks_a_day[alert["scale"]]) - 1e-3
        )
        assert not alert["baseline_source"].startswith("fallback")
        assert alert["town_name"] and alert["village_name"]
        assert alert["cell_stats"][0]["cell_id"] == alert["cell_id"]
    surge_start = DETECTION_START + timedelta(minutes=60)
    first_end = datetime.fromisoformat(alerts[0]["window_end"])
    assert surge_start < first_end <= surge_start + timedelta(minutes=30)

    # PostgreSQL holds one row per cluster, at its last status, and every update.
    assert detection["stored"] == {
        "stored": len({a["alert_id"] for a in every}),
        "updates": len(every),
        "watch_alerts": 0,
        "watch_reads": 0,
        "unreadable": 0,
    }
    schema = settings.pg["schema"]
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT status, status_label, looks, cells, scale, budget_share FROM {schema}.alerts "
            "WHERE alert_id = %s",
            (alerts[0]["alert_id"],),
        )
        row = cur.fetchone()
        cur.execute(
            f"SELECT count(*) FROM {schema}.alert_updates WHERE alert_id = %s",
            (alerts[0]["alert_id"],),
        )
        updates = cur.fetchone()[0]
    conn.close()
    assert row == (
        "ended",
        "结束",
        len(alerts) - 1,
        alerts[-1]["cells"],
        alerts[-1]["scale"],
        alerts[-1]["budget_share"],
    )
    assert updates == len(alerts)


def test_e_no_identifier_in_clear_in_alerts_late_tables_and_logs(settings, history, detection):
    # The simulator's identifiers of both scenarios (the raw topics hold the surge run's).
    clear_values = history["identifiers"] | _clear_identifiers(settings)
    sinks = {
        f"topic {name}": topic_text(settings, settings.topic(name)) for name in ("alerts", "late")
    }
    assert detection["surge"]["alerts"] and sinks["topic alerts"]
    for name in ("alerts", "late"):
        values = "\n".join(_dump(settings, settings.topic(name)))
        assert pattern_matches_in_strings(values) == [], name
    # The serving tables again, now with the alerts store-alerts wrote.
    sinks.update({f"PostgreSQL {t}": text for t, text in postgres_text(settings).items()})
    logs = log_texts(settings, since=history["started"])
    # Kafka's and PostgreSQL's logs, and PyFlink's of every Flink job.
    assert any(path.endswith("kafka.out") for path in logs)
    assert any(path.endswith("postgres.log") for path in logs)
    assert sum(where.startswith("PyFlink log") for where in STEP_LOGS) == 5
    assert all(STEP_LOGS[where] for where in STEP_LOGS if where.startswith("PyFlink log"))
    sinks.update({f"log {path}": text for path, text in logs.items()})
    sinks.update(STEP_LOGS)
    _assert_nothing_in_clear(sinks, clear_values)
