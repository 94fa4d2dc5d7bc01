"""The hotspot commands end to end: replay, eval and bench (smoke sizes), on real services."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.incident_kinds import EVIDENCE
from pipelines.harness.hotspot_bench import STEP_FRACTIONS, SUSTAINED_P99_MS, live_sustained
from pipelines.harness.steps import run_step
from pipelines.io.platform_state import load_incident_fusion

pytestmark = pytest.mark.integration

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "crime_points"


@pytest.fixture(scope="module")
def robbery_csv(tmp_path_factory):
    source = SHARED / "san_francisco_robbery.csv"
    if not source.exists():
        pytest.skip(f"{source} is absent (shared/data is not beside this checkout)")
    lines = source.read_text().splitlines()
    # Three broken rows among the real ones: a bad time, bad coordinates, a short row.
    broken = [
        "1,personal robbery,yesterday,-122.40,37.78",
        "2,personal robbery,2019-03-01T10:00:00Z,abc,37.78",
        "3,personal robbery,2019-03-01T10:00:00Z",
    ]
    path = tmp_path_factory.mktemp("replay") / "robbery_with_broken_rows.csv"
    path.write_text("\n".join(lines[:100] + broken + lines[100:]) + "\n")
    return path, len(lines) - 1


@pytest.mark.shared_data
def test_replay_reports_broken_rows_and_goes_on(settings, robbery_csv):
    path, good_rows = robbery_csv
    report = run_step(
        settings,
        "replay",
        str(path),
        "--time-col",
        "date_time",
        "--x-col",
        "longitude",
        "--y-col",
        "latitude",
        "--crs",
        "WGS84",
        "--category-col",
        "offense_type",
        "--tz",
        "America/Los_Angeles",
        "--cell-size",
        "500",
        "--null",
        "permute",
        "--json",
    )
    assert report["rows"] == good_rows + 3
    assert report["events"] == good_rows
    # Times to the minute, 18.5 % of them on whole hours (1/60 by chance):
    # those are held out of the 5-minute slices, and vote at the hours and days.
    resolution = report["time_resolution"]
    assert resolution["base"] == "minute"
    assert resolution["heaped"] == {"hour": True, "day": False}
    assert resolution["events_by_resolution"] == {"minute": 775, "hour": 176}
    assert resolution["voting"] == 775
    assert resolution["voting_by_scale"] == {"minutes": 775, "hours": 951, "days": 951}
    assert report["events_scored"] == 951
    # Every scale looks, each spending its share of one budget.
    scales = report["scales"]
    assert list(scales) == ["minutes", "hours", "days"]
    assert sum(s["budget_share"] for s in scales.values()) == pytest.approx(1.0)
    assert sum(report["clusters_by_scale"].values()) == report["clusters"]
    # The permuted copy: its clusters are all false, judged against the span's budget.
    null = report["null"]
    # Prospective baselines: the first 14 days build them and are not scored.
    assert report["baselines"].startswith("prospective")
    days = report["span"]["days"] - 14
    assert null["scored_days"] == pytest.approx(days, abs=0.01)
    budget = settings.hotspot["alert_budget_per_town_month"] * days / 30
    assert null["budget"] == pytest.approx(budget, abs=2e-3)
    assert null["within_budget"] == (null["clusters"] <= budget)
    assert null["upper_95"] > null["clusters"]
    assert null["real_vs_null"]["real_clusters"] == report["clusters"]
    for name, scale in scales.items():
        assert null["by_scale"][name]["budget"] == pytest.approx(
            budget * scale["budget_share"], abs=2e-3
        )
    # Robberies repeat near each other over days: the file has more clusters
    # at the days scale than its permuted copy (9 against 1 with seed 0).
    days_vs_null = null["by_scale"]["days"]["real_vs_null"]
    assert days_vs_null["real_clusters"] > days_vs_null["null_clusters"]
    assert report["broken_rows"] == 3
    assert report["broken_by_reason"] == {
        "unreadable time": 1,
        "unreadable coordinates": 1,
        "wrong number of fields": 1,
    }
    # The header and 99 rows come first: the broken rows are lines 101-103.
    assert [e["line"] for e in report["broken_examples"]] == [101, 102, 103]
    assert report["categories"] == ["personal_robbery"]
    assert report["late_events"] == 0
    for cluster in report["top_clusters"]:
        assert cluster["p_value"] <= cluster["threshold"]
        assert cluster["threshold"] == scales[cluster["scale"]]["threshold"]


def test_eval_finds_strong_surges_and_reports_the_budget(settings):
    # 32 h of history from a Monday 00:00: the streams run 08:00-16:00, so
    # the surges fall in the day, when their blocks expect a few events.
    report = run_step(
        settings,
        "eval",
        "hotspots",
        "--history-hours",
        "32",
        "--hours",
        "8",
        "--rate",
        "2000",
        "--surges",
        "3",
        "--multiplier",
        "10",
        "--surge-minutes",
        "60",
        "--incidents-per-day",
        "200",
        "--json",
        timeout=1800,
    )
    assert report["surges"] == 3
    assert report["recall"] >= 2 / 3
    assert report["precision"] >= 0.75
    assert report["detection_delay_minutes"]["median"] <= 30
    budget = settings.hotspot["alert_budget_per_town_month"]
    assert report["budget_per_town_month"] == budget
    # Null false alarms, recomputed here from the clusters counted on the null
    # stream: clusters / towns / weeks, with 8 h = 8/168 of a week.
    towns = report["setup"]["towns"]
    expected_rate = report["null_clusters"] / towns / (8 / 168)
    assert report["false_alarms_per_town_week"] == pytest.approx(expected_rate, abs=1e-4)
    assert report["within_budget"] == (expected_rate <= budget * 7 / 30 + 1e-9)
    assert report["streams"]["null"]["late"] == 0
    # Nothing is lost on either stream: every produced record is normalized.
    for stream in ("null", "surge"):
        produced = report["streams"][stream]["produced"]
        assert report["streams"][stream]["normalized"] == produced
    # The oracle prices every planted surge; its recall is their mean power.
    powers = report["oracle"]["power_by_surge"]
    assert len(powers) == 3
    assert report["oracle"]["recall"] == pytest.approx(sum(powers) / 3, abs=1e-4)
    # Beside it, the known-zone CUSUMs at the town's and the district's budget.
    for name in ("cusum_town", "cusum_district"):
        oracle = report["oracle"]["oracles"][name]
        assert len(oracle["power_by_surge"]) == 3
        assert oracle["recall"] == pytest.approx(sum(oracle["power_by_surge"]) / 3, abs=1e-4)
    # The two streams share their background: the surge stream has more events.
    assert report["streams"]["surge"]["produced"] > report["streams"]["null"]["produced"]
    # Planted multi-channel incidents: the job linked reports of one incident,
    # and the null stream was scored both counting incidents and reports.
    fusion = report["incident_fusion"]
    assert report["setup"]["incidents_per_day"] == 200
    assert fusion["links"] > 0
    assert fusion["reports_joined_share"] == pytest.approx(
        fusion["links"] / report["streams"]["null"]["normalized"], abs=1e-4
    )
    assert fusion["null_clusters_counting"]["incidents"] == report["null_clusters"]
    for counting, clusters in fusion["null_clusters_counting"].items():
        assert fusion["false_alarms_per_town_week"][counting] == pytest.approx(
            clusters / towns / (8 / 168), abs=1e-4
        )
    # Each link carries its evidence and a confidence of at least the declared one.
    min_confidence = load_incident_fusion(settings)["min_confidence"]
    for link in fusion["examples"]:
        assert link["confidence"] >= min_confidence
        assert set(EVIDENCE) <= set(link)


def test_bench_smoke_measures_everything_it_reports(settings):
    report = run_step(settings, "bench", "hotspots", "--smoke", "--json", timeout=1800)
    # Every Flink run was checked for restarts (a restart fails the command).
    runs = report["job_restarts"]["runs"]
    assert set(runs) == {
        f"{kind} round 1 {backlog}"
        for kind in ("detector", "sql", "checkpointed")
        for backlog in ("small", "large")
    } | {"live"}
    assert report["job_restarts"]["total"] == 0
    assert report["goals"]["no_job_restarted"] is True
    detector = report["throughput"]["hotspot_job"]["events_per_s"]
    assert detector > 0
    # At smoke size a drain's extra time may be start-up noise: then no rate (None).
    pure_sql = report["throughput"]["pure_sql_blackhole"]["events_per_s"]
    checkpointed = report["checkpointing"]["exactly_once"]["events_per_s"]
    assert pure_sql is None or pure_sql > 0
    assert checkpointed is None or checkpointed > 0
    interval = settings.section("flink").integer("checkpoint_interval_seconds")
    assert report["checkpointing"]["interval_s"] == interval
    assert report["checkpointing"]["state_backend"] == settings.section("flink").text(
        "state_backend"
    )
    steps = report["rate_steps"]
    assert [s["fraction_of_sustained"] for s in steps] == list(STEP_FRACTIONS)
    # Alerts went through the live job and its exactly-once sink to a
    # read-committed reader, which saw each one after its emission.
    assert sum(s["alert_updates"] for s in steps) > 0, steps
    for step in (s for s in steps if s["alert_updates"]):
        assert step["visible_latency_ms_p50"] > step["latency_ms_p50"]
    # At smoke size the drain rate is start-up noise, so the steps may all be
    # too fast for the job: the live maximum is 0 then, and no step is chosen.
    sustained = live_sustained(steps)
    assert report["live_sustained_events_per_s"] == sustained["events_per_s"]
    assert report["warm_up_tail_steps"] == sustained["warm_up_tail_steps"]
    latency = report["latency_at_70_percent_ms"]
    if sustained["at_70_percent"] is not None:
        assert 0 < latency["p99"] <= SUSTAINED_P99_MS
        assert latency["visible_p50"] > latency["p50"]
    else:
        assert latency["p99"] is None
    assert report["visible_latency_checkpoint_floor_ms"]["wait_p99"] == 990 * interval
    assert report["setup"]["jvm_jit"] == settings.jit
    assert report["gi_star"]["ratio"] > 0
    assert report["permutations"]["speedup"] > 1
    assert 0 < report["peak_rss_bytes"] < 24 * 2**30
    # Each goal is the comparison of the figure the report gives, recomputed here.
    ratio = pure_sql and detector / pure_sql
    cost = checkpointed and 1 - checkpointed / detector
    if ratio is not None:
        assert report["throughput"]["ratio_to_pure_sql"] == pytest.approx(ratio, abs=1e-3)
    if cost is not None:
        assert report["checkpointing"]["throughput_cost"] == pytest.approx(cost, abs=1e-4)
    assert report["goals"] == {
        "no_job_restarted": True,
        "events_per_s >= 50000": detector >= 50_000,
        "ratio_to_pure_sql >= 0.8": ratio is not None and ratio >= 0.8,
        "p99_ms <= 500": latency["p99"] is not None and latency["p99"] <= 500,
        "checkpoint_cost <= 0.05": cost is not None and cost <= 0.05,
        "gi_star_ratio <= 3": report["gi_star"]["ratio"] <= 3,
        "permutation_speedup >= 5": report["permutations"]["speedup"] >= 5,
        "peak_rss <= 6 GiB": report["peak_rss_bytes"] <= 6 * 2**30,
    }
