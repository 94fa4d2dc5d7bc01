"""Run one bounded ``zongzhi`` step in a child process.

Each Flink or Spark step gets a JVM of its own, which it releases when it
ends; the demo and the integration tests chain steps this way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping

from pipelines.errors import ServiceError
from pipelines.settings import Settings

__all__ = ["run_step", "run_step_with_output", "child_env"]


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


def run_step(
    settings: Settings, *args: str, timeout: float = 900, env: Mapping[str, str] | None = None
) -> dict | None:
    """Run ``zongzhi ARGS``; return the JSON report it printed last, if any.

    The JVMs of Flink and Spark may print log lines to stdout too, so the
    report is the last line that parses as a JSON object. ``env`` adds to
    the child's environment (e.g. ``ZONGZHI_LAKE``).
    """
    return run_step_with_output(settings, *args, timeout=timeout, env=env)[0]


def run_step_with_output(
    settings: Settings, *args: str, timeout: float = 900, env: Mapping[str, str] | None = None
) -> tuple[dict | None, str]:
    """Run ``zongzhi ARGS`` as :func:`run_step` does; return its report and all it printed.

    The output (stdout, then stderr, undecodable bytes replaced) is what an
    operator's log file of the step would hold. :class:`ServiceError` names
    the step and its last line of stderr when it fails.
    """
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        cwd=settings.root,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        env={**child_env(), **(env or {})},
    )
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ServiceError(f"`zongzhi {' '.join(args)}` failed: {tail}")
    output = result.stdout + "\n" + result.stderr
    for line in reversed(result.stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line), output
            except json.JSONDecodeError:
                continue
    return None, output
