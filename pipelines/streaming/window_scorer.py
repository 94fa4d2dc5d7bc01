"""The hotspot job's Python side: one call per window end, from counted slices to alerts.

Flink SQL (:mod:`pipelines.streaming.hotspot_sql`) hands Python one row
per slide end, its ``cell,category,n;...`` counts; :func:`keyed_scoring`
keeps a window's slices in Flink state and, per window end, hands the
scorer the window's slices, each ``'<slice end>#<cell,category,n;...>'``.
:class:`WindowScorer` parses them (:func:`parse_slice`), composes the
counts of every scan duration (:func:`compose_window`) and runs
:meth:`models.hotspot_detector.HotspotDetector.look_arrays` against the
baselines of a :class:`pipelines.streaming.baseline_store.BaselineStore`;
:func:`keyed_scoring` runs it in a keyed process function whose state holds
the alert lifecycle.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime

from features.local_time import DISTRICT_TZ
from features.taxonomy import CATEGORIES
from models.hotspot_detector import HotspotDetector, Place
from pipelines.io.platform_state import load_district
from pipelines.settings import Settings
from pipelines.streaming.baseline_store import BaselineStore
from pipelines.streaming.null_maxima_store import NullMaximaStore
from pipelines.streaming.slice_fusion import SliceFusion

__all__ = [
    "scored_categories",
    "district_detector",
    "parse_slice",
    "compose_window",
    "WindowScorer",
    "local_epoch_ms",
    "window_slices",
    "keyed_scoring",
    "ALERT",
    "LINK",
]

log = logging.getLogger(__name__)

#: The kinds of row :func:`keyed_scoring` emits: a hotspot alert, an incident link.
ALERT, LINK = "alert", "link"


def scored_categories(hotspot: dict) -> list[str]:
    """The taxonomy's categories minus ``hotspot.excluded_categories``."""
    excluded = set(hotspot.get("excluded_categories") or ())
    return sorted(c for c in CATEGORIES if c not in excluded)


def district_detector(settings: Settings) -> HotspotDetector:
    """A detector over the configured district's cells; its null maxima kept under ``var/``."""
    district = load_district(settings)
    places, coords = {}, []
    for cell in district.cells:
        lon, lat = district.grid.center_of(cell)
        where = district.locate(lon, lat)
        places[cell] = Place(
            where.town_code, where.town_name, where.village_code, where.village_name, lon, lat
        )
        coords.append(district.grid.to_metres(lon, lat))
    return HotspotDetector(
        district.cells,
        coords,
        places,
        settings.hotspot,
        scored_categories(settings.hotspot),
        district_code=district.code,
        towns=len(district.towns),
        seed=settings.section("district").integer("seed"),
        null_store=NullMaximaStore(settings.var / "null_maxima"),
    )


def parse_slice(text: str):
    """One slice's ``cell,category,n;...`` entries as columns, and how many were malformed.

    One C-level CSV parse (pandas); text that does not parse that way is
    read entry by entry, skipping and counting the malformed entries.

    Examples
    --------
    >>> cells, categories, counts, bad = parse_slice("r1,a,2;r2,b,1")
    >>> list(cells), list(categories), counts.tolist(), bad
    (['r1', 'r2'], ['a', 'b'], [2, 1], 0)
    >>> parse_slice("r1,a,2;r2,b;r3,c,x")[2].tolist(), parse_slice("r1,a,2;r2,b;r3,c,x")[3]
    ([2], 2)
    """
    import io

    import numpy as np
    import pandas as pd

    if not text:
        return np.array([], dtype=object), np.array([], dtype=object), np.zeros(0, int), 0
    try:
        frame = pd.read_csv(
            io.StringIO(text.replace(";", "\n")),
            header=None,
            names=["cell", "category", "n"],
            dtype={"cell": str, "category": str},
            keep_default_na=False,
            on_bad_lines="error",
            engine="c",
        )
        counts = pd.to_numeric(frame["n"], errors="raise").to_numpy()
        if frame["category"].eq("").any() or counts.dtype.kind not in "iu":
            raise ValueError("malformed entries")
        return frame["cell"].to_numpy(), frame["category"].to_numpy(), counts, 0
    except (ValueError, pd.errors.ParserError):
        cells, categories, counts, bad = [], [], [], 0
        for entry in text.split(";"):
            parts = entry.split(",")
            try:
                if len(parts) != 3 or not parts[1]:
                    raise ValueError(entry)
                counts.append(int(parts[2]))
                cells.append(parts[0])
                categories.append(parts[1])
            except ValueError:
                bad += 1
        return (
            np.array(cells, dtype=object),
            np.array(categories, dtype=object),
            np.array(counts, dtype=int),
            bad,
        )


def compose_window(slices, durations_in_slices: list[int]):
    """Counts per cell, category and duration from the slices of one window.

    ``slices`` holds ``(k, cells, categories, counts)``, ``k`` being how many
    slides before the window's end the slice ends (0 for the last slice);
    a duration of ``d`` slides takes the slices with ``k < d``.

    Examples
    --------
    >>> import numpy as np
    >>> slices = [(0, np.array(["r1"]), np.array(["a"]), np.array([2])),
    ...           (2, np.array(["r1", "r2"]), np.array(["a", "a"]), np.array([3, 1]))]
    >>> cells, categories, values = compose_window(slices, [1, 6])
    >>> list(cells), list(categories), values.tolist()
    (['r1', 'r2'], ['a', 'a'], [[2.0, 5.0], [0.0, 1.0]])
    """
    import numpy as np
    import pandas as pd

    if not slices:
        return (
            np.array([], dtype=object),
            np.array([], dtype=object),
            np.zeros((0, len(durations_in_slices))),
        )
    frame = pd.DataFrame(
        {
            "cell": np.concatenate([s[1] for s in slices]),
            "category": np.concatenate([s[2] for s in slices]),
            "n": np.concatenate([s[3] for s in slices]).astype(float),
            "k": np.concatenate([np.full(len(s[1]), s[0]) for s in slices]),
        }
    )
    for d in durations_in_slices:
        frame[f"d{d}"] = frame["n"].where(frame["k"] < d, 0.0)
    sums = frame.groupby(["cell", "category"], sort=True)[
        [f"d{d}" for d in durations_in_slices]
    ].sum()
    return (
        sums.index.get_level_values(0).to_numpy(),
        sums.index.get_level_values(1).to_numpy(),
        sums.to_numpy(),
    )


class WindowScorer:
    """What the Python UDTF runs per window end: parse the slices, look, serialize.

    A slice belongs to every window it falls in; its parsed columns are
    cached by the slice's end (a cache only: Flink's state holds the data).

    Parameters
    ----------
    detector : HotspotDetector
        Scores each look and keeps the alert lifecycle.
    store : BaselineStore
        The baselines each look is scored against.
    fusion : SliceFusion, optional
        Counts incidents, not reports, in each slice as it arrives
        (:mod:`pipelines.streaming.slice_fusion`); None counts reports.
    on_look : callable, optional
        Called after each look with its end (epoch seconds) and its alerts
        (a replay's progress).
    """

    def __init__(
        self,
        detector: HotspotDetector,
        store: BaselineStore,
        fusion: SliceFusion | None = None,
        on_look=None,
    ):
        self.detector = detector
        self.store = store
        self.fusion = fusion
        self.on_look = on_look
        self._slices: dict = {}

    def _parsed(self, text: str):
        head, _, body = text.partition("#")
        key = (head, len(body))
        if key not in self._slices:
            if len(self._slices) > 4 * self.detector.buckets:
                self._slices.clear()
            self._slices[key] = (local_epoch_ms(head) // 1000, *parse_slice(body))
        return self._slices[key]

    def score(self, window_end_local: datetime, payload, now_ms: int) -> list[dict]:
        """The alerts of the window ending at ``window_end_local`` (district time, naive).

        ``payload`` lists the window's slices; an unparsable slice or entry
        is skipped, counted and logged.
        """
        end_s = int(window_end_local.replace(tzinfo=DISTRICT_TZ).timestamp())
        slide_s = self.detector.slide_min * 60
        slices, bad = [], 0
        for text in payload or ():
            try:
                slice_end_s, cells, categories, counts, malformed = self._parsed(text)
            except ValueError:
                bad += 1
                continue
            bad += malformed
            slices.append(((end_s - slice_end_s) // slide_s, cells, categories, counts))
        if bad:
            log.warning(
                "window ending %s: %d malformed count entries skipped", window_end_local, bad
            )
        baselines = self.store.at(end_s)
        alerts = []
        if baselines is not None:  # None: no baselines yet for this look (a replay's warm-up)
            cells, categories, values = compose_window(
                slices, [d // self.detector.slide_min for d in self.detector.durations_min]
            )
            alerts = self.detector.look_arrays(
                end_s, cells, categories, values, baselines, now_ms=now_ms
            )
        if self.on_look is not None:
            self.on_look(end_s, alerts)
        return alerts


def local_epoch_ms(text: str) -> int:
    """Epoch milliseconds of a district-time timestamp as Flink SQL casts it to text.

    Examples
    --------
    >>> local_epoch_ms("2026-11-02 08:05:00")
    1793577900000
    """
    return int(datetime.fromisoformat(text.strip()).replace(tzinfo=DISTRICT_TZ).timestamp() * 1000)


def window_slices(slice_ends, window_end_ms: int, slide_ms: int, buckets: int):
    """The slice ends a window ends at ``window_end_ms`` holds, and those no later window needs.

    A window of ``buckets`` slides holds the slices ending in
    ``(window_end - buckets * slide, window_end]``; the next window starts a
    slide later, so a slice ending at or before ``window_end - (buckets - 1)
    * slide`` is of no further use.

    Examples
    --------
    >>> window_slices([0, 5, 10, 15], 15, 5, 3)
    ([5, 10, 15], [0, 5])
    """
    first = window_end_ms - buckets * slide_ms
    held = sorted(e for e in slice_ends if first < e <= window_end_ms)
    done = sorted(e for e in slice_ends if e <= first + slide_ms)
    return held, done


def keyed_scoring(scorer: WindowScorer):
    """A ``KeyedProcessFunction`` that scores every window end, its inputs in Flink state.

    Takes ``(slice end as district-time text, entries joined by ;, reports)``
    rows, one per slide end, and emits ``("alert", alert_id, alert JSON)``
    rows, and with fusion ``("link", event_id, link JSON)`` rows. With
    the scorer's ``fusion``, each slice's counts become counts of incidents
    as the slice arrives (slices arrive in event time, as their windows
    close), and the state keeps the reports later slices may link to. Its
    keyed state (one key: the district) holds:

    * the slices of the last window (map state, slice end -> text); each
      slice registers an event-time timer for every window end that holds
      it, and the timer of a window end, fired when the watermark passes
      it, scores that window (the same window ends a ``HOP`` window over the
      slices would emit, in order);
    * the open clusters of :class:`models.cluster_lifecycle.ClusterTracker`
      (value state), restored into the tracker before each look and saved
      after it;
    * with fusion, the recent reports and their incidents (value state).

    So both are checkpointed with the job, and a job restarted from its
    checkpoint goes on with the same slices and clusters instead of raising
    each cluster again as new.
    """
    from pyflink.common import Row, Types
    from pyflink.datastream.functions import KeyedProcessFunction
    from pyflink.datastream.state import MapStateDescriptor, ValueStateDescriptor

    detector = scorer.detector
    fusion = scorer.fusion
    slide_ms = detector.slide_min * 60_000
    buckets = detector.buckets

    class LifecycleScoring(KeyedProcessFunction):
        def open(self, runtime_context):
            self.clusters = runtime_context.get_state(
                ValueStateDescriptor("open_clusters", Types.PICKLED_BYTE_ARRAY())
            )
            self.slices = runtime_context.get_map_state(
                MapStateDescriptor("window_slices", Types.LONG(), Types.STRING())
            )
            self.recent = runtime_context.get_state(
                ValueStateDescriptor("fusion_recent_reports", Types.PICKLED_BYTE_ARRAY())
            )

        def process_element(self, value, ctx):
            end_ms = local_epoch_ms(value[0])
            entries = value[1] or ""
            if fusion is not None:
                entries, recent, links = fusion.fuse(end_ms, entries, value[2], self.recent.value())
                self.recent.update(recent)
                for link in links.to_dict("records"):
                    link["slice_end"] = value[0]
                    yield Row(LINK, link["event_id"], json.dumps(link, ensure_ascii=False))
            self.slices.put(end_ms, f"{value[0]}#{entries}")
            # A window's row time is its end less 1 ms, as Flink's windows have it.
            for k in range(buckets):
                ctx.timer_service().register_event_time_timer(end_ms - 1 + k * slide_ms)

        def on_timer(self, timestamp, ctx):
            window_end_ms = timestamp + 1
            held, done = window_slices(list(self.slices.keys()), window_end_ms, slide_ms, buckets)
            payload = [self.slices.get(end) for end in held]
            for end in done:
                self.slices.remove(end)
            if not payload:
                return
            tracker = detector.tracker
            tracker.restore(self.clusters.value())
            window_end = datetime.fromtimestamp(window_end_ms / 1000, DISTRICT_TZ).replace(
                tzinfo=None
            )
            alerts = scorer.score(window_end, payload, int(time.time() * 1000))
            # Emitted once the look is done: its cost is part of an alert's latency.
            emitted_ms = int(time.time() * 1000)
            for alert in alerts:
                alert["emitted_at_ms"] = emitted_ms
            self.clusters.update(tracker.snapshot())
            for alert in alerts:
                yield Row(ALERT, alert["alert_id"], json.dumps(alert, ensure_ascii=False))

    return LifecycleScoring()
