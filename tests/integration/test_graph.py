"""The nightly graph job on three simulated days with rings, misreads and a corrupt file.

The real Spark job runs on a lake written from simulator records that went
through the real contract. Its counts are checked against a count taken
here, in plain Python, from the records that were written, using the job's
own entity map only to name entities.
"""
from __future__ import annotations

import shutil
from collections import Counter

import pandas as pd
import psycopg2
import pytest

from features.pseudonymize import pseudonymize
from jobs.graph import profile_key
from pipelines.steps import run_step

from .graph_lake import CORRUPT_FILE, DAYS, write_graph_lake

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def graph(settings):
    shutil.rmtree(settings.lake, ignore_errors=True)
    written = write_graph_lake(settings, settings.lake_table("normalized"))
    # The night before, then the night: what is new since yesterday.
    yesterday = run_step(settings, "graph", "--as-of", written["days"][-2], timeout=1800)
    assert yesterday["new_links"] is None          # no night before it
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT to_regclass('{settings.pg['schema']}.graph_new_links')")
        if cur.fetchone()[0] is not None:       # an older night's rows are gone
            cur.execute(f"SELECT count(*) FROM {settings.pg['schema']}.graph_new_links")
            assert cur.fetchone()[0] == 0
    conn.close()
    report = run_step(settings, "graph", timeout=1800)
    snapshot = settings.lake_table("graph") / f"as_of={written['days'][-1]}"
    entities = pd.read_parquet(snapshot / "entities.parquet")
    return {"report": report, "written": written, "snapshot": snapshot, "entities": entities}


def test_report_counts_mentions_and_skips_the_corrupt_file(graph):
    report, records = graph["report"], graph["written"]["records"]
    assert report["events"] == len(records)
    assert report["days"] == graph["written"]["days"] and len(report["days"]) == DAYS
    assert report["person_mentions"] == sum(len(r["persons"]) for r in records)
    assert report["vehicle_mentions"] == sum(len(r["vehicles"]) for r in records)
    unreadable = report["skipped"]["unreadable_files"]
    assert [path.rsplit("/", 1)[1] for path in unreadable] == [CORRUPT_FILE]
    assert report["skipped"]["unreadable_plate_reads"] == 1


def test_misread_plates_join_the_ring_vehicle_they_misread(settings, graph):
    key = settings.pseudonym_key()
    vehicles = graph["entities"].query("kind == 'vehicle'").set_index("key")
    for plate, reads in graph["written"]["misreads"].items():
        true_token = pseudonymize(plate, "plate", key)
        for misread, how in reads:
            row = vehicles.loc[pseudonymize(misread, "plate", key)]
            assert row["entity_id"] == true_token, (plate, misread, how)
            assert row["evidence"] == how
            assert 0 < row["confidence"] < 1


def test_graph_counts_equal_a_count_over_the_written_records(graph):
    records, entities = graph["written"]["records"], graph["entities"]
    person_of = entities.query("kind == 'person'").set_index("key")["entity_id"].to_dict()
    vehicle_of = entities.query("kind == 'vehicle'").set_index("key")["entity_id"].to_dict()
    involved, reported, seen, incidents = set(), set(), set(), set()
    for r in records:
        incident = f"incident:{r['event_id']}"
        linked = False
        for p in r["persons"]:
            person = person_of.get(profile_key(p, r["village_code"]))
            if person is None:
                continue
            linked = True
            edge = (f"person:{person}", incident, p["role"])
            (reported if p["role"] == "caller" else involved).add(edge)
        for v in r["vehicles"]:
            vehicle = vehicle_of.get(v["plate_hash"])
            if vehicle is None:
                continue
            if r["category"] == "video.plate_read":
                seen.add((f"vehicle:{vehicle}", f"place:site:{r['attributes']['site_id']}",
                          v["role"]))
            else:
                linked = True
                involved.add((f"vehicle:{vehicle}", incident, v["role"]))
        if linked:
            incidents.add(incident)
    edges = graph["report"]["edges"]
    assert edges["involved_in"] == len(involved)
    assert edges["reported_by"] == len(reported)
    assert edges["seen_at"] == len(seen)
    assert edges["occurred_at"] == len(incidents)
    assert graph["report"]["nodes"]["incident"] == len(incidents)
    stored = pd.read_parquet(graph["snapshot"] / "edges")
    assert Counter(stored["type"]) == Counter(edges)


def test_planted_convoys_are_companion_vehicles(settings, graph):
    key = settings.pseudonym_key()
    companions = pd.read_parquet(graph["snapshot"] / "companions.parquet")
    found = {frozenset((a, b)) for a, b in
             companions.loc[companions["companion"], ["vehicle_a", "vehicle_b"]].values}
    planted = set()
    for ring in graph["written"]["truth"].rings:
        tokens = [f"vehicle:{pseudonymize(p, 'plate', key)}" for p in ring.plates]
        planted |= {frozenset((a, b)) for i, a in enumerate(tokens) for b in tokens[i + 1:]}
    assert planted <= found
    assert graph["report"]["companion_pairs"] == len(found)


def test_predicted_links_are_unseen_pairs_with_shared_associates(graph):
    predicted = pd.read_parquet(graph["snapshot"] / "predicted_links.parquet")
    assert graph["report"]["predicted_links"] == len(predicted) > 0
    assert (predicted["shared"] >= 2).all() and predicted["score"].is_monotonic_decreasing
    edges = pd.read_parquet(graph["snapshot"] / "edges")
    involved = edges[edges["type"] == "involved_in"]
    incidents = involved.groupby("src")["dst"].agg(set)
    for a, b in predicted[["src", "dst"]].values:
        # Not tied by a shared incident.
        assert not (incidents.get(a, set()) & incidents.get(b, set()))


def test_serving_tables_hold_the_night(settings, graph):
    schema = settings.pg["schema"]
    places = pd.read_parquet(graph["snapshot"] / "place_risk.parquet")
    assert graph["report"]["risk_scored_places"] == len(places) > 0
    assert places["risk"].between(0, 1).all() and places["reasons"].str.len().gt(0).all()
    risk = pd.read_parquet(graph["snapshot"] / "person_risk.parquet")
    assert graph["report"]["risk_scored_persons"] == len(risk) > 0
    assert risk["risk"].between(0, 1).all()
    assert risk["risk"].is_monotonic_decreasing
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*), max(risk) FROM {schema}.graph_person_risk")
        assert cur.fetchone() == (len(risk), pytest.approx(float(risk["risk"].max())))
        cur.execute(f"SELECT count(*) FROM {schema}.graph_companions WHERE companion")
        assert cur.fetchone()[0] == graph["report"]["companion_pairs"]
        cur.execute(f"SELECT count(*), min(reasons) FROM {schema}.graph_key_entities")
        rows, reason = cur.fetchone()
        assert rows > 0 and reason.startswith("PageRank 第")
    conn.close()


def test_new_links_are_the_edges_first_seen_on_the_night(graph):
    from datetime import datetime

    from features.baselines import DISTRICT_TZ

    night = graph["written"]["days"][-1]
    edges = pd.read_parquet(graph["snapshot"] / "edges")
    first_day = edges["first_ms"].map(
        lambda ms: datetime.fromtimestamp(ms / 1000, DISTRICT_TZ).date().isoformat())
    expected = set(map(tuple, edges.loc[first_day == night, ["src", "dst", "type"]].values))
    new = pd.read_parquet(graph["snapshot"] / "new_links")
    observed = new[new["reason"] == "observed"]
    assert set(map(tuple, observed[["src", "dst", "type"]].values)) == expected
    # The others tie older events to entities that tonight's resolution found.
    resolved = new[new["reason"] == "resolved"]
    night_start = datetime.fromisoformat(night).replace(tzinfo=DISTRICT_TZ).timestamp() * 1000
    assert (resolved["first_ms"] < night_start).all()
    assert graph["report"]["new_links"] == len(new) > 0
    assert graph["report"]["new_links_by_reason"]["observed"] == len(observed)
