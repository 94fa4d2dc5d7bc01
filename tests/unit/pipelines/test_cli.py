"""The command line: help everywhere, one clear line for bad input."""

import re
from datetime import datetime

import pytest

from pipelines.cli import build_parser, main

SUBCOMMANDS = [
    "infra",
    "topics",
    "simulate",
    "normalize",
    "hotspots",
    "lake",
    "store-alerts",
    "nightly",
    "train",
    "classify",
    "replies",
    "hot-issues",
    "graph",
    "keys",
    "jurisdictions",
    "alert-service",
    "accounts",
    "superset",
    "report",
    "notebook",
    "demo",
    "eval",
    "replay",
    "bench",
]


def test_every_subcommand_is_listed_and_answers_help(capsys):
    assert main(["bogus"]) == 2
    choices = capsys.readouterr().err.split("(choose from ", 1)[1]
    assert sorted(re.findall(r"'([a-z-]+)'", choices)) == sorted(SUBCOMMANDS)
    for command in SUBCOMMANDS:
        with pytest.raises(SystemExit) as info:
            main([command, "--help"])
        assert info.value.code == 0
        assert f"usage: zongzhi {command}" in capsys.readouterr().out


def test_arguments_are_read_into_their_types():
    args = build_parser().parse_args(
        [
            "simulate",
            "--start",
            "2026-11-27T08:00:00",
            "--surge",
            "busiest:public_order.fight:60:30:3",
            "--malformed-fraction",
            "0.25",
        ]
    )
    assert args.start == datetime.fromisoformat("2026-11-27T08:00:00+08:00")
    assert args.start.utcoffset().total_seconds() == 8 * 3600
    assert args.surge == [("busiest", "public_order.fight", 60.0, 30.0, 3.0)]
    assert (args.hours, args.malformed_fraction, args.seed) == (3.0, 0.25, 1)
    args = build_parser().parse_args(["graph", "--as-of", "2026-01-02"])
    assert args.as_of == "2026-01-02"
    args = build_parser().parse_args(["bench", "hotspots"])
    # At least two interleaved rounds by default: each figure is a median.
    assert (args.rounds, args.checkpoint_intervals) == (3, ())
    args = build_parser().parse_args(["bench", "hotspots", "--checkpoint-intervals", "0.5,1"])
    assert args.checkpoint_intervals == (0.5, 1.0)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["simulate", "--hours", "x"], "zongzhi simulate: argument --hours: 'x' is not a float"),
        (["simulate", "--hours", "-2"], "zongzhi simulate: argument --hours: '-2' must be > 0"),
        (
            ["simulate", "--malformed-fraction", "1.5"],
            "zongzhi simulate: argument --malformed-fraction: '1.5' must lie in [0, 1]",
        ),
        (
            ["simulate", "--start", "noon"],
            "zongzhi simulate: argument --start: 'noon' is not an ISO-8601 time",
        ),
        (
            ["simulate", "--surge", "r1:x"],
            "zongzhi simulate: argument --surge: 'r1:x' must be CELL:CATEGORY:START_MIN:DURATION_MIN:MULTIPLIER",
        ),
        (["infra", "restart"], "zongzhi infra: argument action: invalid choice: 'restart'"),
        (
            ["graph", "--as-of", "yesterday"],
            "zongzhi graph: argument --as-of: 'yesterday' is not a date such as 2026-11-27",
        ),
        (["bogus"], "zongzhi: argument COMMAND: invalid choice: 'bogus'"),
        (["keys", "turn"], "zongzhi keys: argument action: invalid choice: 'turn'"),
        (
            ["keys", "rotate", "--to-version", "0"],
            "zongzhi keys: argument --to-version: '0' must be > 0",
        ),
        (
            ["keys", "status", "--to-version", "2"],
            "zongzhi: --to-version provided, but only `keys rotate` takes it",
        ),
        (
            ["hotspots", "--watermark-delay-seconds", "0"],
            "zongzhi hotspots: argument --watermark-delay-seconds: '0' must be > 0",
        ),
        (
            ["eval", "hotspots", "--multiplier", "0.5"],
            "zongzhi eval hotspots: argument --multiplier: '0.5' must be > 1 (times the baseline)",
        ),
        (["eval", "nodes"], "zongzhi eval: argument TARGET: invalid choice: 'nodes'"),
        (
            ["eval", "hotspots", "--incidents-per-day", "0"],
            "zongzhi eval hotspots: argument --incidents-per-day: '0' must be > 0",
        ),
        (
            ["eval", "fusion", "--hours", "x"],
            "zongzhi eval fusion: argument --hours: 'x' is not a float",
        ),
        (
            ["bench", "hotspots", "--checkpoint-intervals", "0.5,0"],
            "zongzhi bench hotspots: argument --checkpoint-intervals: '0.5,0' is not a "
            "comma-separated list of positive seconds, such as 0.5,1",
        ),
        (
            ["eval", "graph", "--rings", "0"],
            "zongzhi eval graph: argument --rings: '0' must be > 0",
        ),
        (
            [
                "replay",
                "missing.csv",
                "--time-col",
                "t",
                "--x-col",
                "x",
                "--y-col",
                "y",
                "--crs",
                "WGS84",
            ],
            "zongzhi: missing.csv is not a readable file",
        ),
        (
            [
                "replay",
                "{csv}",
                "--time-col",
                "when",
                "--x-col",
                "x",
                "--y-col",
                "y",
                "--crs",
                "WGS84",
            ],
            "zongzhi: points.csv has no column 'when'; its columns are t, x, y",
        ),
        (
            ["replay", "{csv}", "--time-col", "t", "--x-col", "x", "--y-col", "y", "--crs", "OSGB"],
            "zongzhi: --crs 'OSGB' is not supported; use WGS84, GCJ02, BD09",
        ),
        (
            [
                "replay",
                "{csv}",
                "--time-col",
                "t",
                "--x-col",
                "x",
                "--y-col",
                "y",
                "--crs",
                "EPSG:999999",
            ],
            "zongzhi: --crs 'EPSG:999999' is not a coordinate system",
        ),
        (
            [
                "replay",
                "{csv}",
                "--time-col",
                "t",
                "--x-col",
                "x",
                "--y-col",
                "y",
                "--crs",
                "WGS84",
                "--tz",
                "Mars/Base",
            ],
            "zongzhi: --tz 'Mars/Base' is not a known",
        ),
        (
            ["bench", "faults", "--faults", "normalize-kill,broker-restart"],
            "zongzhi bench faults: argument --faults: 'normalize-kill,broker-restart': "
            "'broker-restart' not among: normalize-kill, hotspot-kill, postgres-outage, "
            "poison-records",
        ),
        (
            ["bench", "faults", "--faults", "poison-records,poison-records"],
            "zongzhi bench faults: argument --faults: 'poison-records,poison-records' names a "
            "value twice",
        ),
        (
            ["bench", "alerts", "--clients", "0"],
            "zongzhi bench alerts: argument --clients: '0' must be > 0",
        ),
        (
            ["bench", "faults", "--hours", "9"],
            "zongzhi: --hours 9 is not allowed; allowed: 2.5 <= hours < 7",
        ),
        (
            ["infra", "up", "--services", "redis"],
            "zongzhi: service 'redis' is not one of: kafka, postgres, alert-service, superset",
        ),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "points.csv").write_text("t,x,y\n2020-01-01T00:00:00,116.8,40.4\n")
    argv = [a.replace("{csv}", "points.csv") for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_unreachable_kafka_gives_one_line_and_exit_1(capsys, monkeypatch):
    monkeypatch.setenv("ZONGZHI_KAFKA_BOOTSTRAP", "127.0.0.1:9")
    # No broker ever ran here: the principals' passwords come from the environment.
    for principal in ("ADMIN", "PLATFORM"):
        monkeypatch.setenv(f"ZONGZHI_KAFKA_PASSWORD_{principal}", "unused")
    assert main(["topics", "counts"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("zongzhi: Kafka at 127.0.0.1:9 is unreachable")
    assert err.count("\n") == 1


def test_unreachable_postgres_gives_one_line_before_spark_starts(capsys, monkeypatch):
    monkeypatch.setenv("ZONGZHI_PG_PORT", "9")
    monkeypatch.setenv("ZONGZHI_PG_PASSWORD", "unused")
    assert main(["nightly"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("zongzhi: PostgreSQL at 127.0.0.1:9 is unreachable")
    assert err.count("\n") == 1


def test_py4j_errors_are_reported_by_their_cause():
    from pipelines.errors import one_line

    error = RuntimeError(
        "An error occurred while calling o197.save.\n"
        ": org.postgresql.util.PSQLException: Connection refused.\n\tat x"
    )
    assert one_line(error) == "org.postgresql.util.PSQLException: Connection refused."


def test_eval_classifier_without_its_data_says_so_in_one_line(tmp_path, capsys):
    assert main(["eval", "classifier", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert f"{tmp_path}/labelled_messages_fujian2.xlsx: no such file" in err[0]


def test_eval_classifier_names_a_missing_column(tmp_path, capsys):
    import pandas as pd

    pd.DataFrame({"留言主题": ["路灯"], "留言详情": ["不亮"]}).to_excel(
        tmp_path / "labelled_messages_fujian2.xlsx", index=False
    )
    assert main(["eval", "classifier", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "no column '一级分类'; its columns are '留言主题', '留言详情'" in err
