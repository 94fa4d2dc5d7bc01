"""The watch list on disk: the night's proposals, and the approved list the stream reads.

Two files in ``<lake>/watch_list/``, each replaced at once (written aside,
then renamed):

* ``proposals.parquet``: the nightly graph job's proposals
  (:func:`publish_proposals`), which nobody watches until reviewed;
* ``watch_list.parquet``: the approved, unexpired entries with their
  approval (:func:`publish_watch_list`), written by the alert service's
  review and re-read by the stream's :class:`WatchListStore` when it
  changes.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pandas as pd

from models.watch_list import APPROVAL_COLUMNS, WATCH_COLUMNS, WatchList
from pipelines.settings import Settings

__all__ = [
    "WATCH_FILE",
    "PROPOSALS_FILE",
    "watch_config",
    "publish_watch_list",
    "publish_proposals",
    "read_proposals",
    "WatchListStore",
]

log = logging.getLogger(__name__)

WATCH_FILE = "watch_list.parquet"
PROPOSALS_FILE = "proposals.parquet"
_KEYS = (
    "key_person_min_suspect_incidents",
    "key_person_min_risk",
    "min_shared_incidents",
    "include_companions",
    "sensitive_site_kinds",
    "sensitive_radius_m",
    "alert_slot_minutes",
    "reload_check_seconds",
    "approval_days",
)


def watch_config(settings: Settings) -> dict:
    """The ``watch_list:`` section of the configuration, checked for its keys."""
    return settings.section("watch_list", _KEYS)


def _replace(folder: Path, name: str, frame: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    aside = folder / f".{name}.tmp"
    frame.to_parquet(aside, index=False)
    os.replace(aside, path)
    return path


def publish_watch_list(folder: Path, watch: pd.DataFrame) -> Path:
    """Replace the watched list at once: entries with their approval columns (empty if absent)."""
    return _replace(folder, WATCH_FILE, watch.reindex(columns=WATCH_COLUMNS + APPROVAL_COLUMNS))


def publish_proposals(folder: Path, watch: pd.DataFrame) -> Path:
    """Replace the night's proposals at once."""
    return _replace(folder, PROPOSALS_FILE, watch[WATCH_COLUMNS])


def read_proposals(folder: Path) -> pd.DataFrame | None:
    """The latest night's proposals, or None when there are none (or the file is unreadable)."""
    import pyarrow.parquet as pq

    try:
        return pq.read_table(folder / PROPOSALS_FILE).to_pandas()
    except (OSError, ValueError, KeyError):
        return None


class WatchListStore:
    """The published watch list, re-read when its file changes.

    Looks at the file at most every ``check_seconds``; a missing or
    unreadable file is an empty list.
    """

    def __init__(self, folder: Path | None, check_seconds: float = 5.0, clock=time.monotonic):
        self.path = None if folder is None else Path(folder) / WATCH_FILE
        self.check_seconds = float(check_seconds)
        self._clock = clock
        self._checked = None
        self._stamp = None
        self._list = WatchList()

    def _stamp_now(self):
        try:
            stat = os.stat(self.path)
        except (OSError, TypeError):
            return None
        return stat.st_mtime_ns, stat.st_size

    def current(self) -> WatchList:
        """The watch list, re-read if its file changed since the last look."""
        now = self._clock()
        if self.path is None or (
            self._checked is not None and now - self._checked < self.check_seconds
        ):
            return self._list
        self._checked = now
        stamp = self._stamp_now()
        if stamp != self._stamp:
            self._stamp = stamp
            self._list = self._load()
        return self._list

    def _load(self) -> WatchList:
        import pyarrow.parquet as pq

        if self._stamp is None:
            log.warning("no watch list at %s yet: no vehicle is watched", self.path)
            return WatchList()
        try:
            watch = WatchList(pq.read_table(self.path).to_pandas())
        except (OSError, ValueError, KeyError) as exc:
            log.warning(
                "watch list %s is unreadable (%s): no vehicle is watched",
                self.path,
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
            )
            return WatchList()
        log.info("watch list %s: %d vehicle(s) watched", self.path, len(watch))
        return watch
