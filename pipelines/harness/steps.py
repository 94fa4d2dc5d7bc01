"""Run one bounded ``zongzhi`` step in a child process.

Each Flink or Spark step gets a JVM of its own, which it releases when it
ends; the demo and the integration tests chain steps this way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from pipelines.errors import ServiceError
from pipelines.settings import Settings

__all__ = ["run_step", "child_env"]


def child_env() -> dict[str, str]:
    """This process's environment, less what PyFlink sets for its own use.

    A PyFlink job run in this process (local loopback mode) marks the process
    as a UDF worker (``PYFLINK_GATEWAY_DISABLED``); a child that inherited
    the mark could not start its own job.
    """
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYFLINK_GATEWAY_DISABLED", "PYFLINK_GATEWAY_PORT")
    }


def run_step(settings: Settings, *args: str, timeout: float = 900) -> dict | None:
    """Run ``zongzhi ARGS``; return the JSON report it printed last, if any.

    The JVMs of Flink and Spark may print log lines to stdout too, so the
    report is the last line that parses as a JSON object.
    """
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        cwd=settings.root,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
    )
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ServiceError(f"`zongzhi {' '.join(args)}` failed: {tail}")
    for line in reversed(result.stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None
