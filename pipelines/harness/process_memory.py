"""Resident memory of a process tree, read from ``/proc`` (Linux), for the benches.

Examples
--------
>>> parent_pid("4242 (java) S 17 4242 17 0 -1")
17
>>> parent_pid("4243 (a) b (c) S 99 4243")  # a command name may hold ") "
99
>>> vm_rss_bytes("Name:\\tjava\\nVmRSS:\\t  2048 kB\\nThreads:\\t40\\n")
2097152
>>> vm_rss_bytes("Name:\\tkthreadd\\n")  # kernel threads have no resident set
0
"""

from __future__ import annotations

import threading
from pathlib import Path

from pipelines.settings import Settings

__all__ = [
    "parent_pid",
    "vm_rss_bytes",
    "child_pids",
    "process_tree",
    "rss_bytes",
    "RssSampler",
    "broker_pids",
]


def parent_pid(stat: str) -> int:
    """The parent's pid in the text of ``/proc/<pid>/stat``."""
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def vm_rss_bytes(status: str) -> int:
    """The resident set in the text of ``/proc/<pid>/status``, in bytes (0 if absent)."""
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def child_pids(pid: int) -> list[int]:
    """The pids whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if parent_pid(stat) == pid:
            found.append(int(entry.name))
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(child_pids(current))
    return tree


def rss_bytes(pid: int) -> int:
    """The resident set of one process in bytes; 0 once it is gone."""
    try:
        return vm_rss_bytes(Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return 0


class RssSampler(threading.Thread):
    """Peak of the summed RSS of a process tree (and extra pids), sampled every 0.5 s."""

    def __init__(self, pid: int, extra: list[int]):
        super().__init__(daemon=True)
        self.pid, self.extra, self.peak = pid, extra, 0
        self._stop_event = threading.Event()

    def run(self):
        """Sample until stopped, keeping the peak."""
        while not self._stop_event.is_set():
            total = sum(rss_bytes(p) for p in process_tree(self.pid) + self.extra)
            self.peak = max(self.peak, total)
            self._stop_event.wait(0.5)

    def stop(self) -> int:
        """Stop sampling; return the peak in bytes."""
        self._stop_event.set()
        self.join()
        return self.peak


def broker_pids(settings: Settings) -> list[int]:
    """The local Kafka broker's pid, as its start script wrote it (none if unknown)."""
    try:
        return [int((settings.var / "run" / "kafka.pid").read_text().strip())]
    except (OSError, ValueError):
        return []
