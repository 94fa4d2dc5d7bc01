"""What a bench job's own Flink log says: how often it restarted, what its checkpoints cost.

Each of the bench's jobs runs in a child process whose PyFlink gateway JVM
holds the local mini-cluster. The child gets a log folder of its own
(``FLINK_LOG_DIR``, which PyFlink's gateway reads at launch), so the log
holds that one job and survives the child.

* **Restarts.** Flink's scheduler logs every restart it makes, whether of a
  failover region or of the whole job, as ``<n> tasks will be restarted to
  recover ...`` (the events its ``numRestarts`` metric counts); the task
  that failed logs ``switched from RUNNING to FAILED with failure cause:``
  followed by the trace. A run that restarted replayed part of its input,
  so its figures mix two runs: the bench reports it and fails.
* **Checkpoints.** The checkpoint coordinator logs ``Completed checkpoint
  <n> for job <id> (<bytes> bytes, checkpointDuration=<ms> ms, ...)``, and
  a checkpoint that failed or was declined in other words.
* **Running time.** The job's state changes (``switched from state CREATED
  to RUNNING``, ``... to FINISHED``) time the job itself, without the
  start of the JVM and the planning before it, whose length varies most
  on a loaded machine.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from pipelines.io.flink import job_failure_cause
from pipelines.settings import Settings

__all__ = [
    "RESTART_MARK",
    "flink_logs",
    "flink_log_dir",
    "job_log",
    "read_flink_log",
    "tasks_running",
]

#: What Flink's scheduler logs (at INFO, as the JobMaster) for each restart.
RESTART_MARK = "tasks will be restarted to recover"
_FAILURE_MARKS = (
    "switched from RUNNING to FAILED with failure cause",
    "Trying to recover from a global failure",
)
_COMPLETED = re.compile(
    r"Completed checkpoint \d+ for job \w+ \((\d+) bytes, checkpointDuration=(\d+) ms"
)
_CHECKPOINT_FAILED = ("Decline checkpoint", "Triggering Checkpoint", "expired before completing")
#: The scheduler's line for each task deployed, and for each that came up running.
_TASK_DEPLOYED = re.compile(r"ExecutionGraph .* switched from SCHEDULED to DEPLOYING\.")
_TASK_RUNNING = re.compile(r"ExecutionGraph .* switched from INITIALIZING to RUNNING\.")
_JOB_STATE = re.compile(r"^(\S+ \S+) .* - Job .* switched from state (\w+) to (\w+)\.")
#: A log4j line of the CLI layout starts with its date and time.
_LOG_LINE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
#: Causes kept per run (the first ones; a restart loop repeats them).
_CAUSES_KEPT = 3


def flink_logs(settings: Settings) -> Path:
    """The folder of the bench jobs' log folders (emptied by each bench)."""
    return settings.var / "bench" / "flink-logs"


def flink_log_dir(settings: Settings, run: str) -> Path:
    """The log folder of the bench job ``run`` (created, emptied of an earlier log)."""
    folder = flink_logs(settings) / run
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.log"):
        old.unlink()
    return folder


def read_flink_log(text: str) -> dict:
    r"""Restarts, the first failure causes (one line each) and checkpoints a Flink log records.

    Examples
    --------
    >>> log = (
    ...     "2026-12-05 00:37:30,100 INFO  o.a.f.r.c.CheckpointCoordinator [] - Completed "
    ...     "checkpoint 1 for job 26f (5100 bytes, checkpointDuration=40 ms, finalizationTime=0 ms).\n"
    ...     "2026-12-05 00:37:38,238 WARN  o.a.f.r.taskmanager.Task [] - Source (1/1)#0 "
    ...     "switched from RUNNING to FAILED with failure cause:\n"
    ...     "java.lang.RuntimeException: flush failed\n\tat a.b(C.java:1)\n"
    ...     "Caused by: java.io.IOException: Size of the state is larger\n\tat d.e\n"
    ...     "2026-12-05 00:37:38,513 INFO  o.a.f.r.jobmaster.JobMaster [] - 2 tasks will be "
    ...     "restarted to recover the failed task 63_0.\n"
    ...     "2026-12-05 00:37:39,544 INFO  o.a.f.r.e.ExecutionGraph [] - Job zongzhi switched "
    ...     "from state RESTARTING to RUNNING.\n")
    >>> found = read_flink_log(log)
    >>> found["restarts"], found["causes"]
    (1, ['java.io.IOException: Size of the state is larger'])
    >>> found["running_s"] is None  # the job never finished
    True
    >>> checkpoints = found["checkpoints"]
    >>> checkpoints["completed"], checkpoints["duration_ms_median"], checkpoints["bytes_max"]
    (1, 40.0, 5100)
    """
    lines = text.splitlines()
    causes: list[str] = []
    for i, line in enumerate(lines):
        if len(causes) >= _CAUSES_KEPT:
            break
        if not any(mark in line for mark in _FAILURE_MARKS):
            continue
        trace = []
        for following in lines[i + 1 :]:
            if _LOG_LINE.match(following):
                break
            trace.append(following)
        cause = job_failure_cause("\n".join(trace)) if trace else line.split(" - ", 1)[-1]
        causes.append(cause[:300])
    completed = [tuple(map(int, m.groups())) for m in map(_COMPLETED.search, lines) if m]
    durations = [duration for _, duration in completed]
    states = [m.groups() for m in map(_JOB_STATE.match, lines) if m]
    running = [_log_time(at) for at, _, new in states if new == "RUNNING"]
    finished = [_log_time(at) for at, _, new in states if new == "FINISHED"]
    return {
        "restarts": sum(RESTART_MARK in line for line in lines),
        "running_s": round(finished[-1] - running[0], 3) if running and finished else None,
        "causes": causes,
        "checkpoints": {
            "completed": len(completed),
            "failed": sum(any(mark in line for mark in _CHECKPOINT_FAILED) for line in lines),
            "duration_ms_median": float(np.median(durations)) if durations else None,
            "duration_ms_max": max(durations) if durations else None,
            "bytes_max": max(size for size, _ in completed) if completed else None,
        },
    }


def tasks_running(text: str) -> bool:
    """Whether every task the scheduler deployed is running: the job reads its input.

    A task is running once it has opened its operators (a Python operator
    has started its worker), so a followed job is ready for a paced stream.

    >>> graph = "INFO  o.a.f.r.executiongraph.ExecutionGraph [] - "
    >>> deployed = [graph + f"Task {i} (1/1) switched from SCHEDULED to DEPLOYING." for i in (1, 2)]
    >>> up = graph + "Task 1 (1/1) switched from INITIALIZING to RUNNING."
    >>> tasks_running(""), tasks_running("\\n".join(deployed + [up]))
    (False, False)
    >>> tasks_running("\\n".join(deployed + [up, up.replace("Task 1", "Task 2")]))
    True
    """
    lines = text.splitlines()
    deployed = sum(bool(_TASK_DEPLOYED.search(line)) for line in lines)
    running = sum(bool(_TASK_RUNNING.search(line)) for line in lines)
    return 0 < deployed <= running


def _log_time(stamp: str) -> float:
    """Seconds since the epoch of a log line's ``2026-12-05 00:37:34,280`` (its clock)."""
    from datetime import datetime

    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def job_log(folder: Path) -> dict:
    """:func:`read_flink_log` of the log in ``folder``.

    Without a log the restarts are unknown (``None``), which the bench
    counts as a failed run: no log is no proof.
    """
    logs = sorted(folder.glob("*.log"))
    if not logs:
        return {
            "restarts": None,
            "causes": [f"no Flink log in {folder}"],
            "running_s": None,
            "checkpoints": None,
        }
    return read_flink_log("\n".join(path.read_text(errors="replace") for path in logs))
