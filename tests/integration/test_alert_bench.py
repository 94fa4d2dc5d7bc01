"""``zongzhi bench alerts --smoke`` on the real services: every figure it reports is measured."""

from __future__ import annotations

import pytest

from pipelines.harness.alert_bench import run_bench

pytestmark = pytest.mark.integration


def test_bench_smoke_measures_everything_it_reports(settings):
    report = run_bench(settings, rate=20.0, seconds=5.0, clients=50, webhooks=2, drain_seconds=30)
    assert report["alerts"] == 100 and report["clients_connected"] == 50
    assert 15 <= report["rate_per_s"] <= 21
    pages, hooks = report["pages"], report["webhooks"]
    assert pages["deliveries_expected"] > report["alerts"]
    assert pages["deliveries_received"] == pages["deliveries_expected"]
    assert pages["deliveries_lost"] == 0 and pages["duplicates"] == 0
    assert 0 < pages["p50_ms"] <= pages["p99_ms"] <= pages["max_ms"]
    assert hooks["deliveries_expected"] == 200 == hooks["deliveries_received"]
    assert 0 < hooks["p50_ms"] <= hooks["p99_ms"]
    assert report["alerts_stored"] == 100 and report["alerts_lost"] == 0
    assert report["service_rss_bytes"]["after"] > 50_000_000
    assert report["met"] == {"page_p99": True, "nothing_lost": True}
