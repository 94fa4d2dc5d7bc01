"""The nightly baselines as the hotspot job sees them: read from the lake, re-read when replaced.

The nightly job writes the files :mod:`features.baseline_schema` declares
into ``settings.lake_table("baselines")``; :class:`BaselineStore` reads the
three the detector needs and notices when the nightly job replaces them
(their modification times change). A missing or unreadable file leaves its
part empty, and lookups fall back as :mod:`features.baselines` documents.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from features.baseline_schema import CELL_BASELINES, TOWN_BASELINES, WEEK_PROFILE
from features.baselines import Baselines

__all__ = ["BASELINE_FILES", "BaselineStore"]

#: The baseline files the hotspot job reads, in the order of their stamp.
BASELINE_FILES = (CELL_BASELINES, TOWN_BASELINES, WEEK_PROFILE)
log = logging.getLogger(__name__)


def _read_columns(path: Path, columns: list[str]) -> dict | None:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path, columns=columns).to_pydict()
    except (OSError, ValueError, KeyError) as exc:
        # Missing or corrupt: the caller scores against the documented fallback.
        log.warning(
            "baseline table %s is unreadable (%s); using the fallback",
            path,
            str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        )
        return None


class BaselineStore:
    """The nightly baselines in the lake, re-read whenever the nightly job replaces them.

    A missing or unreadable table leaves its part empty, so that lookups
    fall back as :mod:`features.baselines` documents, and the job goes on.

    Parameters
    ----------
    folder : Path or None
        The lake's baselines folder; None answers the fallback alone.
    fallback_rate_per_hour : float
        The rate of a cell and category that no table covers.
    """

    def __init__(self, folder: Path | None, fallback_rate_per_hour: float):
        self.folder = folder
        self.fallback = float(fallback_rate_per_hour)
        self._stamp = None
        self._baselines = None

    @classmethod
    def fixed(cls, baselines: Baselines) -> BaselineStore:
        """A store that always answers ``baselines`` (a replay's or a bench's own)."""
        store = cls(None, baselines.fallback_rate_per_hour)
        store._baselines = baselines
        return store

    def _stamp_now(self):
        if self.folder is None:
            return None
        stamp = []
        for name in BASELINE_FILES:
            path = self.folder / name
            try:
                files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
                stamp.append(tuple((str(f), os.stat(f).st_mtime_ns) for f in files))
            except OSError:
                stamp.append(None)
        return tuple(stamp)

    def current(self) -> Baselines:
        """The baselines, re-read first if a file changed since the last call."""
        stamp = self._stamp_now()
        if self._baselines is None or stamp != self._stamp:
            self._baselines = self._load()
            self._stamp = stamp
        return self._baselines

    def at(self, look_s: int) -> Baselines | None:
        """The baselines a look at ``look_s`` (epoch seconds) is scored against: the current ones.

        A store whose baselines depend on the look's time (a prospective
        replay's) answers per look; None skips the look.
        """
        return self.current()

    def _load(self) -> Baselines:
        if self.folder is None:
            return Baselines(fallback_rate_per_hour=self.fallback)
        cells = (
            _read_columns(self.folder / CELL_BASELINES, ["cell_id", "category", "rate_per_hour"])
            or {}
        )
        towns = (
            _read_columns(
                self.folder / TOWN_BASELINES, ["town_code", "category", "rate_per_cell_hour"]
            )
            or {}
        )
        week = _read_columns(self.folder / WEEK_PROFILE, ["source", "hour_of_week", "factor"]) or {}
        return Baselines(
            {
                (c, k): float(r)
                for c, k, r in zip(
                    cells.get("cell_id", ()),
                    cells.get("category", ()),
                    cells.get("rate_per_hour", ()),
                )
            },
            {
                (t, k): float(r)
                for t, k, r in zip(
                    towns.get("town_code", ()),
                    towns.get("category", ()),
                    towns.get("rate_per_cell_hour", ()),
                )
            },
            {
                (s, int(h)): float(f)
                for s, h, f in zip(
                    week.get("source", ()), week.get("hour_of_week", ()), week.get("factor", ())
                )
            },
            self.fallback,
        )
