"""``zongzhi bench normalize``: how fast the normalization job is, against pure SQL and its ceiling.

1. **The stream**: the district simulator's records in the three channels'
   real mix, malformed share included, written to the bench's raw topics
   twice: a large backlog and a small one.
2. **Sustained throughput** of (a) the normalization job, (b) a pure
   Flink SQL job of the same shape (the same raw topics, the envelope parsed
   with ``JSON_VALUE``, one row per record into a blackhole sink) and (c) the
   pass-through: the normalization job's reads and writes (the same source,
   the same exactly-once Kafka sink, the same header) with no transform,
   the ceiling of any normalization on this machine. Each job drains the
   small backlog and the large one; its rate is the difference in records
   over the difference in wall time, so start-up cancels. The three take
   turns over ``rounds`` rounds, in alternating order, and each reports its
   median round.
3. **Balance**: after each run of (a) over the large backlog, its outputs are
   counted: produced = normalized + dead-lettered, exactly.
4. **The contract alone**: :func:`features.contract.route_raw_record` over a
   sample of the same records in this process, without Flink or Kafka: its
   cost per record on one core, in one pass, as a stream meets them.
5. **The hotline router alone**, when one is trained: the simulated
   hotline messages read one at a time, as the job reads them, on one core;
   against 100 times the district's hotline rate (``simulator.events_per_hour``
   × ``channel_mix.hotline``). With a router, (a) and (4) include it.
6. **Peak RSS** of each job's process tree plus the Kafka broker.

The Flink runs live in :mod:`~pipelines.harness.normalize_bench_jobs`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from pipelines.errors import UsageError
from pipelines.harness.hotspot_bench_jobs import drain_rate, run_child
from pipelines.harness.hotspot_bench_report import job_restarts_section, median_run
from pipelines.harness.normalize_bench_jobs import run_job
from pipelines.settings import Settings
from pipelines.streaming.normalize_job import configured_parallelism

__all__ = ["GOAL_EVENTS_PER_S", "GOAL_RATIO_TO_SQL", "run_bench", "bench_report"]

log = logging.getLogger(__name__)

#: Issue 17's goals on 2 cores.
GOAL_EVENTS_PER_S = 30_000
GOAL_RATIO_TO_SQL = 0.5
#: The simulated stream's first event; its hours hold the requested records.
_STREAM_START = datetime(2026, 5, 4, 0, 0, tzinfo=UTC)
_STREAM_HOURS = 24
#: The entry point of the bench's child processes (this module).
_MODULE = "pipelines.harness.normalize_bench"
#: Records timed through the contract alone (at most).
_CONTRACT_SAMPLE = 20_000
#: Other records through the contract before it is timed (patterns compiled, memos begun).
_CONTRACT_WARM_UP = 1_000
#: The hotline volume the router must keep up with, as a multiple of the district's.
_HOTLINE_MULTIPLE = 100
#: The jobs timed in each round (:mod:`~pipelines.harness.normalize_bench_jobs`).
_KINDS = ("contract", "sql", "copy")


def _simulated(settings: Settings, events: int, seed: int, malformed_fraction: float) -> list:
    """``events`` simulated raw records (at least), in the channels' configured mix."""
    from pipelines.harness.simulation_run import build_simulator

    rate = events / _STREAM_HOURS * 1.02  # the simulator's Poisson counts vary
    simulator = build_simulator(
        settings,
        start=_STREAM_START,
        seed=seed,
        rate=rate,
        malformed_fraction=malformed_fraction,
    )
    records = list(simulator.records(_STREAM_START, timedelta(hours=_STREAM_HOURS)))
    if len(records) < events:
        raise UsageError(f"the simulator made {len(records)} records, fewer than {events}")
    return records[:events]


def _contract_alone(settings: Settings, records: list) -> dict:
    """Per-record cost of the pure Python contract on one core, without Flink or Kafka.

    Each timing runs in a fresh process: the contract's memos are the
    process's, and a second pass would find them warm. With a trained
    hotline router the contract reads every hotline message with it; the
    same records are then timed without it too, in the same run, so that
    the router's share of the cost is measured, not guessed.
    """
    import multiprocessing

    from pipelines.io.platform_router import has_router, router_folder

    encoded = [(r.value.encode("utf-8", "surrogatepass"), r.source) for r in records]
    # Timed once over records it has not seen, as a stream meets them: the
    # pseudonym memos hold only what recurs. Other records warm it first.
    sample = encoded[:_CONTRACT_SAMPLE]
    warm_up = encoded[_CONTRACT_SAMPLE:][-_CONTRACT_WARM_UP:]
    variants = [True, False] if has_router(router_folder(settings)) else [True]
    with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        timed = [
            pool.apply(_time_contract, (settings, sample, warm_up, router)) for router in variants
        ]
    report = timed[0]
    if len(timed) == 2:
        report["without_hotline_router"] = timed[1]
        report["hotline_router_us_per_record"] = round(
            report["cpu_us_per_record"] - timed[1]["cpu_us_per_record"], 1
        )
    return report


def _time_contract(settings: Settings, sample: list, warm_up: list, router: bool) -> dict:
    """The contract's CPU time a record over ``sample`` (after ``warm_up``), with or without the router."""
    from dataclasses import replace

    from features.contract import route_raw_record
    from pipelines.streaming.normalize_job import normalization_context

    ctx = normalization_context(settings)
    if not router:
        ctx = replace(ctx, hotline_router=None)
    now_ms = int(time.time() * 1000)

    def route_all(part):
        for offset, (value, channel) in enumerate(part):
            route_raw_record(
                value, ctx, now_ms, channel=channel, topic=channel, partition=0, offset=offset
            )

    route_all(warm_up)
    started = time.process_time()
    route_all(sample)
    seconds = time.process_time() - started
    return {
        "records": len(sample),
        "cpu_us_per_record": round(seconds / len(sample) * 1e6, 1),
        "records_per_s_one_core": round(len(sample) / seconds),
    }


def _routing_alone(settings: Settings, records: list) -> dict:
    """The trained hotline router's cost per message on one core, and whether it keeps up at 100 × the district."""
    from pipelines.io.platform_router import has_router, load_platform_router, router_folder

    simulator = settings.simulator
    needed = float(simulator["events_per_hour"]) * float(simulator["channel_mix"]["hotline"])
    needed_per_s = _HOTLINE_MULTIPLE * needed / 3600
    if not has_router(router_folder(settings)):
        return {"router": None, "note": "no router trained: run `zongzhi train classifier`"}
    platform = load_platform_router(settings)
    texts = []
    for record in records:
        if record.source == "hotline" and not record.malformed_kind:
            texts.append(json.loads(record.value)["attributes"]["text"])
    texts = texts[:_CONTRACT_SAMPLE]
    for text in texts[:_CONTRACT_WARM_UP]:
        platform.route_text(text)
    started = time.process_time()
    flagged = sum(platform.route_text(text)["flagged"] for text in texts)
    seconds = time.process_time() - started
    rate = len(texts) / seconds
    return {
        "router": platform.version,
        "messages": len(texts),
        "cpu_us_per_message": round(seconds / len(texts) * 1e6, 1),
        "messages_per_s_one_core": round(rate),
        "flagged_share": round(flagged / len(texts), 3),
        f"needed_per_s_at_{_HOTLINE_MULTIPLE}x_district": round(needed_per_s, 2),
        f"keeps_up_at_{_HOTLINE_MULTIPLE}x_district": rate >= needed_per_s,
    }


def _produce(settings: Settings, records: list, prefix: str) -> dict:
    from pipelines.harness.simulator.produce import produce_records

    report = produce_records(settings, records, topics=settings.channel_topics(f"{prefix}raw"))
    return dict(report["by_channel"])


def _balance(settings: Settings, produced: int) -> dict:
    from pipelines.io.kafka import topic_counts

    out = [settings.topic("bench_normalized"), settings.topic("bench_dead_letter")]
    counts = topic_counts(settings, out)
    normalized, dead = counts[out[0]], counts[out[1]]
    return {
        "produced": produced,
        "normalized": normalized,
        "dead_lettered": dead,
        "exact": normalized + dead == produced,
    }


def run_bench(
    settings: Settings,
    *,
    events: int,
    small: int,
    rounds: int = 2,
    parallelism: int | None = None,
    malformed_fraction: float = 0.03,
) -> dict:
    """Run every measurement; return the report (goals alongside).

    ``parallelism`` is every timed job's, by default the normalization
    job's own (``normalization.parallelism``).
    """
    from pipelines.io.kafka import check_reachable, reset_topics

    check_reachable(settings)
    parallelism = parallelism or configured_parallelism(settings)
    if small >= events:
        raise UsageError(f"events={events} must exceed the small run's {small}")
    if rounds < 1:
        raise UsageError(f"rounds={rounds} must be at least 1")
    large_raw = list(settings.channel_topics("bench_raw").values())
    small_raw = list(settings.channel_topics("bench_small_raw").values())
    outputs = [settings.topic("bench_normalized"), settings.topic("bench_dead_letter")]
    reset_topics(settings, large_raw + small_raw + outputs)
    log.info("bench: simulating and producing %d + %d raw records", small, events)
    records = _simulated(settings, events, 2, malformed_fraction)
    by_channel = _produce(settings, records, "bench_")
    _produce(settings, _simulated(settings, small, 1, malformed_fraction), "bench_small_")
    malformed = Counter(r.malformed_kind for r in records if r.malformed_kind)

    runs: dict = {kind: [] for kind in _KINDS}
    balances, restarts = [], {}
    for r in range(rounds):
        for kind in _KINDS if r % 2 == 0 else _KINDS[::-1]:
            log.info("bench: round %d/%d, %s", r + 1, rounds, kind)
            spec = {"kind": kind, "parallelism": parallelism}
            if kind != "sql":
                reset_topics(settings, outputs)
            small_run = run_child(settings, dict(spec, prefix="bench_small_"), module=_MODULE)
            if kind != "sql":
                reset_topics(settings, outputs)
            large_run = run_child(settings, dict(spec, prefix="bench_"), module=_MODULE)
            if kind == "contract":
                balances.append(_balance(settings, events))
            runs[kind].append(drain_rate(small_run, large_run, small, events))
            restarts[f"{kind} round {r + 1} small"] = small_run["restarts"]
            restarts[f"{kind} round {r + 1} large"] = large_run["restarts"]
    log.info("bench: the contract alone")
    contract_alone = _contract_alone(settings, records)
    log.info("bench: the hotline router alone")
    routing_alone = _routing_alone(settings, records)
    setup = {
        "events": events,
        "small_run_events": small,
        "by_channel": by_channel,
        "malformed_fraction": malformed_fraction,
        "malformed_by_kind": dict(malformed),
        "rounds": rounds,
        "parallelism": parallelism,
        "cpus": os.cpu_count(),
        "jvm_jit": settings.jit,
    }
    return bench_report(
        setup,
        job=median_run(runs["contract"]),
        sql=median_run(runs["sql"]),
        copy=median_run(runs["copy"]),
        balances=balances,
        contract_alone=contract_alone,
        routing_alone=routing_alone,
        restarts=restarts,
    )


def bench_report(
    setup: dict,
    *,
    job: dict,
    sql: dict,
    copy: dict,
    balances: list[dict],
    contract_alone: dict,
    restarts: dict[str, int | None],
    routing_alone: dict | None = None,
) -> dict:
    """The bench's report from its measurements, with each goal met or not.

    Examples
    --------
    >>> job = {"events_per_s": 12_000, "peak_rss_bytes": 2**30}
    >>> sql = {"events_per_s": 60_000, "peak_rss_bytes": 2**29}
    >>> copy = {"events_per_s": 40_000, "peak_rss_bytes": 2**29}
    >>> ok = {"produced": 10, "normalized": 9, "dead_lettered": 1, "exact": True}
    >>> report = bench_report({}, job=job, sql=sql, copy=copy, balances=[ok],
    ...                       contract_alone={"cpu_us_per_record": 80.0}, restarts={"sql": 0})
    >>> report["ratio_to_pure_sql"], report["ratio_to_pass_through"], report["balanced"]
    (0.2, 0.3, True)
    >>> report["goals"]
    {'events_per_s >= 30000': False, 'ratio_to_pure_sql >= 0.5': False}

    A rate the runs could not measure (the large run no longer than the
    small) meets no goal:

    >>> bench_report({}, job=dict(job, events_per_s=None), sql=sql, copy=copy, balances=[ok],
    ...              contract_alone={}, restarts={})["ratio_to_pure_sql"] is None
    True
    """
    rate, base = job["events_per_s"], sql["events_per_s"]
    ratio = rate / base if rate is not None and base else None
    ceiling = copy["events_per_s"]
    return {
        "setup": setup,
        "normalization_job": job,
        "pure_sql": sql,
        "ratio_to_pure_sql": None if ratio is None else round(ratio, 3),
        "pass_through": copy,
        "ratio_to_pass_through": round(rate / ceiling, 3) if rate is not None and ceiling else None,
        "job_restarts": job_restarts_section(restarts),
        "contract_alone": contract_alone,
        "hotline_routing_alone": routing_alone,
        "balance": balances,
        "balanced": all(b["exact"] for b in balances),
        "peak_rss_bytes": max(r["peak_rss_bytes"] for r in (job, sql, copy)),
        "goals": {
            f"events_per_s >= {GOAL_EVENTS_PER_S}": rate is not None and rate >= GOAL_EVENTS_PER_S,
            f"ratio_to_pure_sql >= {GOAL_RATIO_TO_SQL}": ratio is not None
            and ratio >= GOAL_RATIO_TO_SQL,
        },
    }


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(run_job(json.loads(sys.argv[1]))))
    sys.stdout.flush()
    os._exit(0)  # the job's JVM and threads end with the process
