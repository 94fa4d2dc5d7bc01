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
from features.taxonomy import PLATE_READ
from jobs.graph.job import profile_key
from pipelines.harness.steps import run_step
from pipelines.io.platform_state import load_district, pseudonym_key

from .graph_lake import CORRUPT_FILE, DAYS, write_graph_lake

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def graph(settings):
    shutil.rmtree(settings.lake, ignore_errors=True)
    written = write_graph_lake(settings, settings.lake_table("normalized"))
    # A night with no candidate pairs once left this table with integer
    # columns where tonight's frame holds text; the job must make it anew.
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
        cur.execute(f"SELECT to_regclass('{settings.pg['schema']}.graph_new_links')")
        if cur.fetchone()[0] is not None:  # an older night's rows are gone
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
    key = pseudonym_key(settings)
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
            if r["category"] == PLATE_READ:
                seen.add(
                    (f"vehicle:{vehicle}", f"place:site:{r['attributes']['site_id']}", v["role"])
                )
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


def test_co_presence_edges_equal_pairs_counted_over_the_written_records(settings, graph):
    """Two entities at one place within the window: one edge, weighted by episodes.

    An episode is the place and the window-sized bucket of the earlier read
    of a pair of reads; its day is the day of its earliest read.
    """
    from datetime import datetime

    from features.local_time import DISTRICT_TZ

    records, entities = graph["written"]["records"], graph["entities"]
    person_of = entities.query("kind == 'person'").set_index("key")["entity_id"].to_dict()
    vehicle_of = entities.query("kind == 'vehicle'").set_index("key")["entity_id"].to_dict()
    window = int(settings.raw["graph"]["co_presence_seconds"]) * 1000
    at = {}  # place -> [(time, entity)]
    for r in records:
        t = r["event_time_ms"]
        for p in r["persons"]:
            person = person_of.get(profile_key(p, r["village_code"]))
            if person is not None:
                at.setdefault(f"place:cell:{r['cell_id']}", []).append((t, f"person:{person}"))
        if r["category"] == PLATE_READ:
            for v in r["vehicles"]:
                if vehicle_of.get(v["plate_hash"]):
                    at.setdefault(f"place:site:{r['attributes']['site_id']}", []).append(
                        (t, f"vehicle:{vehicle_of[v['plate_hash']]}")
                    )
    episodes = {}  # (a, b) -> {(place, bucket): earliest time}
    for place, reads in at.items():
        reads.sort()
        for i, (t1, e1) in enumerate(reads):
            for t2, e2 in reads[i + 1 :]:
                if t2 - t1 > window:
                    break
                if e1 != e2:
                    episode = episodes.setdefault(tuple(sorted((e1, e2))), {})
                    key = (place, t1 // window)
                    episode[key] = min(episode.get(key, t1), t1)

    def day(ms):
        return datetime.fromtimestamp(ms / 1000, DISTRICT_TZ).date().isoformat()

    stored = pd.read_parquet(graph["snapshot"] / "edges").query("type == 'co_present'")
    got = {(a, b): (w, d) for a, b, w, d in stored[["src", "dst", "weight", "days"]].values}
    want = {pair: (len(eps), len({day(t) for t in eps.values()})) for pair, eps in episodes.items()}
    assert len(want) > 100 and got == want


def test_planted_convoys_are_companion_vehicles(settings, graph):
    key = pseudonym_key(settings)
    companions = pd.read_parquet(graph["snapshot"] / "companions.parquet")
    found = {
        frozenset((a, b))
        for a, b in companions.loc[companions["companion"], ["vehicle_a", "vehicle_b"]].values
    }
    planted = set()
    for ring in graph["written"]["truth"].rings:
        tokens = [f"vehicle:{pseudonymize(p, 'plate', key)}" for p in ring.plates]
        planted |= {frozenset((a, b)) for i, a in enumerate(tokens) for b in tokens[i + 1 :]}
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
        # The table the fixture left with integer columns was made anew.
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'graph_companions' "
            "AND column_name IN ('as_of', 'vehicle_a')",
            (schema,),
        )
        assert dict(cur.fetchall()) == {"as_of": "text", "vehicle_a": "text"}
        cur.execute(f"SELECT count(*), min(reasons) FROM {schema}.graph_key_entities")
        rows, reason = cur.fetchone()
        assert rows > 0 and reason.startswith("PageRank 第")
    conn.close()


def test_new_links_are_the_edges_first_seen_on_the_night(graph):
    from datetime import datetime

    from features.local_time import DISTRICT_TZ

    night = graph["written"]["days"][-1]
    edges = pd.read_parquet(graph["snapshot"] / "edges")
    first_day = edges["first_ms"].map(
        lambda ms: datetime.fromtimestamp(ms / 1000, DISTRICT_TZ).date().isoformat()
    )
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


def _key_persons_and_vehicles(graph):
    """The watch list counted here from the written records and the night's entity map."""
    records, entities = graph["written"]["records"], graph["entities"]
    person_of = entities.query("kind == 'person'").set_index("key")["entity_id"].to_dict()
    vehicle_of = entities.query("kind == 'vehicle'").set_index("key")["entity_id"].to_dict()
    suspect_in, shared = {}, Counter()
    for r in records:
        if r["category"] == PLATE_READ:
            continue
        people = set()
        for p in r["persons"]:
            person = person_of.get(profile_key(p, r["village_code"]))
            if person is not None:
                people.add(f"person:{person}")
                if p["role"] == "suspect":
                    suspect_in.setdefault(f"person:{person}", set()).add(r["event_id"])
        cars = {
            f"vehicle:{vehicle_of[v['plate_hash']]}"
            for v in r["vehicles"]
            if vehicle_of.get(v.get("plate_hash"))
        }
        for person in people:
            for car in cars:
                shared[person, car] += 1
    risk = pd.read_parquet(graph["snapshot"] / "person_risk.parquet")
    key = {p for p, events in suspect_in.items() if len(events) >= 2} | set(
        risk.loc[risk["risk"] >= 0.5, "node_id"]
    )
    vehicles = {car for (person, car), n in shared.items() if person in key and n >= 2}
    return key, vehicles


def test_the_watch_list_is_the_key_persons_vehicles_and_their_companions(settings, graph):
    from pipelines.io.watch_list_store import WATCH_FILE

    published = pd.read_parquet(settings.lake_table("watch_list") / WATCH_FILE)
    in_snapshot = pd.read_parquet(graph["snapshot"] / "watch_list.parquet")
    assert graph["report"]["watch_list_published"]
    assert published["vehicle_node"].tolist() == in_snapshot["vehicle_node"].tolist()
    key, vehicles = _key_persons_and_vehicles(graph)
    assert graph["report"]["key_persons"] == len(key)
    own = published[published["reason"] == "key_person_vehicle"]
    assert set(own["vehicle_node"]) == vehicles
    companions = pd.read_parquet(graph["snapshot"] / "companions.parquet").query("companion")
    tied = {b for a, b in companions[["vehicle_a", "vehicle_b"]].values if a in vehicles} | {
        a for a, b in companions[["vehicle_a", "vehicle_b"]].values if b in vehicles
    }
    assert set(published.loc[published["reason"] == "companion", "vehicle_node"]) == tied - vehicles
    # Every planted ring's vehicles are watched, each with its misread plates.
    k = pseudonym_key(settings)
    for ring in graph["written"]["truth"].rings:
        for plate in ring.plates:
            assert f"vehicle:{pseudonymize(plate, 'plate', k)}" in set(published["vehicle_node"])
    by_node = published.set_index("vehicle_node")
    for plate, reads in graph["written"]["misreads"].items():
        hashes = set(by_node.loc[f"vehicle:{pseudonymize(plate, 'plate', k)}", "plate_hashes"])
        assert {pseudonymize(m, "plate", k) for m, _ in reads} <= hashes
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT count(*), min(reason_label) FROM {settings.pg['schema']}.graph_watch_list"
        )
        assert cur.fetchone()[0] == len(published)
    conn.close()


def _plate_read(ctx, event_id: str, site, plate: str, when):
    import json

    from features import contract

    raw = {
        "schema_version": 1,
        "event_id": event_id,
        "source": "video",
        "category": "video.plate_read",
        "event_time": when.isoformat(),
        "report_time": when.isoformat(),
        "location": {"lon": site.lon, "lat": site.lat, "crs": "WGS84"},
        "persons": [],
        "vehicles": [{"role": "observed", "plate": plate}],
        "attributes": {
            "device_id": f"{site.site_id}-L1",
            "site_id": site.site_id,
            "device_kind": "lpr",
            "lane": 1,
            "confidence": 0.95,
        },
    }
    destination, _, value = contract.route_raw_record(
        json.dumps(raw, ensure_ascii=False),
        ctx,
        int(when.timestamp() * 1000) + 1000,
        channel="video",
    )
    assert destination == contract.NORMALIZED, value
    return value


def test_a_watched_vehicle_at_a_sensitive_checkpoint_raises_a_watch_alert(settings, graph):
    """Plate reads through the real contract, the real hotspot job and the alert store."""
    import json
    from datetime import timedelta

    from confluent_kafka import Producer

    from pipelines.harness.streams import fresh_streams
    from pipelines.streaming.normalize_job import normalization_context
    from pipelines.streaming.watch_alerts import district_checkpoints

    from .graph_lake import START
    from .kafka_read import read_topic

    watch = pd.read_parquet(settings.lake_table("watch_list") / "watch_list.parquet")
    k = pseudonym_key(settings)
    # A confusable misread of a watched plate that the night has not seen (the
    # lake holds planted and simulated misreads, which resolution tied to it).
    swap = {"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B"}
    watch = watch.set_index("vehicle_node")
    plate, misread = next(
        (p, p[:i] + swap[c] + p[i + 1 :])
        for ring in graph["written"]["truth"].rings
        for p in ring.plates
        if f"vehicle:{pseudonymize(p, 'plate', k)}" in watch.index
        for i, c in enumerate(p)
        if i >= 2
        and c in swap
        and pseudonymize(p[:i] + swap[c] + p[i + 1 :], "plate", k)
        not in set(watch.loc[f"vehicle:{pseudonymize(p, 'plate', k)}", "plate_hashes"])
    )
    checkpoints = district_checkpoints(settings)
    sensitive = load_district(settings).sites_of_kind("lpr")
    at = next(s for s in sensitive if s.site_id in checkpoints)
    elsewhere = next(s for s in sensitive if s.site_id not in checkpoints)
    ctx = normalization_context(settings)
    t0 = START + timedelta(days=5)
    reads = [
        ("w-exact-1", at, plate, t0),
        ("w-exact-2", at, plate, t0 + timedelta(minutes=1)),
        ("w-folded", at, misread, t0 + timedelta(hours=2)),
        ("w-elsewhere", elsewhere, plate, t0),
        ("w-unwatched", at, "京A00001", t0),
        # Within the days the night saw: a replay of what the list came from.
        ("w-seen", at, plate, START + timedelta(days=1)),
    ]
    fresh_streams(settings)
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
    for event_id, site, read_plate, when in reads:
        producer.produce(
            settings.topic("normalized"),
            _plate_read(ctx, event_id, site, read_plate, when).encode(),
            key=event_id.encode(),
        )
    producer.flush(10)
    run_step(settings, "hotspots")
    alerts = [json.loads(v) for v in read_topic(settings, settings.topic("alerts"))]
    assert sorted(a["event_id"] for a in alerts) == ["w-exact-1", "w-exact-2", "w-folded"]
    by_event = {a["event_id"]: a for a in alerts}
    assert by_event["w-exact-1"]["alert_id"] == by_event["w-exact-2"]["alert_id"]
    assert by_event["w-folded"]["alert_id"] != by_event["w-exact-1"]["alert_id"]
    assert by_event["w-folded"]["match"] == "folded" and by_event["w-exact-1"]["match"] == "exact"
    vehicle = f"vehicle:{pseudonymize(plate, 'plate', k)}"
    assert {a["vehicle_node"] for a in alerts} == {vehicle}
    checkpoint = checkpoints[at.site_id]
    assert by_event["w-exact-1"]["place_name"] == checkpoint.place_name
    assert by_event["w-exact-1"]["summary"].endswith(f"{checkpoint.distance_m:.0f} 米")

    schema = settings.pg["schema"]
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(f"TRUNCATE {schema}.watch_alerts, {schema}.watch_alert_reads")
    conn.close()
    stored = run_step(settings, "store-alerts")
    assert (stored["watch_alerts"], stored["watch_reads"], stored["unreadable"]) == (2, 3, 0)
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT alert_id, reads, event_id, status_label, site_name, town_name "
            f"FROM {schema}.watch_alerts ORDER BY reads DESC"
        )
        rows = cur.fetchall()
    conn.close()
    assert [(r[1], r[2]) for r in rows] == [(2, "w-exact-2"), (1, "w-folded")]
    assert rows[0][3:] == ("新发", at.name, checkpoint.town_name)
