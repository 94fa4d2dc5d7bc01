"""The nightly graph job on three simulated days with rings, misreads and a corrupt file.

The real Spark job runs on a lake written from simulator records that went
through the real contract. Its counts are checked against counts taken
here, in plain Python, from the records that were written and from the
simulator's truth of who each entry really is (``entry_truth``: ID numbers
and true plates), never from the job's own entity map or risk scores.

Where entity resolution decides (a mention without an ID number, a misread
plate), no count is fixed by the records alone. Persons always mentioned
with their ID number and vehicles never misread are: each of their mentions
is theirs whatever resolution decides (it may still join someone else's
mention to them, never take one of theirs away), so what is counted over
them here is exact, or a lower bound where such a join would add to it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

import pandas as pd
import psycopg2
import pytest

from features.local_time import DISTRICT_TZ
from features.pseudonymize import pseudonymize
from features.record_pseudonyms import event_token
from features.taxonomy import PLATE_READ
from jobs.graph.extract import profile_key
from jobs.graph.snapshot import snapshot_path
from pipelines.harness.steps import run_step
from pipelines.io.platform_state import load_district, pseudonym_key

from .graph_lake import CORRUPT_FILE, DAYS

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def graph(settings, graph_nights):
    snapshot = snapshot_path(settings, graph_nights["written"]["days"][-1])
    return {
        "report": graph_nights["report"],
        "written": graph_nights["written"],
        "snapshot": snapshot,
        "entities": pd.read_parquet(snapshot / "entities.parquet"),
        "key": pseudonym_key(settings),
    }


#: A person entry carrying one of these tokens is resolved to someone.
IDENTIFIERS = ("id_hash", "name_hash", "phone_hash", "name_sound_hash")


def _identified(person: dict) -> bool:
    """Whether a person entry carries an ID number, a name or a phone to resolve it by."""
    return any(isinstance(person.get(k), str) for k in IDENTIFIERS)


def _readable(vehicle: dict) -> bool:
    """Whether a plate read can be resolved (an unreadable plate never is)."""
    return vehicle.get("plate_readable") is not False


def _entries(graph):
    """Every entry the job must resolve, with the node of who it really is.

    Yields ``(record, kind, entry, node)``, ``kind`` being ``person`` or
    ``vehicle``. The node is named as the job names that entity:
    ``person:`` and the pseudonym of the ID number, ``vehicle:`` and the
    pseudonym of the true plate; an entry of nobody known is a node of its own.
    """
    key, truth = graph["key"], graph["written"]["entry_truth"]
    for record in graph["written"]["records"]:
        who = truth[record["event_id"]]
        for i, person in enumerate(record["persons"]):
            if _identified(person):
                true_id = who["persons"][i]
                node = (
                    f"person:{pseudonymize(true_id, 'id_number', key)}"
                    if true_id is not None
                    else f"nobody:{record['event_id']}#p{i}"
                )
                yield record, "person", person, node
        for i, vehicle in enumerate(record["vehicles"]):
            if _readable(vehicle):
                yield (
                    record,
                    "vehicle",
                    vehicle,
                    f"vehicle:{pseudonymize(who['vehicles'][i], 'plate', key)}",
                )


def _named_by_their_mentions(graph) -> set:
    """Nodes of the persons always mentioned with their ID number and the vehicles never misread."""
    key, truth = graph["key"], graph["written"]["entry_truth"]
    every: dict = {}
    for record in graph["written"]["records"]:
        who = truth[record["event_id"]]
        for i, person in enumerate(record["persons"]):
            if who["persons"][i] is not None:
                token = pseudonymize(who["persons"][i], "id_number", key)
                node = f"person:{token}"
                every[node] = every.get(node, True) and person.get("id_hash") == token
        for i, vehicle in enumerate(record["vehicles"]):
            token = pseudonymize(who["vehicles"][i], "plate", key)
            node = f"vehicle:{token}"
            every[node] = every.get(node, True) and vehicle.get("plate_hash") == token
    return {node for node, named in every.items() if named}


def test_report_counts_mentions_and_skips_the_corrupt_file(graph):
    report, records = graph["report"], graph["written"]["records"]
    assert report["events"] == len(records)
    assert report["days"] == graph["written"]["days"] and len(report["days"]) == DAYS
    assert report["person_mentions"] == sum(len(r["persons"]) for r in records)
    assert report["vehicle_mentions"] == sum(len(r["vehicles"]) for r in records)
    unreadable = report["skipped"]["unreadable_files"]
    assert [path.rsplit("/", 1)[1] for path in unreadable] == [CORRUPT_FILE]
    # Every other mention is resolved to someone: none drops out of the graph.
    assert report["skipped"]["person_mentions_without_identifier"] == sum(
        not _identified(p) for r in records for p in r["persons"]
    )
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


def test_graph_counts_equal_a_count_over_the_written_records_and_their_truth(graph):
    """Edges per type, each entry named by who the simulator says it is.

    An incident is an event with a resolvable person, or a vehicle that is
    not a plate read; a plate read is a vehicle seen at a site.
    """
    involved, reported, seen, incidents = set(), set(), set(), set()
    for record, kind, entry, node in _entries(graph):
        if kind == "vehicle" and record["category"] == PLATE_READ:
            seen.add((node, record["attributes"]["site_id"], entry["role"]))
            continue
        incident = f"incident:{record['event_id']}"
        incidents.add(incident)
        edge = (node, incident, entry["role"])
        (reported if kind == "person" and entry["role"] == "caller" else involved).add(edge)
    edges = graph["report"]["edges"]
    assert edges["involved_in"] == len(involved)
    assert edges["reported_by"] == len(reported)
    assert edges["seen_at"] == len(seen)
    assert edges["occurred_at"] == len(incidents)
    assert graph["report"]["nodes"]["incident"] == len(incidents)
    stored = pd.read_parquet(graph["snapshot"] / "edges")
    assert Counter(stored["type"]) == Counter(edges)


def _co_present(entries, window: int) -> dict:
    """(a, b) -> (episodes, days) over ``entries`` (``(record, kind, entry, node)``)."""
    at = {}  # place -> [(time, node)]
    for record, kind, _entry, node in entries:
        if kind == "person":
            place = f"place:cell:{record['cell_id']}"
        elif record["category"] == PLATE_READ:
            place = f"place:site:{record['attributes']['site_id']}"
        else:
            continue
        at.setdefault(place, []).append((record["event_time_ms"], node))
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

    return {pair: (len(eps), len({day(t) for t in eps.values()})) for pair, eps in episodes.items()}


def test_co_presence_edges_equal_pairs_counted_over_the_written_records(settings, graph):
    """Two entities at one place within the window: one edge, weighted by episodes.

    An episode is the place and the window-sized bucket of the earlier read
    of a pair of reads; its day is the day of its earliest read. Between
    vehicles never misread, the job's pairs are exactly those counted here
    (a plate joined to one of them would be another vehicle's: an error);
    between persons always mentioned with their ID number, each pair counted
    here is the job's with at least its episodes and days (resolution may
    join someone else's mention to them, adding reads, never removing one).
    """
    window = settings.section("graph").integer("co_presence_seconds") * 1000
    want = _co_present(_entries(graph), window)
    named = _named_by_their_mentions(graph)
    stored = pd.read_parquet(graph["snapshot"] / "edges").query("type == 'co_present'")
    got = {(a, b): (w, d) for a, b, w, d in stored[["src", "dst", "weight", "days"]].values}

    def among_named(pairs, kind):
        return {p: v for p, v in pairs.items() if p[0].startswith(kind) and set(p) <= named}

    vehicles = among_named(want, "vehicle:")
    assert len(vehicles) > 100 and among_named(got, "vehicle:") == vehicles
    persons = among_named(want, "person:")
    assert len(persons) > 50
    fewer = {
        pair: (weight, days, got.get(pair))
        for pair, (weight, days) in persons.items()
        if pair not in got or got[pair][0] < weight or got[pair][1] < days
    }
    assert fewer == {}


def _resolved_entries(graph):
    """Every entry with the node the night's own resolution gave it (``entities.parquet``).

    The tests above name entities by their truth; the two below take the
    night's resolution as given and check that the stages after it (the
    co-presence edges, the watch-list rule) are exact on it: nothing extra,
    nothing missing.
    """
    entities = graph["entities"]
    person_of = entities.query("kind == 'person'").set_index("key")["entity_id"].to_dict()
    vehicle_of = entities.query("kind == 'vehicle'").set_index("key")["entity_id"].to_dict()
    for record in graph["written"]["records"]:
        for person in record["persons"]:
            resolved = person_of.get(profile_key(person, record["village_code"]))
            if resolved is not None:
                yield record, "person", person, f"person:{resolved}"
        for vehicle in record["vehicles"]:
            resolved = vehicle_of.get(vehicle.get("plate_hash"))
            if resolved:
                yield record, "vehicle", vehicle, f"vehicle:{resolved}"


def test_co_presence_edges_are_exact_on_the_nights_resolution(settings, graph):
    window = settings.section("graph").integer("co_presence_seconds") * 1000
    want = _co_present(_resolved_entries(graph), window)
    stored = pd.read_parquet(graph["snapshot"] / "edges").query("type == 'co_present'")
    got = {(a, b): (w, d) for a, b, w, d in stored[["src", "dst", "weight", "days"]].values}
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


def _named_key_persons_and_their_vehicles(settings, graph):
    """Key persons by the suspect rule and their vehicles, counted here among named entities.

    Only persons always mentioned with their ID number and vehicles never
    misread: a person who was a suspect in ``key_person_min_suspect_incidents``
    incidents, and a vehicle involved in ``min_shared_incidents`` of the
    incidents the person was involved in (not as the caller). The job counts
    at least as many incidents for them (resolution may join someone else's
    mention to them, never take one of theirs away), so each person is one
    of its key persons and each vehicle on its list. Returns the key persons
    and the (person, vehicle) ties.
    """
    rules = settings.section("watch_list")
    named = _named_by_their_mentions(graph)
    suspect_in, involved_in = defaultdict(set), defaultdict(set)
    vehicles_of = defaultdict(set)  # incident -> named vehicles involved in it
    for record, kind, entry, node in _entries(graph):
        if node not in named or record["category"] == PLATE_READ or entry["role"] == "caller":
            continue
        involved_in[node].add(record["event_id"])
        if kind == "vehicle":
            vehicles_of[record["event_id"]].add(node)
        elif entry["role"] == "suspect":
            suspect_in[node].add(record["event_id"])
    key = {
        person
        for person, incidents in suspect_in.items()
        if len(incidents) >= int(rules["key_person_min_suspect_incidents"])
    }
    ties = set()
    for person in key:
        shared = Counter(v for event in involved_in[person] for v in vehicles_of[event])
        ties |= {
            (person, vehicle)
            for vehicle, n in shared.items()
            if n >= int(rules["min_shared_incidents"])
        }
    return key, ties


def test_the_watch_list_is_the_key_persons_vehicles_and_their_companions(settings, graph):
    from pipelines.io.watch_list_store import PROPOSALS_FILE

    # The night proposes; nothing is watched until a district account approves.
    published = pd.read_parquet(settings.lake_table("watch_list") / PROPOSALS_FILE)
    in_snapshot = pd.read_parquet(graph["snapshot"] / "watch_list.parquet")
    assert graph["report"]["watch_proposals_published"]
    assert published["vehicle_node"].tolist() == in_snapshot["vehicle_node"].tolist()
    key, ties = _named_key_persons_and_their_vehicles(settings, graph)
    assert len(key) > 10 and len(ties) > 0
    assert graph["report"]["key_persons"] >= len(key)
    own = published[published["reason"] == "key_person_vehicle"].set_index("vehicle_node")
    unlisted = {
        (person, vehicle)
        for person, vehicle in ties
        if vehicle not in own.index or person not in list(own.loc[vehicle, "persons"])
    }
    assert unlisted == set()
    # A companion of a key person's vehicle is watched too, unless it is one itself.
    companions = pd.read_parquet(graph["snapshot"] / "companions.parquet").query("companion")
    vehicles = set(own.index)
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


def test_the_watch_list_follows_its_rule_exactly_on_the_nights_resolution(settings, graph):
    """Key persons (suspect rule or calibrated risk) and their vehicles, and nothing else.

    Counted here from the written records with the night's own resolution
    and risk scores as given: the watch-list stage must list exactly these.
    """
    from pipelines.io.watch_list_store import PROPOSALS_FILE

    rules = settings.section("watch_list")
    suspect_in, shared = defaultdict(set), Counter()
    people_of, cars_of = defaultdict(set), defaultdict(set)
    for record, kind, entry, node in _resolved_entries(graph):
        if record["category"] == PLATE_READ:
            continue
        if kind == "person":
            if entry["role"] == "caller":  # a caller reports the incident, not in it
                continue
            people_of[record["event_id"]].add(node)
            if entry["role"] == "suspect":
                suspect_in[node].add(record["event_id"])
        else:
            cars_of[record["event_id"]].add(node)
    for event, people in people_of.items():
        for person in people:
            for car in cars_of[event]:
                shared[person, car] += 1
    risk = pd.read_parquet(graph["snapshot"] / "person_risk.parquet")
    key = {
        person
        for person, events in suspect_in.items()
        if len(events) >= int(rules["key_person_min_suspect_incidents"])
    } | set(risk.loc[risk["risk"] >= float(rules["key_person_min_risk"]), "node_id"])
    vehicles = {
        car
        for (person, car), n in shared.items()
        if person in key and n >= int(rules["min_shared_incidents"])
    }
    published = pd.read_parquet(settings.lake_table("watch_list") / PROPOSALS_FILE)
    assert graph["report"]["key_persons"] == len(key) > 10
    own = published.loc[published["reason"] == "key_person_vehicle", "vehicle_node"]
    assert set(own) == vehicles and len(vehicles) > 0


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


def _approve(settings, vehicle: str, as_of: str) -> dict:
    """The district's supervisor approves the night's proposal of ``vehicle``, as the service does."""
    from datetime import UTC, datetime

    from pipelines.io.platform_state import (
        load_jurisdiction_policy,
        load_routing_rules,
        load_work_order_rules,
    )
    from pipelines.service.credentials import Account
    from pipelines.service.duty_store import DutyStore
    from pipelines.service.watch_review import WatchReview, proposal_id_of

    policy = load_jurisdiction_policy(settings)
    store = DutyStore(
        settings,
        policy,
        load_routing_rules(settings),
        load_work_order_rules(settings),
        session_hours=1,
    )
    try:
        review = WatchReview(store, settings.lake_table("watch_list"), 30)
        now = datetime.now(UTC)
        review.import_proposals(now)
        supervisor = Account(
            f"supervisor-{policy.district_code}", policy.district_code, "supervisor", "督办员"
        )
        return review.approve(
            supervisor, proposal_id_of(vehicle, as_of), "核实为重点人员关联车辆", now
        )
    finally:
        store.close()


def test_a_watched_vehicle_at_a_sensitive_checkpoint_raises_a_watch_alert(settings, graph):
    """Plate reads through the real contract, the real hotspot job and the alert store."""
    import json
    from datetime import timedelta

    from confluent_kafka import Producer

    from pipelines.harness.streams import fresh_streams
    from pipelines.io.kafka_security import ADMIN, client_config
    from pipelines.streaming.normalize_job import normalization_context
    from pipelines.streaming.watch_alerts import district_checkpoints

    from .graph_lake import START
    from .kafka_read import read_topic

    watch = pd.read_parquet(settings.lake_table("watch_list") / "proposals.parquet")
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
    vehicle = f"vehicle:{pseudonymize(plate, 'plate', k)}"
    approval = _approve(settings, vehicle, watch.loc[vehicle, "as_of"])
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
    producer = Producer(client_config(settings, ADMIN))
    for event_id, site, read_plate, when in reads:
        producer.produce(
            settings.topic("normalized"),
            _plate_read(ctx, event_id, site, read_plate, when).encode(),
            key=event_id.encode(),
        )
    producer.flush(10)
    run_step(settings, "hotspots")
    alerts = [json.loads(v) for v in read_topic(settings, settings.topic("alerts"))]
    # Normalization replaced each event id by its token.
    named = {event_token(event_id, k): event_id for event_id, *_ in reads}
    assert sorted(named[a["event_id"]] for a in alerts) == ["w-exact-1", "w-exact-2", "w-folded"]
    by_event = {named[a["event_id"]]: a for a in alerts}
    assert by_event["w-exact-1"]["alert_id"] == by_event["w-exact-2"]["alert_id"]
    assert by_event["w-folded"]["alert_id"] != by_event["w-exact-1"]["alert_id"]
    assert by_event["w-folded"]["match"] == "folded" and by_event["w-exact-1"]["match"] == "exact"
    assert {a["vehicle_node"] for a in alerts} == {vehicle}
    # Watched only by approval, and every alert names it.
    assert {(a["approval_id"], a["approved_by"]) for a in alerts} == {
        (approval["proposal_id"], approval["decided_by"])
    }
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
    assert [(r[1], named[r[2]]) for r in rows] == [(2, "w-exact-2"), (1, "w-folded")]
    assert rows[0][3:] == ("新发", at.name, checkpoint.town_name)
