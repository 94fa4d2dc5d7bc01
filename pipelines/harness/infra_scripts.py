"""Run a script of ``infra/``: the single source of truth for how a service runs."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Mapping

from pipelines.errors import ServiceError
from pipelines.settings import Settings

__all__ = ["run_infra_script"]


def run_infra_script(
    settings: Settings,
    script: str,
    *args: str,
    capture: bool = False,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run ``infra/<script> args``, passing its progress lines through to stderr.

    A failure raises :class:`ServiceError` with the script's last line, which
    the scripts write as one clear sentence. ``env`` adds to the
    environment the script inherits.
    """
    path = settings.root / "infra" / script
    with subprocess.Popen(
        ["bash", str(path), *args],
        text=True,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE if capture else None,
        env={**os.environ, **env} if env else None,
    ) as proc:
        # Drained beside stderr: a script that prints more than a pipe holds
        # would otherwise block before closing stderr.
        captured: list[str] = []
        reader = threading.Thread(target=lambda: captured.append(proc.stdout.read()))
        if capture:
            reader.start()
        last = ""
        for line in proc.stderr:
            sys.stderr.write(line)
            if line.strip():
                last = line.strip()
        if capture:
            reader.join()
        out = "".join(captured)
        code = proc.wait()
    if code != 0:
        raise ServiceError(
            last.removeprefix("zongzhi: ") or f"infra/{script} {' '.join(args)} failed"
        )
    return out
