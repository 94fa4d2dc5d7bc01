"""The detector's Monte Carlo null maxima on disk, so that a job start does not draw them again.

Drawing the null maxima of one category
(:func:`models.scan_significance.simulate_null_maxima`) takes about a second
of CPU; a job (re)start that drew all of them before its first look held its
first window end, and its first checkpoint, for some 20 seconds.
:class:`NullMaximaStore` keeps each draw in a file named by the
detector's content key (:meth:`models.hotspot_detector.HotspotDetector.null_key`:
rates, bucket weights, durations, zones, replicates and seed), so a file is
valid for exactly the inputs it was drawn from, and a change of baselines
or configuration simply draws anew. A missing or unreadable file is a miss.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

import numpy as np

from models.scan_significance import NullMaxima

__all__ = ["NullMaximaStore"]

log = logging.getLogger(__name__)


class NullMaximaStore:
    """``key -> NullMaxima``, one ``<key>.npz`` per draw in ``folder`` (mode 700, files 600).

    Written to a temporary name and renamed, so a reader never sees half a
    file; two jobs drawing the same key write the same content.

    Examples
    --------
    >>> import tempfile
    >>> store = NullMaximaStore(Path(tempfile.mkdtemp()) / "nulls")
    >>> "k1" in store
    False
    >>> store["k1"] = NullMaxima(np.array([0.5, 2.0]), n_cylinders=7)
    >>> store["k1"].maxima.tolist(), store["k1"].n_cylinders
    ([0.5, 2.0], 7)
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError(f"null maxima key {key!r} must be letters and digits")
        return self.folder / f"{key}.npz"

    def __contains__(self, key: str) -> bool:
        return self._path(key).is_file()

    def __getitem__(self, key: str) -> NullMaxima:
        path = self._path(key)
        try:
            with np.load(path) as saved:
                return NullMaxima(saved["maxima"], int(saved["n_cylinders"]))
        except FileNotFoundError:
            raise KeyError(key) from None
        except (OSError, ValueError, KeyError) as exc:
            log.warning("null maxima file %s is unreadable (%s); drawing anew", path, exc)
            raise KeyError(key) from None

    def __setitem__(self, key: str, null: NullMaxima) -> None:
        """Keep a draw; a disk that refuses it (full, read-only) is logged, never raised."""
        path = self._path(key)
        aside = path.with_name(f".{path.stem}.{os.getpid()}.tmp")
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, maxima=null.maxima, n_cylinders=null.n_cylinders)
            os.replace(aside, path)
        except OSError as exc:
            # The look goes on with the draw in memory; the next start draws again.
            log.warning("null maxima %s not kept (%s)", path, exc)
            with contextlib.suppress(OSError):
                aside.unlink(missing_ok=True)
