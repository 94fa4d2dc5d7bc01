"""The hotspot bench's pure parts: its stream, alert latencies, report and memory reading."""

import json
import os
from datetime import UTC, datetime

import numpy as np
import pytest

from pipelines.harness.hotspot_bench import STEP_FRACTIONS, BenchStream, RssSampler
from pipelines.harness.hotspot_bench_live import latency_by_step
from pipelines.harness.hotspot_bench_report import bench_report, median_run
from pipelines.harness.hotspot_bench_stream import bench_messages
from pipelines.harness.process_memory import parent_pid, process_tree, vm_rss_bytes

CELLS = [f"r{r:03d}c{c:03d}" for r in range(20) for c in range(20)]
CATEGORIES = ["public_order.fight", "public_order.petty_theft"]


def test_events_are_in_event_time_order_at_the_density():
    stream = BenchStream(CELLS, CATEGORIES, density=10.0)
    events = [json.loads(e) for e in stream.events(2000, 1_000_000, seed=1)]
    assert [e["event_time_ms"] for e in events] == [1_000_000 + 100 * k for k in range(2000)]
    assert [e["event_id"] for e in events] == [f"bench-1-{k}" for k in range(2000)]
    assert all(e["report_time_ms"] == e["event_time_ms"] for e in events)
    assert {e["category"] for e in events} == set(CATEGORIES)
    assert {e["cell_id"] for e in events} <= set(CELLS)
    # Reproducible: the same seed gives the same stream.
    assert [json.loads(e) for e in stream.events(2000, 1_000_000, seed=1)] == events


def test_the_hot_cells_run_hot_in_their_first_category():
    stream = BenchStream(CELLS, CATEGORIES, density=10.0)
    events = [json.loads(e) for e in stream.events(20_000, 0, seed=4)]
    hot = {CELLS[i] for i in stream.hot}
    assert len(hot) == 3
    # A hot cell gets 11 times its share again, all in the first category.
    share = stream.cell_p[stream.hot].sum()
    expected = (share + 11 * share) / (1 + 11 * share)
    in_hot = sum(e["cell_id"] in hot for e in events) / len(events)
    assert in_hot == pytest.approx(expected, abs=0.01)
    hot_second = sum(e["cell_id"] in hot and e["category"] == CATEGORIES[1] for e in events)
    assert hot_second / len(events) == pytest.approx(share / (1 + 11 * share) / 2, abs=0.005)


def test_baselines_are_the_generating_rates():
    stream = BenchStream(CELLS, CATEGORIES, density=10.0)
    baselines = stream.baselines(0.25)
    total = sum(baselines.rate(c, None, k)[0] for c in CELLS for k in CATEGORIES)
    assert total == pytest.approx(10.0 * 3600)
    first = CELLS[0]
    assert baselines.rate(first, None, CATEGORIES[1])[0] == pytest.approx(
        stream.cell_p[0] * 10.0 * 3600 / 2
    )


def test_backlog_messages_count_their_keys_and_space_their_times():
    messages = list(bench_messages([b"a", b"b", b"c", b"d"], 5_000, density=4.0))
    assert messages == [
        (b"1", b"a", 5_000),
        (b"2", b"b", 5_250),
        (b"3", b"c", 5_500),
        (b"4", b"d", 5_750),
    ]


def _alert(end_s, emitted_s):
    end = datetime.fromtimestamp(end_s, UTC).isoformat()
    return {"updated_window_end": end, "emitted_at_ms": int(emitted_s * 1000)}


def test_latency_runs_from_when_the_window_could_close_to_the_alert():
    step = {
        "fraction": 0.4,
        "target_events_per_s": 400,
        "achieved_events_per_s": 390,
        "event0": 1000.0,
        "event_end": 2000.0,
    }
    # The producer reached event time 1100 s at wall 50 s, 1300 s at 60 s, 1500 s at 70 s.
    sent_event_s, sent_wall = [1100.0, 1300.0, 1500.0], [50.0, 60.0, 70.0]
    alerts = [
        _alert(1090, 50.2),  # closes at 1100 s: sent at 50 s, latency 200 ms
        _alert(1200, 60.4),  # closes at 1210 s: first send at or after is 1300 s, at 60 s
        _alert(1250, 60.6),  # closes at 1260 s: also 60 s
        _alert(1400, 71.0),  # closes at 1410 s: 1500 s, at 70 s
        _alert(980, 49.0),  # closes at 990 s: before the step
        _alert(1600, 80.0),  # closes at 1610 s: never sent, not timed
    ]
    (row,) = latency_by_step([step], alerts, sent_event_s, sent_wall, delay_s=10)
    latencies = np.array([200.0, 400.0, 600.0, 1000.0])
    assert row["alert_updates"] == 4
    assert row["latency_ms_p50"] == pytest.approx(np.percentile(latencies, 50))
    assert row["latency_ms_p99"] == pytest.approx(np.percentile(latencies, 99))
    assert row["latency_ms_first_half_median"] == 300.0
    assert row["latency_ms_second_half_median"] == 800.0
    assert (row["fraction_of_sustained"], row["achieved_events_per_s"]) == (0.4, 390)


def _step(fraction, rate, p50, p99, first, second):
    return {
        "fraction_of_sustained": fraction,
        "target_events_per_s": rate,
        "achieved_events_per_s": rate,
        "alert_updates": 20,
        "latency_ms_p50": p50,
        "latency_ms_p99": p99,
        "latency_ms_first_half_median": first,
        "latency_ms_second_half_median": second,
    }


def test_report_ratios_and_goals_follow_from_the_figures():
    detector = median_run(
        [
            {"events_per_s": 60_000, "peak_rss_bytes": 3 * 2**30},
            {"events_per_s": 50_000, "peak_rss_bytes": 2 * 2**30},
            {"events_per_s": 70_000, "peak_rss_bytes": 2 * 2**30},
        ]
    )
    sql = median_run([{"events_per_s": 80_000, "peak_rss_bytes": 2**30}])
    checkpointed = median_run([{"events_per_s": 57_600, "peak_rss_bytes": 2**30}])
    steps = [
        _step(0.4, 24_000, 150.0, 300.0, 140.0, 160.0),
        _step(0.5, 30_000, 160.0, 450.0, 150.0, 170.0),
        _step(0.6, 36_000, 170.0, 600.0, 160.0, 180.0),
        _step(0.7, 42_000, 4000.0, 9000.0, 1000.0, 7000.0),  # behind
    ]
    gi = {"ratio": 2.5}
    perm = {"speedup": 4.0}
    report = bench_report(
        {"events": 10},
        detector_run=detector,
        sql_run=sql,
        checkpointed=checkpointed,
        steps=steps,
        live_rss=7 * 2**30,
        gi=gi,
        perm=perm,
    )
    assert detector["events_per_s"] == 60_000
    assert detector["rounds_events_per_s"] == [60_000, 50_000, 70_000]
    assert report["throughput"]["ratio_to_pure_sql"] == 0.75  # 60,000 / 80,000
    assert report["checkpointing"]["throughput_cost"] == 0.04  # 1 - 57,600 / 60,000
    # Kept up to 36,000 events/s; the slowest step at 70 % of it (25,200) or more is 30,000.
    assert report["live_sustained_events_per_s"] == 36_000
    assert report["latency_at_70_percent_ms"] == {
        "step_events_per_s": 30_000,
        "p50": 160.0,
        "p99": 450.0,
    }
    assert report["peak_rss_bytes"] == 7 * 2**30
    assert report["goals"] == {
        "events_per_s >= 50000": True,
        "ratio_to_pure_sql >= 0.8": False,
        "p99_ms <= 500": True,
        "checkpoint_cost <= 0.05": True,
        "gi_star_ratio <= 3": True,
        "permutation_speedup >= 5": False,
        "peak_rss <= 6 GiB": False,
    }


def test_a_job_that_never_kept_up_has_no_latency_step():
    steps = [_step(f, int(f * 1000), 5000.0, 9000.0, 4000.0, 6000.0) for f in STEP_FRACTIONS]
    run = {"events_per_s": 1000, "peak_rss_bytes": 1}
    report = bench_report(
        {},
        detector_run=run,
        sql_run=run,
        checkpointed=run,
        steps=steps,
        live_rss=0,
        gi={"ratio": 1.0},
        perm={"speedup": 9.0},
    )
    assert report["live_sustained_events_per_s"] == 0
    assert report["warm_up_tail_steps"] == len(STEP_FRACTIONS)
    assert report["latency_at_70_percent_ms"] == {
        "step_events_per_s": None,
        "p50": None,
        "p99": None,
    }
    assert report["goals"]["p99_ms <= 500"] is False


def test_proc_files_are_read_for_parent_and_resident_set():
    stat = "812 (python3 (bench) x) S 41 812 41 0 -1 4194304"
    assert parent_pid(stat) == 41
    status = "Name:\tjava\nVmPeak:\t 9000 kB\nVmRSS:\t  123456 kB\nRssAnon:\t 100 kB\n"
    assert vm_rss_bytes(status) == 123456 * 1024
    assert vm_rss_bytes("Name:\tkworker\n") == 0


def test_this_process_is_the_root_of_its_tree_and_the_sampler_starts_idle():
    assert process_tree(os.getpid())[0] == os.getpid()
    assert RssSampler(os.getpid(), []).peak == 0
