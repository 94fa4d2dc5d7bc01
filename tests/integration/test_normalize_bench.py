"""`zongzhi bench normalize --smoke` end to end, on real services: every figure it reports is measured."""

from __future__ import annotations

import pytest

from pipelines.harness.steps import run_step

pytestmark = pytest.mark.integration


def test_bench_normalize_smoke_measures_every_job_and_balances(settings):
    report = run_step(settings, "bench", "normalize", "--smoke", "--json", timeout=900)
    setup = report["setup"]
    assert (setup["events"], setup["small_run_events"], setup["rounds"]) == (30_000, 5_000, 1)
    # The three channels' real mix, the malformed share included.
    assert set(setup["by_channel"]) == {"grid", "hotline", "video"}
    assert sum(setup["by_channel"].values()) == 30_000
    assert sum(setup["malformed_by_kind"].values()) > 0
    # Every record of the large backlog is normalized or dead-lettered, exactly once.
    (balance,) = report["balance"]
    assert balance["produced"] == 30_000
    assert balance["normalized"] + balance["dead_lettered"] == 30_000
    assert balance["dead_lettered"] >= sum(setup["malformed_by_kind"].values())
    assert report["balanced"] is True
    # No Flink run restarted (a restart replays input and spoils the figures).
    assert report["job_restarts"]["total"] == 0
    assert report["job_restarts"]["restarted_runs"] == []
    # At smoke size a drain's extra time over the small run may be start-up
    # noise on a loaded machine: the bench gives no rate then (None), as its
    # report documents, and every figure built on it is None too.
    for part in ("normalization_job", "pure_sql", "pass_through"):
        rate = report[part]["events_per_s"]
        assert rate is None or rate > 0
        assert report[part]["large_run_s"] > 0
    assert report["contract_alone"]["records"] == 20_000
    assert report["contract_alone"]["cpu_us_per_record"] > 0
    assert 0 < report["peak_rss_bytes"] < 24 * 2**30
    job, sql = report["normalization_job"]["events_per_s"], report["pure_sql"]["events_per_s"]
    ceiling = report["pass_through"]["events_per_s"]
    ratio = job / sql if job is not None and sql else None
    if ratio is None:
        assert report["ratio_to_pure_sql"] is None
    else:
        assert report["ratio_to_pure_sql"] == pytest.approx(ratio, abs=1e-3)
    if job is None or not ceiling:
        assert report["ratio_to_pass_through"] is None
    else:
        assert report["ratio_to_pass_through"] == pytest.approx(job / ceiling, abs=1e-3)
    assert report["goals"] == {
        "events_per_s >= 30000": job is not None and job >= 30_000,
        "ratio_to_pure_sql >= 0.5": ratio is not None and ratio >= 0.5,
    }
