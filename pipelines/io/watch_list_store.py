"""The published watch list on disk: the nightly graph job writes it, the stream reads it.

The file ``<lake>/watch_list/watch_list.parquet`` is the contract between the
two: :func:`publish_watch_list` replaces it at once (written aside, then
renamed), and :class:`WatchListStore` re-reads it when it changes.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pandas as pd

from models.watch_list import WATCH_COLUMNS, WatchList
from pipelines.settings import Settings

__all__ = ["WATCH_FILE", "watch_config", "publish_watch_list", "WatchListStore"]

log = logging.getLogger(__name__)

WATCH_FILE = "watch_list.parquet"
_KEYS = (
    "key_person_min_suspect_incidents",
    "key_person_min_risk",
    "min_shared_incidents",
    "include_companions",
    "sensitive_site_kinds",
    "sensitive_radius_m",
    "alert_slot_minutes",
    "reload_check_seconds",
)


def watch_config(settings: Settings) -> dict:
    """The ``watch_list:`` section of the configuration, checked for its keys."""
    return settings.section("watch_list", _KEYS)


def publish_watch_list(folder: Path, watch: pd.DataFrame) -> Path:
    """Replace the published watch list at once (write aside, then rename)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / WATCH_FILE
    aside = folder / f".{WATCH_FILE}.tmp"
    watch[WATCH_COLUMNS].to_parquet(aside, index=False)
    os.replace(aside, path)
    return path


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
