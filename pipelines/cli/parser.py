"""The ``zongzhi`` parser: the subcommands and their arguments, in ``--help`` order.

This module holds the platform's own commands (services, topics, the
simulator, the jobs); :mod:`pipelines.cli.harness_parsers` adds the ones that
drive or measure it (demo, replay, bench, eval).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.cli.arguments import (
    OneLineParser,
    fraction,
    iso_date,
    iso_time,
    positive,
    surge_spec,
)
from pipelines.cli.harness_parsers import add_harness_commands

__all__ = ["build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of every ``zongzhi`` subcommand; its errors are one line."""
    parser = OneLineParser(
        prog="zongzhi",
        description=(
            "Streaming analytics and data mining for social-governance centers (综治中心)."
        ),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    sub.required = True

    _add_platform_commands(sub)
    add_harness_commands(sub)
    return parser


def _add_platform_commands(sub) -> None:
    infra = sub.add_parser("infra", help="start, stop or inspect the local services")
    infra.add_argument("action", choices=["up", "down", "status"])
    infra.add_argument(
        "--services",
        default="kafka,postgres,alert-service,superset",
        help="comma-separated subset of kafka,postgres,alert-service,superset (default: all)",
    )

    topics = sub.add_parser("topics", help="inspect or reset the declared Kafka topics")
    topics.add_argument("action", choices=["counts", "reset"])

    sim = sub.add_parser("simulate", help="stream a simulated district into the raw topics")
    sim.add_argument(
        "--hours",
        type=positive(float),
        default=3.0,
        help="event-time length of the stream (default 3)",
    )
    sim.add_argument(
        "--start",
        type=iso_time,
        help="event time of the first record (default: --hours before now)",
    )
    sim.add_argument(
        "--rate", type=positive(float), help="events per hour (default: simulator.events_per_hour)"
    )
    sim.add_argument(
        "--malformed-fraction",
        type=fraction,
        help="fraction of malformed records (default: simulator.malformed_fraction)",
    )
    sim.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    sim.add_argument(
        "--surge",
        type=surge_spec,
        action="append",
        default=[],
        help="plant a surge CELL:CATEGORY:START_MIN:DURATION_MIN:MULTIPLIER",
    )
    sim.add_argument(
        "--rings", type=int, default=3, help="rings of persons and vehicles (default 3)"
    )
    sim.add_argument(
        "--speedup",
        type=positive(float),
        help="pace event time this many times faster than the wall clock "
        "(default: as fast as possible)",
    )
    sim.add_argument("--ground-truth", help="where to write the planted ground truth (JSON)")

    for name, text in (
        ("normalize", "run the normalization job (Flink)"),
        ("hotspots", "run the hotspot job (Flink)"),
        ("lake", "load the normalized topic into the Parquet lake"),
        ("store-alerts", "write the alerts topic into PostgreSQL (waits while it is down)"),
    ):
        job = sub.add_parser(name, help=text)
        job.add_argument(
            "--follow",
            action="store_true",
            help="keep running on new records (default: stop at the end of input)",
        )
        if name in ("normalize", "hotspots"):
            default, said = (None, "normalization.parallelism") if name == "normalize" else (1, "1")
            job.add_argument(
                "--parallelism",
                type=positive(int),
                default=default,
                help=f"the job's subtasks (default: {said})",
            )
            job.add_argument(
                "--fresh",
                action="store_true",
                help="with --follow: start from the consumer group's offsets, not from the "
                "job's latest checkpoint",
            )
        if name == "hotspots":
            job.add_argument(
                "--watermark-delay-seconds",
                type=positive(int),
                default=None,
                help="disorder of event time the windows allow (default: "
                "hotspot.watermark_delay_seconds with --follow, else "
                "hotspot.backfill_watermark_delay_seconds)",
            )
            job.add_argument(
                "--count-reports",
                action="store_true",
                help="count every report, not each incident once (default: "
                "incident_fusion.count_incidents)",
            )

    sub.add_parser("nightly", help="run the nightly Spark job on the lake")
    _add_hotline_commands(sub)
    graph = sub.add_parser(
        "graph",
        help=(
            "build, mine and store the nightly relation graph (entity resolution, companion "
            "vehicles, communities)"
        ),
    )
    graph.add_argument(
        "--as-of",
        type=iso_date,
        default=None,
        help="the night's date, YYYY-MM-DD (default: the lake's latest day)",
    )

    keys = sub.add_parser(
        "keys", help="inspect or rotate the pseudonymization keys (docs/pseudonymization.md)"
    )
    keys.add_argument("action", choices=["status", "rotate"])
    keys.add_argument(
        "--to-version",
        type=positive(int),
        default=None,
        help="rotate: the version to end at, the current one (rewrite its rotation table "
        "only) or the next (default: the next)",
    )

    jurisdictions = sub.add_parser(
        "jurisdictions",
        help="write or check the jurisdiction policy: the centers and what each may see",
    )
    jurisdictions.add_argument("action", choices=["write", "check"])
    jurisdictions.add_argument(
        "--force",
        action="store_true",
        help="write: replace an existing policy file (and any edits in it)",
    )

    sub.add_parser(
        "alert-service",
        help="serve the alert service (live pages, API, closed loop) until stopped; "
        "`zongzhi infra up` starts it in the background",
    )

    accounts = sub.add_parser(
        "accounts",
        help="add, list or reset the alert service's accounts (one per person, bound to a center)",
    )
    accounts.add_argument("action", choices=["add", "list", "password"])
    accounts.add_argument("--username", help="add, password: the account's username")
    accounts.add_argument("--center", help="add: its center's code; list: only that center's")
    accounts.add_argument(
        "--role", default="duty", help="add: duty (值班员) or supervisor (督办员); default duty"
    )
    accounts.add_argument("--name", help="add: the person's name as staff read it")

    superset = sub.add_parser(
        "superset",
        help="provision Superset from infra/ (assets, and roles and row-level security from "
        "the jurisdiction policy), or export what it holds",
    )
    superset.add_argument("action", choices=["provision", "export"])
    superset.add_argument("--out", help="export: the folder to write (assets/ and access.json)")

    report = sub.add_parser(
        "report",
        help="the monthly stability report (安全稳定月报分析) of a month, as HTML and PDF",
    )
    report.add_argument("--month", required=True, help="the month, YYYY-MM (e.g. 2026-11)")
    report.add_argument("--town", help="a town code; default: the whole district")
    report.add_argument("--out", required=True, help="the folder to write the report into")
    notebook = sub.add_parser(
        "notebook", help="run a planners' notebook headless (notebooks/), as HTML and PDF"
    )
    notebook.add_argument("name", choices=["trend_analysis"])
    notebook.add_argument("--out", required=True, help="the folder to write into")
    notebook.add_argument("--end", type=iso_date, help="trend_analysis: last day + 1 (YYYY-MM-DD)")
    notebook.add_argument(
        "--days", type=positive, default=56, help="trend_analysis: days of history"
    )


def _add_hotline_commands(sub) -> None:
    train = sub.add_parser("train", help="fit a model and write its versioned artifact")
    train_sub = train.add_subparsers(dest="target", metavar="TARGET", parser_class=OneLineParser)
    train_sub.required = True
    router = train_sub.add_parser(
        "classifier",
        help="the hotline router, on the labelled reference messages "
        "(hotline_routing.artifact under the state folder)",
    )
    router.add_argument("--json", action="store_true", help="print the card as JSON (the default)")
    router.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder of the labelled messages (default: hotline_routing.reference_data)",
    )
    router.add_argument("--seed", type=int, default=0, help="of the cross-validation's folds")

    classify = sub.add_parser(
        "classify",
        help="route each message of a CSV or XLSX file: class, department, flagged or not "
        "(needs no service)",
    )
    classify.add_argument("file", type=Path, help="a .csv or .xlsx file of messages")
    classify.add_argument("--text-col", required=True, help="the column of the message text")
    classify.add_argument("--title-col", default=None, help="the column of its subject, if any")
    classify.add_argument(
        "--model",
        type=Path,
        default=None,
        help="the router's folder (default: hotline_routing.artifact under the state folder)",
    )
    classify.add_argument(
        "--json", action="store_true", help="print the result as JSON (the default)"
    )

    replies = sub.add_parser(
        "replies",
        help="response times and the answering units of a CSV or XLSX of answered messages",
    )
    replies.add_argument("file", type=Path, help="a .csv or .xlsx file of answered messages")
    replies.add_argument(
        "--asked-col", default="留言时间", help="the message's time (default 留言时间)"
    )
    replies.add_argument(
        "--answered-col", default="答复时间", help="the reply's time (default 答复时间)"
    )
    replies.add_argument(
        "--reply-col", default="答复意见", help="the reply's text (default 答复意见)"
    )
    replies.add_argument(
        "--publish",
        action="store_true",
        help="write the answered-within-deadline counts to PostgreSQL (serving.reply_baseline), "
        "the 12345 reference of the closed-loop dashboard",
    )
    replies.add_argument(
        "--json", action="store_true", help="print the report as JSON (the default)"
    )

    hot = sub.add_parser(
        "hot-issues",
        help="group a CSV or XLSX of citizens' messages into issues and rank them by heat",
    )
    hot.add_argument("file", type=Path, help="a .csv or .xlsx file of messages")
    hot.add_argument(
        "--top", type=positive(int), default=None, help="issues to give (default hot_issues.top)"
    )
    for role, name in (
        ("id", "留言编号"),
        ("user", "留言用户"),
        ("title", "留言主题"),
        ("body", "留言详情"),
        ("time", "留言时间"),
        ("likes", "点赞数"),
        ("dislikes", "反对数"),
    ):
        hot.add_argument(
            f"--{role}-col", default=name, help=f"the column of the {role} (default {name})"
        )
    hot.add_argument("--json", action="store_true", help="print the report as JSON (the default)")
