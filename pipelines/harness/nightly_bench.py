"""``zongzhi bench nightly``: the graph job at scale, against DuckDB and igraph, in one run.

1. **A synthetic lake** of N events in the lake's own schema
   (:func:`pipelines.harness.nightly_bench_lake.write_synthetic_lake`):
   residents of every village, callers, plate reads of a long-tailed fleet,
   and a few offenders so that the person risk model is fitted as on a real
   night.
2. **The graph job** (``zongzhi graph``) on it, in a child process whose
   tree's RSS is sampled; its report gives the wall time per stage (extract,
   entity resolution, graph, companions, mining, lake, PostgreSQL).
3. **Spark against DuckDB**: the same aggregation SQL over the same Parquet,
   each timed warm (a first untimed run reads the files into the page cache
   and starts Spark's session).
4. **Graph algorithms against single-threaded igraph** on the night's
   person–vehicle projection: the job's per-component Leiden against one
   igraph Leiden call over the whole graph, PageRank and components as
   igraph calls, and the job's Adamic–Adar (one sparse product) against
   igraph's ``similarity_inverse_log_weighted`` for the same pairs.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from features.lake_schema import PARTITION_GLOB
from jobs.graph.snapshot import snapshot_path
from pipelines.harness.nightly_bench_lake import write_synthetic_lake
from pipelines.settings import Settings

__all__ = ["write_synthetic_lake", "run_bench", "AGGREGATION_SQL"]

log = logging.getLogger(__name__)

#: The aggregation both engines run: events per day, town, channel and category.
AGGREGATION_SQL = (
    "SELECT event_date, town_code, source, category, count(*) AS events, "
    "count(DISTINCT cell_id) AS cells FROM events "
    "GROUP BY event_date, town_code, source, category"
)

# ------------------------------------------------------------------ engines


def _spark_vs_duckdb(settings: Settings, table: Path, repeats: int = 3) -> dict:
    import duckdb

    from pipelines.io.spark import spark_session

    glob = str(table / PARTITION_GLOB / "*.parquet")
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute(
        f"CREATE VIEW events AS SELECT * FROM read_parquet('{glob}', hive_partitioning = false)"
    )
    con.execute(AGGREGATION_SQL).fetchall()  # warm: files in the page cache
    duck = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        duck_rows = con.execute(AGGREGATION_SQL).fetchall()
        duck.append(time.perf_counter() - t0)
    spark = spark_session(settings, "zongzhi-bench-nightly")
    try:
        spark.read.parquet(str(table)).createOrReplaceTempView("events")
        spark.sql(AGGREGATION_SQL).collect()  # warm: the session and the files
        sparks = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            spark_rows = spark.sql(AGGREGATION_SQL).collect()
            sparks.append(time.perf_counter() - t0)
    finally:
        spark.stop()
    if len(spark_rows) != len(duck_rows):
        raise RuntimeError(f"Spark returned {len(spark_rows)} groups, DuckDB {len(duck_rows)}")
    return {
        "sql": AGGREGATION_SQL,
        "groups": len(duck_rows),
        "duckdb_s": round(min(duck), 3),
        "spark_s": round(min(sparks), 3),
        "ratio": round(min(sparks) / max(min(duck), 1e-9), 2),
    }


def _algorithms(snapshot: Path, min_split_nodes: int) -> dict:
    """The job's graph algorithms against plain single-threaded igraph, on the night's graph.

    Each algorithm the job runs is timed as the job calls it and against
    igraph's own call on the same graph, built once (best of 3):

    * components and PageRank: the job calls igraph directly;
    * communities: Leiden per large component (:func:`jobs.graph.mining.communities`)
      against igraph's Leiden over the whole graph;
    * Adamic–Adar (:func:`models.link_prediction.adamic_adar`) against
      igraph's ``similarity_inverse_log_weighted``.

    The whole of the job's mining step (building the graph from its edge
    table, every algorithm, the per-node table) is reported as well, against
    the sum of igraph's calls.
    """
    import random

    import pandas as pd

    from jobs.graph.mining import build_graph, communities, mine
    from models.link_prediction import adamic_adar

    edges = pd.read_parquet(snapshot / "edges")
    involved = edges[edges["type"] == "involved_in"][["src", "dst"]].drop_duplicates()
    pairs = involved.merge(involved, on="dst")
    pairs = pairs[pairs["src_x"] < pairs["src_y"]].groupby(["src_x", "src_y"]).size()
    projection = pairs.reset_index().set_axis(["src", "dst", "weight"], axis=1)

    def timed(fn, repeats=3):
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        return best

    build_s = timed(lambda: build_graph(projection))
    graph, _ = build_graph(projection)
    components = graph.connected_components()
    random.seed(0)
    ours = {
        "components": timed(lambda: graph.connected_components()),
        "communities": timed(lambda: communities(graph, components, min_split_nodes)),
        "pagerank": timed(lambda: graph.pagerank(weights="weight")),
        "adamic_adar": timed(lambda: adamic_adar(projection)),
    }
    base = {
        "components": ours["components"],
        "communities": timed(
            lambda: graph.community_leiden(
                objective_function="modularity", weights="weight", n_iterations=-1
            )
        ),
        "pagerank": ours["pagerank"],
        "adamic_adar": timed(lambda: graph.similarity_inverse_log_weighted()),
    }
    mining_s = timed(lambda: mine(projection, 0, min_split_nodes), 1)
    igraph_mining = base["components"] + base["communities"] + base["pagerank"]
    ratios = {k: round(ours[k] / max(base[k], 1e-9), 2) for k in ours}
    return {
        "nodes": graph.vcount(),
        "edges": graph.ecount(),
        "ours_s": {k: round(v, 4) for k, v in ours.items()},
        "igraph_s": {k: round(v, 4) for k, v in base.items()},
        "ratio": ratios,
        "max_ratio": max(ratios.values()),
        "graph_build_s": round(build_s, 3),
        "mining_s": round(mining_s, 3),
        "igraph_components_leiden_pagerank_s": round(igraph_mining, 3),
        "mining_ratio": round(mining_s / max(igraph_mining, 1e-9), 2),
        "networkx_used": False,
    }


def run_bench(settings: Settings, *, events: int, days: int) -> dict:
    """Write the lake, run the job, compare engines and algorithms; return the report."""
    from pipelines.harness.hotspot_bench import RssSampler
    from pipelines.harness.steps import child_env

    lake = settings.var / "bench" / "nightly_lake"
    shutil.rmtree(lake, ignore_errors=True)
    table = lake / settings.section("lake")["normalized_table"]
    log.info("bench nightly 1/4: writing %d synthetic events over %d days", events, days)
    t0 = time.perf_counter()
    written = write_synthetic_lake(settings, table, events, days)
    write_s = time.perf_counter() - t0
    log.info("bench nightly 2/4: the graph job")
    env = dict(child_env(), ZONGZHI_LAKE=str(lake))
    t0 = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "graph"],
        cwd=settings.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = RssSampler(process.pid, [])
    sampler.start()
    try:
        out, err = process.communicate(timeout=7200)
    finally:
        peak = sampler.stop()
    job_s = time.perf_counter() - t0
    if process.returncode != 0:
        tail = (err.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"the graph job failed: {tail}")
    night = next(
        json.loads(line) for line in reversed(out.strip().splitlines()) if line.startswith("{")
    )
    log.info("bench nightly 3/4: the same aggregation in Spark and DuckDB")
    engines = _spark_vs_duckdb(settings, table)
    log.info("bench nightly 4/4: graph algorithms against igraph")
    snapshot = snapshot_path(settings, night["as_of"], lake=lake)
    algorithms = _algorithms(
        snapshot, settings.section("graph").integer("community_min_split_nodes")
    )
    return {
        "setup": {
            "events": events,
            "days": days,
            "cpus": os.cpu_count(),
            "jvm_jit": settings.jit,
            **written,
        },
        "synthetic_lake_write_s": round(write_s, 1),
        "graph_job_wall_s": round(job_s, 1),
        "stage_s": night["seconds"],
        "night": {
            k: night[k]
            for k in (
                "persons",
                "vehicles",
                "plates_joined",
                "nodes",
                "edges",
                "components",
                "communities",
                "co_occurring_vehicle_pairs",
                "companion_candidates",
                "companion_pairs",
                "predicted_links",
                "risk_scored_persons",
                "key_persons",
            )
            if k in night
        },
        "spark_vs_duckdb": engines,
        "algorithms_vs_igraph": algorithms,
        "peak_rss_bytes": peak,
        "goals": {
            "end_to_end <= 600 s": job_s <= 600,
            "spark <= 4 x duckdb": engines["ratio"] <= 4,
            "algorithms <= 2 x igraph": algorithms["max_ratio"] <= 2,
            "peak_rss <= 14 GiB": peak <= 14 * 2**30,
        },
    }
