"""Alert lifecycle (预警生命周期): one alert per cluster, updated while it lasts.

Sliding windows look at an ongoing surge again every slide. Duty staff want
one alert that says how the surge develops, not a new alert per look. The
tracker matches each look's significant clusters to the clusters still
open in the same category, by shared or adjacent cells:

``new``
    no open cluster matches: a new cluster id;
``escalating``
    it matches, and its LLR reached ``escalation_ratio`` × the LLR it had
    when last reported new or escalating;
``ongoing``
    it matches otherwise;
``ended``
    an open cluster no look has matched for ``quiet_looks`` looks in a row.

A cluster's id is a hash of its category, first window end and first cells,
so a replay of the same stream gives the same ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

__all__ = ["Detection", "TrackedCluster", "ClusterTracker", "NEW", "ONGOING", "ESCALATING", "ENDED"]

NEW, ONGOING, ESCALATING, ENDED = "new", "ongoing", "escalating", "ended"


@dataclass(frozen=True)
class Detection:
    """A significant cluster of one look."""

    category: str
    cells: frozenset
    llr: float


@dataclass
class TrackedCluster:
    """One alert cluster as the tracker knows it: its cells, category, bounds and state."""

    cluster_id: str
    category: str
    cells: frozenset
    first_window_end_s: int
    last_window_end_s: int
    reported_llr: float
    peak_llr: float
    looks: int = 1
    status: str = NEW
    last_alert: dict = field(default_factory=dict)


class ClusterTracker:
    """Match each look's detections to open clusters and give each its status.

    Parameters
    ----------
    neighbourhood : callable
        ``cell -> iterable of cells`` adjacent to it; clusters that touch
        through it are the same cluster.
    slide_s : int
        Seconds between looks.
    scale : str
        The time scale's name, part of a cluster's id so that two scales
        never share one (empty for the base scale).
    quiet_looks : int
        Looks without a match after which a cluster ends.
    escalation_ratio : float
        LLR growth, relative to the last new or escalating report, that
        makes a look ``escalating``.

    Examples
    --------
    >>> tracker = ClusterTracker(lambda c: (), slide_s=300, quiet_looks=2)
    >>> a = Detection("fight", frozenset({"r1"}), 10.0)
    >>> [(s, c.looks) for c, s in tracker.look(600, [a])]
    [('new', 1)]
    >>> [s for c, s in tracker.look(900, [Detection("fight", frozenset({"r1"}), 16.0)])]
    ['escalating']
    >>> [s for c, s in tracker.look(1200, [Detection("fight", frozenset({"r1"}), 17.0)])]
    ['ongoing']
    >>> tracker.look(1500, []), [s for c, s in tracker.look(1800, [])]
    ([], ['ended'])
    """

    def __init__(
        self,
        neighbourhood: Callable[[str], Iterable[str]],
        *,
        slide_s: int,
        scale: str = "",
        quiet_looks: int = 2,
        escalation_ratio: float = 1.5,
    ):
        if not slide_s > 0:
            raise ValueError(f"slide_s={slide_s!r} must be positive")
        if isinstance(quiet_looks, bool) or not isinstance(quiet_looks, int) or quiet_looks < 1:
            raise ValueError(f"quiet_looks={quiet_looks!r} must be an integer >= 1")
        if not escalation_ratio > 1:
            raise ValueError(f"escalation_ratio={escalation_ratio!r} must be > 1")
        self.neighbourhood = neighbourhood
        self.slide_s = int(slide_s)
        self.scale = scale
        self.quiet_looks = quiet_looks
        self.escalation_ratio = float(escalation_ratio)
        self.open: list[TrackedCluster] = []

    def snapshot(self) -> list[dict]:
        """The open clusters as plain data, for a job's state (:meth:`restore` reads it back).

        Examples
        --------
        >>> tracker = ClusterTracker(lambda c: (), slide_s=300)
        >>> _ = tracker.look(600, [Detection("fight", frozenset({"r1"}), 10.0)])
        >>> again = ClusterTracker(lambda c: (), slide_s=300)
        >>> again.restore(tracker.snapshot())
        >>> [s for c, s in again.look(900, [Detection("fight", frozenset({"r1"}), 11.0)])]
        ['ongoing']
        """
        return [dict(asdict(c), cells=sorted(c.cells)) for c in self.open]

    def restore(self, snapshot: list[dict] | None) -> None:
        """Replace the open clusters with those of a :meth:`snapshot` (None: none open)."""
        self.open = [
            TrackedCluster(**dict(c, cells=frozenset(c["cells"]))) for c in (snapshot or [])
        ]

    def _reach(self, cells: frozenset) -> set:
        reach = set(cells)
        for cell in cells:
            reach.update(self.neighbourhood(cell))
        return reach

    def look(
        self, window_end_s: int, detections: list[Detection]
    ) -> list[tuple[TrackedCluster, str]]:
        """Update with one look's detections; return ``(cluster, status)`` pairs.

        Detections come first, in their order; clusters that end follow.
        """
        updates: list[tuple[TrackedCluster, str]] = []
        matched: set[int] = set()
        for detection in sorted(detections, key=lambda d: -d.llr):
            reach = self._reach(detection.cells)
            cluster = next(
                (
                    c
                    for c in self.open
                    if id(c) not in matched
                    and c.category == detection.category
                    and c.last_window_end_s < window_end_s
                    and not reach.isdisjoint(c.cells)
                ),
                None,
            )
            if cluster is None:
                key = f"{detection.category}|{window_end_s}|{','.join(sorted(detection.cells))}"
                if self.scale:  # the base scale's ids stay what they were
                    key += f"|{self.scale}"
                cluster = TrackedCluster(
                    hashlib.sha256(key.encode()).hexdigest()[:24],
                    detection.category,
                    detection.cells,
                    window_end_s,
                    window_end_s,
                    detection.llr,
                    detection.llr,
                )
                self.open.append(cluster)
                status = NEW
            else:
                cluster.looks += 1
                cluster.cells = detection.cells
                cluster.last_window_end_s = window_end_s
                cluster.peak_llr = max(cluster.peak_llr, detection.llr)
                if detection.llr >= self.escalation_ratio * cluster.reported_llr:
                    status = ESCALATING
                    cluster.reported_llr = detection.llr
                else:
                    status = ONGOING
            cluster.status = status
            matched.add(id(cluster))
            updates.append((cluster, status))
        still_open = []
        for cluster in self.open:
            if id(cluster) in matched:
                still_open.append(cluster)
            elif window_end_s - cluster.last_window_end_s >= self.quiet_looks * self.slide_s:
                cluster.status = ENDED
                updates.append((cluster, ENDED))
            else:
                still_open.append(cluster)
        self.open = still_open
        return [(c, s) for c, s in updates]
