"""The hotspot bench's pure parts: stream, alert latencies, restarts, report, memory reading."""

import json
import os
from datetime import UTC, datetime

import numpy as np
import pytest

from pipelines.harness.hotspot_bench import STEP_FRACTIONS, BenchStream, RssSampler
from pipelines.harness.hotspot_bench_flink_log import job_log, read_flink_log
from pipelines.harness.hotspot_bench_live import behind, latency_by_step
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


def _alert(end_s, emitted_s, received_s=None):
    end = datetime.fromtimestamp(end_s, UTC).isoformat()
    alert = {"updated_window_end": end, "emitted_at_ms": int(emitted_s * 1000)}
    return (emitted_s + 5.0 if received_s is None else received_s), alert


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
        # Read in another order than they closed (two partitions): the halves go by closing.
        _alert(1400, 71.0, received_s=79.0),  # closes at 1410 s: 1500 s, at 70 s
        _alert(1090, 50.2, received_s=58.0),  # closes at 1100 s: sent at 50 s, latency 200 ms
        _alert(1200, 60.4, received_s=61.0),  # closes at 1210 s: first send at or after is 1300 s
        _alert(1250, 60.6, received_s=69.0),  # closes at 1260 s: also 60 s
        _alert(980, 49.0),  # closes at 990 s: before the step
        _alert(1600, 80.0),  # closes at 1610 s: never sent, not timed
    ]
    (row,) = latency_by_step([step], alerts, sent_event_s, sent_wall, delay_s=10)
    emitted = np.array([200.0, 400.0, 600.0, 1000.0])
    visible = np.array([8000.0, 1000.0, 9000.0, 9000.0])
    assert row["alert_updates"] == 4
    assert row["latency_ms_p50"] == pytest.approx(np.percentile(emitted, 50))
    assert row["latency_ms_p99"] == pytest.approx(np.percentile(emitted, 99))
    # First half: the windows that closed at 50 s and 60 s (200, 400 ms); second: 600, 1000 ms.
    assert row["latency_ms_first_half_median"] == 300.0
    assert row["latency_ms_second_half_median"] == 800.0
    assert row["visible_latency_ms_p50"] == pytest.approx(np.percentile(visible, 50))
    assert row["visible_latency_ms_p99"] == pytest.approx(np.percentile(visible, 99))
    assert (row["fraction_of_sustained"], row["achieved_events_per_s"]) == (0.4, 390)


def test_a_step_without_alerts_has_no_latencies():
    step = {"fraction": 0.5, "target_events_per_s": 9, "achieved_events_per_s": 9}
    (row,) = latency_by_step([dict(step, event0=0.0, event_end=10.0)], [], [5.0], [1.0], 1)
    assert row["alert_updates"] == 0
    assert row["latency_ms_p99"] is None and row["visible_latency_ms_p99"] is None
    assert behind(row)


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
        "visible_latency_ms_p50": p50 + 5000.0,
        "visible_latency_ms_p99": p99 + 9900.0,
    }


def _live(steps, rss=0, restarts=0, interval_s=10):
    return {
        "steps": steps,
        "peak_rss_bytes": rss,
        "restarts": restarts,
        "restart_causes": [],
        "checkpoint_interval_s": interval_s,
    }


def _no_restarts(*names):
    return {name: 0 for name in names or ("detector round 1 small", "live")}


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
        {"events": 10, "checkpoint_interval_s": 10, "state_backend": "hashmap"},
        detector_run=detector,
        sql_run=sql,
        checkpointed=checkpointed,
        live=_live(steps, rss=7 * 2**30),
        restarts=_no_restarts(),
        gi=gi,
        perm=perm,
    )
    assert detector["events_per_s"] == 60_000
    assert detector["rounds_events_per_s"] == [60_000, 50_000, 70_000]
    assert report["throughput"]["ratio_to_pure_sql"] == 0.75  # 60,000 / 80,000
    assert report["checkpointing"]["throughput_cost"] == 0.04  # 1 - 57,600 / 60,000
    assert report["checkpointing"]["interval_s"] == 10
    # Kept up to 36,000 events/s; the slowest step at 70 % of it (25,200) or more is 30,000.
    assert report["live_sustained_events_per_s"] == 36_000
    assert report["latency_at_70_percent_ms"] == {
        "step_events_per_s": 30_000,
        "p50": 160.0,
        "p99": 450.0,
        "visible_p50": 5160.0,
        "visible_p99": 10350.0,
    }
    # Waiting for the next of the 10 s checkpoints: uniform over 0-10 s.
    assert report["visible_latency_checkpoint_floor_ms"] == {
        "checkpoint_interval_s": 10,
        "wait_p50": 5000.0,
        "wait_p99": 9900.0,
    }
    assert report["peak_rss_bytes"] == 7 * 2**30
    assert report["job_restarts"]["total"] == 0
    assert report["goals"] == {
        "no_job_restarted": True,
        "events_per_s >= 50000": True,
        "ratio_to_pure_sql >= 0.8": False,
        "p99_ms <= 500": True,
        "checkpoint_cost <= 0.05": True,
        "gi_star_ratio <= 3": True,
        "permutation_speedup >= 5": False,
        "peak_rss <= 6 GiB": False,
    }


def _report(steps, restarts=None, rates=(1000, 1000, 1000)):
    runs = [{"events_per_s": rate, "peak_rss_bytes": 1} for rate in rates]
    return bench_report(
        {},
        detector_run=runs[0],
        sql_run=runs[1],
        checkpointed=runs[2],
        live=_live(steps),
        restarts=restarts or _no_restarts(),
        gi={"ratio": 1.0},
        perm={"speedup": 9.0},
    )


def test_a_job_that_never_kept_up_has_no_latency_step():
    steps = [_step(f, int(f * 1000), 5000.0, 9000.0, 4000.0, 6000.0) for f in STEP_FRACTIONS]
    report = _report(steps)
    assert report["live_sustained_events_per_s"] == 0
    assert report["warm_up_tail_steps"] == len(STEP_FRACTIONS)
    assert report["latency_at_70_percent_ms"] == {
        "step_events_per_s": None,
        "p50": None,
        "p99": None,
        "visible_p50": None,
        "visible_p99": None,
    }
    assert report["goals"]["p99_ms <= 500"] is False


def test_a_step_is_sustained_only_with_its_p99_within_two_seconds():
    # The 0.6 step's median keeps up and does not grow, but its p99 is 2.5 s.
    steps = [
        _step(0.4, 400, 150.0, 300.0, 140.0, 160.0),
        _step(0.5, 500, 160.0, 1900.0, 150.0, 170.0),
        _step(0.6, 600, 1500.0, 2500.0, 1500.0, 1500.0),
        _step(0.7, 700, 170.0, 400.0, 160.0, 180.0),
    ]
    assert [behind(step) for step in steps] == [False, False, True, False]
    report = _report(steps)
    assert report["live_sustained_events_per_s"] == 500
    # The slowest step at 70 % of 500 events/s (350) or more: 400 events/s.
    assert report["latency_at_70_percent_ms"]["step_events_per_s"] == 400


def test_a_step_draining_a_backlog_above_two_seconds_is_not_sustained():
    # Falling latency, but a p99 of 3 s: still the warm-up's tail, never chosen.
    steps = [
        _step(0.4, 400, 2400.0, 3000.0, 2900.0, 1900.0),
        _step(0.5, 500, 160.0, 450.0, 150.0, 170.0),
    ]
    report = _report(steps)
    assert report["warm_up_tail_steps"] == 1
    assert report["live_sustained_events_per_s"] == 500


def test_any_restart_fails_the_report_and_names_the_run():
    steps = [_step(0.4, 400, 150.0, 300.0, 140.0, 160.0)]
    restarts = {"sql round 1 small": 0, "checkpointed round 2 large": 3, "live": 0}
    report = _report(steps, restarts=restarts)
    assert report["job_restarts"] == {
        "runs": restarts,
        "total": 3,
        "restarted_runs": ["checkpointed round 2 large"],
    }
    assert report["goals"]["no_job_restarted"] is False
    # A run whose log could not be read is not proof of no restart.
    unknown = _report(steps, restarts={"live": None})
    assert unknown["job_restarts"]["total"] is None
    assert unknown["job_restarts"]["restarted_runs"] == ["live"]
    assert unknown["goals"]["no_job_restarted"] is False


def test_a_rate_that_could_not_be_measured_meets_no_goal():
    steps = [_step(0.4, 400, 150.0, 300.0, 140.0, 160.0)]
    report = _report(steps, rates=(60_000, None, None))
    assert report["throughput"]["ratio_to_pure_sql"] is None
    assert report["checkpointing"]["throughput_cost"] is None
    assert report["goals"]["ratio_to_pure_sql >= 0.8"] is False
    assert report["goals"]["checkpoint_cost <= 0.05"] is False
    assert report["goals"]["events_per_s >= 50000"] is True


#: A restart as Flink 2.2's local mini-cluster logs it (a Python UDF that
#: raised; trace lines shortened).
_RESTART_LOG = """\
2026-12-05 00:37:34,280 INFO  org.apache.flink.runtime.executiongraph.ExecutionGraph       [] - \
Job zongzhi (2696ed61) switched from state CREATED to RUNNING.
2026-12-05 00:37:38,238 WARN  org.apache.flink.runtime.taskmanager.Task                    [] - \
Source: src[1] -> PythonCalc[2] (1/1)#0 (6307d3f5_0_0) switched from RUNNING to FAILED with \
failure cause:
java.lang.RuntimeException: Error while waiting for BeamPythonFunctionRunner flush
\tat org.apache.flink.streaming.api.operators.python.process.AbstractExternalPythonFunctionOperator\
.invokeFinishBundle(AbstractExternalPythonFunctionOperator.java:107)
Caused by: java.lang.RuntimeException: Failed to close remote bundle
\tat org.apache.flink.streaming.api.runners.python.beam.BeamPythonFunctionRunner.finishBundle
Caused by: java.lang.RuntimeException: Error received from SDK harness for instruction 1: \
Traceback (most recent call last):
  File "/tmp/hb/failonce.py", line 16, in boom
    raise RuntimeError(f"planned failure {n}")
RuntimeError: planned failure 0

\tat org.apache.beam.runners.fnexecution.control.FnApiControlClient
2026-12-05 00:37:38,513 INFO  org.apache.flink.runtime.jobmaster.JobMaster                 [] - \
2 tasks will be restarted to recover the failed task 6307d3f5_0_0.
2026-12-05 00:37:38,514 INFO  org.apache.flink.runtime.executiongraph.ExecutionGraph       [] - \
Job zongzhi (2696ed61) switched from state RUNNING to RESTARTING.
2026-12-05 00:37:41,076 INFO  org.apache.flink.runtime.jobmaster.JobMaster                 [] - \
1 tasks will be restarted to recover from a global failure.
2026-12-05 00:37:43,552 INFO  org.apache.flink.runtime.executiongraph.ExecutionGraph       [] - \
Job zongzhi (2696ed61) switched from state RUNNING to FINISHED.
"""


def test_restarts_are_counted_from_the_flink_log_with_their_cause():
    found = read_flink_log(_RESTART_LOG)
    assert (found["restarts"], found["causes"]) == (2, ["RuntimeError: planned failure 0"])
    quiet = "\n".join(line for line in _RESTART_LOG.splitlines() if "restart" not in line)
    assert read_flink_log(quiet)["restarts"] == 0


def test_checkpoints_are_read_from_the_flink_log():
    log = "\n".join(
        f"2026-12-05 00:38:{10 * n:02d},000 INFO  o.a.f.r.c.CheckpointCoordinator [] - "
        f"Completed checkpoint {n} for job 2696ed61 ({size} bytes, "
        f"checkpointDuration={ms} ms, finalizationTime=0 ms)."
        for n, size, ms in [(1, 900, 30), (2, 4_000, 250), (3, 2_500, 70)]
    )
    log += "\n2026-12-05 00:38:40,000 INFO  x [] - Decline checkpoint 4 by task t of job j at h."
    assert read_flink_log(log)["checkpoints"] == {
        "completed": 3,
        "failed": 1,
        "duration_ms_median": 70.0,
        "duration_ms_max": 250,
        "bytes_max": 4_000,
    }


def test_restarts_of_a_run_without_a_log_are_unknown(tmp_path):
    assert job_log(tmp_path)["restarts"] is None
    (tmp_path / "flink-bench-python-host.log").write_text(_RESTART_LOG)
    assert job_log(tmp_path)["restarts"] == 2


def test_proc_files_are_read_for_parent_and_resident_set():
    stat = "812 (python3 (bench) x) S 41 812 41 0 -1 4194304"
    assert parent_pid(stat) == 41
    status = "Name:\tjava\nVmPeak:\t 9000 kB\nVmRSS:\t  123456 kB\nRssAnon:\t 100 kB\n"
    assert vm_rss_bytes(status) == 123456 * 1024
    assert vm_rss_bytes("Name:\tkworker\n") == 0


def test_this_process_is_the_root_of_its_tree_and_the_sampler_starts_idle():
    assert process_tree(os.getpid())[0] == os.getpid()
    assert RssSampler(os.getpid(), []).peak == 0
