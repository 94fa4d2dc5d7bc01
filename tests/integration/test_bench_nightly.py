"""``zongzhi bench nightly --smoke``: every figure it reports is measured, and its counts are right.

At smoke size the bench writes 50,000 synthetic events over 3 days from
fixed seeds and runs the graph job on them. The counts it reports are
checked here against counts taken with pyarrow from the lake it wrote:
exact where the lake fixes them (events, mentions, incidents, places, the
aggregation's groups), bounds where entity resolution decides (persons,
edges between entities). Times are measured, never asserted.
"""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from features.taxonomy import PLATE_READ
from pipelines.harness.steps import run_step

pytestmark = pytest.mark.integration

STAGES = {
    "extract",
    "entity_resolution",
    "graph",
    "companions",
    "mining",
    "risk",
    "lake",
    "postgres",
}
#: A person entry carrying one of these tokens is resolved to someone.
IDENTIFIERS = ("id_hash", "name_hash", "phone_hash", "name_sound_hash")


def _lake_counts(settings) -> dict:
    """What the bench's synthetic lake holds, counted here from its Parquet files."""
    table = settings.var / "bench" / "nightly_lake" / settings.section("lake")["normalized_table"]
    columns = ["event_date", "town_code", "source", "category", "cell_id", "village_code"]
    columns += ["persons", "vehicles", "attributes_json"]
    n = {"events": 0, "person_mentions": 0, "plate_reads": 0, "incidents": 0}
    n |= {"involved_min": 0, "involved_max": 0, "reported_min": 0, "reported_max": 0}
    groups, cells, sites, plates, plate_sites, ids, profiles = (set() for _ in range(7))
    for path in sorted(table.glob("event_date=*/*.parquet")):
        for e in pq.read_table(path, columns=columns).to_pylist():
            persons, vehicles = e["persons"] or [], e["vehicles"] or []
            n["events"] += 1
            n["person_mentions"] += len(persons)
            groups.add((e["event_date"], e["town_code"], e["source"], e["category"]))
            readable = [v for v in vehicles if v["plate_readable"] is not False]
            if e["category"] == PLATE_READ:
                n["plate_reads"] += 1
                site = json.loads(e["attributes_json"])["site_id"]
                sites |= {site} if readable else set()
                plates |= {v["plate_hash"] for v in readable}
                plate_sites |= {(v["plate_hash"], site) for v in readable}
                readable = []  # a plate read is no incident of its vehicle's
            people = [p for p in persons if any(isinstance(p[k], str) for k in IDENTIFIERS)]
            callers = [p for p in people if p["role"] == "caller"]
            involved = len(people) - len(callers) + len(readable)
            n["incidents"] += bool(people or readable)
            cells |= {e["cell_id"]} if people or readable else set()
            n["involved_min"] += involved > 0
            n["involved_max"] += involved
            n["reported_min"] += bool(callers)
            n["reported_max"] += len(callers)
            ids |= {p["id_hash"] for p in people if p["id_hash"]}
            profiles |= {
                (p["id_hash"], p["name_hash"], p["phone_hash"], e["village_code"]) for p in people
            }
    return n | {
        "groups": len(groups),
        "places": len(cells) + len(sites),
        "sites": len(sites),
        "plates": len(plates),
        "plate_sites": len(plate_sites),
        "id_tokens": len(ids),
        "profiles": len(profiles),
    }


def test_bench_nightly_smoke_counts_what_its_lake_holds(settings):
    report = run_step(settings, "bench", "nightly", "--smoke", "--json", timeout=1800)
    lake = _lake_counts(settings)
    setup, night = report["setup"], report["night"]
    assert (setup["events"], setup["days"]) == (50_000, 3)
    assert (setup["events"], setup["person_mentions"], setup["plate_reads"]) == (
        lake["events"],
        lake["person_mentions"],
        lake["plate_reads"],
    )
    assert lake["person_mentions"] > 0 and lake["plate_reads"] > 0
    assert set(report["stage_s"]) == STAGES

    # What the lake fixes: every incident, its cell, and every site that read a plate.
    nodes, edges = night["nodes"], night["edges"]
    assert edges["occurred_at"] == nodes["incident"] == lake["incidents"] > 0
    assert nodes["place"] == lake["places"]
    # Where entity resolution decides: at least one edge per incident, at most one per mention.
    assert lake["involved_min"] <= edges["involved_in"] <= lake["involved_max"]
    assert lake["reported_min"] <= edges["reported_by"] <= lake["reported_max"]
    assert lake["sites"] <= edges["seen_at"] <= lake["plate_sites"]
    assert edges["co_present"] > 0
    # A person per ID number at least, and at most one per distinct profile.
    assert lake["id_tokens"] <= night["persons"] == nodes["person"] <= lake["profiles"]
    assert 0 < night["vehicles"] == nodes["vehicle"] <= lake["plates"]

    # The synthetic residents include offenders: the risk model is fitted and scores.
    graph = settings.section("graph")
    assert night["risk_scored_persons"] == min(int(graph["risk"]["top_persons"]), night["persons"])
    assert 0 < night["predicted_links"] <= int(graph["predicted_links"])
    assert (
        night["co_occurring_vehicle_pairs"]
        >= night["companion_candidates"]
        >= night["companion_pairs"]
    )

    engines = report["spark_vs_duckdb"]
    assert engines["groups"] == lake["groups"]
    algorithms = report["algorithms_vs_igraph"]
    assert 0 < algorithms["nodes"] <= nodes["person"] + nodes["vehicle"]
    assert algorithms["edges"] > 0
    assert set(algorithms["ratio"]) == {"components", "communities", "pagerank", "adamic_adar"}
    assert algorithms["max_ratio"] == max(algorithms["ratio"].values())
    assert algorithms["networkx_used"] is False
    assert 0 < report["peak_rss_bytes"] < 24 * 2**30
    goals = report["goals"]
    assert set(goals) == {
        "end_to_end <= 600 s",
        "spark <= 4 x duckdb",
        "algorithms <= 2 x igraph",
        "peak_rss <= 14 GiB",
    }
    assert goals["spark <= 4 x duckdb"] == (engines["ratio"] <= 4)
    assert goals["algorithms <= 2 x igraph"] == (algorithms["max_ratio"] <= 2)
    assert goals["peak_rss <= 14 GiB"] == (report["peak_rss_bytes"] <= 14 * 2**30)
