"""The hotspot bench's report: the measurements, their ratios, and the goals met.

Pure: every figure comes in measured, and the report says what follows from
it, so the goals can be checked against figures chosen in a test.
"""

from __future__ import annotations

from pipelines.harness.hotspot_bench_live import live_sustained

__all__ = ["median_run", "bench_report"]


def median_run(runs: list[dict]) -> dict:
    """The run of median throughput (upper median), with every round's rate kept.

    Examples
    --------
    >>> median_run([{"events_per_s": 5, "peak_rss_bytes": 1},
    ...             {"events_per_s": 9, "peak_rss_bytes": 3}])
    {'events_per_s': 9, 'peak_rss_bytes': 3, 'rounds_events_per_s': [5, 9]}
    """
    ranked = sorted(runs, key=lambda run: run["events_per_s"])
    chosen = dict(ranked[len(ranked) // 2])
    chosen["peak_rss_bytes"] = max(run["peak_rss_bytes"] for run in runs)
    chosen["rounds_events_per_s"] = [run["events_per_s"] for run in runs]
    return chosen


def bench_report(
    setup: dict,
    *,
    detector_run: dict,
    sql_run: dict,
    checkpointed: dict,
    steps: list[dict],
    live_rss: int,
    gi: dict,
    perm: dict,
) -> dict:
    """The bench's report from its measurements, with each goal met or not.

    ``detector_run``, ``sql_run`` and ``checkpointed`` are :func:`median_run`
    results, ``steps`` the rate steps after the warm-up, ``live_rss`` the
    followed job's peak RSS, ``gi`` and ``perm`` the statistics' timings.
    """
    live = live_sustained(steps)
    at_70 = live["at_70_percent"]
    peak = max(
        detector_run["peak_rss_bytes"],
        sql_run["peak_rss_bytes"],
        checkpointed["peak_rss_bytes"],
        live_rss,
    )
    ratio = detector_run["events_per_s"] / max(sql_run["events_per_s"], 1)
    ckpt_cost = 1 - checkpointed["events_per_s"] / max(detector_run["events_per_s"], 1)
    return {
        "setup": setup,
        "throughput": {
            "hotspot_job": detector_run,
            "pure_sql_blackhole": sql_run,
            "ratio_to_pure_sql": round(ratio, 3),
        },
        "checkpointing": {
            "exactly_once_every_10s": checkpointed,
            "throughput_cost": round(ckpt_cost, 4),
        },
        "rate_steps": steps,
        "live_sustained_events_per_s": live["events_per_s"],
        "warm_up_tail_steps": live["warm_up_tail_steps"],
        "latency_at_70_percent_ms": {
            "step_events_per_s": at_70["achieved_events_per_s"] if at_70 else None,
            "p50": at_70["latency_ms_p50"] if at_70 else None,
            "p99": at_70["latency_ms_p99"] if at_70 else None,
        },
        "gi_star": gi,
        "permutations": perm,
        "peak_rss_bytes": peak,
        "goals": {
            "events_per_s >= 50000": detector_run["events_per_s"] >= 50_000,
            "ratio_to_pure_sql >= 0.8": ratio >= 0.8,
            "p99_ms <= 500": bool(at_70)
            and at_70["latency_ms_p99"] is not None
            and at_70["latency_ms_p99"] <= 500,
            "checkpoint_cost <= 0.05": ckpt_cost <= 0.05,
            "gi_star_ratio <= 3": gi["ratio"] <= 3,
            "permutation_speedup >= 5": perm["speedup"] >= 5,
            "peak_rss <= 6 GiB": peak <= 6 * 2**30,
        },
    }
