"""The ``zongzhi`` command: one entry point for everything a user does.

Every subcommand answers ``--help``. Bad arguments and unreachable services
print one line, ``zongzhi: ...``, and exit non-zero (2 for bad input, 1 for
a failure of the platform or a service).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import datetime

from features.local_time import DISTRICT_TZ, DISTRICT_TZ_NAME
from pipelines.errors import UsageError, ZongzhiError, one_line

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise UsageError(f"{self.prog}: {message}")


# --------------------------------------------------------------------------
# Argument types


def _iso_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 time such as 2026-11-27T08:00:00+08:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=DISTRICT_TZ)


def _iso_date(text: str) -> str:
    from datetime import date

    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2026-11-27") from None


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} must lie in [0, 1]")
    return value


def _surge(text: str):
    """CELL:CATEGORY:START_MIN:DURATION_MIN:MULTIPLIER, CELL may be 'busiest'."""
    parts = text.split(":")
    if len(parts) != 5:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be CELL:CATEGORY:START_MIN:DURATION_MIN:MULTIPLIER "
            "(CELL may be 'busiest')"
        )
    cell, category, start, duration, multiplier = parts
    try:
        return cell, category, float(start), float(duration), float(multiplier)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: START_MIN, DURATION_MIN and MULTIPLIER must be numbers"
        ) from None


def _surge_multiplier(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 1 (times the baseline)")
    return value


# --------------------------------------------------------------------------
# Parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="zongzhi",
        description=(
            "Streaming analytics and data mining for social-governance centers (综治中心)."
        ),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    infra = sub.add_parser("infra", help="start, stop or inspect the local services")
    infra.add_argument("action", choices=["up", "down", "status"])
    infra.add_argument(
        "--services",
        default="kafka,postgres,superset",
        help="comma-separated subset of kafka,postgres,superset (default: all)",
    )

    topics = sub.add_parser("topics", help="inspect or reset the declared Kafka topics")
    topics.add_argument("action", choices=["counts", "reset"])

    sim = sub.add_parser("simulate", help="stream a simulated district into the raw topics")
    sim.add_argument(
        "--hours",
        type=_positive(float),
        default=3.0,
        help="event-time length of the stream (default 3)",
    )
    sim.add_argument(
        "--start",
        type=_iso_time,
        help="event time of the first record (default: --hours before now)",
    )
    sim.add_argument(
        "--rate", type=_positive(float), help="events per hour (default: simulator.events_per_hour)"
    )
    sim.add_argument(
        "--malformed-fraction",
        type=_fraction,
        help="fraction of malformed records (default: simulator.malformed_fraction)",
    )
    sim.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    sim.add_argument(
        "--surge",
        type=_surge,
        action="append",
        default=[],
        help="plant a surge CELL:CATEGORY:START_MIN:DURATION_MIN:MULTIPLIER",
    )
    sim.add_argument(
        "--rings", type=int, default=3, help="rings of persons and vehicles (default 3)"
    )
    sim.add_argument(
        "--speedup",
        type=_positive(float),
        help="pace event time this many times faster than the wall clock "
        "(default: as fast as possible)",
    )
    sim.add_argument("--ground-truth", help="where to write the planted ground truth (JSON)")

    for name, text in (
        ("normalize", "run the normalization job (Flink)"),
        ("hotspots", "run the hotspot job (Flink)"),
        ("lake", "load the normalized topic into the Parquet lake"),
        ("store-alerts", "write the alerts topic into PostgreSQL"),
    ):
        job = sub.add_parser(name, help=text)
        job.add_argument(
            "--follow",
            action="store_true",
            help="keep running on new records (default: stop at the end of input)",
        )
        if name in ("normalize", "hotspots"):
            job.add_argument("--parallelism", type=_positive(int), default=1)
        if name == "hotspots":
            job.add_argument(
                "--watermark-delay-seconds",
                type=_positive(int),
                default=None,
                help="disorder of event time the windows allow (default: "
                "hotspot.watermark_delay_seconds with --follow, else "
                "hotspot.backfill_watermark_delay_seconds)",
            )

    sub.add_parser("nightly", help="run the nightly Spark job on the lake")
    graph = sub.add_parser(
        "graph",
        help=(
            "build, mine and store the nightly relation graph (entity resolution, companion "
            "vehicles, communities)"
        ),
    )
    graph.add_argument(
        "--as-of",
        type=_iso_date,
        default=None,
        help="the night's date, YYYY-MM-DD (default: the lake's latest day)",
    )

    superset = sub.add_parser("superset", help="provision Superset's dashboards from infra/")
    superset.add_argument("action", choices=["provision"])

    demo = sub.add_parser("demo", help="the whole platform end to end, with a printed summary")
    demo.add_argument(
        "--hours",
        type=_positive(float),
        default=6.0,
        help="event-time length of the simulated stream (default 6)",
    )
    demo.add_argument(
        "--history-hours",
        type=_positive(float),
        default=24.0,
        help="event-time length of the history that seeds the baselines (default 24)",
    )
    demo.add_argument(
        "--speedup",
        type=_positive(float),
        default=240.0,
        help="event time runs this many times faster than the wall clock (default 240)",
    )
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--no-superset", action="store_true", help="skip Superset")

    replay = sub.add_parser(
        "replay", help=("run a real point file (CSV) through the hotspot detector in event time")
    )
    replay.add_argument("csv", help="the point file (.csv or .csv.gz)")
    replay.add_argument(
        "--time-col",
        required=True,
        help=("time column; or comma-separated year,month,day[,hour,minute,second] columns"),
    )
    replay.add_argument("--x-col", required=True, help="x (longitude or easting) column")
    replay.add_argument("--y-col", required=True, help="y (latitude or northing) column")
    replay.add_argument(
        "--crs", required=True, help="coordinate system of x/y: WGS84, GCJ02, BD09 or EPSG:<code>"
    )
    replay.add_argument("--category-col", help="category column (default: one category)")
    replay.add_argument(
        "--time-format", help="strptime format of the time column (default: ISO-8601)"
    )
    replay.add_argument(
        "--tz",
        default=DISTRICT_TZ_NAME,
        help="time zone of times without one (default Asia/Shanghai)",
    )
    replay.add_argument(
        "--cell-size",
        type=_positive(float),
        help="cell size in metres (default: district.cell_size_m)",
    )
    replay.add_argument(
        "--top", type=_positive(int), default=10, help="clusters and hot cells to list (default 10)"
    )
    replay.add_argument(
        "--json", action="store_true", help="print the report as JSON (the default)"
    )

    bench = sub.add_parser("bench", help="benchmark a component against its baselines")
    bench_sub = bench.add_subparsers(dest="target", metavar="TARGET", parser_class=_Parser)
    bench_sub.required = True
    bh = bench_sub.add_parser(
        "hotspots",
        help=(
            "the hotspot job against pure Flink SQL, latency at rate steps, checkpointing, "
            "Gi* and permutations"
        ),
    )
    bh.add_argument("--json", action="store_true", help="print the report as JSON (the default)")
    bh.add_argument(
        "--events",
        type=_positive(int),
        default=2_000_000,
        help="events in the large backlog (default 2,000,000)",
    )
    bh.add_argument(
        "--small",
        type=_positive(int),
        default=100_000,
        help="events in the small backlog that cancels start-up cost (default 100,000)",
    )
    bh.add_argument(
        "--density",
        type=_positive(float),
        default=20.0,
        help="events per second of event time over the district (default 20)",
    )
    bh.add_argument(
        "--step-seconds",
        type=_positive(float),
        default=30.0,
        help="wall time of each rate step (default 30)",
    )
    bh.add_argument("--permutations", type=_positive(int), default=999)
    bh.add_argument(
        "--warm-up-seconds",
        type=_positive(float),
        default=60.0,
        help="wall time of the unreported first rate step (default 60)",
    )
    bh.add_argument(
        "--rounds",
        type=_positive(int),
        default=3,
        help="interleaved rounds of the throughput runs; each reports its median (default 3)",
    )
    bh.add_argument(
        "--smoke", action="store_true", help="a small, quick run that checks the bench works (CI)"
    )

    bn = bench_sub.add_parser(
        "nightly",
        help=(
            "the graph job on a synthetic lake: stage times, Spark against DuckDB, algorithms "
            "against igraph, peak memory"
        ),
    )
    bn.add_argument("--json", action="store_true", help="print the report as JSON (the default)")
    bn.add_argument(
        "--events",
        type=_positive(int),
        default=10_000_000,
        help="events in the synthetic lake (default 10,000,000)",
    )
    bn.add_argument(
        "--days", type=_positive(int), default=30, help="days they spread over (default 30)"
    )
    bn.add_argument(
        "--smoke", action="store_true", help="a small, quick run that checks the bench works (CI)"
    )

    evaluate = sub.add_parser("eval", help="evaluate a detector against planted ground truth")
    eval_sub = evaluate.add_subparsers(dest="target", metavar="TARGET", parser_class=_Parser)
    eval_sub.required = True
    ev = eval_sub.add_parser(
        "hotspots",
        help=("the hotspot job on a stream with planted surges and on an equally long null stream"),
    )
    ev.add_argument("--json", action="store_true", help="print the report as JSON (the default)")
    ev.add_argument(
        "--history-hours",
        type=_positive(float),
        default=72.0,
        help="history that seeds the nightly baselines (default 72)",
    )
    ev.add_argument(
        "--hours",
        type=_positive(float),
        default=24.0,
        help="length of each evaluated stream (default 24)",
    )
    ev.add_argument(
        "--rate",
        type=_positive(float),
        default=4000.0,
        help="events per hour over the district (default 4000)",
    )
    ev.add_argument(
        "--surges",
        type=_positive(int),
        default=10,
        help="surges planted in the surge stream (default 10)",
    )
    ev.add_argument(
        "--multiplier",
        type=_surge_multiplier,
        default=3.0,
        help="surge intensity over the baseline, > 1 (default 3)",
    )
    ev.add_argument(
        "--surge-minutes", type=_positive(float), default=60.0, help="surge duration (default 60)"
    )
    ev.add_argument(
        "--surge-radius",
        type=int,
        choices=[0, 1, 2],
        default=1,
        help="a surge covers the cells within this many rows and columns of its "
        "centre (default 1: a 3 x 3 block)",
    )
    ev.add_argument("--seed", type=int, default=7)
    eg = eval_sub.add_parser(
        "graph",
        help=(
            "the nightly graph job on a stream with planted rings, convoys and damaged identities"
        ),
    )
    eg.add_argument("--json", action="store_true", help="print the report as JSON (the default)")
    eg.add_argument(
        "--days", type=_positive(float), default=7.0, help="days of simulated events (default 7)"
    )
    eg.add_argument(
        "--rate",
        type=_positive(float),
        default=400.0,
        help="events per hour over the district (default 400)",
    )
    eg.add_argument(
        "--rings",
        type=_positive(int),
        default=8,
        help="planted rings of persons and vehicles (default 8)",
    )
    eg.add_argument("--seed", type=int, default=21)
    return parser


# --------------------------------------------------------------------------
# Commands


def _settings():
    from pipelines.settings import load_settings

    return load_settings()


def _cmd_infra(args) -> int:
    from pipelines.harness.services import services_down, services_status, services_up

    wanted = [s.strip() for s in args.services.split(",") if s.strip()]
    if args.action == "up":
        services_up(_settings(), wanted)
    elif args.action == "down":
        services_down(_settings(), wanted)
    else:
        return 0 if services_status(_settings(), wanted) else 3
    return 0


def _cmd_topics(args) -> int:
    from pipelines.io.kafka import check_reachable, reset_topics, topic_counts

    settings = _settings()
    check_reachable(settings)
    topics = list(settings.raw["kafka"]["topics"].values())
    if args.action == "reset":
        reset_topics(settings, topics)
    print(json.dumps(topic_counts(settings, topics), indent=2))
    return 0


def _cmd_simulate(args) -> int:
    from pipelines.harness.simulation_run import simulate_to_kafka
    from pipelines.io.kafka import check_reachable

    settings = _settings()
    check_reachable(settings)
    report = simulate_to_kafka(
        settings,
        hours=args.hours,
        start=args.start,
        rate=args.rate,
        malformed_fraction=args.malformed_fraction,
        seed=args.seed,
        surges=args.surge,
        rings=args.rings,
        speedup=args.speedup,
        ground_truth_path=args.ground_truth,
    )
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    return 0


def _cmd_job(args) -> int:
    from pipelines.io.kafka import check_reachable

    settings = _settings()
    check_reachable(settings)
    if args.command == "normalize":
        from pipelines.streaming import normalize_job

        normalize_job.run(settings, follow=args.follow, parallelism=args.parallelism)
    elif args.command == "hotspots":
        from pipelines.streaming import hotspot_job

        hotspot_job.run(
            settings,
            follow=args.follow,
            parallelism=args.parallelism,
            watermark_delay_s=args.watermark_delay_seconds,
        )
    elif args.command == "lake":
        from pipelines.streaming.lake_writer import load_normalized

        print(json.dumps(load_normalized(settings, follow=args.follow)))
    else:
        from pipelines.streaming.alert_store import store_alerts

        print(json.dumps(store_alerts(settings, follow=args.follow)))
    return 0


def _cmd_nightly(args) -> int:
    from dataclasses import asdict

    from jobs.nightly import job as nightly

    print(json.dumps(asdict(nightly.run(_settings()))))
    return 0


def _cmd_graph(args) -> int:
    from dataclasses import asdict

    from jobs.graph import job as graph

    print(json.dumps(asdict(graph.run(_settings(), as_of=args.as_of)), ensure_ascii=False))
    return 0


def _cmd_superset(args) -> int:
    from pipelines.harness.services import run_infra_script

    run_infra_script(_settings(), "superset.sh", "provision")
    return 0


def _cmd_demo(args) -> int:
    from pipelines.harness.demo import run_demo

    summary = run_demo(
        _settings(),
        hours=args.hours,
        history_hours=args.history_hours,
        speedup=args.speedup,
        seed=args.seed,
        superset=not args.no_superset,
    )
    print(summary)
    return 0


def _cmd_replay(args) -> int:
    from pathlib import Path

    from pipelines.harness.replay import run_replay

    report = run_replay(
        _settings(),
        Path(args.csv),
        time_col=args.time_col,
        x_col=args.x_col,
        y_col=args.y_col,
        crs=args.crs,
        category_col=args.category_col,
        time_format=args.time_format,
        tz=args.tz,
        cell_size_m=args.cell_size,
        top=args.top,
    )
    print(json.dumps(report, ensure_ascii=False, default=str))
    return 0


def _cmd_bench(args) -> int:
    from pipelines.harness.hotspot_bench import run_bench

    settings = _settings()
    if args.target == "nightly":
        from pipelines.harness import nightly_bench
        from pipelines.io.serving_store import check_postgres

        check_postgres(settings)
        if args.smoke:
            args.events, args.days = 50_000, 3
        report = nightly_bench.run_bench(settings, events=args.events, days=args.days)
        print(json.dumps(report, ensure_ascii=False))
        return 0
    if args.smoke:
        args.events, args.small, args.step_seconds, args.permutations = 60_000, 20_000, 8.0, 99
        args.rounds, args.warm_up_seconds = 1, 40.0
    report = run_bench(
        settings,
        events=args.events,
        small=args.small,
        density=args.density,
        step_seconds=args.step_seconds,
        permutations=args.permutations,
        rounds=args.rounds,
        warm_up_seconds=args.warm_up_seconds,
    )
    print(json.dumps(report, ensure_ascii=False))
    return 0


def _cmd_eval(args) -> int:
    from pipelines.harness.hotspot_eval import run_eval
    from pipelines.io.kafka import check_reachable

    settings = _settings()
    check_reachable(settings)
    if args.target == "graph":
        from pipelines.harness import graph_eval

        report = graph_eval.run_eval(
            settings, days=args.days, rate=args.rate, rings=args.rings, seed=args.seed
        )
        print(json.dumps(report, ensure_ascii=False, default=str))
        return 0
    report = run_eval(
        settings,
        history_hours=args.history_hours,
        hours=args.hours,
        rate=args.rate,
        surges=args.surges,
        multiplier=args.multiplier,
        duration_min=args.surge_minutes,
        seed=args.seed,
        radius=args.surge_radius,
    )
    print(json.dumps(report, ensure_ascii=False, default=str))
    return 0


def _usage_errors() -> tuple[type[BaseException], ...]:
    """Bad input from the user: exit 2."""
    from features.contract import ContractViolation

    return (UsageError, ContractViolation)


def _platform_errors() -> tuple[type[BaseException], ...]:
    """A service or the platform failed: exit 1. Anything else is a bug."""
    import psycopg2
    from confluent_kafka import KafkaException
    from py4j.protocol import Py4JError

    return (ZongzhiError, KafkaException, psycopg2.Error, OSError, Py4JError)


_COMMANDS = {
    "infra": _cmd_infra,
    "topics": _cmd_topics,
    "simulate": _cmd_simulate,
    "normalize": _cmd_job,
    "hotspots": _cmd_job,
    "lake": _cmd_job,
    "store-alerts": _cmd_job,
    "nightly": _cmd_nightly,
    "graph": _cmd_graph,
    "superset": _cmd_superset,
    "demo": _cmd_demo,
    "eval": _cmd_eval,
    "replay": _cmd_replay,
    "bench": _cmd_bench,
}


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    # Progress from our own modules; libraries (Beam, py4j) only when they warn.
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="[zongzhi %(asctime)s] %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for ours in ("pipelines", "jobs", "features", "models"):
        logging.getLogger(ours).setLevel(logging.DEBUG if args.verbose else logging.INFO)
    try:
        return _COMMANDS[args.command](args)
    except _usage_errors() as exc:
        print(f"zongzhi: {one_line(exc)}", file=sys.stderr)
        return 2
    except _platform_errors() as exc:
        print(f"zongzhi: {one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("zongzhi: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
