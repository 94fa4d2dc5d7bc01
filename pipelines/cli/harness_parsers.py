"""The ``zongzhi`` subcommands that drive or measure the platform: demo, replay, bench, eval."""

from __future__ import annotations

from pathlib import Path

from features.local_time import DISTRICT_TZ_NAME
from pipelines.cli.arguments import (
    OneLineParser,
    choice_list,
    fraction,
    iso_time,
    positive,
    seconds_list,
    surge_multiplier,
)
from pipelines.harness.fault_names import FAULTS

__all__ = ["add_harness_commands"]


def add_harness_commands(sub) -> None:
    """Add demo, replay, bench and eval, in this order, to the ``zongzhi`` subparsers."""
    _add_demo(sub)
    _add_replay(sub)
    _add_bench(sub)
    _add_eval(sub)


def _add_demo(sub) -> None:
    demo = sub.add_parser("demo", help="the whole platform end to end, with a printed summary")
    demo.add_argument(
        "--hours",
        type=positive(float),
        default=6.0,
        help="event-time length of the simulated stream (default 6)",
    )
    demo.add_argument(
        "--history-hours",
        type=positive(float),
        default=24.0,
        help="event-time length of the history that seeds the baselines (default 24)",
    )
    demo.add_argument(
        "--history-days",
        type=int,
        default=15,
        help="days before that history written straight into the lake, for trends, "
        "week-on-week changes and the monthly report (default 15; 0: none)",
    )
    demo.add_argument(
        "--speedup",
        type=positive(float),
        default=240.0,
        help="event time runs this many times faster than the wall clock (default 240)",
    )
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument(
        "--end",
        type=iso_time,
        help="event time at which the live stream ends (default: now); with the same "
        "--end and --seed two runs simulate the same events",
    )
    demo.add_argument("--no-superset", action="store_true", help="skip Superset")


def _add_replay(sub) -> None:
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
        type=positive(float),
        help="cell size in metres (default: district.cell_size_m)",
    )
    replay.add_argument(
        "--top", type=positive(int), default=10, help="clusters and hot cells to list (default 10)"
    )
    replay.add_argument(
        "--null",
        choices=["permute"],
        default=None,
        help="also replay a copy with its times permuted within each category, whose clusters "
        "are all false, and compare (default: none)",
    )
    replay.add_argument("--seed", type=int, default=0, help="the permutation's seed (default 0)")
    replay.add_argument(
        "--baselines",
        choices=["prospective", "retrospective"],
        default="prospective",
        help="prospective: each day's from the file's events before it, after a warm-up "
        "(default); retrospective: the whole file's, future included",
    )
    replay.add_argument(
        "--warm-up-days",
        type=positive(float),
        default=14.0,
        help="with prospective baselines: the file's first days, not scored (default 14)",
    )
    replay.add_argument(
        "--tails",
        choices=["gamma-poisson", "poisson"],
        default="gamma-poisson",
        help="gamma-poisson: each cell's rate as uncertain as the file's past makes it, the "
        "detector's tails negative binomial (default); poisson: rates taken as known",
    )
    replay.add_argument(
        "--zones",
        type=positive(int),
        default=1,
        help="the budget's unit: the file's area split into this many zones (k-means of its "
        "events' places), each allowed the budget per month, as a district's towns are "
        "(default 1)",
    )
    replay.add_argument(
        "--zone-col",
        help="the budget's unit from the file: this column names each event's area (a "
        "police district, a neighbourhood); each cell joins the area most of its events name, "
        "and each area is allowed the budget per month (instead of --zones)",
    )
    replay.add_argument(
        "--json", action="store_true", help="print the report as JSON (the default)"
    )


def _add_bench(sub) -> None:
    bench = sub.add_parser("bench", help="benchmark a component against its baselines")
    bench_sub = bench.add_subparsers(dest="target", metavar="TARGET", parser_class=OneLineParser)
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
        type=positive(int),
        default=2_000_000,
        help="events in the large backlog (default 2,000,000)",
    )
    bh.add_argument(
        "--small",
        type=positive(int),
        default=100_000,
        help="events in the small backlog that cancels start-up cost (default 100,000)",
    )
    bh.add_argument(
        "--density",
        type=positive(float),
        default=20.0,
        help="events per second of event time over the district (default 20)",
    )
    bh.add_argument(
        "--step-seconds",
        type=positive(float),
        default=30.0,
        help="wall time of each rate step (default 30)",
    )
    bh.add_argument("--permutations", type=positive(int), default=999)
    bh.add_argument(
        "--warm-up-seconds",
        type=positive(float),
        default=60.0,
        help="wall time of the unreported first rate step (default 60)",
    )
    bh.add_argument(
        "--rounds",
        type=positive(int),
        default=3,
        help="interleaved rounds of the throughput runs; each reports its median (default 3)",
    )
    bh.add_argument(
        "--checkpoint-intervals",
        type=seconds_list,
        default=(),
        metavar="S,S,...",
        help=(
            "also drain with checkpoints at these intervals in seconds (e.g. 0.5,1), "
            "beside the configured flink.checkpoint_interval_seconds (default: none)"
        ),
    )
    bh.add_argument(
        "--smoke", action="store_true", help="a small, quick run that checks the bench works (CI)"
    )

    bz = bench_sub.add_parser(
        "normalize",
        help=(
            "the normalization job against pure Flink SQL on the three channels' raw mix, "
            "and the contract alone"
        ),
    )
    bz.add_argument("--json", action="store_true", help="print the report as JSON (the default)")
    bz.add_argument(
        "--events",
        type=positive(int),
        default=400_000,
        help="raw records in the large backlog (default 400,000)",
    )
    bz.add_argument(
        "--small",
        type=positive(int),
        default=40_000,
        help="raw records in the small backlog that cancels start-up cost (default 40,000)",
    )
    bz.add_argument(
        "--rounds",
        type=positive(int),
        default=2,
        help="interleaved rounds of the two jobs; each reports its median (default 2)",
    )
    bz.add_argument(
        "--malformed-fraction",
        type=fraction,
        default=0.03,
        help="share of malformed raw records, as in the demo's live stream (default 0.03)",
    )
    bz.add_argument(
        "--parallelism",
        type=positive(int),
        default=None,
        help="the jobs' parallelism (default: normalization.parallelism, as `zongzhi normalize` "
        "runs)",
    )
    bz.add_argument(
        "--smoke", action="store_true", help="a small, quick run that checks the bench works (CI)"
    )

    bd = bench_sub.add_parser(
        "dashboards",
        help=(
            "a month of the district through the nightly job into Superset: the overview in a "
            "browser cold and warm, and a town's monthly report"
        ),
    )
    bd.add_argument("--json", action="store_true", help="print the report as JSON (the default)")
    bd.add_argument("--month", help="the month to write, YYYY-MM (default: last month)")
    bd.add_argument(
        "--days", type=positive(int), help="write only its first DAYS days (default: all)"
    )
    bd.add_argument(
        "--town", default="110118001", help="the town of the report (default 110118001)"
    )
    bd.add_argument(
        "--smoke", action="store_true", help="a small, quick run that checks the bench works (CI)"
    )

    ba = bench_sub.add_parser(
        "alerts",
        help=(
            "alerts through Kafka and the alert service to live pages and webhooks: latency "
            "from Kafka to a page, webhook latency, anything lost"
        ),
    )
    ba.add_argument("--json", action="store_true", help="print the report as JSON (the default)")
    ba.add_argument(
        "--rate", type=positive(float), default=200.0, help="alerts a second (default 200)"
    )
    ba.add_argument(
        "--seconds", type=positive(float), default=60.0, help="how long to produce (default 60)"
    )
    ba.add_argument(
        "--clients",
        type=positive(int),
        default=1000,
        help="live pages connected, spread over every center (default 1,000)",
    )
    ba.add_argument(
        "--webhooks",
        type=positive(int),
        default=5,
        help="webhook subscriptions of the district, on loopback (default 5)",
    )
    ba.add_argument(
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
        type=positive(int),
        default=10_000_000,
        help="events in the synthetic lake (default 10,000,000)",
    )
    bn.add_argument(
        "--days", type=positive(int), default=30, help="days they spread over (default 30)"
    )
    bn.add_argument(
        "--smoke", action="store_true", help="a small, quick run that checks the bench works (CI)"
    )

    bf = bench_sub.add_parser(
        "faults",
        help=(
            "each fault (job kills, a PostgreSQL outage, poison records) against an "
            "undisturbed run: records balanced, alerts equal, recovery time"
        ),
    )
    bf.add_argument("--json", action="store_true", help="print the report as JSON (the default)")
    bf.add_argument(
        "--faults",
        type=choice_list(FAULTS),
        default=FAULTS,
        help=f"comma-separated faults to run (default all: {','.join(FAULTS)})",
    )
    bf.add_argument(
        "--hours",
        type=positive(float),
        default=4.0,
        help="event-time length of the simulated stream, 2.5 to under 7 (default 4)",
    )
    bf.add_argument(
        "--outage-seconds",
        type=positive(float),
        default=30.0,
        help="how long PostgreSQL stays stopped (default 30)",
    )
    bf.add_argument(
        "--poison",
        type=positive(int),
        default=500,
        help="poison records mixed into the raw topics (default 500)",
    )
    bf.add_argument(
        "--checkpoint-seconds",
        type=positive(int),
        default=2,
        help="checkpoint interval of the jobs during the bench (default 2)",
    )
    bf.add_argument("--seed", type=int, default=21)
    bf.add_argument(
        "--smoke", action="store_true", help="a small, quick run that checks the bench works (CI)"
    )


def _add_eval(sub) -> None:
    evaluate = sub.add_parser("eval", help="evaluate a detector against planted ground truth")
    eval_sub = evaluate.add_subparsers(dest="target", metavar="TARGET", parser_class=OneLineParser)
    eval_sub.required = True
    ev = eval_sub.add_parser(
        "hotspots",
        help=("the hotspot job on a stream with planted surges and on an equally long null stream"),
    )
    ev.add_argument("--json", action="store_true", help="print the report as JSON (the default)")
    ev.add_argument(
        "--history-hours",
        type=positive(float),
        default=72.0,
        help="history that seeds the nightly baselines (default 72)",
    )
    ev.add_argument(
        "--hours",
        type=positive(float),
        default=24.0,
        help="length of each evaluated stream (default 24)",
    )
    ev.add_argument(
        "--rate",
        type=positive(float),
        default=4000.0,
        help="events per hour over the district (default 4000)",
    )
    ev.add_argument(
        "--surges",
        type=positive(int),
        default=10,
        help="surges planted in the surge stream (default 10)",
    )
    ev.add_argument(
        "--multiplier",
        type=surge_multiplier,
        default=3.0,
        help="surge intensity over the baseline, > 1 (default 3)",
    )
    ev.add_argument(
        "--surge-minutes", type=positive(float), default=60.0, help="surge duration (default 60)"
    )
    ev.add_argument(
        "--surge-radius",
        type=int,
        choices=[0, 1, 2],
        default=1,
        help="a surge covers the cells within this many rows and columns of its "
        "centre (default 1: a 3 x 3 block)",
    )
    ev.add_argument(
        "--incidents-per-day",
        type=positive(float),
        default=None,
        help="also plant incidents that several channels report, and compare the null "
        "stream's false alarms counting incidents and counting reports (default: none)",
    )
    ev.add_argument("--seed", type=int, default=7)
    ec = eval_sub.add_parser(
        "classifier",
        help="the hotline router: nested cross-validation on the labelled reference messages",
    )
    ec.add_argument("--json", action="store_true", help="print the report as JSON (the default)")
    ec.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder of the labelled messages (default: hotline_routing.reference_data)",
    )
    ec.add_argument("--folds", type=positive(int), default=5, help="outer folds (default 5)")
    ec.add_argument("--seed", type=int, default=0)
    eca = eval_sub.add_parser(
        "calibration",
        help="the hotspot detector's false alarms, every time scale, on a Poisson null drawn "
        "from the simulator's law, against the budget (drives the look functions; needs no "
        "service)",
    )
    eca.add_argument("--json", action="store_true", help="print the report as JSON (the default)")
    eca.add_argument(
        "--town-weeks",
        type=positive(float),
        default=250.0,
        help="null town-weeks counted after a warm-up of the longest window (default 250)",
    )
    eca.add_argument("--seed", type=int, default=0)
    ep = eval_sub.add_parser(
        "power",
        help="planted surges of an hour to two days at every time scale, against three "
        "oracles told where each surge is (drives the look functions; needs no service)",
    )
    ep.add_argument("--json", action="store_true", help="print the report as JSON (the default)")
    ep.add_argument(
        "--surges", type=positive(int), default=30, help="surges planted per seed (default 30)"
    )
    ep.add_argument(
        "--seeds",
        type=positive(int),
        default=2,
        help="seeds 0..N-1, each its own null and surges (default 2)",
    )
    ef = eval_sub.add_parser(
        "fusion",
        help="incident fusion: links across channels against planted multi-channel incidents "
        "(needs no service)",
    )
    ef.add_argument("--json", action="store_true", help="print the report as JSON (the default)")
    ef.add_argument(
        "--days",
        type=positive(float),
        default=2.0,
        help="days of each simulated stream (default 2)",
    )
    ef.add_argument(
        "--incidents-per-day",
        type=positive(float),
        default=40.0,
        help="planted incidents a day that several channels report (default 40)",
    )
    ef.add_argument("--seed", type=int, default=5)
    ef.add_argument(
        "--detection",
        action="store_true",
        help="also run the hotspot job on a stream with these incidents, counting incidents "
        "and counting reports, and compare its false alarms (needs Kafka; resets the "
        "platform's topics, as eval hotspots does)",
    )
    ef.add_argument(
        "--history-hours",
        type=positive(float),
        default=48.0,
        help="with --detection: history that seeds the nightly baselines (default 48)",
    )
    ef.add_argument(
        "--hours",
        type=positive(float),
        default=24.0,
        help="with --detection: length of the scored stream (default 24)",
    )
    eg = eval_sub.add_parser(
        "graph",
        help=(
            "the nightly graph job on a stream with planted rings, convoys and damaged identities"
        ),
    )
    eg.add_argument("--json", action="store_true", help="print the report as JSON (the default)")
    eg.add_argument(
        "--days", type=positive(float), default=7.0, help="days of simulated events (default 7)"
    )
    eg.add_argument(
        "--rate",
        type=positive(float),
        default=400.0,
        help="events per hour over the district (default 400)",
    )
    eg.add_argument(
        "--rings",
        type=positive(int),
        default=8,
        help="planted rings of persons and vehicles (default 8)",
    )
    eg.add_argument("--seed", type=int, default=21)
