"""The hotspot bench's report: the measurements, their ratios, and the goals met.

Pure: every figure comes in measured, and the report says what follows from
it, so the goals can be checked against figures chosen in a test.
"""

from __future__ import annotations

from pipelines.harness.hotspot_bench_live import checkpoint_wait_floor_ms, live_sustained

__all__ = ["median_run", "job_restarts_section", "bench_report"]


def median_run(runs: list[dict]) -> dict:
    """The run of median throughput (upper median), with every round's rate kept.

    A round whose rate could not be measured (``None``) ranks lowest.

    Examples
    --------
    >>> median_run([{"events_per_s": 5, "peak_rss_bytes": 1},
    ...             {"events_per_s": 9, "peak_rss_bytes": 3}])
    {'events_per_s': 9, 'peak_rss_bytes': 3, 'rounds_events_per_s': [5, 9]}
    >>> median_run([{"events_per_s": None, "peak_rss_bytes": 1}])["events_per_s"] is None
    True
    """
    ranked = sorted(
        runs, key=lambda run: -1 if run["events_per_s"] is None else run["events_per_s"]
    )
    chosen = dict(ranked[len(ranked) // 2])
    chosen["peak_rss_bytes"] = max(run["peak_rss_bytes"] for run in runs)
    chosen["rounds_events_per_s"] = [run["events_per_s"] for run in runs]
    return chosen


def job_restarts_section(runs: dict[str, int | None]) -> dict:
    """Restarts of every Flink run by name, their total, and the runs that restarted.

    A run whose restarts are unknown (``None``: no log to read them from)
    counts as restarted, and makes the total unknown.

    Examples
    --------
    >>> job_restarts_section({"sql round 1 small": 0, "live": 2, "sql round 1 large": None})
    {'runs': {'sql round 1 small': 0, 'live': 2, 'sql round 1 large': None}, 'total': None, \
'restarted_runs': ['live', 'sql round 1 large']}
    >>> job_restarts_section({"live": 0})["restarted_runs"]
    []
    """
    known = [n for n in runs.values() if n is not None]
    return {
        "runs": dict(runs),
        "total": sum(known) if len(known) == len(runs) else None,
        "restarted_runs": [name for name, n in runs.items() if n != 0],
    }


def _ratio(numerator, denominator):
    return None if numerator is None or not denominator else numerator / denominator


def _cost(checkpointed: dict, plain: dict):
    """The share of ``plain``'s rate that checkpointing costs, to 4 places (None if unknown)."""
    kept = _ratio(checkpointed["events_per_s"], plain["events_per_s"])
    return None if kept is None else round(1 - kept, 4)


def bench_report(
    setup: dict,
    *,
    detector_run: dict,
    sql_run: dict,
    checkpointed: dict,
    live: dict,
    other_intervals: dict | None = None,
    restarts: dict,
    gi: dict,
    perm: dict,
) -> dict:
    """The bench's report from its measurements, with each goal met or not.

    ``detector_run``, ``sql_run`` and ``checkpointed`` are :func:`median_run`
    results; ``live`` the rate steps' result (``steps`` after the warm-up,
    the followed job's ``peak_rss_bytes`` and ``checkpoint_interval_s``);
    ``restarts`` every Flink run's restarts by name; ``other_intervals``
    checkpointed runs at other intervals, by interval in s; ``gi`` and ``perm`` the
    statistics' timings. The latency goal is checked on the emitted latency
    (the goal's "alert emitted - window end"); the visible latency (a
    read-committed reader's) stands beside it, with the floor that waiting
    for the next checkpoint puts under it.
    """
    steps = live["steps"]
    sustained = live_sustained(steps)
    at_70 = sustained["at_70_percent"]
    peak = max(
        detector_run["peak_rss_bytes"],
        sql_run["peak_rss_bytes"],
        checkpointed["peak_rss_bytes"],
        live["peak_rss_bytes"],
    )
    ratio = _ratio(detector_run["events_per_s"], sql_run["events_per_s"])
    ckpt_cost = _cost(checkpointed, detector_run)
    restart_section = job_restarts_section(restarts)
    p99 = at_70["latency_ms_p99"] if at_70 else None
    return {
        "setup": setup,
        "job_restarts": restart_section,
        "throughput": {
            "hotspot_job": detector_run,
            "pure_sql_blackhole": sql_run,
            "ratio_to_pure_sql": None if ratio is None else round(ratio, 3),
        },
        "checkpointing": {
            "interval_s": setup.get("checkpoint_interval_s"),
            "state_backend": setup.get("state_backend"),
            "exactly_once": checkpointed,
            "throughput_cost": ckpt_cost,
            "live_run_checkpoints": live.get("checkpoints"),
            "other_intervals": [
                {
                    "interval_s": interval,
                    "events_per_s": run["events_per_s"],
                    "throughput_cost": _cost(run, detector_run),
                    "checkpoints": run.get("checkpoints"),
                    "rounds_events_per_s": run["rounds_events_per_s"],
                }
                for interval, run in sorted((other_intervals or {}).items())
            ],
        },
        "rate_steps": steps,
        "live_sustained_events_per_s": sustained["events_per_s"],
        "warm_up_tail_steps": sustained["warm_up_tail_steps"],
        "latency_at_70_percent_ms": {
            "step_events_per_s": at_70["achieved_events_per_s"] if at_70 else None,
            "p50": at_70["latency_ms_p50"] if at_70 else None,
            "p99": p99,
            "visible_p50": at_70["visible_latency_ms_p50"] if at_70 else None,
            "visible_p99": at_70["visible_latency_ms_p99"] if at_70 else None,
        },
        "visible_latency_checkpoint_floor_ms": checkpoint_wait_floor_ms(
            live["checkpoint_interval_s"]
        ),
        "gi_star": gi,
        "permutations": perm,
        "peak_rss_bytes": peak,
        "goals": {
            "no_job_restarted": restart_section["total"] == 0,
            "events_per_s >= 50000": (detector_run["events_per_s"] or 0) >= 50_000,
            "ratio_to_pure_sql >= 0.8": ratio is not None and ratio >= 0.8,
            "p99_ms <= 500": p99 is not None and p99 <= 500,
            "checkpoint_cost <= 0.05": ckpt_cost is not None and ckpt_cost <= 0.05,
            "gi_star_ratio <= 3": gi["ratio"] <= 3,
            "permutation_speedup >= 5": perm["speedup"] >= 5,
            "peak_rss <= 6 GiB": peak <= 6 * 2**30,
        },
    }
