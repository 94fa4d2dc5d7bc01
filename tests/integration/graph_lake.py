"""A small lake for the graph job: simulated days with rings, misread plates, a corrupt file.

The simulator's records go through the real contract in-process (no Kafka)
and are written as the lake loader writes them (``features.lake_schema``).
Before normalization some plate reads of the planted rings' vehicles are
rewritten as a camera misreads them, and one read is made unreadable, so
that entity resolution has something to resolve. One extra file in the
last day's partition is not Parquet at all.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import psycopg2
import pyarrow.parquet as pq

from features import contract
from features.lake_schema import events_table
from features.local_time import DISTRICT_TZ
from pipelines.harness.steps import run_step

START = datetime(2026, 11, 2, 0, 0, tzinfo=DISTRICT_TZ)
DAYS = 3
RATE = 300.0
RINGS = 3
#: Misreads of each ring's first plate: (character position in the plate, replacement).
MISREADS = ((4, "confusable"), (0, "province"))
CORRUPT_FILE = "part-corrupt.parquet"


def _misread(plate: str, how: str) -> str:
    if how == "province":
        return ("津" if plate[0] != "津" else "冀") + plate[1:]
    swap = {"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B"}
    for i in range(2, len(plate)):
        if plate[i] in swap:
            return plate[:i] + swap[plate[i]] + plate[i + 1 :]
    return plate[:2] + plate[3:]  # no confusable digit: a dropped character


def write_graph_lake(settings, table: Path) -> dict:
    """Write the lake; return the normalized records and what was planted.

    The result holds ``records`` (the normalized records written, in order),
    ``entry_truth`` (event id -> who its person and vehicle entries really
    are, :attr:`SimulatedRecord.truth`: ID numbers and true plates in entry
    order), ``truth`` (the planted rings), ``misreads`` (true plate ->
    [(misread plate, how)]) and ``days``.
    """
    from pipelines.harness.simulation_run import build_simulator
    from pipelines.streaming.normalize_job import normalization_context

    simulator = build_simulator(
        settings, start=START, seed=11, rate=RATE, rings=RINGS, malformed_fraction=0.0
    )
    truth = simulator.ground_truth()
    ring_first_plates = {ring.plates[0] for ring in truth.rings}
    ctx = normalization_context(settings)
    misread_budget = {plate: list(MISREADS) for plate in ring_first_plates}
    records, entry_truth, misreads, unreadable = [], {}, defaultdict(list), 0
    for record in simulator.records(START, timedelta(days=DAYS)):
        raw = json.loads(record.value)
        vehicles = raw.get("vehicles") or []
        if raw.get("category") == "video.plate_read" and vehicles:
            plate = vehicles[0]["plate"]
            if misread_budget.get(plate):
                _, how = misread_budget[plate].pop()
                vehicles[0]["plate"] = _misread(plate, how)
                misreads[plate].append((vehicles[0]["plate"], how))
            elif unreadable == 0 and plate not in ring_first_plates:
                vehicles[0]["plate"] = "京?"
                unreadable += 1
        destination, _, value = contract.route_raw_record(
            json.dumps(raw, ensure_ascii=False),
            ctx,
            record.report_time_ms + 1000,
            channel=record.source,
        )
        assert destination == contract.NORMALIZED, value
        records.append(json.loads(value))
        entry_truth[records[-1]["event_id"]] = record.truth
    by_day = defaultdict(list)
    for r in records:
        by_day[r["event_date"]].append(r)
    for day, rows in sorted(by_day.items()):
        folder = table / f"event_date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        n = len(rows)
        pq.write_table(events_table(rows, [0] * n, list(range(n))), folder / "part-0.parquet")
    last = table / f"event_date={max(by_day)}"
    (last / CORRUPT_FILE).write_bytes(b"this is not parquet")
    return {
        "records": records,
        "entry_truth": entry_truth,
        "truth": truth,
        "misreads": dict(misreads),
        "days": sorted(by_day),
    }


def run_graph_nights(settings) -> dict:
    """Write the graph lake, run the graph job on the night before and on the night.

    Returns ``written`` (:func:`write_graph_lake`) and ``report`` (the
    night's report). A night with no candidate pairs once left the
    companions table with integer columns where a night's frame holds text:
    such a table is planted first, and the job must make it anew.
    """
    import shutil

    shutil.rmtree(settings.lake, ignore_errors=True)
    written = write_graph_lake(settings, settings.lake_table("normalized"))
    schema = settings.pg["schema"]
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        cur.execute(f"DROP TABLE IF EXISTS {schema}.graph_companions")
        cur.execute(
            f"CREATE TABLE {schema}.graph_companions (as_of integer, vehicle_a integer, "
            "vehicle_b integer, co_occurrences bigint, days bigint, places bigint, "
            "expected double precision, p_value double precision, "
            "lift double precision, companion boolean)"
        )
    conn.close()
    # The night before, then the night: what is new since yesterday.
    yesterday = run_step(settings, "graph", "--as-of", written["days"][-2], timeout=1800)
    assert yesterday["new_links"] is None  # no night before it
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT to_regclass('{schema}.graph_new_links')")
        if cur.fetchone()[0] is not None:  # an older night's rows are gone
            cur.execute(f"SELECT count(*) FROM {schema}.graph_new_links")
            assert cur.fetchone()[0] == 0
    conn.close()
    report = run_step(settings, "graph", timeout=1800)
    assert report["as_of"] == written["days"][-1]
    return {"written": written, "report": report}
