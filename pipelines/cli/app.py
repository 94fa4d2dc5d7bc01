"""``zongzhi``'s entry point: parse, set up logging, run the command, map errors to exit codes.

Bad input (a :class:`~pipelines.errors.UsageError` or a contract violation)
exits 2, a failed service or platform step exits 1, both as one line
``zongzhi: ...`` on stderr; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import os
import sys

from pipelines.cli.commands import COMMANDS
from pipelines.cli.parser import build_parser
from pipelines.errors import UsageError, ZongzhiError, one_line

__all__ = ["main"]


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


def main(argv: list[str] | None = None) -> int:
    """Run ``zongzhi`` with ``argv`` (default: the command line); return the exit code."""
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
    # Files the platform writes (lake, secrets, simulations, logs) may hold
    # personal data or keys: readable by this user only.
    os.umask(0o077)
    try:
        return COMMANDS[args.command](args)
    except _usage_errors() as exc:
        print(f"zongzhi: {one_line(exc)}", file=sys.stderr)
        return 2
    except _platform_errors() as exc:
        print(f"zongzhi: {one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("zongzhi: interrupted", file=sys.stderr)
        return 130
