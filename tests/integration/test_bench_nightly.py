"""``zongzhi bench nightly --smoke``: every figure it reports is measured."""

from __future__ import annotations

import pytest

from pipelines.harness.steps import run_step

pytestmark = pytest.mark.integration


def test_bench_nightly_smoke_measures_everything_it_reports(settings):
    report = run_step(settings, "bench", "nightly", "--smoke", "--json", timeout=1800)
    setup = report["setup"]
    assert setup["events"] == 50_000 and setup["days"] == 3
    assert setup["person_mentions"] > 0 and setup["plate_reads"] > 0
    assert set(report["stage_s"]) == {
        "extract",
        "entity_resolution",
        "graph",
        "companions",
        "mining",
        "risk",
        "lake",
        "postgres",
    }
    assert report["graph_job_wall_s"] >= sum(report["stage_s"].values())
    # The synthetic residents include offenders: the risk model is fitted and scores.
    assert report["night"]["risk_scored_persons"] > 0
    assert report["night"]["co_occurring_vehicle_pairs"] >= report["night"]["companion_candidates"]
    engines = report["spark_vs_duckdb"]
    assert engines["groups"] > 0 and engines["duckdb_s"] > 0 and engines["spark_s"] > 0
    algorithms = report["algorithms_vs_igraph"]
    assert algorithms["nodes"] > 0 and algorithms["mining_s"] > 0
    assert set(algorithms["ratio"]) == {"components", "communities", "pagerank", "adamic_adar"}
    assert algorithms["max_ratio"] == max(algorithms["ratio"].values())
    assert algorithms["networkx_used"] is False
    assert 0 < report["peak_rss_bytes"] < 24 * 2**30
    assert set(report["goals"]) == {
        "end_to_end <= 600 s",
        "spark <= 4 x duckdb",
        "algorithms <= 2 x igraph",
        "peak_rss <= 14 GiB",
    }
